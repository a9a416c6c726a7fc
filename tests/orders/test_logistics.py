"""Step 7's logistics: new orders get the cheapest method that serves them, the distributor
chooses another method or self-pickup, the cost follows, and an order no method serves
cannot be paid until it is fixed."""

from decimal import Decimal

import pytest

from distribution.errors import ApplicationError
from mapping.models import Mapping
from orders.actions import order_recipient_edit, order_split, orders_logistics_choose, pay_refusal
from orders.ingest import platform_order_ingest, platform_orders_ingest
from orders.models import Logistics, Order, OrderStatus, PlatformOrder
from tests.catalog.factories import (
    ItemFactory,
    ProductFactory,
    RateCardFactory,
    RateRowFactory,
    RateZoneFactory,
    ShippingMethodFactory,
    WarehouseFactory,
)
from tests.distribution.factories import owner_of
from tests.orders.test_left_out_lines import line, order
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db
PULL = PlatformOrder.Source.PULL


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def warehouse():
    return WarehouseFactory(
        code="US-CA", sites="US", handling_fee=Decimal("1.00"), self_pickup_fee=Decimal("2.50"), address="1 Dock Rd"
    )


def method(warehouse, name, first_price, step_price="1.00", **fields):
    shipping = ShippingMethodFactory(warehouse=warehouse, carrier=name, service="Ground", **fields)
    zone = RateZoneFactory(card=RateCardFactory(method=shipping), country="US")
    RateRowFactory(zone=zone, first_grams=500, first_price=Decimal(first_price), step_price=Decimal(step_price))
    return shipping


@pytest.fixture
def methods(warehouse):
    return method(warehouse, "USPS", "4.00", step_price="2.00"), method(warehouse, "UPS", "6.00", step_price="0.50")


@pytest.fixture
def store(owner, warehouse):
    store = StoreFactory(distributor=owner.distributor, site="US")
    product = ProductFactory(code="LS228800001")
    item = ItemFactory(product=product, warehouse=warehouse, price=Decimal("12.00"), weight_grams=400)
    Mapping.objects.create(store=store, store_sku="SERUM", item=item)
    return store


def test_a_new_order_ships_by_the_cheapest_method_that_serves_it(store, methods):
    platform_order_ingest(store=store, order=order("5001", line("SERUM")), source=PULL)

    made = Order.objects.get()
    assert (made.chosen_method, made.shipping_method) == (methods[0], methods[0].name)
    assert (made.goods_amount, made.shipping_amount, made.handling_amount, made.total_amount) == (
        Decimal("12.00"),
        Decimal("4.00"),
        Decimal("1.00"),
        Decimal("17.00"),
    )
    assert made.chargeable_grams == 500
    assert pay_refusal(made) is None


def test_the_cheapest_depends_on_the_weight(store, methods):
    # 4 × 400 g = 1,600 g: USPS 4 + 3 × 2 = 10.00, UPS 6 + 3 × 0.50 = 7.50
    platform_orders_ingest(store=store, orders=[order("5002", line("SERUM", 4))], source=PULL)

    made = Order.objects.get()
    assert made.chosen_method == methods[1] and made.shipping_amount == Decimal("7.50")


def test_choosing_a_method_or_self_pickup_changes_the_cost(owner, store, methods, warehouse):
    platform_order_ingest(store=store, order=order("5003", line("SERUM")), source=PULL)
    made = Order.objects.get()

    result = orders_logistics_choose(
        actor=owner, orders=[made], logistics=Logistics.DROPSHIPPING, method_id=methods[1].pk
    )
    made.refresh_from_db()
    assert result.done == [made.number]
    assert (made.chosen_method, made.shipping_amount, made.total_amount) == (
        methods[1],
        Decimal("6.00"),
        Decimal("19.00"),
    )
    assert "Dropshipping by UPS Ground: freight 6.00 USD." in made.events.latest("pk").message

    orders_logistics_choose(actor=owner, orders=[made], logistics=Logistics.SELF_PICKUP)
    made.refresh_from_db()
    assert (made.logistics, made.chosen_method, made.shipping_amount, made.handling_amount, made.total_amount) == (
        Logistics.SELF_PICKUP,
        None,
        Decimal("0.00"),
        Decimal("3.50"),
        Decimal("15.50"),
    )


