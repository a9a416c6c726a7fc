"""Step 7's order operations: hold and release, split, merge, correcting the recipient and
cancel requests; their refusals change nothing; races on PostgreSQL have one winner."""

from decimal import Decimal

import pytest

from distribution.errors import ApplicationError, PermissionDeniedError
from distribution.models import Role
from finance import services as finance
from orders.actions import (
    order_recipient_edit,
    order_split,
    orders_hold,
    orders_merge,
    orders_pay,
    orders_release,
    pay_refusal,
)
from orders.models import Order, OrderLine, OrderStatus
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.concurrency import together
from tests.conftest import using_postgres
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.factories import OrderFactory, OrderLineFactory
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
    return WarehouseFactory(code="US-CA", sites="US", handling_fee=Decimal("1.50"))


@pytest.fixture
def serum(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), stock_on_hand=100)


@pytest.fixture
def mask(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), stock_on_hand=100)


def make_order(owner, store, warehouse, lines, **fields):
    order = OrderFactory(distributor=owner.distributor, store=store, warehouse=warehouse, **fields)
    goods = Decimal(0)
    for item, quantity in lines:
        OrderLineFactory(
            order=order,
            item=item,
            item_code=item.item_id,
            quantity=quantity,
            unit_price=item.price,
            store_sku=item.item_id,
        )
        goods += item.price * quantity
    Order.objects.filter(pk=order.pk).update(
        goods_amount=goods, handling_amount=warehouse.handling_fee, total_amount=goods + warehouse.handling_fee
    )
    order.refresh_from_db()
    return order


def quantities(order) -> list:
    return sorted((line.item_code, line.quantity) for line in order.lines.all())


# --- hold and release ------------------------------------------------------------------------------


def test_a_held_order_cannot_be_paid_until_released(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)])

    result = orders_hold(actor=owner, orders=[order], reason="buyer asked to wait")
    order.refresh_from_db()
    assert result.done == [order.number] and order.is_held
    assert pay_refusal(order) == "it is on hold"
    assert "Put on hold. Reason: buyer asked to wait" in order.events.latest("pk").message

    orders_release(actor=owner, orders=[order])
    order.refresh_from_db()
    assert not order.is_held and pay_refusal(order) is None


def test_hold_needs_a_reason_and_refuses_orders_at_the_warehouse(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)])
    with pytest.raises(ApplicationError, match="reason"):
        orders_hold(actor=owner, orders=[order], reason="  ")
    pushed = make_order(owner, store, warehouse, [(serum, 1)], status=OrderStatus.AT_WAREHOUSE)

    result = orders_hold(actor=owner, orders=[pushed], reason="wait")
    assert result.refused == [pushed.number] and "at warehouse" in result.reasons[0][1]


def test_finance_members_cannot_hold_orders(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)])
    finance_member = MembershipFactory(distributor=owner.distributor, role=Role.FINANCE)
    with pytest.raises(PermissionDeniedError):
        orders_hold(actor=finance_member, orders=[order], reason="wait")


def test_another_distributors_order_is_not_found(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)])
    with pytest.raises(ApplicationError, match="Not found"):
        orders_hold(actor=owner_of(), orders=[order], reason="wait")
    with pytest.raises(ApplicationError, match="Not found"):
        order_split(actor=owner_of(), order=order, parts=[{}, {}])


# --- split -------------------------------------------------------------------------------------------


def test_split_by_lines_and_quantities(owner, store, warehouse, serum, mask):
    order = make_order(owner, store, warehouse, [(serum, 3), (mask, 1)])
    serum_line, mask_line = order.lines.order_by("pk")

    first, second = order_split(
        actor=owner, order=order, parts=[{serum_line.pk: 2}, {serum_line.pk: 1, mask_line.pk: 1}]
    )

    assert (first.number, second.number) == (f"{order.number}-1", f"{order.number}-2")
    assert quantities(first) == [("LS228800001-01-01", 2)]
    assert quantities(second) == [("LS228800001-01-01", 1), ("LS228800002-01-01", 1)]
    assert (first.goods_amount, first.handling_amount, first.total_amount) == (
        Decimal("24.00"),
        Decimal("1.50"),
        Decimal("25.50"),
    )
    assert second.total_amount == Decimal("18.50")
    order.refresh_from_db()
    assert order.status == OrderStatus.SUPERSEDED
    assert sorted(order.children.values_list("number", flat=True)) == [first.number, second.number]
    assert f"Split into {first.number}, {second.number}." in order.events.latest("pk").message
    assert all(child.status == OrderStatus.AWAITING_PAYMENT for child in (first, second))
    assert first.recipient_name == order.recipient_name and first.platform_order_id == order.platform_order_id


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (lambda s, m: [{s: 3, m: 1}], "2 to 20"),
        (lambda s, m: [{s: 2}, {s: 2, m: 1}], "must add up"),
        (lambda s, m: [{s: 3, m: 1}, {}], "nothing in it"),
        (lambda s, m: [{s: 3}, {m: 1, 999999: 1}], "not on this order"),
        (lambda s, m: [{s: 3}, {m: -1}], "whole number"),
    ],
)
def test_split_refusals_change_nothing(owner, store, warehouse, serum, mask, parts, message):
    order = make_order(owner, store, warehouse, [(serum, 3), (mask, 1)])
    serum_line, mask_line = order.lines.order_by("pk")

    with pytest.raises(ApplicationError, match=message):
        order_split(actor=owner, order=order, parts=parts(serum_line.pk, mask_line.pk))
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT and not order.children.exists()
    assert Order.objects.count() == 1


