"""The distributor's side of fulfilment: the order page's Fulfilment card in each state
(waiting, push failed with [Retry push], at the warehouse, shipped in two packages with the
tracking sent to each store order and [Retry] on a failed one, self-pickup), the two
retry views (POST only, CSRF, tenant 404, finance read-only), the list's "Push failed"
tab and tracking numbers, the home page's fulfilment alerts, and the query counts of the
order page and the home page, which do not grow with shipments or orders."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Item
from distribution.models import Role
from fulfillment.models import Outbound, TrackingSync
from orders.models import Logistics, Order, OrderEvent, OrderStatus
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of
from tests.fulfillment.factories import (
    OutboundFactory,
    ShipmentFactory,
    ShipmentLineFactory,
    TrackingSyncFactory,
)
from tests.orders.factories import OrderEventFactory, OrderFactory, OrderLineFactory, PlatformOrderFactory
from tests.orders.test_pages import PINNED_LIST_QUERIES
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

S = TrackingSync.State


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, name="Acme US")


@pytest.fixture
def warehouse():
    return WarehouseFactory(
        code="US-CA",
        name="Ontario CA",
        address="1 Dock Rd\nOntario CA 91761",
        opening_hours="Mon–Fri 09:00–17:00",
    )


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner.user)
    return client


def make_order(store, warehouse, status=OrderStatus.PAID, **kwargs):
    order = OrderFactory(
        distributor=store.distributor,
        store=store,
        warehouse=warehouse,
        status=status,
        platform_order=kwargs.pop("platform_order", None) or PlatformOrderFactory(store=store, display_number="#1001"),
        **kwargs,
    )
    for code, name, quantity in (("LS228800001-01-01", "Serum", 2), ("LS228800002-01-01", "Mask", 1)):
        item = Item.objects.filter(item_id=code).first() or ItemFactory(warehouse=warehouse, item_id=code)
        OrderLineFactory(
            order=order, item=item, item_code=code, product_name=name, store_sku=name.upper(), quantity=quantity
        )
    return order


def page(client, order) -> str:
    response = client.get(reverse("orders:order_detail", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def as_member(client, owner, role):
    member = MembershipFactory(distributor=owner.distributor, role=role)
    client.force_login(member.user)
    return member


# --- the card in each state ------------------------------------------------------------------


def test_no_card_before_payment(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.AWAITING_PAYMENT)
    assert 'data-testid="fulfilment"' not in page(signed_in, order)


def test_no_card_for_an_order_cancelled_before_it_was_paid(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.CANCELLED)
    assert 'data-testid="fulfilment"' not in page(signed_in, order)


def test_paid_order_waits_to_be_pushed(signed_in, store, warehouse):
    order = make_order(store, warehouse)
    html = page(signed_in, order)
    assert 'data-push="waiting"' in html and "Waiting to be pushed" in html
    assert "handed to warehouse US-CA shortly" in html

    # a warehouse that could not be reached yet: the attempts, the next one and the last error
    at = timezone.now() + timedelta(minutes=2)
    OutboundFactory(order=order, attempts=2, next_attempt_at=at, last_error="The warehouse timed out.")
    html = page(signed_in, order)
    assert "2 attempts so far." in html
    assert f"Next attempt at {timezone.localtime(at):%Y-%m-%d %H:%M}." in html
    assert "Last try: The warehouse timed out." in html
    assert 'data-testid="retry-push"' not in html


def test_push_failed_shows_the_reason_and_retry_pushes_again(signed_in, store, warehouse, owner):
    # a warehouse with no backend is fine: nothing is pushed until the commit, which a test never makes
    order = make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    outbound = OutboundFactory(
        order=order, state=Outbound.State.FAILED, attempts=8, last_error="Unknown item LS228800009-01-01."
    )
    html = page(signed_in, order)
    assert 'data-push="failed"' in html and "Push failed" in html
    assert "Unknown item LS228800009-01-01." in html and "8 attempts" in html
    assert 'data-testid="retry-push"' in html
    assert f'action="{reverse("fulfillment:push_retry", args=[order.pk])}"' in html

    response = signed_in.post(reverse("fulfillment:push_retry", args=[order.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert said(response) == [f"The push of {order.number} is tried again: it goes to the warehouse in a moment."]
    order.refresh_from_db()
    outbound.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert outbound.state == Outbound.State.PENDING and outbound.next_attempt_at is not None
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID, actor=owner.user).exists()
    html = page(signed_in, order)
    assert 'data-push="waiting"' in html and 'data-testid="retry-push"' not in html


def test_retry_push_of_an_order_whose_push_has_not_failed_changes_nothing(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.AT_WAREHOUSE)
    OutboundFactory(order=order, state=Outbound.State.PUSHED)
    response = signed_in.post(reverse("fulfillment:push_retry", args=[order.pk]))
    assert response.status_code == 302
    assert said(response) == [f"{order.number} was not retried: its push has not failed (it is at warehouse)."]
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WAREHOUSE


def test_at_the_warehouse_shows_its_status_words_and_exception(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.AT_WAREHOUSE)
    OutboundFactory(
        order=order,
        state=Outbound.State.PUSHED,
        pushed_at=timezone.now(),
        warehouse_order_id="WH-778812",
        warehouse_status="exception",
        warehouse_status_text="OnHold",
        warehouse_message="Out of stock: LS228800002-01-01",
        last_change_at=timezone.now(),
    )
    html = page(signed_in, order)
    assert 'data-push="at_warehouse"' in html and "At the warehouse" in html
    assert "Pushed to the warehouse " in html
    assert "WH-778812" in html and "(OnHold)" in html
    assert "The warehouse reports a problem:" in html and "Out of stock: LS228800002-01-01" in html
    assert "Nothing has left the warehouse yet." in html


@pytest.mark.parametrize(
    ("cancel_state", "message", "shown"),
    [
        ("", "", "The request is on its way to the warehouse."),
        ("requested", "Connection reset", "waiting for its answer"),
        ("refused", "Already packed", "The warehouse could not stop it: Already packed"),
    ],
)
def test_a_cancel_requests_state(signed_in, store, warehouse, cancel_state, message, shown):
    status = OrderStatus.AT_WAREHOUSE if cancel_state == "refused" else OrderStatus.CANCEL_REQUESTED
    order = make_order(store, warehouse, status=status)
    OutboundFactory(order=order, state=Outbound.State.PUSHED, cancel_state=cancel_state, cancel_message=message)
    html = page(signed_in, order)
    assert f'data-cancel="{cancel_state}"' in html and shown in html
    if message and cancel_state == "requested":
        assert "Last try: Connection reset" in html


def shipped_in_two(store, warehouse):
    """A merged-looking order shipped in two packages: the first went to both store orders
    (sent, and refused by one), the second is waiting for one and in the tracking file for
    the other."""
    order = make_order(store, warehouse, status=OrderStatus.SHIPPED, tracking_number="9400111")
    OutboundFactory(order=order, state=Outbound.State.PUSHED, warehouse_status="shipped")
    serum, mask = order.lines.order_by("pk")
    other_store_order = PlatformOrderFactory(store=store, display_number="#1002")
    first = ShipmentFactory(
        order=order, carrier="USPS", service="Ground Advantage", tracking_number="9400100000000000000001"
    )
    ShipmentLineFactory(shipment=first, order_line=serum, quantity=1)
    synced = TrackingSyncFactory(
        shipment=first, state=S.SYNCED, attempts=1, platform_answer="gid://shopify/Fulfillment/55"
    )
    failed = TrackingSyncFactory(
        shipment=first,
        platform_order=other_store_order,
        state=S.FAILED,
        attempts=8,
        platform_answer="422 Unprocessable: fulfillment order is closed",
    )
    second = ShipmentFactory(order=order, carrier="UPS", service="", tracking_number="9400111", tracking_url="")
    ShipmentLineFactory(shipment=second, order_line=serum, quantity=1)
    ShipmentLineFactory(shipment=second, order_line=mask, quantity=1)
    pending = TrackingSyncFactory(shipment=second, state=S.PENDING, attempts=2, platform_answer="429 Too many")
    in_file = TrackingSyncFactory(shipment=second, platform_order=other_store_order, state=S.FILE)
    return order, (first, second), (synced, failed, pending, in_file)


def test_shipped_in_two_packages_with_the_tracking_sent_to_each_store_order(signed_in, store, warehouse):
    order, (first, second), (synced, failed, pending, in_file) = shipped_in_two(store, warehouse)
    html = page(signed_in, order)
    push_state = html.split('data-testid="push-state"')[1].split("</div>")[0]
    assert "Shipped" in push_state and "At the warehouse" not in push_state
    assert html.count('data-testid="shipment"') == 2 and "2 shipments" in html
    # the first: carrier, service, the tracking number linked to the warehouse's URL in a new tab
    assert "Ground Advantage" in html
    assert f'<a href="{first.tracking_url}" target="_blank" rel="noopener">9400100000000000000001</a>' in html
    # the second has no URL: the number as text
    assert ">9400111</div>" in html
    # the lines and quantities in each package
    assert html.count("LS228800001-01-01</span> × 1") == 2 and "LS228800002-01-01</span> × 1" in html
    # every sync's state, the platform's answer and attempts
    for sync, label in [
        (synced, "Sent to the store"),
        (failed, "Sending failed"),
        (pending, "Waiting to be sent"),
        (in_file, "In the tracking file"),
    ]:
        assert f'data-sync="{sync.pk}" data-state="{sync.state}"' in html
        assert label in html
    assert "To store order #1002 (Acme US)" in html
    assert "The platform answered: gid://shopify/Fulfillment/55" in html
    assert "The platform answered: 422 Unprocessable: fulfillment order is closed" in html
    assert "8 attempts" in html and "2 attempts" in html
    # [Retry] only on the failed one
    assert html.count('data-testid="retry-sync"') == 1
    assert f'action="{reverse("fulfillment:sync_retry", args=[failed.pk])}"' in html


def test_retry_of_a_failed_tracking_sync_sends_it_again(signed_in, store, warehouse, owner):
    order, _shipments, (synced, failed, _pending, _in_file) = shipped_in_two(store, warehouse)

    response = signed_in.post(reverse("fulfillment:sync_retry", args=[failed.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert said(response) == [
        "Tracking 9400100000000000000001 will be sent again to store order #1002 within a minute."
    ]
    failed.refresh_from_db()
    assert failed.state == S.PENDING and failed.attempts == 0 and failed.next_attempt_at is not None
    assert OrderEvent.objects.filter(order=order, actor=owner.user, data__retried=True).exists()
    # one that has not failed is left as it is
    response = signed_in.post(reverse("fulfillment:sync_retry", args=[synced.pk]))
    assert said(response)[-1] == (
        "Tracking 9400100000000000000001 to store order #1001 was not retried: its sending has not failed."
    )
    synced.refresh_from_db()
    assert synced.state == S.SYNCED


def test_self_pickup_ready_shows_the_code_the_place_and_since_when(signed_in, store, warehouse):
    order = make_order(
        store, warehouse, status=OrderStatus.AT_WAREHOUSE, logistics=Logistics.SELF_PICKUP, pickup_code="K7PX2M9Q"
    )
    ready_at = timezone.now() - timedelta(hours=3)
    OutboundFactory(
        order=order, state=Outbound.State.PUSHED, warehouse_status="ready_for_pickup", ready_for_pickup_at=ready_at
    )
    html = page(signed_in, order)
    assert 'data-testid="fulfilment-pickup-code">K7PX2M9Q<' in html
    assert "Ontario CA" in html and "1 Dock Rd<br>Ontario CA 91761" in html and "Mon–Fri 09:00–17:00" in html
    assert "Ready for pickup" in html and f"since {timezone.localtime(ready_at):%Y-%m-%d %H:%M}" in html
    assert "Nothing has left the warehouse yet." not in html  # collected, not shipped

    picked = timezone.now()
    Outbound.objects.filter(order=order).update(warehouse_status="picked_up", picked_up_at=picked)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PICKED_UP)
    html = page(signed_in, order)
    assert "Picked up" in html and f"{timezone.localtime(picked):%Y-%m-%d %H:%M}" in html


def test_self_pickup_not_ready_yet(signed_in, store, warehouse):
    order = make_order(store, warehouse, logistics=Logistics.SELF_PICKUP, pickup_code="K7PX2M9Q")
    html = page(signed_in, order)
    assert "K7PX2M9Q" in html and "Not ready yet" in html


def test_a_warehouse_link_that_is_not_a_web_page_is_not_linked(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.SHIPPED)
    OutboundFactory(order=order, state=Outbound.State.PUSHED)
    ShipmentFactory(order=order, tracking_number="EVIL1", tracking_url="javascript:alert(1)")
    html = page(signed_in, order)
    assert "javascript:alert" not in html and "EVIL1" in html


# --- roles, tenancy, method, CSRF ------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR])
def test_admins_and_operators_get_the_buttons(client, owner, store, warehouse, role):
    as_member(client, owner, role)
    order = make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    OutboundFactory(order=order, state=Outbound.State.FAILED)
    _order, _shipments, (_s, failed, _p, _f) = shipped_in_two(store, warehouse)
    assert 'data-testid="retry-push"' in page(client, order)
    assert 'data-testid="retry-sync"' in page(client, _order)
    assert client.post(reverse("fulfillment:sync_retry", args=[failed.pk])).status_code == 302


def test_finance_sees_the_card_but_no_buttons_and_cannot_retry(client, owner, store, warehouse):
    as_member(client, owner, Role.FINANCE)
    order = make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    OutboundFactory(order=order, state=Outbound.State.FAILED, last_error="Refused by the warehouse.")
    shipped, _shipments, (_s, failed, _p, _f) = shipped_in_two(store, warehouse)

    html = page(client, order)
    assert "Refused by the warehouse." in html and 'data-testid="retry-push"' not in html
    html = page(client, shipped)
    assert "Sending failed" in html and 'data-testid="retry-sync"' not in html

    assert client.post(reverse("fulfillment:push_retry", args=[order.pk])).status_code == 403
    assert client.post(reverse("fulfillment:sync_retry", args=[failed.pk])).status_code == 403
    order.refresh_from_db()
    failed.refresh_from_db()
    assert order.status == OrderStatus.PUSH_FAILED and failed.state == S.FAILED


def test_another_distributors_order_and_sync_are_404_on_get_and_post(signed_in, warehouse):
    theirs = StoreFactory()
    order = make_order(theirs, warehouse, status=OrderStatus.PUSH_FAILED)
    outbound = OutboundFactory(order=order, state=Outbound.State.FAILED)
    _shipped, _shipments, (_s, failed, _p, _f) = shipped_in_two(theirs, warehouse)
    for url in (
        reverse("fulfillment:push_retry", args=[order.pk]),
        reverse("fulfillment:sync_retry", args=[failed.pk]),
    ):
        assert signed_in.get(url).status_code == 404
        assert signed_in.post(url).status_code == 404
    outbound.refresh_from_db()
    failed.refresh_from_db()
    assert outbound.state == Outbound.State.FAILED and failed.state == S.FAILED


def test_the_retry_views_act_on_post_only(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    outbound = OutboundFactory(order=order, state=Outbound.State.FAILED)
    response = signed_in.get(reverse("fulfillment:push_retry", args=[order.pk]))
    assert response.status_code == 405 and response["Allow"] == "POST"
    outbound.refresh_from_db()
    assert outbound.state == Outbound.State.FAILED


def test_the_retry_views_need_the_csrf_token(owner, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    OutboundFactory(order=order, state=Outbound.State.FAILED)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(reverse("fulfillment:push_retry", args=[order.pk])).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PUSH_FAILED
    # the card's form carries the token
    assert 'name="csrfmiddlewaretoken"' in page(strict, order)


# --- query counts ----------------------------------------------------------------------------

# session, user, membership; the order with its store, warehouse, method, platform order and
# relatives; its lines, events, split parts and merge sources; the card's outbound,
# shipments, their lines and their syncs (with store orders and stores).
PINNED_ORDER_PAGE_QUERIES = 12


def _order_page_queries(client, order) -> int:
    with CaptureQueriesContext(connection) as captured:
        page(client, order)
    return len(captured)


def test_order_page_query_count_does_not_grow_with_shipments(signed_in, store, warehouse):
    order, _shipments, _syncs = shipped_in_two(store, warehouse)
    two = _order_page_queries(signed_in, order)
    lines = list(order.lines.all())
    for n in range(4):
        shipment = ShipmentFactory(order=order, tracking_number=f"EXTRA{n}")
        for line in lines:
            ShipmentLineFactory(shipment=shipment, order_line=line, quantity=1)
        TrackingSyncFactory(shipment=shipment, state=S.FAILED)
        TrackingSyncFactory(shipment=shipment, platform_order=PlatformOrderFactory(store=store), state=S.SYNCED)
    six = _order_page_queries(signed_in, order)
    assert two == six == PINNED_ORDER_PAGE_QUERIES, (two, six)


def test_an_unpaid_order_page_runs_no_fulfilment_query(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.AWAITING_PAYMENT)
    with CaptureQueriesContext(connection) as captured:
        page(signed_in, order)
    assert not [query["sql"] for query in captured if 'FROM "fulfillment_' in query["sql"]]


# --- the order list --------------------------------------------------------------------------


def test_list_has_a_push_failed_tab_and_links_the_tracking_numbers(signed_in, store, warehouse):
    failed = make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    make_order(store, warehouse, status=OrderStatus.CANCEL_REQUESTED)
    shipped, (first, second), _syncs = shipped_in_two(store, warehouse)
    linked = make_order(store, warehouse, status=OrderStatus.SHIPPED, tracking_number="9400100000000000000777")
    ShipmentFactory(order=linked, tracking_number="9400100000000000000777")
    response = signed_in.get(reverse("orders:order_list"))
    tabs = {status: count for status, _label, count in response.context["tabs"]}
    assert tabs[OrderStatus.PUSH_FAILED] == 1 and tabs[OrderStatus.CANCEL_REQUESTED] == 1
    assert [status for status, _label, _count in response.context["tabs"]].index(OrderStatus.PUSH_FAILED) == (
        [status for status, _label, _count in response.context["tabs"]].index(OrderStatus.PAID) + 1
    )
    html = response.content.decode()
    assert f'data-status="{OrderStatus.PUSH_FAILED}"' in html and "Push failed" in html
    # the latest package's URL when the warehouse gave one, else the order's card
    url = linked.shipments.get().tracking_url
    assert f'<a class="font-monospace" href="{url}" target="_blank" rel="noopener">9400100000000000000777</a>' in html
    assert f'href="{reverse("orders:order_detail", args=[shipped.pk])}#fulfilment">9400111</a>' in html
    only = signed_in.get(reverse("orders:order_list"), {"status": OrderStatus.PUSH_FAILED})
    assert [o.pk for o in only.context["orders"]] == [failed.pk]


@pytest.mark.parametrize("rows", [2, 12])
def test_list_query_count_stays_pinned_with_shipments(signed_in, store, warehouse, rows, django_assert_num_queries):
    for n in range(rows):
        order = make_order(store, warehouse, status=OrderStatus.SHIPPED, tracking_number=f"TRK{n}")
        ShipmentFactory(order=order, tracking_number=f"TRK{n}")
    with django_assert_num_queries(PINNED_LIST_QUERIES):
        response = signed_in.get(reverse("orders:order_list"))
    assert response.content.decode().count('data-testid="list-tracking"') == rows


# --- the home page's fulfilment alerts -------------------------------------------------------


def _paid_at(order, when):
    event = OrderEventFactory(order=order, from_status=OrderStatus.AWAITING_PAYMENT, to_status=OrderStatus.PAID)
    OrderEvent.objects.filter(pk=event.pk).update(created_at=when)


def alerting_world(store, warehouse):
    now = timezone.now()
    push_failed = [make_order(store, warehouse, status=OrderStatus.PUSH_FAILED) for _ in range(2)]
    cancel = make_order(store, warehouse, status=OrderStatus.CANCEL_REQUESTED)
    # paid three days ago and still paid (never taken): stuck
    stale = make_order(store, warehouse)
    _paid_at(stale, now - timedelta(days=3))
    # paid an hour ago: not stuck
    fresh = make_order(store, warehouse)
    _paid_at(fresh, now - timedelta(hours=1))
    # at the warehouse, nothing heard for ten days: stuck (once, though also paid long ago)
    quiet = make_order(store, warehouse, status=OrderStatus.AT_WAREHOUSE)
    _paid_at(quiet, now - timedelta(days=11))
    OutboundFactory(order=quiet, state=Outbound.State.PUSHED, last_change_at=now - timedelta(days=10))
    # at the warehouse, heard from yesterday, paid two days ago... and three: stuck as not shipped
    slow = make_order(store, warehouse, status=OrderStatus.AT_WAREHOUSE)
    _paid_at(slow, now - timedelta(days=3))
    OutboundFactory(order=slow, state=Outbound.State.PUSHED, last_change_at=now - timedelta(days=1))
    # ready for pickup for a week: not stuck, ready
    ready = make_order(store, warehouse, status=OrderStatus.AT_WAREHOUSE, logistics=Logistics.SELF_PICKUP)
    _paid_at(ready, now - timedelta(days=8))
    OutboundFactory(
        order=ready,
        state=Outbound.State.PUSHED,
        ready_for_pickup_at=now - timedelta(days=7),
        last_change_at=now - timedelta(days=7),
    )
    # shipped, one store order's tracking failed (twice over, one order)
    shipped, _shipments, (_s, _failed, pending, _f) = shipped_in_two(store, warehouse)
    TrackingSync.objects.filter(pk=pending.pk).update(state=S.FAILED)
    return {
        "push_failed": push_failed,
        "cancel": cancel,
        "stuck": [stale, quiet, slow],
        "fresh": fresh,
        "ready": ready,
        "shipped": shipped,
    }


def test_home_shows_the_fulfilment_alerts_with_their_links(signed_in, store, warehouse):
    world = alerting_world(store, warehouse)
    alerting_world(StoreFactory(), WarehouseFactory())  # another distributor's are never counted
    response = signed_in.get(reverse("portal:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="home-fulfilment"' in html
    [panel] = [panel for template, panel in response.context["panels"] if template == "fulfillment/home_alerts.html"]
    assert (panel["push_failed"], panel["cancel_requested"], panel["sync_failed"], panel["ready"]) == (2, 1, 1, 1)
    assert (panel["stale_paid"], panel["quiet"], panel["stuck"]) == (2, 1, 3)
    list_url = reverse("orders:order_list")
    assert f'href="{list_url}?status=push_failed"' in html and "orders could not be pushed to the warehouse" in html
    assert f'href="{list_url}?status=cancel_requested"' in html and "cancel request waits for the warehouse" in html
    assert f'href="{list_url}?status=at_warehouse&amp;logistics=self_pickup"' in html
    assert "order is ready for pickup" in html
    shipped = world["shipped"]
    assert f'href="{reverse("orders:order_detail", args=[shipped.pk])}#fulfilment">{shipped.number}</a>' in html
    assert "order whose tracking could not be sent to the store" in html
    for order in world["stuck"]:
        assert f'href="{reverse("orders:order_detail", args=[order.pk])}#fulfilment">{order.number}</a>' in html
    assert world["fresh"].number not in html and world["ready"].number not in html
    assert "3 orders look stuck" not in html  # the count is its badge
    assert "2 paid more than 48 hours ago and not shipped yet." in html
    assert "1 at the warehouse with no update from it for 7 days." in html


def test_home_has_no_fulfilment_block_when_nothing_needs_the_distributor(signed_in, store, warehouse):
    order = make_order(store, warehouse, status=OrderStatus.SHIPPED)
    OutboundFactory(order=order, state=Outbound.State.PUSHED)
    html = signed_in.get(reverse("portal:home")).content.decode()
    assert 'data-testid="home-fulfilment"' not in html


def test_finance_and_operators_see_the_alerts_too(client, owner, store, warehouse):
    make_order(store, warehouse, status=OrderStatus.PUSH_FAILED)
    for role in (Role.FINANCE, Role.OPERATOR):
        as_member(client, owner, role)
        assert 'data-alert="push-failed"' in client.get(reverse("portal:home")).content.decode()


# session, user, membership; the "Start here" checklist (one query); orders by status, the
# unmapped SKUs, the stores failing to pull (one each); the finance panel (balance, alert
# level, top-ups waiting); the fulfilment alerts: one aggregate, the first stuck orders,
# the first orders whose tracking failed, how many those are.
PINNED_HOME_QUERIES = 14


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return len(captured)


def test_home_query_count_does_not_grow_with_orders(signed_in, store, warehouse):
    quiet_home = _home_queries(signed_in)
    alerting_world(store, warehouse)
    few = _home_queries(signed_in)
    for _ in range(3):
        alerting_world(store, warehouse)
    many = _home_queries(signed_in)
    assert quiet_home == few == many == PINNED_HOME_QUERIES, (quiet_home, few, many)


# --- in a browser ----------------------------------------------------------------------------


def _portal_login(page, live_server, email):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "pass-word-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _sideways(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_shipped_order_fits_a_phone_and_a_failed_sync_is_retried_from_it(page, live_server):
    # given an owner whose order left in two packages, one store order's tracking refused
    me = owner_of(email="browser-fulfilment@example.com")
    store = StoreFactory(distributor=me.distributor, name="Acme US")
    warehouse = WarehouseFactory(code="US-CA", name="Ontario CA", address="1 Dock Rd", opening_hours="Mon–Fri")
    order, (first, _second), (_synced, failed, _pending, _in_file) = shipped_in_two(store, warehouse)
    _portal_login(page, live_server, "browser-fulfilment@example.com")

    for width in (1366, 390):
        # when they open the order on a laptop and on a phone
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/orders/{order.pk}/")
        card = page.get_by_test_id("fulfilment")
        # then the card shows both packages, the tracking link opens the carrier's page in a new tab
        assert card.get_by_test_id("shipment").count() == 2
        link = card.get_by_role("link", name="9400100000000000000001")
        assert link.get_attribute("href") == first.tracking_url and link.get_attribute("target") == "_blank"
        assert link.is_visible()
        # and nothing scrolls sideways
        assert _sideways(page) <= 0, f"the order page scrolls sideways by {_sideways(page)}px at {width}px"
        page.goto("/")
        assert page.get_by_test_id("home-fulfilment").is_visible()
        assert _sideways(page) <= 0, f"the home page scrolls sideways at {width}px"

    # when they press [Retry] on the refused one (on the phone)
    page.goto(f"/orders/{order.pk}/")
    page.locator(f"[data-sync='{failed.pk}']").get_by_test_id("retry-sync").click()

    # then they are back on the order, told so, and it waits to be sent again
    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
    assert "will be sent again to store order #1002" in page.locator(".messages").inner_text()
    assert page.locator(f"[data-sync='{failed.pk}']").get_attribute("data-state") == "pending"
    assert page.get_by_test_id("retry-sync").count() == 0
    failed.refresh_from_db()
    assert failed.state == S.PENDING


# --- the tracking file of a store without an API -----------------------------------------------


def test_a_no_api_store_downloads_its_tracking_file_with_new_rows_marked(signed_in, owner, warehouse):
    from stores.models import Platform

    offline = StoreFactory(distributor=owner.distributor, platform=Platform.OTHER, name="Market JP")
    order = make_order(offline, warehouse, status=OrderStatus.SHIPPED)
    shipment = ShipmentFactory(order=order, carrier="Yamato Transport", tracking_number="4310-2026-0001")
    ShipmentLineFactory(shipment=shipment, order_line=order.lines.first(), quantity=2)
    TrackingSyncFactory(shipment=shipment, platform_order=order.platform_order, state=S.FILE)
    # the store list offers the file
    listing = signed_in.get(reverse("stores:store_list")).content.decode()
    url = reverse("fulfillment:tracking_file", args=[offline.pk])
    assert url in listing
    # the CSV has the store order, our order, the carrier and the tracking number, new the first time
    first = signed_in.get(url + "?format=csv")
    assert first.status_code == 200 and first["Content-Disposition"].startswith("attachment;")
    text = first.content.decode("utf-8-sig")
    assert "4310-2026-0001" in text and order.number in text and "Yamato Transport" in text
    assert text.strip().splitlines()[-1].endswith("yes")
    # then only-new leaves it out, and xlsx comes as a workbook
    assert "4310-2026-0001" not in signed_in.get(url + "?format=csv&new=1").content.decode("utf-8-sig")
    assert signed_in.get(url).content[:2] == b"PK"


def test_the_tracking_file_is_for_own_stores_without_an_api(signed_in, owner, store):
    from stores.models import Platform

    assert signed_in.get(reverse("fulfillment:tracking_file", args=[store.pk])).status_code == 404  # has an API
    stranger = StoreFactory(platform=Platform.OTHER)
    assert signed_in.get(reverse("fulfillment:tracking_file", args=[stranger.pk])).status_code == 404
