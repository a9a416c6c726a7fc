"""Paid orders to the warehouse and back, over real HTTP against the sandbox warehouse
(live_server): the push after payment, a duplicate push, a lost answer, 500 then
success, the last try failing and a retry, shipping (whole and in two packages), the
poll and the signed webhook (forged and replayed ones too), cancel before and after
shipping, self-pickup, and the sweep that catches a lost message."""

import json
import time
from decimal import Decimal

import pytest
import requests
from django.urls import reverse

from catalog.models import Item
from finance import services as finance
from finance.ledger import balance_account
from finance.models import Transaction
from fulfillment import cancels, changes, push
from fulfillment.models import Outbound, Shipment, WarehouseEvent
from fulfillment.warehouses.rest import webhook_signature
from orders.actions import orders_cancel, orders_pay
from orders.models import Logistics, Order, OrderStatus
from sandbox.models import SandboxOutboundOrder, SandboxWarehouseWebhook
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.concurrency import together
from tests.conftest import using_postgres
from tests.distribution.factories import owner_of
from tests.fulfillment.factories import WarehouseBackendFactory
from tests.fulfillment.orders import make_order, messages_lost
from tests.sandbox_helpers import WarehouseSandbox, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "push-us"


@pytest.fixture
def sandbox(live_server):
    return WarehouseSandbox(live_server.url)


@pytest.fixture
def account(sandbox, live_server):
    # A warehouse that takes its time unless a test says otherwise; its webhooks come to us.
    webhook_url = f"{live_server.url}{reverse('warehouse_webhooks:events', args=['US-CA'])}"
    return sandbox.control(ACCOUNT, ship_after_seconds=3600, webhook_url=webhook_url)


@pytest.fixture
def warehouse(sandbox, account):
    warehouse = WarehouseFactory(code="US-CA", sites="US", name="Ontario CA", address="1 Dock Rd, Ontario CA")
    WarehouseBackendFactory(
        warehouse=warehouse,
        kind="rest",
        base_url=sandbox.api_url(ACCOUNT),
        token=account["api_token"],
        webhook_secret=account["webhook_secret"],
    )
    return warehouse


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)


@pytest.fixture
def items(warehouse):
    return [
        ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", stock_on_hand=50, price=Decimal("10.00")),
        ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", stock_on_hand=50, price=Decimal("5.00")),
    ]


@pytest.fixture
def funded(owner, staff):
    finance.adjustment_post(
        actor=staff, distributor=owner.distributor, amount="500.00", reason="test", idempotency_key="fund"
    )
    return owner


def pay(owner, order, key=None):
    result = orders_pay(actor=owner, orders=[order], idempotency_key=key or f"pay:{order.number}")
    assert result.paid, result
    order.refresh_from_db()
    return order


def balance(owner) -> Decimal:
    account = balance_account(owner.distributor)
    account.refresh_from_db()
    return account.balance


def at_warehouse(reference):
    return SandboxOutboundOrder.objects.filter(reference_id=reference)


# --- the push ---------------------------------------------------------------------------


def test_a_paid_order_is_pushed_after_commit_under_its_order_number(funded, items):
    # given an order (two Items) that the distributor pays
    order = make_order(funded, items)
    # when it is paid (the receiver pushes it once the payment has committed)
    order = pay(funded, order)
    # then the warehouse holds one order under our number, with our recipient and lines
    assert order.status == OrderStatus.AT_WAREHOUSE
    (stored,) = at_warehouse(order.number)
    body = stored.payload
    assert body["recipient"]["address"]["zip_code"] == "02134"
    assert sorted((p["reference_id"], p["quantity"]) for p in body["products"]) == [
        ("LS228800001-01-01", 2),
        ("LS228800002-01-01", 1),
    ]
    outbound = Outbound.objects.get(order=order)
    assert (outbound.state, outbound.attempts, outbound.reference) == ("pushed", 1, order.number)
    assert outbound.warehouse_order_id == str(stored.pk) or outbound.warehouse_order_id
    assert "Pushed to warehouse US-CA" in order.events.get(to_status=OrderStatus.AT_WAREHOUSE).message