def test_paid_and_held_orders_are_not_split(owner, store, warehouse, serum):
    paid = make_order(owner, store, warehouse, [(serum, 2)], status=OrderStatus.PAID)
    line = paid.lines.get()
    with pytest.raises(ApplicationError, match="only unpaid orders"):
        order_split(actor=owner, order=paid, parts=[{line.pk: 1}, {line.pk: 1}])
    held = make_order(owner, store, warehouse, [(serum, 2)])
    orders_hold(actor=owner, orders=[held], reason="wait")
    line = held.lines.get()
    with pytest.raises(ApplicationError, match="on hold"):
        order_split(actor=owner, order=held, parts=[{line.pk: 1}, {line.pk: 1}])


# --- merge -------------------------------------------------------------------------------------------


def test_merge_orders_to_one_recipient(owner, store, warehouse, serum, mask):
    first = make_order(owner, store, warehouse, [(serum, 1)], recipient_name="Mia Chen", address1="2150 Mission St")
    second = make_order(owner, store, warehouse, [(mask, 2)], recipient_name="MIA  CHEN", address1="2150 mission st.")

    merged = orders_merge(actor=owner, orders=[second, first])

    assert quantities(merged) == [("LS228800001-01-01", 1), ("LS228800002-01-01", 2)]
    assert (merged.goods_amount, merged.handling_amount, merged.total_amount) == (
        Decimal("22.00"),
        Decimal("1.50"),
        Decimal("23.50"),
    )
    assert merged.status == OrderStatus.AWAITING_PAYMENT
    for source in (first, second):
        source.refresh_from_db()
        assert source.status == OrderStatus.SUPERSEDED and source.merged_into == merged
    assert sorted(merged.merged_from.values_list("number", flat=True)) == sorted([first.number, second.number])
    # every line keeps its platform line, so tracking reaches each store order
    assert OrderLine.objects.filter(order=merged).count() == 2


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"recipient_name": "Someone Else"}, "the same recipient and address"),
        ({"postal_code": "94110"}, "the same recipient and address"),
        ({"logistics": "self_pickup"}, "the same logistics"),
    ],
)
def test_merge_refusal_names_the_rule_and_the_orders(owner, store, warehouse, serum, change, rule):
    first = make_order(owner, store, warehouse, [(serum, 1)])
    second = make_order(owner, store, warehouse, [(serum, 1)], **change)

    with pytest.raises(ApplicationError) as refused:
        orders_merge(actor=owner, orders=[first, second])
    assert rule in str(refused.value) and second.number in str(refused.value)
    assert Order.objects.count() == 2
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.AWAITING_PAYMENT}


def test_merge_refuses_other_warehouses_stores_and_a_single_order(owner, store, warehouse, serum):
    first = make_order(owner, store, warehouse, [(serum, 1)])
    other_store = StoreFactory(distributor=owner.distributor, site="US")
    elsewhere = make_order(owner, other_store, warehouse, [(serum, 1)])
    with pytest.raises(ApplicationError, match="the same store"):
        orders_merge(actor=owner, orders=[first, elsewhere])
    with pytest.raises(ApplicationError, match="2 to 20"):
        orders_merge(actor=owner, orders=[first])


# --- the recipient ---------------------------------------------------------------------------------


ADDRESS = {
    "recipient_name": "Mia Chen",
    "recipient_phone": "+1 415 555 0143",
    "address1": "2150 Mission Street",
    "city": "San Francisco",
    "province": "CA",
    "postal_code": "2134",
    "country": "us",
}


