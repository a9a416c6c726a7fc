"""Lines that are not ours never block an order: lines that ship nothing, lines without a
SKU and SKUs the distributor marked "not supplied by this platform" are left out of the
distribution order, named on it and on its timeline; an order with nothing of ours left
is skipped with that reason."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from distribution.models import Role
from mapping.models import Mapping, SeenSku
from mapping.services import seen_sku_not_supplied_set
from orders.ingest import Outcome, platform_order_ingest, platform_orders_ingest
from orders.models import Disposition, Order, OrderStatus, PlatformOrder
from stores.platforms import shopify
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
)
from tests.catalog.factories import ItemFactory, ProductFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of
from tests.stores.factories import StoreFactory

PULL = PlatformOrder.Source.PULL
FIXTURES = Path(__file__).resolve().parents[1] / "stores" / "fixtures"
ADDRESS = NormalizedAddress(
    name="Grace Hopper", address1="1 Navy Way", city="Arlington", postal_code="22202", country_code="US"
)


def line(sku, quantity=1, *, ships=True, title=""):
    return NormalizedLine(
        external_line_id=f"L-{sku or title}",
        sku=sku,
        quantity=quantity,
        unit_price=Decimal("9.90"),
        title=title or sku,
        requires_shipping=ships,
    )


def order(external_id, *lines):
    return NormalizedOrder(
        platform="shopify",
        external_id=external_id,
        display_number=f"#{external_id}",
        created_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        updated_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        currency="USD",
        financial_status=FinancialStatus.PAID,
        fulfillment_status=FulfillmentStatus.UNFULFILLED,
        cancel_status=CancelStatus.NONE,
        shipping_address=ADDRESS,
        lines=tuple(lines),
    )


@pytest.fixture
def owner(db):
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US")


@pytest.fixture
def serum(store):
    warehouse = WarehouseFactory(code="US-CA", sites="US", handling_fee=Decimal("1.00"))
    product = ProductFactory(code="LS228800001", name="SNOWTOX CRYSTAL TREATMENT SERUM")
    item = ItemFactory(product=product, warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"))
    Mapping.objects.create(store=store, store_sku="SERUM", item=item)
    return item


def the_order(store) -> Order:
    return Order.objects.exclude(status=OrderStatus.SUPERSEDED).get(store=store)


def timeline(order: Order) -> str:
    return " | ".join(order.events.order_by("pk").values_list("message", flat=True))


def test_lines_that_ship_nothing_are_left_out_and_named(store, serum):
    gift_wrap = line("", ships=False, title="Gift wrapping")
    protection = line("ROUTE-INS", ships=False, title="Shipping Protection")
    result = platform_order_ingest(
        store=store, order=order("1001", line("SERUM", 2), gift_wrap, protection), source=PULL
    )

    assert result.outcome == Outcome.CREATED
    made = the_order(store)
    assert made.status == OrderStatus.AWAITING_PAYMENT
    assert [(x.store_sku, x.quantity) for x in made.lines.all()] == [("SERUM", 2)]
    assert made.goods_amount == Decimal("24.00")
    assert [(x["title"], x["reason"]) for x in made.left_out_lines] == [
        ("Gift wrapping", "no_shipping"),
        ("Shipping Protection", "no_shipping"),
    ]
    assert "Left out: Gift wrapping × 1 (needs no shipping); Shipping Protection × 1 (needs no shipping)." in timeline(
        made
    )
    # kept on the platform order, as the platform sent it
    assert [x["sku"] for x in PlatformOrder.objects.get().lines] == ["SERUM", "", "ROUTE-INS"]
    # a line that ships nothing is nothing to map: it is not in the unmapped queue
    assert not SeenSku.objects.filter(sku="ROUTE-INS").exists()


def test_a_shipping_line_without_sku_is_left_out_not_the_whole_order(store, serum):
    platform_order_ingest(
        store=store, order=order("1002", line("SERUM"), line("", title="Custom engraving")), source=PULL
    )

    made = the_order(store)
    assert made.status == OrderStatus.AWAITING_PAYMENT
    assert made.left_out_lines == [{"sku": "", "title": "Custom engraving", "quantity": 1, "reason": "no_sku"}]
    assert "Custom engraving × 1 (has no SKU)" in timeline(made)


def test_an_order_with_no_line_of_ours_is_skipped_with_the_reason(store, serum):
    result = platform_order_ingest(
        store=store, order=order("1003", line("", ships=False, title="Gift card")), source=PULL
    )

    assert result.outcome == Outcome.CREATED and result.orders_created == 0
    po = PlatformOrder.objects.get()
    assert po.disposition == Disposition.SKIPPED
    assert po.disposition_reason.startswith("No line of this order is supplied by this platform.")
    assert "Gift card × 1 (needs no shipping)" in po.disposition_reason
    assert not Order.objects.exists()


def test_bulk_ingest_leaves_the_same_lines_out(store, serum):
    orders = [
        order("2001", line("SERUM"), line("ROUTE-INS", ships=False)),
        order("2002", line("", ships=False, title="Gift wrapping")),
    ]
    summary = platform_orders_ingest(store=store, orders=orders, source=PULL)

    assert (summary.created, summary.orders_created) == (2, 1)
    made = Order.objects.get()
    assert made.left_out_lines[0]["sku"] == "ROUTE-INS"
    skipped = PlatformOrder.objects.get(external_id="2002")
    assert skipped.disposition == Disposition.SKIPPED


def test_replaying_an_order_with_left_out_lines_changes_nothing(store, serum):
    payload = order("1004", line("SERUM"), line("ROUTE-INS", ships=False))
    platform_order_ingest(store=store, order=payload, source=PULL)
    events = list(the_order(store).events.values_list("pk", flat=True))

    for _ in range(2):
        assert platform_order_ingest(store=store, order=payload, source=PULL).outcome == Outcome.UNCHANGED
        assert platform_orders_ingest(store=store, orders=[payload], source=PULL).unchanged == 1
    assert Order.objects.count() == 1
    assert list(the_order(store).events.values_list("pk", flat=True)) == events


def test_marking_a_sku_not_supplied_lets_its_waiting_orders_go_ahead(
    owner, store, serum, django_capture_on_commit_callbacks
):
    platform_order_ingest(store=store, order=order("1005", line("SERUM"), line("MY-GIFT-BOX", 1)), source=PULL)
    waiting = the_order(store)
    assert waiting.status == OrderStatus.PENDING_MAPPING
    seen = SeenSku.objects.get(store=store, sku="MY-GIFT-BOX")
    assert seen.waiting_orders == 1

    with django_capture_on_commit_callbacks(execute=True):
        seen_sku_not_supplied_set(actor=owner, seen_sku=seen)

    released = the_order(store)
    assert released.status == OrderStatus.AWAITING_PAYMENT
    assert [x.store_sku for x in released.lines.all()] == ["SERUM"]
    assert released.missing_skus == []
    assert released.left_out_lines[0]["reason"] == "not_supplied"
    assert "MY-GIFT-BOX × 1 (not supplied by this platform)" in timeline(released)
    seen.refresh_from_db()
    assert seen.waiting_orders == 0
    # new orders with the SKU go ahead at once
    platform_order_ingest(store=store, order=order("1006", line("SERUM"), line("MY-GIFT-BOX")), source=PULL)
    assert Order.objects.get(platform_order__external_id="1006").status == OrderStatus.AWAITING_PAYMENT


def test_an_order_of_only_not_supplied_lines_is_cancelled_with_the_reason(
    owner, store, serum, django_capture_on_commit_callbacks
):
    platform_order_ingest(store=store, order=order("1007", line("MY-GIFT-BOX", 2)), source=PULL)
    seen = SeenSku.objects.get(store=store, sku="MY-GIFT-BOX")

    with django_capture_on_commit_callbacks(execute=True):
        seen_sku_not_supplied_set(actor=owner, seen_sku=seen)

    cancelled = Order.objects.get()
    assert cancelled.status == OrderStatus.CANCELLED
    assert "No line of this order is supplied by this platform." in timeline(cancelled)
    assert PlatformOrder.objects.get().disposition == Disposition.SKIPPED


def test_taking_the_mark_back_makes_new_orders_wait_again(owner, store, serum, django_capture_on_commit_callbacks):
    platform_order_ingest(store=store, order=order("1008", line("SERUM"), line("MY-GIFT-BOX")), source=PULL)
    seen = SeenSku.objects.get(store=store, sku="MY-GIFT-BOX")
    with django_capture_on_commit_callbacks(execute=True):
        seen_sku_not_supplied_set(actor=owner, seen_sku=seen)
        seen_sku_not_supplied_set(actor=owner, seen_sku=seen, not_supplied=False)

    platform_order_ingest(store=store, order=order("1009", line("SERUM"), line("MY-GIFT-BOX")), source=PULL)
    assert Order.objects.get(platform_order__external_id="1009").status == OrderStatus.PENDING_MAPPING


def test_a_mapping_wins_over_the_mark(owner, store, serum):
    SeenSku.objects.create(store=store, sku="SERUM-2", first_seen_at=datetime.now(UTC), last_seen_at=datetime.now(UTC))
    seen_sku_not_supplied_set(actor=owner, seen_sku=SeenSku.objects.get(sku="SERUM-2"))
    Mapping.objects.create(store=store, store_sku="SERUM-2", item=serum)

    platform_order_ingest(store=store, order=order("1010", line("SERUM-2")), source=PULL)
    assert the_order(store).left_out_lines == []


def test_shopify_payload_says_which_lines_ship_nothing():
    payload = json.loads((FIXTURES / "shopify" / "webhook_orders_create_body.json").read_text())
    parsed = shopify.parse_order(payload)

    assert [x.requires_shipping for x in parsed.lines] == [True, True, False]


# --- the unmapped-SKU queue -----------------------------------------------------------------------


def test_queue_marks_a_sku_not_supplied_and_takes_it_back(
    client, owner, store, serum, django_capture_on_commit_callbacks
):
    platform_order_ingest(store=store, order=order("1011", line("SERUM"), line("MY-GIFT-BOX")), source=PULL)
    seen = SeenSku.objects.get(sku="MY-GIFT-BOX")
    client.force_login(owner.user)
    url = reverse("mapping:mapping_list")

    page = client.get(url, {"status": "unmapped"})
    assert f'data-testid="not-supplied-{seen.pk}"' in page.content.decode()
    mark = reverse("mapping:seensku_not_supplied", args=[seen.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(mark, {"not_supplied": "1"}, follow=True)
    text = response.content.decode()
    assert "MY-GIFT-BOX is marked not supplied by this platform" in text
    assert "1 order waiting on it goes ahead without its lines." in text
    assert the_order(store).status == OrderStatus.AWAITING_PAYMENT

    listed = client.get(url, {"status": "not_supplied"})
    assert [s.sku for s in listed.context["rows"]] == ["MY-GIFT-BOX"]
    assert listed.context["counts"]["unmapped"] == 0
    client.post(mark, {"not_supplied": "0"})
    assert client.get(url, {"status": "not_supplied"}).context["rows"] == []
    assert [s.sku for s, _suggestion in client.get(url, {"status": "unmapped"}).context["rows"]] == ["MY-GIFT-BOX"]


def test_queue_mark_is_for_members_who_change_mappings(client, owner, store, serum):
    seen = SeenSku.objects.create(
        store=store, sku="MY-GIFT-BOX", first_seen_at=datetime.now(UTC), last_seen_at=datetime.now(UTC)
    )
    finance = MembershipFactory(distributor=owner.distributor, role=Role.FINANCE)
    client.force_login(finance.user)

    response = client.post(reverse("mapping:seensku_not_supplied", args=[seen.pk]), {"not_supplied": "1"})
    assert response.status_code == 403
    seen.refresh_from_db()
    assert not seen.is_not_supplied


def test_order_page_lists_the_lines_left_out(client, owner, store, serum):
    platform_order_ingest(store=store, order=order("1012", line("SERUM"), line("ROUTE-INS", ships=False)), source=PULL)
    client.force_login(owner.user)

    page = client.get(reverse("orders:order_detail", args=[the_order(store).pk])).content.decode()
    assert 'data-testid="left-out-lines"' in page
    assert "ROUTE-INS" in page and "needs no shipping" in page