def test_orders_paid_together_are_queued_in_chunks_and_each_is_pushed(funded, items, staff, monkeypatch):
    # given 23 orders paid in one payment, with the queue recorded as it is used
    from fulfillment import tasks

    monkeypatch.setattr(push, "PUSH_CHUNK", 10)
    queued = []
    run_chunk, run_one = tasks.push_orders.delay, tasks.push_order.delay
    monkeypatch.setattr(tasks.push_orders, "delay", lambda ids: queued.append(list(ids)) or run_chunk(ids))
    monkeypatch.setattr(tasks.push_order, "delay", lambda pk: queued.append([pk]) or run_one(pk))
    finance.adjustment_post(
        actor=staff, distributor=funded.distributor, amount="5000.00", reason="test", idempotency_key="more"
    )
    orders = [make_order(funded, items[1:], quantities=(1,)) for _ in range(23)]
    result = orders_pay(actor=funded, orders=orders, idempotency_key="pay:together")
    assert len(result.paid) == 23
    # then three messages carried them (10, 10 and 3), each order once, and all are at the warehouse
    assert [len(chunk) for chunk in queued] == [10, 10, 3]
    assert sorted(pk for chunk in queued for pk in chunk) == sorted(order.pk for order in orders)
    assert Order.objects.filter(status=OrderStatus.AT_WAREHOUSE).count() == 23
    assert Outbound.objects.filter(state="pushed").count() == 23


def test_a_chunk_pushes_the_rest_when_one_order_fails_unexpectedly(funded, items, monkeypatch):
    from fulfillment import tasks

    pushed = []

    def flaky(order_id):
        if order_id == 2:
            raise RuntimeError("a bug")
        pushed.append(order_id)
        return "pushed"

    monkeypatch.setattr(push, "order_push", flaky)
    assert tasks.push_orders([1, 2, 3]) == {"pushed": 2, "error": 1}
    assert pushed == [1, 3]


def test_pushing_twice_makes_one_warehouse_order(funded, items):
    order = pay(funded, make_order(funded, items))
    # when a duplicate task and the sweep come after the push
    assert push.order_push(order.pk) == "skipped"
    Outbound.objects.filter(order=order).update(state=Outbound.State.PENDING, next_attempt_at=None)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    assert push.order_push(order.pk) == "pushed"
    # then the warehouse still has one order, and ours is at the warehouse again
    assert at_warehouse(order.number).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE


def test_a_lost_answer_is_looked_up_before_the_next_attempt(funded, items, sandbox):
    # given a warehouse that stores the next order and loses its answer
    sandbox.control(ACCOUNT, lose_next_create=1)
    order = pay(funded, make_order(funded, items))
    # then the order waits for its next attempt, knowing the answer was lost
    outbound = Outbound.objects.get(order=order)
    assert (order.status, outbound.state, outbound.lost_response) == (OrderStatus.PAID, "pending", True)
    assert outbound.next_attempt_at is not None and "look it up" in outbound.last_error
    # when the next attempt comes (its time forced), it finds the order instead of creating another
    Outbound.objects.filter(pk=outbound.pk).update(next_attempt_at=None)
    assert push.order_push(order.pk) == "pushed"
    assert at_warehouse(order.number).count() == 1
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts, outbound.lost_response) == ("pushed", 2, False)


def test_a_500_then_success_pushes_once(funded, items, sandbox):
    sandbox.control(ACCOUNT, fail_next_500=1)
    order = pay(funded, make_order(funded, items))
    assert Outbound.objects.get(order=order).state == "pending"
    Outbound.objects.filter(order=order).update(next_attempt_at=None)
    assert push.order_push(order.pk, http=recording_http("warehouse", [])) == "pushed"
    assert at_warehouse(order.number).count() == 1