def test_a_method_that_does_not_serve_the_address_is_refused(owner, store, methods, warehouse):
    hawaii_free = method(warehouse, "FedEx", "3.00", excluded_regions="US-HI")
    platform_order_ingest(store=store, order=order("5004", line("SERUM")), source=PULL)
    made = Order.objects.get()
    order_recipient_edit(
        actor=owner,
        order=made,
        data={
            "recipient_name": "Kai",
            "address1": "1 Beach Rd",
            "city": "Honolulu",
            "province": "HI",
            "postal_code": "96815",
            "country": "US",
        },
    )
    made.refresh_from_db()
    assert made.chosen_method == methods[0]  # FedEx was cheapest, but does not reach Hawaii

    result = orders_logistics_choose(
        actor=owner, orders=[made], logistics=Logistics.DROPSHIPPING, method_id=hawaii_free.pk
    )
    assert result.refused == [made.number] and "HI" in result.reasons[0][1]
    made.refresh_from_db()
    assert made.chosen_method == methods[0]


def test_an_order_no_method_serves_cannot_be_paid(owner, store, warehouse):
    method(warehouse, "USPS", "4.00", countries="CA")
    platform_order_ingest(store=store, order=order("5005", line("SERUM")), source=PULL)

    made = Order.objects.get()
    assert made.chosen_method is None and made.shipping_amount == 0
    assert "no shipping method serves its address" in pay_refusal(made)
    orders_logistics_choose(actor=owner, orders=[made], logistics=Logistics.SELF_PICKUP)
    made.refresh_from_db()
    assert pay_refusal(made) is None


def test_each_split_part_pays_its_own_freight(owner, store, methods):
    platform_order_ingest(store=store, order=order("5006", line("SERUM", 4)), source=PULL)
    parent = Order.objects.get()
    serum_line = parent.lines.get()

    first, second = order_split(actor=owner, order=parent, parts=[{serum_line.pk: 1}, {serum_line.pk: 3}])

    # the parent (1,600 g) shipped by UPS, the cheaper there; each part keeps it, priced on its own weight
    assert parent.chosen_method == methods[1]
    assert (first.chosen_method, first.shipping_amount) == (methods[1], Decimal("6.00"))  # 400 g
    assert (second.chosen_method, second.shipping_amount) == (methods[1], Decimal("7.00"))  # 1,200 g: 6 + 2 × 0.50
    assert first.total_amount == first.goods_amount + first.shipping_amount + first.handling_amount


def test_logistics_are_chosen_only_before_payment(owner, store, methods):
    platform_order_ingest(store=store, order=order("5007", line("SERUM")), source=PULL)
    made = Order.objects.get()
    Order.objects.filter(pk=made.pk).update(status=OrderStatus.PAID)

    result = orders_logistics_choose(actor=owner, orders=[made], logistics=Logistics.SELF_PICKUP)
    assert result.refused == [made.number] and "before payment" in result.reasons[0][1]
    with pytest.raises(ApplicationError):
        orders_logistics_choose(actor=owner, orders=[made], logistics="by-pigeon")


def test_choosing_for_many_orders_costs_a_constant_number_of_queries(owner, store, methods):
    platform_orders_ingest(store=store, orders=[order(f"6{n:03d}", line("SERUM")) for n in range(40)], source=PULL)
    few, many = list(Order.objects.order_by("pk")[:5]), list(Order.objects.order_by("pk"))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for chosen in (few, many):
        with CaptureQueriesContext(connection) as queries:
            orders_logistics_choose(
                actor=owner, orders=chosen, logistics=Logistics.DROPSHIPPING, method_id=methods[1].pk
            )
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