def test_recipient_edit_checks_the_postcode_and_clears_the_problem(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)], address_problem="94 is not a US ZIP code")

    edited = order_recipient_edit(actor=owner, order=order, data=ADDRESS)

    assert (edited.postal_code, edited.country, edited.address_problem) == ("02134", "US", "")
    assert pay_refusal(edited) is None
    assert "Recipient corrected in the portal." in edited.events.latest("pk").message


def test_recipient_edit_refuses_a_bad_postcode_and_changes_nothing(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)])
    with pytest.raises(ApplicationError, match="ZIP"):
        order_recipient_edit(actor=owner, order=order, data={**ADDRESS, "postal_code": "ABCDE"})
    order.refresh_from_db()
    assert order.recipient_name == "Jane Buyer"


def test_recipient_edit_moves_the_order_in_and_out_of_the_service_area(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)])
    japan = {**ADDRESS, "country": "JP", "postal_code": "1500002", "city": "Tokyo"}

    outside = order_recipient_edit(actor=owner, order=order, data=japan)
    assert outside.status == OrderStatus.OUTSIDE_AREA and outside.postal_code == "150-0002"
    back = order_recipient_edit(actor=owner, order=order, data=ADDRESS)
    assert back.status == OrderStatus.AWAITING_PAYMENT


def test_recipient_is_not_edited_after_payment(owner, store, warehouse, serum):
    order = make_order(owner, store, warehouse, [(serum, 1)], status=OrderStatus.PAID)
    with pytest.raises(ApplicationError, match="only before payment"):
        order_recipient_edit(actor=owner, order=order, data=ADDRESS)


# --- races ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not using_postgres(), reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_split_against_pay_has_one_winner(owner, store, warehouse, serum, django_user_model):
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    finance.adjustment_post(actor=staff, distributor=owner.distributor, amount="100", reason="t", idempotency_key="f")
    order = make_order(owner, store, warehouse, [(serum, 2)])
    line = order.lines.get()

    split, paid = together(
        lambda: order_split(actor=owner, order=order, parts=[{line.pk: 1}, {line.pk: 1}]),
        lambda: orders_pay(actor=owner, orders=[order], idempotency_key="pay-race"),
    )

    order.refresh_from_db()
    if order.status == OrderStatus.PAID:
        assert isinstance(split, ApplicationError) and not order.children.exists()
    else:
        assert order.status == OrderStatus.SUPERSEDED and len(split) == 2
        assert isinstance(paid, ApplicationError) or not paid.paid
    assert Order.objects.filter(status=OrderStatus.PAID).count() + order.children.count() in (1, 2)


@pytest.mark.skipif(not using_postgres(), reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_merges_of_overlapping_orders_have_one_winner(owner, store, warehouse, serum):
    a, b, c = (make_order(owner, store, warehouse, [(serum, 1)]) for _ in range(3))

    results = together(
        lambda: orders_merge(actor=owner, orders=[a, b]), lambda: orders_merge(actor=owner, orders=[b, c])
    )

    merged = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert (len(merged), len(refused)) == (1, 1), results
    assert "only unpaid orders" in str(refused[0])
    b.refresh_from_db()
    assert b.merged_into == merged[0]


def test_a_platform_change_to_a_merged_source_is_flagged_on_the_merged_order(owner, store, serum):
    from dataclasses import replace

    from mapping.models import Mapping
    from orders.ingest import platform_order_ingest
    from orders.models import PlatformOrder
    from tests.orders.test_left_out_lines import line, order

    Mapping.objects.create(store=store, store_sku="SERUM", item=serum)
    first, second = order("3001", line("SERUM")), order("3002", line("SERUM", 2))
    for payload in (first, second):
        platform_order_ingest(store=store, order=payload, source=PlatformOrder.Source.PULL)
    merged = orders_merge(actor=owner, orders=list(Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT)))

    changed = replace(second, lines=(line("SERUM", 5),), updated_at=second.updated_at.replace(hour=11))
    platform_order_ingest(store=store, order=changed, source=PlatformOrder.Source.PULL)

    merged.refresh_from_db()
    assert "items or quantities changed" in merged.platform_change_flag
    assert quantities(merged) == [("LS228800001-01-01", 1), ("LS228800001-01-01", 2)]  # the shape stays
    assert Order.objects.exclude(status=OrderStatus.SUPERSEDED).count() == 1