def test_the_last_failed_try_shows_push_failed_and_a_retry_pushes_it(funded, items, sandbox):
    # given a warehouse answering 500 to everything for a while
    sandbox.control(ACCOUNT, fail_next_500=1000)
    order = pay(funded, make_order(funded, items))
    http = recording_http("warehouse", [])
    for _attempt in range(push.MAX_ATTEMPTS):
        Outbound.objects.filter(order=order).update(next_attempt_at=None)
        push.order_push(order.pk, http=http)
    # then the order shows "push failed" with the reason
    order.refresh_from_db()
    outbound = Outbound.objects.get(order=order)
    assert (order.status, outbound.state, outbound.attempts) == (OrderStatus.PUSH_FAILED, "failed", push.MAX_ATTEMPTS)
    failed = order.events.get(to_status=OrderStatus.PUSH_FAILED).message
    assert "Push to the warehouse failed after 8 attempt(s)" in failed and "500" in failed
    assert push.push_candidates() == []
    # when the warehouse is back and staff retry
    sandbox.control(ACCOUNT, fail_next_500=0)
    assert push.outbound_retry(orders=[order]) == [order.number]
    # then it is pushed (the retry's receiver), once
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WAREHOUSE
    assert at_warehouse(order.number).count() == 1


def test_a_warehouse_refusal_fails_at_once_with_its_words(funded, items):
    order = pay(funded, make_order(funded, items, address1=""))  # the warehouse needs a street
    assert order.status == OrderStatus.PUSH_FAILED
    assert Outbound.objects.get(order=order).attempts == 1
    assert "address1" in order.events.get(to_status=OrderStatus.PUSH_FAILED).message


@pytest.fixture
def lost_messages():
    with messages_lost():
        yield


def test_held_orders_are_not_pushed_and_the_sweep_takes_them_once_released(funded, items, lost_messages):
    # given a paid order whose push message was lost, on hold
    order = pay(funded, make_order(funded, items))
    assert order.status == OrderStatus.PAID and not Outbound.objects.exists()
    Order.objects.filter(pk=order.pk).update(held_at="2026-01-01T00:00:00Z", hold_reason="check")
    assert push.push_candidates() == []
    # when it is released and beat's sweep runs
    Order.objects.filter(pk=order.pk).update(held_at=None, hold_reason="")
    assert push.push_sweep() == 1
    # then it is at the warehouse, and the next sweep has nothing to do
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE
    assert push.push_sweep() == 0


# --- what comes back --------------------------------------------------------------------


def test_the_poll_records_the_shipment_and_ships_the_order(funded, items, sandbox, warehouse):
    order = pay(funded, make_order(funded, items))
    items[0].refresh_from_db()
    assert items[0].reserved == 2
    # when the warehouse ships it and the poll reads its changes
    sandbox.control(ACCOUNT, ship_now=order.number, webhook_url="")
    applied, strangers = changes.warehouse_poll(warehouse=warehouse)
    # then the order is shipped with its tracking, and the reserved stock has left
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and applied >= 1
    (shipment,) = Shipment.objects.filter(order=order)
    assert shipment.carrier == "USPS" and shipment.tracking_number == order.tracking_number
    assert sorted((line.order_line.item_code, line.quantity) for line in shipment.lines.all()) == [
        ("LS228800001-01-01", 2),
        ("LS228800002-01-01", 1),
    ]
    item = Item.objects.get(pk=items[0].pk)
    assert (item.reserved, item.stock_on_hand) == (0, 48)
    # and polling again changes nothing
    changes.warehouse_poll(warehouse=warehouse)
    assert Shipment.objects.filter(order=order).count() == 1
    assert Item.objects.get(pk=items[0].pk).stock_on_hand == 48


def test_two_packages_ship_the_order_part_by_part(funded, items, sandbox, warehouse):
    # given a warehouse that ships at once, in two packages, the second two seconds later
    sandbox.control(ACCOUNT, ship_after_seconds=0, split_packages=True, second_package_lag_seconds=2, webhook_url="")
    order = pay(funded, make_order(funded, items))
    # when the first package has left
    changes.warehouse_poll(warehouse=warehouse)
    order.refresh_from_db()
    # then the order is partly shipped, still at the warehouse
    assert order.status == OrderStatus.AT_WAREHOUSE
    assert Outbound.objects.get(order=order).warehouse_status == "partially_shipped"
    assert Shipment.objects.filter(order=order).count() == 1
    # and when the second has left too, it is shipped
    time.sleep(2.2)
    changes.warehouse_poll(warehouse=warehouse)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert Shipment.objects.filter(order=order).count() == 2
    shipped = {}
    for shipment in Shipment.objects.filter(order=order).prefetch_related("lines__order_line"):
        for line in shipment.lines.all():
            shipped[line.order_line.item_code] = shipped.get(line.order_line.item_code, 0) + line.quantity
    assert shipped == {"LS228800001-01-01": 2, "LS228800002-01-01": 1}


