"""The quote frozen at payment (issue 14): paying keeps on each order the quote it was paid
at (goods, freight, handling, total, currency, the method or self-pickup, the chargeable
weight, the rate card and its version, the moment), in the same transaction that charges
and without a query per order; nothing prices a paid order again; an order whose freight
the method's card in force no longer gives is not paid at a price no card gives; the
order page says what was paid."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import ShippingMethod
from distribution.models import Role
from finance import services as finance
from finance.ledger import balance_account
from finance.models import Transaction
from orders.actions import order_recipient_edit, orders_logistics_choose, orders_pay, orders_pay_quote
from orders.models import Logistics, Order, OrderStatus
from orders.pricing import frozen_refusal, logistics_apply, logistics_reprice
from tests.catalog.factories import (
    ItemFactory,
    RateCardFactory,
    RateRowFactory,
    RateZoneFactory,
    ShippingMethodFactory,
    WarehouseFactory,
)
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.test_operations import ADDRESS, make_order
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US")


@pytest.fixture
def warehouse():
    return WarehouseFactory(
        code="US-CA",
        sites="US",
        handling_fee=Decimal("1.50"),
        handling_fee_per_extra_piece=Decimal("0.30"),
        self_pickup_fee=Decimal("2.50"),
    )


def priced(method: ShippingMethod, first_price: str, step_price: str, **card):
    """A card for `method` (in force since a month ago unless told): the first 500 g, then each 500 g."""
    rate_card = RateCardFactory(method=method, **card)
    zone = RateZoneFactory(card=rate_card, country="US")
    RateRowFactory(zone=zone, first_grams=500, first_price=Decimal(first_price), step_price=Decimal(step_price))
    return rate_card


@pytest.fixture
def ups(warehouse):
    return ShippingMethodFactory(warehouse=warehouse, carrier="UPS", service="Ground", code="UPS_GROUND")


@pytest.fixture
def card(ups):
    return priced(ups, "6.00", "0.50")


@pytest.fixture
def serum(warehouse):
    return ItemFactory(
        warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), weight_grams=400, stock_on_hand=5000
    )


@pytest.fixture
def funded(owner, django_user_model):
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    finance.adjustment_post(
        actor=staff, distributor=owner.distributor, amount="100000.00", reason="test", idempotency_key="fund"
    )
    return owner


def shipped(owner, store, warehouse, lines, method=None):
    """An unpaid order priced as the portal prices it: dropshipping by `method` (else the cheapest)."""
    made = make_order(owner, store, warehouse, lines)
    orders_logistics_choose(
        actor=owner, orders=[made], logistics=Logistics.DROPSHIPPING, method_id=method.pk if method else None
    )
    return Order.objects.get(pk=made.pk)


def balance(owner) -> Decimal:
    account = balance_account(owner.distributor)
    account.refresh_from_db()
    return account.balance


def test_paying_keeps_the_quote_that_was_paid_on_the_order(funded, store, warehouse, serum, ups, card):
    # two serums: 800 g, billed on 1,000 g by UPS Ground (6.00 + 1 × 0.50); handling 1.50 + 0.30
    order = shipped(funded, store, warehouse, [(serum, 2)], ups)
    assert (order.shipping_amount, order.handling_amount, order.total_amount) == (
        Decimal("6.50"),
        Decimal("1.80"),
        Decimal("32.30"),
    )
    before = timezone.now()

    result = orders_pay(actor=funded, orders=[order], idempotency_key="pay:quote")

    order.refresh_from_db()
    quote = order.paid_quote
    payment = Transaction.objects.get(kind="payment")
    assert result.paid == [order.number] and order.status == OrderStatus.PAID
    assert {name: quote[name] for name in ("goods", "freight", "handling", "total", "currency")} == {
        "goods": "24.00",
        "freight": "6.50",
        "handling": "1.80",
        "total": "32.30",
        "currency": "USD",
    }
    assert quote["method"] == {
        "id": ups.pk,
        "carrier": "UPS",
        "service": "Ground",
        "code": "UPS_GROUND",
        "name": "UPS Ground",
    }
    assert (quote["logistics"], quote["self_pickup"], quote["warehouse"], quote["pieces"]) == (
        "dropshipping",
        False,
        "US-CA",
        2,
    )
    assert (quote["chargeable_grams"], quote["actual_grams"], quote["volumetric_grams"]) == (1000, 800, 0)
    assert quote["rate_card"]["id"] == card.pk and quote["rate_card"]["version"] == card.version
    assert datetime.fromisoformat(quote["rate_card"]["effective_from"]) == card.effective_from
    assert quote["rate_card"]["effective_to"] is None and quote["zone"] == card.zones.get().name
    assert before <= datetime.fromisoformat(quote["paid_at"]) <= timezone.now()
    assert quote["payment"] == payment.pk == result.transaction_id
    # what was charged is what the quote says
    assert -payment.entries.get(reference=order.number).amount == Decimal(quote["total"])


def test_a_self_pickup_order_keeps_its_quote_without_a_method(funded, store, warehouse, serum, ups, card):
    order = make_order(funded, store, warehouse, [(serum, 3)])
    orders_logistics_choose(actor=funded, orders=[order], logistics=Logistics.SELF_PICKUP)

    orders_pay(actor=funded, orders=[order], idempotency_key="pay:pickup")

    quote = Order.objects.get(pk=order.pk).paid_quote
    # 1.50 per order + 2 × 0.30 per extra piece + 2.50 self-pickup, no freight
    assert (quote["freight"], quote["handling"], quote["total"]) == ("0.00", "4.60", "40.60")
    assert (quote["logistics"], quote["self_pickup"], quote["method"], quote["rate_card"]) == (
        "self_pickup",
        True,
        None,
        None,
    )
    assert quote["chargeable_grams"] is None and quote["pieces"] == 3


def test_an_unpaid_order_has_no_paid_quote_and_a_refused_payment_keeps_none(funded, store, warehouse, serum, card):
    order = shipped(funded, store, warehouse, [(serum, 1)])
    assert order.paid_quote is None
    Order.objects.filter(pk=order.pk).update(held_at=timezone.now(), hold_reason="wait")

    result = orders_pay(actor=funded, orders=[order], idempotency_key="pay:held")

    assert result.refused and Order.objects.get(pk=order.pk).paid_quote is None


# --- nothing prices a paid order again -------------------------------------------------------------


def test_after_payment_nothing_prices_the_order_again(funded, store, warehouse, serum, ups, card):
    order = shipped(funded, store, warehouse, [(serum, 2)], ups)
    orders_pay(actor=funded, orders=[order], idempotency_key="pay:frozen")
    paid = Order.objects.select_related("warehouse").get(pk=order.pk)
    costs = (paid.goods_amount, paid.shipping_amount, paid.handling_amount, paid.total_amount, paid.chosen_method_id)
    frozen = dict(paid.paid_quote)
    # the prices change afterwards: a new card, a new handling fee, a heavier item
    priced(ups, "9.00", "2.00", effective_from=timezone.now() - timedelta(minutes=1))
    warehouse.handling_fee = Decimal("5.00")
    warehouse.save()
    serum.weight_grams = 2000
    serum.save()
    lines = list(paid.lines.select_related("item__product"))

    # pricing it directly is refused, and changes nothing
    assert "costs are priced only before payment" in logistics_apply(paid, lines, [], logistics=Logistics.SELF_PICKUP)
    logistics_reprice(paid, lines)
    assert (
        paid.goods_amount,
        paid.shipping_amount,
        paid.handling_amount,
        paid.total_amount,
        paid.chosen_method_id,
    ) == costs
    # and so are the operations that would price it
    result = orders_logistics_choose(actor=funded, orders=[paid], logistics=Logistics.SELF_PICKUP)
    assert result.refused == [paid.number] and "before payment" in result.reasons[0][1]
    with pytest.raises(Exception, match="only before payment"):
        order_recipient_edit(actor=funded, order=paid, data=ADDRESS)
    stored = Order.objects.get(pk=order.pk)
    assert (
        stored.goods_amount,
        stored.shipping_amount,
        stored.handling_amount,
        stored.total_amount,
        stored.chosen_method_id,
    ) == costs
    assert stored.paid_quote == frozen


def test_an_order_carrying_a_paid_quote_is_frozen_whatever_its_status():
    assert frozen_refusal(Order(status=OrderStatus.AWAITING_PAYMENT)) == ""
    assert frozen_refusal(Order(status=OrderStatus.AWAITING_PAYMENT, paid_quote={"total": "1.00"}))
    assert frozen_refusal(Order(status=OrderStatus.SHIPPED))


# --- a freight no card in force gives is not paid -------------------------------------------------


def test_a_new_card_version_since_the_order_was_priced_stops_its_payment_until_it_is_priced_again(
    client, funded, store, warehouse, serum, ups, card
):
    stale = shipped(funded, store, warehouse, [(serum, 2)], ups)  # 6.50 freight by version 1
    fine = make_order(funded, store, warehouse, [(serum, 1)])
    orders_logistics_choose(actor=funded, orders=[fine], logistics=Logistics.SELF_PICKUP)
    fine = Order.objects.get(pk=fine.pk)
    newer = priced(ups, "7.00", "1.00", effective_from=timezone.now() - timedelta(minutes=1))
    before = balance(funded)

    # the pay page already says so
    client.force_login(funded.user)
    page = client.get(f"{reverse('orders:pay')}?ids={stale.pk},{fine.pk}")
    refused = page.content.decode()
    refused = refused[refused.index('data-testid="pay-refused"') :][:1500]
    assert stale.number in refused and "now 8.00 USD" in refused and f"version {newer.version}" in refused
    assert [o.number for o in page.context["quote"].payable] == [fine.number]

    result = orders_pay(actor=funded, orders=[stale, fine], idempotency_key="pay:stale")

    reasons = dict(result.refused)
    assert result.paid == [fine.number]
    assert "its freight by UPS Ground is now 8.00 USD (rate card version" in reasons[stale.number]
    assert "not the 6.50 USD it was priced at: choose its logistics again" in reasons[stale.number]
    stale.refresh_from_db()
    assert stale.status == OrderStatus.AWAITING_PAYMENT and stale.paid_quote is None
    assert balance(funded) == before - fine.total_amount
    serum.refresh_from_db()
    assert serum.reserved == 1  # only the order paid reserved its stock

    # priced again (the same method), it is paid at the new price, by the new version
    orders_logistics_choose(actor=funded, orders=[stale], logistics=Logistics.DROPSHIPPING, method_id=ups.pk)
    again = orders_pay(actor=funded, orders=[stale], idempotency_key="pay:stale-again")
    stale.refresh_from_db()
    assert again.paid == [stale.number] and stale.shipping_amount == Decimal("8.00")
    assert stale.paid_quote["freight"] == "8.00" and stale.paid_quote["rate_card"]["id"] == newer.pk


def test_a_method_withdrawn_since_the_order_was_priced_stops_its_payment(funded, store, warehouse, serum, ups, card):
    order = shipped(funded, store, warehouse, [(serum, 1)], ups)
    ShippingMethod.objects.filter(pk=ups.pk).update(is_active=False)

    result = orders_pay(actor=funded, orders=[order], idempotency_key="pay:withdrawn")

    assert not result.paid
    assert dict(result.refused)[order.number] == (
        "its shipping method is no longer offered by US-CA: choose its logistics again"
    )
    assert not Transaction.objects.filter(kind="payment").exists()


def test_a_card_that_ended_since_the_order_was_priced_stops_its_payment(funded, store, warehouse, serum, ups, card):
    order = shipped(funded, store, warehouse, [(serum, 1)], ups)
    type(card).objects.filter(pk=card.pk).update(effective_to=timezone.now() - timedelta(seconds=1))

    quote = orders_pay_quote(actor=funded, orders=[Order.objects.select_related("warehouse").get(pk=order.pk)])

    assert not quote.payable
    assert "its freight cannot be quoted now (UPS Ground has no rate card in force)" in quote.refused[0][1]


# --- many orders: no query per order --------------------------------------------------------------


def _pay_queries(owner, orders, key) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = orders_pay(actor=owner, orders=orders, idempotency_key=key)
    assert len(result.paid) == len(orders), result.refused
    return len(queries)


# orders_pay of dropshipping orders by a method, whatever their number. On SQLite: the replay
# checks (2), the orders locked (1), the warehouses with methods (1), the lines with their items
# (1), the freight quoted again (methods, cards, zones, rows: 4), the stock reserved (4), the
# ledger payment (6), the move to paid (lock, update, events: 3), the paid quotes (one update per
# 500 orders: 1) and the savepoints around them (10); PostgreSQL posts the ledger payment in one call.
# Keeping the quotes adds 5 (the quote and the update; the lines were read before too); orders
# without a method skip the quote.
PINNED_PAY_QUERIES = {"sqlite": 33, "postgresql": 26}


def test_paying_many_orders_keeps_every_quote_in_the_same_number_of_queries(funded, store, warehouse, serum, ups, card):
    # a first payment makes the ledger's accounts; the ones after it are what is pinned
    orders_pay(actor=funded, orders=[shipped(funded, store, warehouse, [(serum, 1)], ups)], idempotency_key="pay:1st")
    few = [shipped(funded, store, warehouse, [(serum, 1)], ups) for _ in range(3)]
    many = [shipped(funded, store, warehouse, [(serum, 1 + n % 3)], ups) for n in range(30)]

    counts = [_pay_queries(funded, few, "pay:few"), _pay_queries(funded, many, "pay:many")]

    pinned = PINNED_PAY_QUERIES[connection.vendor]
    assert counts == [pinned, pinned], counts
    quotes = list(Order.objects.filter(pk__in=[o.pk for o in many]).values_list("paid_quote", flat=True))
    assert all(q["rate_card"]["id"] == card.pk and q["method"]["id"] == ups.pk for q in quotes)
    assert {q["chargeable_grams"] for q in quotes} == {500, 1000, 1500}


# --- the order page -------------------------------------------------------------------------------


def _paid_line(html: str) -> str:
    start = html.index('data-testid="paid-quote"')
    return " ".join(html[start : html.index("</p>", start)].split())


def test_the_order_page_says_what_was_paid(client, funded, store, warehouse, serum, ups, card):
    order = shipped(funded, store, warehouse, [(serum, 2)], ups)
    orders_pay(actor=funded, orders=[order], idempotency_key="pay:page")
    paid_at = timezone.localtime(datetime.fromisoformat(Order.objects.get(pk=order.pk).paid_quote["paid_at"]))
    client.force_login(funded.user)

    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()

    line = _paid_line(html)
    assert (
        f"Paid: 24.00 goods + 6.50 freight (UPS Ground, 1,000 g) + 1.80 handling = 32.30 USD, "
        f"on {paid_at:%Y-%m-%d %H:%M}." in line
    )
    assert f"Freight by rate card version {card.version}, in force from {card.effective_from:%Y-%m-%d}." in line


def test_the_order_page_says_what_a_self_pickup_order_paid(client, funded, store, warehouse, serum):
    order = make_order(funded, store, warehouse, [(serum, 1)])
    orders_logistics_choose(actor=funded, orders=[order], logistics=Logistics.SELF_PICKUP)
    orders_pay(actor=funded, orders=[order], idempotency_key="pay:page-pickup")
    client.force_login(funded.user)

    line = _paid_line(client.get(reverse("orders:order_detail", args=[order.pk])).content.decode())

    assert "Paid: 12.00 goods + 4.00 handling (self-pickup at US-CA) = 16.00 USD, on " in line
    assert "rate card" not in line


def test_an_unpaid_order_and_a_member_who_sees_no_money_get_no_paid_line(client, funded, store, warehouse, serum):
    unpaid = make_order(funded, store, warehouse, [(serum, 1)])
    paid = make_order(funded, store, warehouse, [(serum, 1)])
    orders_pay(actor=funded, orders=[paid], idempotency_key="pay:roles")
    client.force_login(funded.user)
    assert (
        'data-testid="paid-quote"' not in client.get(reverse("orders:order_detail", args=[unpaid.pk])).content.decode()
    )

    operator = MembershipFactory(distributor=funded.distributor, role=Role.OPERATOR)
    client.force_login(operator.user)
    assert 'data-testid="paid-quote"' not in client.get(reverse("orders:order_detail", args=[paid.pk])).content.decode()


def test_the_pay_page_checks_the_freight_without_a_query_per_order(client, funded, store, warehouse, serum, ups, card):
    client.force_login(funded.user)
    counts = []
    for count in (2, 10):
        orders = [shipped(funded, store, warehouse, [(serum, 1)], ups) for _ in range(count)]
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"{reverse('orders:pay')}?ids={','.join(str(o.pk) for o in orders)}")
        assert len(page.context["quote"].payable) == count
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
