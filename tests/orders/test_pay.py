"""Paying orders from the balance (guide step 9): one payment, charged once, stock
reserved, refusals named; cancelling a paid order refunds it once."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Item, StockMovement
from distribution.errors import PermissionDeniedError
from distribution.models import Role
from finance import services as finance
from finance.audit import ledger_audit
from finance.ledger import InsufficientFunds, balance_account
from finance.models import Transaction
from orders.actions import orders_cancel, orders_pay, orders_pay_quote
from orders.models import Order, OrderEvent, OrderStatus
from orders.state import order_status_changed
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import owner_of
from tests.orders.factories import OrderFactory, OrderLineFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def item():
    return ItemFactory(warehouse=WarehouseFactory(code="US-CA", sites="US"), stock_on_hand=10, price=Decimal("12.00"))


def make_order(owner, item, *, quantity=1, total="15.00", country="US", status=OrderStatus.AWAITING_PAYMENT, **kw):
    store = StoreFactory(distributor=owner.distributor)
    order = OrderFactory(
        distributor=owner.distributor,
        store=store,
        warehouse=item.warehouse,
        status=status,
        country=country,
        total_amount=Decimal(total),
        goods_amount=Decimal(total),
        **kw,
    )
    OrderLineFactory(order=order, item=item, item_code=item.item_id, quantity=quantity)
    return order


def fund(owner, staff, amount: str, key="fund"):
    finance.adjustment_post(
        actor=staff, distributor=owner.distributor, amount=amount, reason="test", idempotency_key=key
    )


def balance(owner) -> Decimal:
    account = balance_account(owner.distributor)
    account.refresh_from_db()
    return account.balance


def test_orders_pay_charges_once_reserves_stock_and_marks_them_paid(
    owner, staff, item, django_capture_on_commit_callbacks
):
    fund(owner, staff, "100.00")
    first, second = make_order(owner, item, quantity=2), make_order(owner, item, total="20.00")
    heard = []
    order_status_changed.connect(lambda **kw: heard.append(kw["instance"].number), weak=False, dispatch_uid="pay")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = orders_pay(actor=owner, orders=[first, second], idempotency_key="pay:abc")
    finally:
        order_status_changed.disconnect(dispatch_uid="pay")
    assert sorted(result.paid) == sorted([first.number, second.number]) and result.charged == Decimal("35.00")
    assert balance(owner) == Decimal("65.00")
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.PAID}
    assert sorted(heard) == sorted([first.number, second.number])
    item.refresh_from_db()
    assert item.reserved == 3
    assert OrderEvent.objects.filter(order=first, to_status=OrderStatus.PAID).get().message.startswith("Paid 15.00")
    payment = Transaction.objects.get(kind="payment")
    assert set(payment.entries.exclude(reference="").values_list("reference", "amount")) == {
        (first.number, Decimal("-15.0000")),
        (second.number, Decimal("-20.0000")),
    }
    # a double submit (same key) charges nothing more
    again = orders_pay(actor=owner, orders=[first, second], idempotency_key="pay:abc")
    assert again.replayed and sorted(again.paid) == sorted(result.paid)
    assert balance(owner) == Decimal("65.00") and Transaction.objects.filter(kind="payment").count() == 1
    assert ledger_audit().ok


def test_orders_pay_refuses_whole_when_the_balance_is_short(owner, staff, item):
    fund(owner, staff, "20.00")
    orders = [make_order(owner, item), make_order(owner, item)]
    with pytest.raises(InsufficientFunds, match="10.00 USD more is needed"):
        orders_pay(actor=owner, orders=orders, idempotency_key="pay:short")
    assert balance(owner) == Decimal("20.00")
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.AWAITING_PAYMENT}
    item.refresh_from_db()
    assert item.reserved == 0 and not StockMovement.objects.exists()


def test_orders_pay_leaves_out_what_cannot_be_paid_and_says_why(owner, staff, item):
    fund(owner, staff, "100.00")
    good = make_order(owner, item)
    abroad = make_order(owner, item, country="JP")
    waiting = make_order(owner, item, status=OrderStatus.PENDING_MAPPING, missing_skus=["GIFT-1"])
    too_many = make_order(owner, item, quantity=50)
    result = orders_pay(actor=owner, orders=[good, abroad, waiting, too_many], idempotency_key="pay:mixed")
    assert result.paid == [good.number]
    reasons = dict(result.refused)
    assert "outside the service area of US-CA" in reasons[abroad.number]
    assert "waits for a mapping of GIFT-1" in reasons[waiting.number]
    assert "Only 9 of" in reasons[too_many.number]  # the good order took one
    assert balance(owner) == Decimal("85.00")
    assert Order.objects.get(pk=too_many.pk).status == OrderStatus.AWAITING_PAYMENT


def test_orders_pay_quote_shows_total_and_balance_after(owner, staff, item):
    fund(owner, staff, "30.00")
    quote = orders_pay_quote(actor=owner, orders=[make_order(owner, item), make_order(owner, item, total="20.00")])
    assert (quote.total, quote.balance, quote.balance_after, quote.shortfall) == (
        Decimal("35.00"),
        Decimal("30.00"),
        Decimal("-5.00"),
        Decimal("5.00"),
    )


def test_cancel_of_a_paid_order_refunds_it_once_and_releases_its_stock(owner, staff, item):
    fund(owner, staff, "50.00")
    order = make_order(owner, item, quantity=2)
    orders_pay(actor=owner, orders=[order], idempotency_key="pay:one")
    result = orders_cancel(actor=owner, orders=[order], reason="Buyer changed their mind")
    assert (result.done, result.refunded) == ([order.number], [order.number])
    assert balance(owner) == Decimal("50.00")
    item.refresh_from_db()
    assert item.reserved == 0
    refund = Transaction.objects.get(kind="refund")
    assert refund.reverses.kind == "payment" and refund.reference == order.number
    # cancelling again refunds nothing more
    again = orders_cancel(actor=owner, orders=[Order.objects.get(pk=order.pk)])
    assert again.done == [] and again.refused == [order.number]
    assert Transaction.objects.filter(kind="refund").count() == 1
    assert "Buyer changed their mind" in OrderEvent.objects.get(order=order, to_status="cancelled").message
    assert ledger_audit().ok


def test_cancel_of_an_order_at_the_warehouse_is_a_request_for_fulfilment(owner, item):
    order = make_order(owner, item, status=OrderStatus.AT_WAREHOUSE)
    result = orders_cancel(actor=owner, orders=[order], reason="buyer changed their mind")
    assert result.done == [order.number] and not result.refunded
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_REQUESTED
    assert "buyer changed their mind" in order.events.latest("pk").message


def test_cancel_refuses_a_shipped_order(owner, item):
    order = make_order(owner, item, status=OrderStatus.SHIPPED)
    result = orders_cancel(actor=owner, orders=[order])
    assert result.refused == [order.number] and "shipped" in result.reasons[0][1]


# --- the pages ------------------------------------------------------------------------------


def test_pay_page_shows_costs_and_confirm_pays_once(client, owner, staff, item):
    fund(owner, staff, "100.00")
    orders = [make_order(owner, item), make_order(owner, item, total="20.00")]
    client.force_login(owner.user)
    ids = ",".join(str(order.pk) for order in orders)
    page = client.get(f"{reverse('orders:pay')}?ids={ids}")
    html = page.content.decode()
    assert page.status_code == 200 and "35.00 USD" in html and "65.00 USD" in html
    key = page.context["key"]
    for _attempt in range(2):  # a double submit
        response = client.post(reverse("orders:pay"), {"ids": ids, "idempotency_key": key})
        assert response.status_code == 302
    assert balance(owner) == Decimal("65.00")
    assert Transaction.objects.filter(kind="payment").count() == 1


def test_pay_page_with_too_little_balance_links_to_top_up_and_charges_nothing(client, owner, item):
    order = make_order(owner, item)
    client.force_login(owner.user)
    page = client.get(f"{reverse('orders:pay')}?ids={order.pk}")
    html = page.content.decode()
    assert "15.00 USD short" in html and "Top Up Balance" in html and 'data-testid="confirm-payment"' not in html


def test_pay_page_never_shows_another_distributors_orders(client, owner, item):
    theirs = make_order(owner_of(), item)
    client.force_login(owner.user)
    response = client.get(f"{reverse('orders:pay')}?ids={theirs.pk}")
    assert response.status_code == 302  # nothing of theirs is found: back to the list
    posted = client.post(reverse("orders:pay"), {"ids": str(theirs.pk), "idempotency_key": "abc"})
    assert posted.status_code == 302 and Order.objects.get(pk=theirs.pk).status == OrderStatus.AWAITING_PAYMENT


def test_pay_page_query_count_does_not_grow_with_the_orders(client, owner, staff, item, django_assert_max_num_queries):
    fund(owner, staff, "1000.00")
    client.force_login(owner.user)
    few = ",".join(str(make_order(owner, item).pk) for _ in range(2))
    many = ",".join(str(make_order(owner, item).pk) for _ in range(20))
    with django_assert_max_num_queries(12) as few_queries:
        client.get(f"{reverse('orders:pay')}?ids={few}")
    with django_assert_max_num_queries(12) as many_queries:
        client.get(f"{reverse('orders:pay')}?ids={many}")
    assert len(many_queries) == len(few_queries)


@pytest.mark.parametrize("role", [Role.FINANCE, Role.OPERATOR])
def test_pay_is_for_roles_that_act_on_orders_and_see_money(client, owner, item, member_factory, role):
    member = member_factory(owner.distributor, role=role)
    order = make_order(owner, item)
    client.force_login(member.user)
    assert client.get(f"{reverse('orders:pay')}?ids={order.pk}").status_code == 403
    assert client.post(reverse("orders:pay"), {"ids": str(order.pk), "idempotency_key": "abc"}).status_code == 403
    with pytest.raises(PermissionDeniedError):
        orders_pay(actor=member, orders=[order], idempotency_key="pay:role")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_PAYMENT


def test_orders_pay_of_many_orders_is_one_payment_in_a_bounded_number_of_queries(
    owner, staff, item, django_assert_max_num_queries
):
    Item.objects.filter(pk=item.pk).update(stock_on_hand=5000)
    fund(owner, staff, "20000.00")
    store = StoreFactory(distributor=owner.distributor)
    orders = [
        OrderFactory(
            distributor=owner.distributor,
            store=store,
            warehouse=item.warehouse,
            country="US",
            total_amount=Decimal("15.00"),
        )
        for _ in range(200)
    ]
    for order in orders:
        OrderLineFactory(order=order, item=item, quantity=1)
    # Keeping each order's paid quote adds one bulk update (and, for orders shipped by a
    # method, one lines query and one freight quote: tests/orders/test_paid_quote.py), not a
    # query per order: the bound stands.
    with django_assert_max_num_queries(40):
        result = orders_pay(actor=owner, orders=orders, idempotency_key="pay:bulk")
    assert len(result.paid) == 200 and balance(owner) == Decimal("17000.00")
    assert not Order.objects.filter(pk__in=[o.pk for o in orders], paid_quote__isnull=True).exists()