def test_a_signed_webhook_is_stored_once_and_applied(funded, items, sandbox):
    order = pay(funded, make_order(funded, items))
    # when the warehouse ships and its webhook arrives (twice: it sends duplicates)
    sandbox.control(ACCOUNT, webhook_duplicates=1)
    sandbox.control(ACCOUNT, ship_now=order.number)
    # then the event is stored once, applied once, and the order shipped
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert WarehouseEvent.objects.filter(type="order.shipped").count() == 1
    event = WarehouseEvent.objects.get(type="order.shipped")
    assert event.processed_at is not None and event.error == ""
    assert Shipment.objects.filter(order=order).count() == 1
    assert SandboxWarehouseWebhook.objects.get(topic="order.shipped").deliveries == 2


def test_a_forged_webhook_is_refused_and_nothing_is_stored(funded, items, account, live_server):
    order = pay(funded, make_order(funded, items))
    url = f"{live_server.url}{reverse('warehouse_webhooks:events', args=['US-CA'])}"
    body = json.dumps({"type": "order.shipped", "data": {"reference_id": order.number, "status": "Completed"}})
    stamp = str(int(time.time()))
    forged = {
        "webhook-id": "msg_forged",
        "webhook-timestamp": stamp,
        "webhook-signature": webhook_signature("whsec_" + "A" * 32, "msg_forged", stamp, body.encode()),
        "content-type": "application/json",
    }
    answer = requests.post(url, data=body, headers=forged, timeout=10)
    assert answer.status_code == 401
    # a correct signature but an old timestamp is refused too
    old = str(int(time.time()) - 600)
    stale = {
        **forged,
        "webhook-timestamp": old,
        "webhook-signature": webhook_signature(account["webhook_secret"], "msg_forged", old, body.encode()),
    }
    assert requests.post(url, data=body, headers=stale, timeout=10).status_code == 401
    assert not WarehouseEvent.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE


def test_a_replayed_webhook_answers_200_and_changes_nothing(funded, items, account, live_server):
    order = pay(funded, make_order(funded, items))
    url = f"{live_server.url}{reverse('warehouse_webhooks:events', args=['US-CA'])}"
    body = json.dumps({"type": "order.exception", "timestamp": "2026-12-01T00:00:00Z", "data": {"x": 1}}).encode()
    stamp = str(int(time.time()))
    headers = {
        "webhook-id": "msg_replay",
        "webhook-timestamp": stamp,
        "webhook-signature": webhook_signature(account["webhook_secret"], "msg_replay", stamp, body),
    }
    first = requests.post(url, data=body, headers=headers, timeout=10)
    again = requests.post(url, data=body, headers=headers, timeout=10)
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert WarehouseEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE


# --- cancel -----------------------------------------------------------------------------


def test_cancel_at_the_warehouse_before_shipping_ends_cancelled_and_refunded(funded, items):
    before = balance(funded)
    order = pay(funded, make_order(funded, items))
    assert balance(funded) == before - Decimal("25.00")
    # when the distributor cancels it (a request the receiver carries to the warehouse)
    result = orders_cancel(actor=funded, orders=[order], reason="buyer changed their mind")
    # then the warehouse cancelled it, and the order is cancelled, refunded once, stock released
    assert result.done == [order.number]
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert at_warehouse(order.number).get().status == "Cancelled"
    assert Outbound.objects.get(order=order).state == Outbound.State.CANCELLED
    assert balance(funded) == before
    assert Transaction.objects.filter(kind="refund", reference=order.number).count() == 1
    assert Item.objects.get(pk=items[0].pk).reserved == 0
    # and carrying it again changes nothing
    assert cancels.cancel_request_carry(order.pk) == "gone"


def test_cancel_after_shipping_is_too_late_and_the_order_ships(funded, items, sandbox, warehouse):
    order = pay(funded, make_order(funded, items))
    sandbox.control(ACCOUNT, webhook_url="")
    sandbox.control(ACCOUNT, ship_now=order.number)  # shipped, but we have not heard yet
    before = balance(funded)
    orders_cancel(actor=funded, orders=[order], reason="too late?")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert "too late" in order.events.get(to_status=OrderStatus.SHIPPED).message
    assert Outbound.objects.get(order=order).cancel_state == "refused"
    assert balance(funded) == before
    assert not Transaction.objects.filter(kind="refund").exists()


