"""Orders that tell the truth: a part-mapped order shows what its mapped part costs (not
0.00), a cancelled order waits for nothing, and a cancel is confirmed, carries its reason
and names its actor once on the timeline."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from distribution.models import Role
from orders.models import OrderEvent, OrderStatus
from orders.selectors import mapping_wait
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.factories import OrderFactory, OrderLineFactory
from tests.stores.factories import StoreFactory

SO_FAR = "12.80 USD so far; 1 SKU not mapped"


@pytest.fixture
def owner(db):
    return owner_of(email="ada@example.com")


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, name="Acme US")


@pytest.fixture
def item(db):
    return ItemFactory(warehouse=WarehouseFactory(code="US-CA"), item_id="LS228800001-01-01", price=Decimal("6.40"))


def part_mapped(store, item, **kwargs):
    """Two of the serum mapped (6.40 each), one SKU not mapped yet."""
    order = OrderFactory(
        distributor=store.distributor,
        store=store,
        status=kwargs.pop("status", OrderStatus.PENDING_MAPPING),
        missing_skus=["NEW-SKU"],
        **kwargs,
    )
    OrderLineFactory(
        order=order, item=item, item_code=item.item_id, store_sku="SERUM-US", quantity=2, unit_price=item.price
    )
    OrderLineFactory(order=order, store_sku="NEW-SKU", quantity=1)
    return order


def test_mapping_wait_adds_up_the_mapped_lines_snapshot_prices(store, item):
    order = part_mapped(store, item)
    wait = mapping_wait(order)
    assert wait.so_far == ((Decimal("12.80"), "USD"),)
    assert wait.missing_skus == ("NEW-SKU",) and wait.missing_count == 1


def test_mapping_wait_is_none_unless_the_order_is_pending_mapping(store, item):
    assert mapping_wait(part_mapped(store, item, status=OrderStatus.CANCELLED)) is None


def test_order_list_shows_the_cost_of_the_mapped_part_not_zero(client, owner, store, item):
    part_mapped(store, item)
    client.force_login(owner.user)
    html = client.get(reverse("orders:order_list")).content.decode()
    assert SO_FAR in html
    assert "0.00 USD" not in html


def test_order_page_shows_the_cost_of_the_mapped_part_not_zero(client, owner, store, item):
    order = part_mapped(store, item)
    client.force_login(owner.user)
    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert SO_FAR in html
    assert "0.00 USD" not in html
    assert "This order waits for a mapping" in html and "NEW-SKU" in html


def test_operator_sees_what_is_not_mapped_without_the_amount(client, owner, store, item):
    order = part_mapped(store, item)
    operator = MembershipFactory(distributor=owner.distributor, role=Role.OPERATOR)
    client.force_login(operator.user)
    for url in (reverse("orders:order_list"), reverse("orders:order_detail", args=[order.pk])):
        html = client.get(url).content.decode()
        assert "NEW-SKU" in html
        assert "12.80" not in html


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("orders:order_list")).status_code == 200
    return len(captured)


def test_part_mapped_costs_add_no_query_per_row(client, owner, store, item):
    from tests.orders.test_pages import PINNED_LIST_QUERIES

    client.force_login(owner.user)
    part_mapped(store, item)
    few = _list_queries(client)
    for _ in range(10):
        part_mapped(store, item)
    assert few == _list_queries(client) == PINNED_LIST_QUERIES


def test_a_cancelled_order_no_longer_says_it_waits_for_a_mapping(client, owner, store, item):
    order = part_mapped(store, item, status=OrderStatus.CANCELLED)
    client.force_login(owner.user)
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "waits for a mapping" not in page and 'data-testid="waits-for-mapping"' not in page
    listed = client.get(reverse("orders:order_list")).content.decode()
    assert order.number in listed
    assert "Unmapped:" not in listed and "not mapped" not in listed


def test_cancel_buttons_ask_for_confirmation(client, owner, store, item):
    order = part_mapped(store, item)
    client.force_login(owner.user)
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert re.search(r'value="cancel" data-confirm="Cancel this order\?[^"]*"', page)
    assert "orders/orders.js" in page
    listed = client.get(reverse("orders:order_list")).content.decode()
    assert re.search(r'value="cancel"[^>]*data-confirm="Cancel the selected orders\?[^"]*"', listed)
    assert 'name="reason"' in listed
    script = (Path(settings.BASE_DIR) / "static" / "orders" / "orders.js").read_text()
    assert "data-confirm" in script and "window.confirm" in script


def test_bulk_cancel_records_the_reason(client, owner, store, item):
    order = part_mapped(store, item)
    client.force_login(owner.user)
    client.post(
        reverse("orders:order_list"), {"action": "cancel", "order_ids": [order.pk], "reason": "  buyer   changed mind "}
    )
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.CANCELLED)
    assert event.actor == owner.user
    assert event.message == "Cancelled in the portal. Reason: buyer changed mind"


def test_the_timeline_names_the_canceller_once(client, owner, store, item):
    order = part_mapped(store, item)
    client.force_login(owner.user)
    client.post(reverse("orders:order_detail", args=[order.pk]), {"action": "cancel", "reason": "duplicate"})
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.CANCELLED)
    assert "ada@example.com" not in event.message and "duplicate" in event.message
    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    timeline = html.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count("ada@example.com") == 1
    assert "Reason: duplicate" in timeline
