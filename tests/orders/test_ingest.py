"""Ingestion: platform orders in, distribution orders out, through the mapping; replays,
platform changes before and after payment, malformed orders, re-evaluation on mapping."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from mapping.models import Mapping, SeenSku
from mapping.services import mapping_create
from orders.ingest import Outcome, orders_reevaluate_pending, platform_order_ingest, platform_orders_ingest
from orders.models import Disposition, IngestionError, Order, OrderEvent, OrderStatus, PlatformOrder
from orders.rules import verdict
from orders.state import order_transition
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    NormalizedBuyer,
    NormalizedLine,
    NormalizedOrder,
)
from tests.catalog.factories import ItemFactory, ProductFactory, WarehouseFactory
from tests.conftest import using_postgres
from tests.distribution.factories import owner_of
from tests.stores.factories import StoreFactory

PULL = PlatformOrder.Source.PULL
ADDRESS = NormalizedAddress(
    name="Alan Kay",
    phone="+1 617 555 0103",
    address1="7 Smalltalk St",
    city="Boston",
    province="Massachusetts",
    province_code="MA",
    postal_code="02134",
    country_code="US",
)


def platform_order(
    external_id="450789469",
    lines=(("SERUM-US", 2),),
    financial=FinancialStatus.PAID,
    fulfillment=FulfillmentStatus.UNFULFILLED,
    cancel=CancelStatus.NONE,
    address=ADDRESS,
    updated_at=None,
    platform="shopify",
) -> NormalizedOrder:
    return NormalizedOrder(
        platform=platform,
        external_id=external_id,
        display_number=f"#{external_id[-4:]}",
        created_at=datetime(2026, 1, 31, 10, 0, tzinfo=UTC),
        updated_at=updated_at or datetime(2026, 1, 31, 10, 0, tzinfo=UTC),
        currency="USD",
        financial_status=financial,
        fulfillment_status=fulfillment,
        cancel_status=cancel,
        buyer=NormalizedBuyer(name="Alan Kay", email="alan@example.com"),
        shipping_address=address,
        lines=tuple(
            NormalizedLine(external_line_id=f"L{n}", sku=sku, quantity=qty, unit_price=Decimal("39.90"), title=sku)
            for n, (sku, qty) in enumerate(lines)
        ),
        total=Decimal("79.80"),
        raw={"id": external_id, "note": "raw payload"},
    )


@pytest.fixture
def owner(db):
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US")


@pytest.fixture
def us_item():
    warehouse = WarehouseFactory(code="US-CA", sites="US", handling_fee=Decimal("1.20"))
    product = ProductFactory(code="LS228800001", name="SNOWTOX CRYSTAL TREATMENT SERUM")
    return ItemFactory(product=product, warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.80"))


@pytest.fixture
def de_item():
    warehouse = WarehouseFactory(code="DE-FRA", country="DE", sites="DE,US", handling_fee=Decimal("1.50"))
    return ItemFactory(warehouse=warehouse, price=Decimal("5.00"))


def map_sku(store, sku, item):
    return Mapping.objects.create(store=store, store_sku=sku, item=item)


# --- conversion ------------------------------------------------------------------------------


def test_ingest_paid_order_creates_one_distribution_order_with_snapshots(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    result = platform_order_ingest(store=store, order=platform_order(), source=PULL)
    assert (result.outcome, result.orders_created) == (Outcome.CREATED, 1)
    po = PlatformOrder.objects.get()
    assert (po.external_id, po.disposition, po.raw) == (
        "450789469",
        Disposition.CONVERTED,
        {"id": "450789469", "note": "raw payload"},
    )
    order = Order.objects.get()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert (order.distributor, order.store, order.platform_order, order.warehouse) == (
        store.distributor,
        store,
        po,
        us_item.warehouse,
    )
    assert (order.recipient_name, order.postal_code, order.country, order.province) == (
        "Alan Kay",
        "02134",
        "US",
        "Massachusetts",
    )
    line = order.lines.get()
    assert (line.store_sku, line.quantity, line.item_code, line.product_name, line.warehouse_code) == (
        "SERUM-US",
        2,
        "LS228800001-01-01",
        "SNOWTOX CRYSTAL TREATMENT SERUM",
        "US-CA",
    )
    assert (line.unit_price, line.currency) == (Decimal("12.80"), "USD")
    # goods at the distribution price, plus the warehouse's handling fee; Decimal with a currency
    assert (order.goods_amount, order.handling_amount, order.shipping_amount, order.total_amount, order.currency) == (
        Decimal("25.60"),
        Decimal("1.20"),
        Decimal("0.00"),
        Decimal("26.80"),
        "USD",
    )
    assert OrderEvent.objects.get(order=order).to_status == OrderStatus.AWAITING_PAYMENT


def test_line_snapshot_survives_a_later_catalog_edit(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    us_item.price = Decimal("99.00")
    us_item.save()
    us_item.product.name = "RENAMED"
    us_item.product.save()
    line = Order.objects.get().lines.get()
    assert (line.unit_price, line.product_name) == (Decimal("12.80"), "SNOWTOX CRYSTAL TREATMENT SERUM")


def test_ingest_replayed_order_changes_nothing(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    first = platform_order_ingest(store=store, order=platform_order(), source=PULL)
    again = platform_order_ingest(store=store, order=platform_order(), source=PlatformOrder.Source.WEBHOOK)
    batch = platform_orders_ingest(store=store, orders=[platform_order()], source=PULL)
    assert first.outcome == Outcome.CREATED
    assert again.outcome == Outcome.UNCHANGED
    assert (batch.unchanged, batch.created) == (1, 0)
    assert PlatformOrder.objects.count() == 1
    assert Order.objects.count() == 1
    assert PlatformOrder.objects.get().source == PULL  # where it was first seen


def test_lines_in_two_warehouses_make_one_order_per_warehouse(store, us_item, de_item):
    map_sku(store, "SERUM-US", us_item)
    map_sku(store, "MASK", de_item)
    result = platform_order_ingest(store=store, order=platform_order(lines=(("SERUM-US", 1), ("MASK", 3))), source=PULL)
    assert result.orders_created == 2
    orders = {o.warehouse.code: o for o in Order.objects.all()}
    assert set(orders) == {"US-CA", "DE-FRA"}
    assert [(line.store_sku, line.quantity) for line in orders["DE-FRA"].lines.all()] == [("MASK", 3)]
    assert orders["DE-FRA"].total_amount == Decimal("16.50")
    assert orders["US-CA"].number != orders["DE-FRA"].number


def test_unmapped_sku_parks_the_order_in_pending_mapping_naming_the_skus(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(lines=(("SERUM-US", 1), ("NEW-SKU", 1))), source=PULL)
    order = Order.objects.get()
    assert order.status == OrderStatus.PENDING_MAPPING
    assert order.missing_skus == ["NEW-SKU"]
    assert order.warehouse is None
    assert order.lines.count() == 2
    assert "NEW-SKU" in OrderEvent.objects.get(order=order).message
    # mapping's unmapped-SKU queue hears of it, with the number of orders waiting
    seen = SeenSku.objects.get(store=store, sku="NEW-SKU")
    assert seen.waiting_orders == 1


def test_new_mapping_releases_the_orders_waiting_for_it(
    store, owner, us_item, de_item, django_capture_on_commit_callbacks
):
    platform_order_ingest(store=store, order=platform_order(lines=(("SERUM-US", 1), ("MASK", 1))), source=PULL)
    platform_order_ingest(store=store, order=platform_order("2", lines=(("OTHER", 1),)), source=PULL)
    waiting = Order.objects.get(platform_order__external_id="450789469")
    with django_capture_on_commit_callbacks(execute=True):
        mapping_create(actor=owner, store=store, store_sku="SERUM-US", item=us_item)
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.PENDING_MAPPING and waiting.missing_skus == ["MASK"]
    with django_capture_on_commit_callbacks(execute=True):
        mapping_create(actor=owner, store=store, store_sku="MASK", item=de_item)
    orders = Order.objects.filter(platform_order__external_id="450789469").order_by("pk")
    live = [o for o in orders if o.status != OrderStatus.SUPERSEDED]
    assert sorted(o.warehouse.code for o in live) == ["DE-FRA", "US-CA"]
    assert all(o.status == OrderStatus.AWAITING_PAYMENT and o.missing_skus == [] for o in live)
    assert waiting.pk in {o.pk for o in live}  # the waiting order kept its number
    assert Order.objects.get(platform_order__external_id="2").status == OrderStatus.PENDING_MAPPING
    assert SeenSku.objects.get(store=store, sku="MASK").waiting_orders == 0
    assert SeenSku.objects.get(store=store, sku="OTHER").waiting_orders == 1


JP_ADDRESS = NormalizedAddress(
    name="Yuki Tanaka",
    address1="1-1 Chiyoda",
    city="Chiyoda-ku",
    province="Tokyo",
    postal_code="100-0001",
    country_code="JP",
)


def test_address_outside_the_warehouses_area_waits_in_its_own_state_until_corrected(store, us_item):
    from orders.actions import pay_refusal

    # given a US store whose SKU maps to the US warehouse, and an order shipping to Japan
    map_sku(store, "SERUM-US", us_item)
    updated = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    platform_order_ingest(store=store, order=platform_order(address=JP_ADDRESS), source=PULL)
    order = Order.objects.get()
    # then it waits as "address outside service area", and cannot be paid
    assert order.status == OrderStatus.OUTSIDE_AREA
    assert "outside the service area of US-CA" in pay_refusal(order)
    # when the buyer's address is corrected on the platform
    platform_order_ingest(store=store, order=platform_order(address=ADDRESS, updated_at=updated), source=PULL)
    order.refresh_from_db()
    # then the order is payable, and the timeline says why it moved
    assert order.status == OrderStatus.AWAITING_PAYMENT and pay_refusal(order) is None
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.AWAITING_PAYMENT).exists()
    # and an address moved abroad again sends it back
    later = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    platform_order_ingest(store=store, order=platform_order(address=JP_ADDRESS, updated_at=later), source=PULL)
    order.refresh_from_db()
    assert order.status == OrderStatus.OUTSIDE_AREA
    message = OrderEvent.objects.filter(order=order, to_status=OrderStatus.OUTSIDE_AREA).last().message
    assert "outside the service area of US-CA (it serves US)" in message


def test_order_page_says_which_sites_its_warehouse_serves(client, owner, store, us_item):
    from django.urls import reverse

    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(address=JP_ADDRESS), source=PULL)
    order = Order.objects.get()
    client.force_login(owner.user)
    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "Address outside service area" in html and "Ships to: US" in html


def test_pulled_order_with_a_bad_postcode_is_flagged_and_payable_only_after_a_fix(store, us_item):
    from dataclasses import replace

    from orders.actions import pay_refusal

    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(address=replace(ADDRESS, postal_code="ABC12")), source=PULL)
    order = Order.objects.get()
    assert order.postal_code == "ABC12" and "not a US ZIP code" in order.address_problem
    assert "address needs a fix" in pay_refusal(order)
    # the buyer fixes it on the platform: a 4-digit ZIP gets its zero back, the flag goes
    fixed = platform_order(address=replace(ADDRESS, postal_code="2134"), updated_at=datetime(2026, 2, 1, tzinfo=UTC))
    platform_order_ingest(store=store, order=fixed, source=PULL)
    order.refresh_from_db()
    assert (order.postal_code, order.address_problem) == ("02134", "")
    assert pay_refusal(order) is None


def test_reevaluation_lost_with_its_task_is_recovered_by_the_sweep(store, us_item):
    from orders.ingest.reevaluate import reevaluation_sweep
    from orders.tasks import reevaluate_sweep

    platform_order_ingest(store=store, order=platform_order(lines=(("SERUM-US", 1),)), source=PULL)
    platform_order_ingest(store=store, order=platform_order("2", lines=(("STILL-UNMAPPED", 1),)), source=PULL)
    # a mapping written while its re-evaluation task was lost (no signal, no task ran)
    map_sku(store, "SERUM-US", us_item)
    assert Order.objects.get(platform_order__external_id="450789469").status == OrderStatus.PENDING_MAPPING
    # beat's sweep finds it
    assert reevaluate_sweep.apply().get() == 1
    assert Order.objects.get(platform_order__external_id="450789469").status == OrderStatus.AWAITING_PAYMENT
    assert Order.objects.get(platform_order__external_id="2").status == OrderStatus.PENDING_MAPPING
    assert reevaluation_sweep() == 0  # nothing newly mapped: nothing to do


def test_reevaluation_leaves_paid_orders_alone_and_is_rerunnable(store, us_item):
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    map_sku(store, "SERUM-US", us_item)
    assert orders_reevaluate_pending(store=store) == 1
    assert orders_reevaluate_pending(store=store) == 0
    assert Order.objects.get().status == OrderStatus.AWAITING_PAYMENT


# --- which orders become distribution orders ----------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "financial", "fulfillment", "cancel", "disposition"),
    [
        ("shopify", FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE, Disposition.CONVERTED),
        (
            "shopify",
            FinancialStatus.PARTIALLY_REFUNDED,
            FulfillmentStatus.UNFULFILLED,
            CancelStatus.NONE,
            Disposition.CONVERTED,
        ),
        ("shopify", FinancialStatus.AUTHORIZED, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE, Disposition.WAITING),
        ("shopify", FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE, Disposition.WAITING),
        ("shopify", FinancialStatus.PAID, FulfillmentStatus.FULFILLED, CancelStatus.NONE, Disposition.SKIPPED),
        ("shopify", FinancialStatus.PAID, FulfillmentStatus.PARTIAL, CancelStatus.NONE, Disposition.SKIPPED),
        ("shopify", FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, CancelStatus.CANCELLED, Disposition.SKIPPED),
        ("shopify", FinancialStatus.REFUNDED, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE, Disposition.SKIPPED),
        ("amazon", FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE, Disposition.CONVERTED),
        ("amazon", FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE, Disposition.WAITING),
        ("amazon", FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, CancelStatus.REQUESTED, Disposition.WAITING),
        (
            "tiktok",
            FinancialStatus.PARTIALLY_REFUNDED,
            FulfillmentStatus.UNFULFILLED,
            CancelStatus.NONE,
            Disposition.WAITING,
        ),
    ],
)
def test_rule_for_which_platform_orders_become_distribution_orders(
    platform, financial, fulfillment, cancel, disposition
):
    order = platform_order(financial=financial, fulfillment=fulfillment, cancel=cancel, platform=platform)
    assert verdict(order, platform=platform).disposition == disposition


def test_unpaid_order_waits_and_converts_once_paid(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(financial=FinancialStatus.PENDING), source=PULL)
    assert not Order.objects.exists()
    assert PlatformOrder.objects.get().disposition == Disposition.WAITING
    result = platform_order_ingest(
        store=store,
        order=platform_order(updated_at=datetime(2026, 2, 1, tzinfo=UTC)),
        source=PlatformOrder.Source.WEBHOOK,
    )
    assert (result.outcome, result.orders_created) == (Outcome.UPDATED, 1)
    assert Order.objects.get().status == OrderStatus.AWAITING_PAYMENT
    assert PlatformOrder.objects.get().disposition == Disposition.CONVERTED


def test_cancelled_or_fulfilled_orders_never_become_distribution_orders(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order("1", cancel=CancelStatus.CANCELLED), source=PULL)
    platform_order_ingest(store=store, order=platform_order("2", fulfillment=FulfillmentStatus.FULFILLED), source=PULL)
    assert not Order.objects.exists()
    assert set(PlatformOrder.objects.values_list("disposition", flat=True)) == {Disposition.SKIPPED}


# --- changes on the platform -------------------------------------------------------------------

LATER = datetime(2026, 2, 2, tzinfo=UTC)
NEW_ADDRESS = NormalizedAddress(
    name="Alan Kay", address1="1 New Street", city="Cambridge", postal_code="02139", country_code="US"
)


def test_address_change_before_payment_updates_the_unpaid_order(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    platform_order_ingest(store=store, order=platform_order(address=NEW_ADDRESS, updated_at=LATER), source=PULL)
    order = Order.objects.get()
    assert (order.address1, order.city, order.postal_code) == ("1 New Street", "Cambridge", "02139")
    assert order.platform_change_flag == ""
    assert OrderEvent.objects.filter(order=order, message__icontains="address").exists()


def test_cancellation_before_payment_cancels_the_unpaid_order(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    platform_order_ingest(
        store=store, order=platform_order(cancel=CancelStatus.CANCELLED, updated_at=LATER), source=PULL
    )
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.CANCELLED).exists()


def test_change_after_payment_flags_the_order_and_changes_nothing_else(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    order = Order.objects.get()
    order_transition(order=order, to_status=OrderStatus.PAID)
    platform_order_ingest(
        store=store,
        order=platform_order(address=NEW_ADDRESS, cancel=CancelStatus.CANCELLED, updated_at=LATER),
        source=PULL,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.address1 == "7 Smalltalk St"
    assert "after payment" in order.platform_change_flag
    assert "cancelled" in order.platform_change_flag and "address" in order.platform_change_flag


def test_our_own_fulfilment_coming_back_from_the_platform_raises_no_flag(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    order = Order.objects.get()
    order_transition(order=order, to_status=OrderStatus.PAID)
    platform_order_ingest(
        store=store, order=platform_order(fulfillment=FulfillmentStatus.FULFILLED, updated_at=LATER), source=PULL
    )
    order.refresh_from_db()
    assert order.platform_change_flag == ""


def test_new_lines_before_payment_reroute_the_unpaid_order(store, us_item, de_item):
    map_sku(store, "SERUM-US", us_item)
    map_sku(store, "MASK", de_item)
    platform_order_ingest(store=store, order=platform_order(), source=PULL)
    platform_order_ingest(
        store=store, order=platform_order(lines=(("SERUM-US", 5), ("MASK", 1)), updated_at=LATER), source=PULL
    )
    live = Order.objects.exclude(status=OrderStatus.SUPERSEDED)
    assert sorted((o.warehouse.code, [line.quantity for line in o.lines.all()]) for o in live) == [
        ("DE-FRA", [1]),
        ("US-CA", [5]),
    ]


# --- malformed orders --------------------------------------------------------------------------


def test_malformed_order_is_recorded_and_the_rest_proceed(store, us_item):
    map_sku(store, "SERUM-US", us_item)
    bad = platform_order("666", lines=(("SERUM-US", -1),))
    summary = platform_orders_ingest(store=store, orders=[platform_order("1"), bad, platform_order("2")], source=PULL)
    assert (summary.created, summary.failed) == (2, 1)
    assert Order.objects.count() == 2
    error = IngestionError.objects.get()
    assert error.external_id == "666" and "invalid quantity" in error.reason
    assert error.payload == {"id": "666", "note": "raw payload"}
    # the same failure again counts up instead of piling up rows
    platform_order_ingest(store=store, order=bad, source=PULL)
    assert IngestionError.objects.get().occurrences == 2


def test_bulk_and_one_by_one_ingestion_agree(store, us_item, de_item):
    map_sku(store, "SERUM-US", us_item)
    map_sku(store, "MASK", de_item)
    orders = [platform_order(str(n), lines=(("SERUM-US", 1), ("MASK", n % 3 + 1))) for n in range(1, 6)]
    summary = platform_orders_ingest(store=store, orders=orders, source=PULL)
    assert (summary.created, summary.orders_created) == (5, 10)
    other = StoreFactory(distributor=store.distributor)
    map_sku(other, "SERUM-US", us_item)
    map_sku(other, "MASK", de_item)
    for order in orders:
        platform_order_ingest(store=other, order=order, source=PULL)

    def shape(s):
        return sorted(
            (o.platform_order.external_id, o.warehouse.code, o.status, o.total_amount, o.lines.get().quantity)
            for o in Order.objects.filter(store=s)
        )

    assert shape(store) == shape(other)

    def kept(s):
        return sorted(PlatformOrder.objects.filter(store=s).values_list("external_id", "raw", "lines", "content_hash"))

    assert kept(store) == kept(other)  # the payload as the platform sent it, both ways
    assert PlatformOrder.objects.get(store=store, external_id="1").raw == {"id": "1", "note": "raw payload"}


# --- two workers at once ------------------------------------------------------------------------


@pytest.mark.skipif(not using_postgres(), reason="concurrent inserts need PostgreSQL (SQLite serialises writers)")
@pytest.mark.django_db(transaction=True)
def test_two_workers_ingesting_the_same_order_at_once_make_one_order():
    store = StoreFactory(distributor=owner_of().distributor)
    item = ItemFactory(warehouse=WarehouseFactory(code="US-CA", sites="US"))
    map_sku(store, "SERUM-US", item)
    barrier = threading.Barrier(4)
    outcomes = []

    def ingest(bulk):
        try:
            barrier.wait()
            if bulk:
                summary = platform_orders_ingest(store=store, orders=[platform_order()], source=PULL)
                outcomes.append("created" if summary.created else "other")
            else:
                outcomes.append(platform_order_ingest(store=store, order=platform_order(), source=PULL).outcome.value)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 1
    assert PlatformOrder.objects.count() == 1
    assert Order.objects.count() == 1
    assert not IngestionError.objects.exists()


def test_order_numbers_are_do_the_utc_day_and_eight_crockford_characters():
    import re

    from orders.ingest import new_order_number

    before = datetime.now(UTC).strftime("%y%m%d")
    numbers = {new_order_number() for _ in range(20_000)}
    after = datetime.now(UTC).strftime("%y%m%d")
    assert len(numbers) == 20_000
    assert all(re.fullmatch(rf"DO({before}|{after})[0-9A-HJKMNP-TV-Z]{{8}}", number) for number in numbers)