def test_an_order_cancelled_while_its_push_was_in_flight_is_cancelled_at_the_warehouse(
    funded, items, lost_messages, monkeypatch
):
    # given a paid order whose push is under way: the distributor cancels it, and the
    # cancel request is carried before the warehouse has stored the order (so it finds
    # none there: cancelled and refunded at once)
    order = pay(funded, make_order(funded, items))
    real_create = push.backend_for(order.warehouse).__class__.create_outbound

    def create_while_cancelled(backend, request):
        orders_cancel(actor=funded, orders=[Order.objects.get(pk=order.pk)])
        assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCEL_REQUESTED
        assert cancels.cancel_request_carry(order.pk) == "cancelled"
        return real_create(backend, request)

    monkeypatch.setattr("fulfillment.warehouses.rest.RestBackend.create_outbound", create_while_cancelled)
    # when the push's answer comes back, the warehouse holding the order after all
    assert push.order_push(order.pk) == "pushed"
    assert at_warehouse(order.number).get().status == "Processing"
    # then beat's cancel sweep cancels it there too, and it was refunded once
    assert cancels.cancel_sweep() == 1
    assert at_warehouse(order.number).get().status == "Cancelled"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Transaction.objects.filter(kind="refund", reference=order.number).count() == 1
    assert Outbound.objects.get(order=order).state == Outbound.State.CANCELLED
    assert cancels.cancel_sweep() == 0


def test_a_paid_order_being_handed_over_is_not_held(funded, items, lost_messages, monkeypatch):
    from orders.actions import orders_hold

    order = pay(funded, make_order(funded, items))
    real_create = push.backend_for(order.warehouse).__class__.create_outbound
    refusals = []

    def create_while_held(backend, request):
        refusals.extend(orders_hold(actor=funded, orders=[Order.objects.get(pk=order.pk)], reason="check").reasons)
        return real_create(backend, request)

    monkeypatch.setattr("fulfillment.warehouses.rest.RestBackend.create_outbound", create_while_held)
    assert push.order_push(order.pk) == "pushed"
    assert refusals and "being handed to the warehouse" in refusals[0][1]
    assert Order.objects.get(pk=order.pk).held_at is None


# --- self-pickup ------------------------------------------------------------------------


def test_self_pickup_is_ready_with_its_code_then_picked_up(funded, items, sandbox, warehouse):
    order = pay(funded, make_order(funded, items, logistics=Logistics.SELF_PICKUP))
    assert order.status == OrderStatus.AT_WAREHOUSE and len(order.pickup_code) == 8
    stored = at_warehouse(order.number).get()
    assert stored.payload["type"] == "Pickup"
    assert {"name": "pickup_code", "value": order.pickup_code} in stored.payload["tags"]
    sandbox.control(ACCOUNT, ship_now=order.number)
    outbound = Outbound.objects.get(order=order)
    assert outbound.ready_for_pickup_at is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WAREHOUSE
    assert order.pickup_code in order.events.latest("pk").message
    sandbox.control(ACCOUNT, pick_up=order.number)
    order.refresh_from_db()
    assert order.status == OrderStatus.PICKED_UP
    assert Item.objects.get(pk=items[0].pk).stock_on_hand == 48


# --- what a review found -----------------------------------------------------------------


