"""The Orders pages: status tabs with counts, filters, search, pagination, bulk actions,
the order page, [Sync now]; query counts that do not grow with the page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from distribution.models import Role
from orders import selectors
from orders.models import Logistics, Order, OrderEvent, OrderStatus, PullRun
from orders.state import order_transition
from tests.catalog.factories import WarehouseFactory
from tests.distribution.factories import MembershipFactory, UserFactory, owner_of
from tests.orders.factories import OrderFactory, OrderLineFactory, PlatformOrderFactory
from tests.stores.factories import StoreFactory


@pytest.fixture
def owner(db):
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, name="Acme US")


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner.user)
    return client


def make_order(store, **kwargs):
    order = OrderFactory(distributor=store.distributor, store=store, **kwargs)
    OrderLineFactory(order=order, item_code="LS228800001-01-01", store_sku="SERUM-US", quantity=2)
    return order


def test_order_list_shows_tabs_with_counts_per_status(signed_in, store):
    for _ in range(3):
        make_order(store)
    make_order(store, status=OrderStatus.PENDING_MAPPING, missing_skus=["NEW-SKU"])
    make_order(store, status=OrderStatus.CANCELLED)
    make_order(StoreFactory())  # another distributor's order is never counted
    response = signed_in.get(reverse("orders:order_list"))
    assert response.status_code == 200
    tabs = {status: count for status, _label, count in response.context["tabs"]}
    assert tabs[OrderStatus.AWAITING_PAYMENT] == 3
    assert tabs[OrderStatus.PENDING_MAPPING] == 1
    assert tabs[OrderStatus.CANCELLED] == 1
    assert response.context["all_count"] == 5
    html = response.content.decode()
    assert "NEW-SKU" in html and "Pending mapping" in html
    only_pending = signed_in.get(reverse("orders:order_list"), {"status": OrderStatus.PENDING_MAPPING})
    assert [o.status for o in only_pending.context["orders"]] == [OrderStatus.PENDING_MAPPING]


def test_order_list_filters_and_search(signed_in, store):
    other_store = StoreFactory(distributor=store.distributor, name="Acme JP")
    jp = WarehouseFactory(code="JP-TYO", sites="JP")
    by_recipient = make_order(store, recipient_name="Grace Hopper")
    by_tracking = make_order(store, tracking_number="1Z999AA10123456784")
    in_jp = make_order(other_store, warehouse=jp, logistics=Logistics.SELF_PICKUP)
    with_platform_no = make_order(store, platform_order=PlatformOrderFactory(store=store, display_number="#7777"))
    old = make_order(store)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    item_order = make_order(store)
    item_order.lines.update(item_code="LS228800001-01-03")

    def found(**params):
        return {o.pk for o in signed_in.get(reverse("orders:order_list"), params).context["orders"]}

    assert found(q="grace") == {by_recipient.pk}
    assert found(q="1Z999AA") == {by_tracking.pk}
    assert found(q="#7777") == {with_platform_no.pk}
    assert found(q="LS228800001-01-03") == {item_order.pk}
    assert found(q=in_jp.number) == {in_jp.pk}
    assert found(store=other_store.pk) == {in_jp.pk}
    assert found(warehouse="JP-TYO") == {in_jp.pk}
    assert found(logistics=Logistics.SELF_PICKUP) == {in_jp.pk}
    recent = found(date_from=(timezone.localdate() - timedelta(days=7)).isoformat())
    assert old.pk not in recent and by_recipient.pk in recent
    assert found(date_to=(timezone.localdate() - timedelta(days=30)).isoformat()) == {old.pk}


def test_order_list_paginates(signed_in, store, settings):
    settings.PORTAL_PAGE_SIZE = 5
    for _ in range(12):
        make_order(store)
    first = signed_in.get(reverse("orders:order_list"))
    assert len(first.context["orders"]) == 5
    assert first.context["page"].paginator.num_pages == 3
    last = signed_in.get(reverse("orders:order_list"), {"page": 3})
    assert len(last.context["orders"]) == 2


PINNED_LIST_QUERIES = 8


def _queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("orders:order_list"), params or {})
    assert response.status_code == 200
    return len(captured)


def test_order_list_query_count_does_not_grow_with_rows_or_page_size(signed_in, store, settings):
    warehouse = WarehouseFactory(code="US-CA")
    settings.PORTAL_PAGE_SIZE = 5
    make_order(store, warehouse=warehouse, platform_order=PlatformOrderFactory(store=store))
    few = _queries(signed_in)
    for _ in range(30):
        order = make_order(store, warehouse=warehouse, platform_order=PlatformOrderFactory(store=store))
        OrderLineFactory(order=order)
    settings.PORTAL_PAGE_SIZE = 25
    many = _queries(signed_in)
    searched = _queries(signed_in, {"q": "LS2288", "status": OrderStatus.AWAITING_PAYMENT})
    assert few == many
    # session + user + membership, the tabs' aggregate, the stores and warehouses for the
    # filters, the page of orders, their lines
    assert many == PINNED_LIST_QUERIES, many
    # A search looks up its platform order numbers and Item IDs first (two queries), and its
    # counts come from the capped read of the matches' statuses instead of the aggregate.
    assert searched == PINNED_LIST_QUERIES + 2, searched


def test_a_search_matching_more_than_the_cap_lists_the_newest_and_says_so(signed_in, store, monkeypatch, settings):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 4)
    settings.PORTAL_PAGE_SIZE = 3
    hoppers = [make_order(store, recipient_name=f"Grace Hopper {n}") for n in range(6)]
    order_transition(order=hoppers[0], to_status=OrderStatus.CANCELLED)
    make_order(store, recipient_name="Ada Lovelace")
    url = reverse("orders:order_list")

    capped = signed_in.get(url, {"q": "hopper"})
    assert capped.context["capped"] and capped.context["page"].paginator.count == 4
    assert capped.context["page"].paginator.num_pages == 2
    html = capped.content.decode()
    assert 'data-testid="search-capped"' in html and "More than 4 orders match" in html
    assert ">4+</span>" in html  # the All tab; the status tabs show no count they do not know
    assert 'data-status="awaiting_payment">Awaiting payment</a>' in html
    last = signed_in.get(url, {"q": "hopper", "page": 2})
    assert [o.pk for o in last.context["orders"]] == [hoppers[2].pk]  # newest first, stops at the cap

    # A chosen tab is counted up to the cap on its own: one cancelled order, one page.
    cancelled = signed_in.get(url, {"q": "hopper", "status": OrderStatus.CANCELLED})
    assert cancelled.context["page"].paginator.count == 1
    assert [o.pk for o in cancelled.context["orders"]] == [hoppers[0].pk]

    # Under the cap the counts are exact, as without a search.
    exact = signed_in.get(url, {"q": "hopper 1"})
    assert not exact.context["capped"] and exact.context["all_count"] == 1
    assert 'data-testid="search-capped"' not in exact.content.decode()


def test_a_search_by_a_prefix_many_orders_share_still_finds_them_all(signed_in, store, monkeypatch):
    # Past SEARCH_ID_LIST_MAX the Item ID and platform number matches stay a subquery.
    monkeypatch.setattr(selectors, "SEARCH_ID_LIST_MAX", 2)
    orders = [
        make_order(store, platform_order=PlatformOrderFactory(store=store, display_number=f"#88{n}")) for n in range(4)
    ]
    for order in orders:
        order.lines.update(item_code=f"LS99{order.pk:04d}-01-01")
    foreign = make_order(StoreFactory(), platform_order=PlatformOrderFactory(display_number="#889"))
    foreign.lines.update(item_code="LS990000-01-01")

    def found(q):
        return {o.pk for o in signed_in.get(reverse("orders:order_list"), {"q": q}).context["orders"]}

    assert found("#88") == {o.pk for o in orders}
    assert found("LS99") == {o.pk for o in orders}
    assert found(f"LS99{orders[1].pk:04d}") == {orders[1].pk}


def test_bulk_cancel_cancels_the_selected_unpaid_orders_only(signed_in, store, owner):
    unpaid = [make_order(store) for _ in range(2)]
    paid = make_order(store)
    order_transition(order=paid, to_status=OrderStatus.PAID)
    foreign = make_order(StoreFactory())
    response = signed_in.post(
        reverse("orders:order_list"),
        {"action": "cancel", "order_ids": [o.pk for o in [*unpaid, paid, foreign]]},
        follow=True,
    )
    assert response.status_code == 200
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert [statuses[o.pk] for o in unpaid] == [OrderStatus.CANCELLED] * 2
    assert statuses[paid.pk] == OrderStatus.PAID
    assert statuses[foreign.pk] == OrderStatus.AWAITING_PAYMENT  # another tenant's id is simply not found
    assert OrderEvent.objects.filter(order=unpaid[0], to_status=OrderStatus.CANCELLED, actor=owner.user).exists()
    assert paid.number in response.content.decode()


def test_bulk_export_gives_the_selected_orders_as_xlsx(signed_in, store):
    chosen = make_order(store, recipient_name="Ada", postal_code="02134")
    make_order(store, recipient_name="Not chosen")
    response = signed_in.post(reverse("orders:order_list"), {"action": "export", "order_ids": [chosen.pk]})
    assert response.status_code == 200
    import io

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Order No" and len(rows) == 2
    assert rows[1][0] == chosen.number and "02134" in rows[1] and "LS228800001-01-01" in rows[1]


def test_finance_members_read_orders_but_cannot_act(client, store):
    # Finance members now open the orders read-only (they used to get 403 on the list);
    # every role and page is in tests/orders/test_roles.py.
    finance = MembershipFactory(distributor=store.distributor, role=Role.FINANCE)
    client.force_login(finance.user)
    assert client.get(reverse("orders:order_list")).status_code == 200
    assert client.post(reverse("orders:order_list"), {"action": "cancel"}).status_code == 403


def test_order_page_shows_lines_recipient_costs_and_timeline(signed_in, store):
    order = make_order(
        store,
        recipient_name="Yuki Tanaka",
        postal_code="100-0001",
        country="JP",
        goods_amount=Decimal("25.60"),
        handling_amount=Decimal("1.30"),
        total_amount=Decimal("26.90"),
        platform_order=PlatformOrderFactory(store=store, raw={"secret_looking": "raw order"}),
    )
    order_transition(order=order, to_status=OrderStatus.CANCELLED, message="Cancelled on the platform.")
    html = signed_in.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "LS228800001-01-01" in html and "SERUM-US" in html
    assert "Yuki Tanaka" in html and "100-0001" in html
    assert "26.90 USD" in html and "1.30 USD" in html
    assert "Cancelled on the platform." in html
    assert "raw order" not in html  # the platform's raw payload is for staff


def test_staff_with_a_portal_seat_see_the_platforms_raw_order(client, store):
    staff = UserFactory(is_staff=True)
    MembershipFactory(distributor=store.distributor, user=staff, role=Role.ADMIN)
    order = make_order(store, platform_order=PlatformOrderFactory(store=store, raw={"note": "raw order"}))
    client.force_login(staff)
    html = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "raw order" in html


def test_admin_lists_ingestion_errors_with_their_reasons(client, store):
    from tests.orders.factories import IngestionErrorFactory

    IngestionErrorFactory(store=store, external_id="666", reason="Line 1 has no SKU.")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:orders_ingestionerror_changelist")).content.decode()
    assert "666" in html and "Line 1 has no SKU." in html


def test_sync_page_has_sync_now_and_refuses_a_range_over_90_days(signed_in, store, django_capture_on_commit_callbacks):
    page = signed_in.get(reverse("orders:sync")).content.decode()
    assert ">Sync now<" in page
    today = timezone.localdate()
    too_long = signed_in.post(
        reverse("orders:sync_now", args=[store.pk]),
        {"date_from": (today - timedelta(days=120)).isoformat(), "date_to": today.isoformat()},
    )
    assert too_long.status_code == 400 and "90 days" in too_long.content.decode()
    assert not PullRun.objects.exists()


def test_cancelling_an_order_waiting_for_a_mapping_updates_the_unmapped_queue(signed_in, store):
    from mapping.models import SeenSku
    from orders.ingest import waiting_refresh

    waiting = make_order(store, status=OrderStatus.PENDING_MAPPING, missing_skus=["NEW-SKU"])
    waiting_refresh(store=store)
    assert SeenSku.objects.get(store=store, sku="NEW-SKU").waiting_orders == 1
    signed_in.post(reverse("orders:order_detail", args=[waiting.pk]), {"action": "cancel"})
    waiting.refresh_from_db()
    assert waiting.status == OrderStatus.CANCELLED
    assert SeenSku.objects.get(store=store, sku="NEW-SKU").waiting_orders == 0