def test_a_change_that_cannot_be_applied_is_read_again_by_the_next_poll(funded, items, sandbox, warehouse, monkeypatch):
    from fulfillment.models import WarehousePollState

    order = pay(funded, make_order(funded, items))
    sandbox.control(ACCOUNT, webhook_url="")
    sandbox.control(ACCOUNT, ship_now=order.number)
    real_apply = changes.outbound_apply

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(changes, "outbound_apply", broken)
    changes.warehouse_poll(warehouse=warehouse)
    state = WarehousePollState.objects.get(warehouse=warehouse)
    assert state.changes_from is None and not state.last_ok and "read again" in state.last_message
    # when the next poll can apply it, the shipment is there
    monkeypatch.setattr(changes, "outbound_apply", real_apply)
    changes.warehouse_poll(warehouse=warehouse)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_tracking_typed_in_before_the_warehouse_reports_it_is_one_shipment(funded, items, sandbox, warehouse):
    order = pay(funded, make_order(funded, items))
    sandbox.control(ACCOUNT, webhook_url="")
    sandbox.control(ACCOUNT, ship_now=order.number)
    remote = push.backend_for(warehouse).find_outbound(order.number)
    (package,) = remote.shipments
    # staff type the tracking the warehouse mailed them, then the poll reports the same package
    changes.tracking_enter(
        order=Order.objects.get(pk=order.pk), carrier="USPS", tracking_number=package.tracking_number
    )
    changes.warehouse_poll(warehouse=warehouse)
    assert Shipment.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_an_order_whose_push_failed_but_is_found_at_the_warehouse_is_pushed(funded, items, sandbox, warehouse):
    # given a push whose answer was lost and whose tries then all failed
    sandbox.control(ACCOUNT, lose_next_create=1, webhook_url="")
    order = pay(funded, make_order(funded, items))
    outbound = Outbound.objects.get(order=order)
    push._fail(outbound, "gave up")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PUSH_FAILED
    # when the poll finds it at the warehouse
    changes.warehouse_poll(warehouse=warehouse)
    # then both the order and its push say so
    outbound.refresh_from_db()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE
    assert outbound.state == Outbound.State.PUSHED and outbound.pushed_at is not None


def test_the_rest_of_a_partly_shipped_order_cancelled_at_the_warehouse_refunds_nothing_on_its_own(funded, items):
    from fulfillment.warehouses.base import OutboundOrder, OutboundStatus
    from fulfillment.warehouses.base import Shipment as Package
    from fulfillment.warehouses.base import ShipmentLine as PackageLine

    order = pay(funded, make_order(funded, items))
    outbound = Outbound.objects.get(order=order)
    before = balance(funded)
    first = Package(
        warehouse_id="pkg-1",
        carrier="USPS",
        tracking_number="9400100000000000000001",
        lines=(PackageLine(item_id="LS228800001-01-01", quantity=2),),
    )
    changes.outbound_apply(
        outbound=outbound,
        remote=OutboundOrder(
            warehouse_id="1", reference=order.number, status=OutboundStatus.PARTIALLY_SHIPPED, shipments=(first,)
        ),
    )
    changes.outbound_apply(
        outbound=outbound,
        remote=OutboundOrder(
            warehouse_id="1", reference=order.number, status=OutboundStatus.CANCELLED, shipments=(first,)
        ),
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WAREHOUSE
    assert balance(funded) == before and not Transaction.objects.filter(kind="refund").exists()
    assert "staff will settle" in order.events.latest("pk").message


@pytest.mark.skipif(not using_postgres(), reason="row locks need PostgreSQL")
@pytest.mark.parametrize("run", range(3))
def test_cancel_against_push_ends_cancelled_everywhere_and_refunded_once(funded, items, lost_messages, run):
    # given a paid order that a push and the distributor's cancel reach at the same moment
    before = balance(funded)
    order = pay(funded, make_order(funded, items))
    pushed, cancelled = together(
        lambda: push.order_push(order.pk),
        lambda: orders_cancel(actor=funded, orders=[Order.objects.get(pk=order.pk)], reason="race"),
    )
    assert not isinstance(pushed, Exception) and not isinstance(cancelled, Exception), (pushed, cancelled)
    # when whatever cancel request there is has been carried
    cancels.cancel_sweep()
    # then, whichever came first, the order is cancelled everywhere (the warehouse had not
    # shipped), refunded once, its stock given back, and the warehouse holds at most one order
    order.refresh_from_db()
    held = at_warehouse(order.number)
    assert order.status == OrderStatus.CANCELLED, (pushed, order.events.values_list("message", flat=True))
    assert held.count() <= 1 and all(row.status == "Cancelled" for row in held)
    assert Transaction.objects.filter(kind="refund", reference=order.number).count() == 1
    assert balance(funded) == before
    assert Item.objects.get(pk=items[0].pk).reserved == 0
