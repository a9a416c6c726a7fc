"""The `rest` warehouse backend end to end over real HTTP against the sandbox warehouse
(live_server): create, duplicate create, lookup, lost answers, retries, rate limits,
timeouts, cancel, shipping after a delay, split packages, changes since a time."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from fulfillment.warehouses import backend_for
from fulfillment.warehouses.base import (
    CancelRefused,
    OutboundLine,
    OutboundNotFound,
    OutboundRequest,
    OutboundResponseLost,
    OutboundStatus,
    Recipient,
    WarehouseAuthError,
    WarehouseRejected,
    WarehouseUnavailable,
)
from fulfillment.warehouses.rest import RestBackend
from sandbox.models import SandboxOutboundOrder, SandboxRequest
from tests.catalog.factories import WarehouseFactory
from tests.fulfillment.factories import WarehouseBackendFactory
from tests.sandbox_helpers import WarehouseSandbox, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "acme-us"
SERUM, MASK = "LS228800001-01-01", "LS228800002-01-01"


def outbound(reference="DO26000001", **changes) -> OutboundRequest:
    fields = {
        "reference": reference,
        "recipient": Recipient(
            name="Ada Lovelace",
            address1="12 Analytical Ave",
            address2="Apt 3",
            city="Boston",
            region="MA",
            postcode="02134",
            country="US",
            phone="+1 617 555 0103",
            email="ada@example.com",
        ),
        "lines": (OutboundLine(item_id=SERUM, quantity=2, name="Serum"), OutboundLine(item_id=MASK, quantity=1)),
        "service_code": "Standard",
    }
    return OutboundRequest(**{**fields, **changes})


@pytest.fixture
def sandbox(live_server):
    return WarehouseSandbox(live_server.url)


@pytest.fixture
def account(sandbox):
    # A warehouse that takes its time unless a test says otherwise.
    return sandbox.control(ACCOUNT, ship_after_seconds=3600)


@pytest.fixture
def warehouse(sandbox, account):
    warehouse = WarehouseFactory(code="US-CA")
    WarehouseBackendFactory(
        warehouse=warehouse,
        kind="rest",
        base_url=sandbox.api_url(ACCOUNT),
        token=account["api_token"],
        webhook_secret=account["webhook_secret"],
    )
    return warehouse


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def backend(warehouse, sleeps) -> RestBackend:
    return backend_for(warehouse, http=recording_http("warehouse US-CA", sleeps))


def calls(method: str) -> list[int]:
    return list(
        SandboxRequest.objects.filter(method=method, path__contains="/warehouse/").values_list("status", flat=True)
    )


# --- create and lookup ------------------------------------------------------------------


def test_rest_create_hands_the_order_over_under_our_order_number(backend):
    # when
    order = backend.create_outbound(outbound())
    # then the warehouse holds it under our number, with the recipient and the Item IDs as sent
    assert (order.reference, order.status, order.shipments) == ("DO26000001", OutboundStatus.PROCESSING, ())
    stored = SandboxOutboundOrder.objects.get(reference_id="DO26000001")
    assert order.warehouse_id == str(stored.external_id)
    assert stored.payload["recipient"]["address"]["zip_code"] == "02134"
    assert stored.payload["shipping_method"] == "Standard"
    assert [(p["reference_id"], p["quantity"]) for p in stored.payload["products"]] == [(SERUM, 2), (MASK, 1)]


def test_rest_create_twice_returns_the_same_order(backend):
    first = backend.create_outbound(outbound())
    again = backend.create_outbound(outbound())
    assert again.warehouse_id == first.warehouse_id
    assert SandboxOutboundOrder.objects.count() == 1


def test_rest_find_outbound_by_reference(backend):
    created = backend.create_outbound(outbound())
    backend.create_outbound(outbound(reference="DO26000002"))
    found = backend.find_outbound("DO26000001")
    assert found is not None and found.warehouse_id == created.warehouse_id
    assert backend.find_outbound("DO99999999") is None


def test_rest_lost_create_answer_then_lookup_finds_the_order(backend, sandbox):
    # given a warehouse that stores the next order and loses its answer
    sandbox.control(ACCOUNT, lose_next_create=1)
    # when
    with pytest.raises(OutboundResponseLost, match="look it up"):
        backend.create_outbound(outbound())
    # then the order did arrive: the lookup finds it, and the retry is the same order
    found = backend.find_outbound("DO26000001")
    assert found is not None and found.status == OutboundStatus.PROCESSING
    assert backend.create_outbound(outbound()).warehouse_id == found.warehouse_id
    assert SandboxOutboundOrder.objects.count() == 1


def test_rest_create_answered_500_is_not_repeated_blind(backend, sandbox, sleeps):
    sandbox.control(ACCOUNT, fail_next_500=1)
    with pytest.raises(OutboundResponseLost):
        backend.create_outbound(outbound())
    assert calls("POST") == [500]
    assert sleeps == []
    # the caller's lookup says it never arrived, so creating it again is safe
    assert backend.find_outbound("DO26000001") is None
    assert backend.create_outbound(outbound()).status == OutboundStatus.PROCESSING


def test_rest_lookup_retries_500s_with_backoff_then_succeeds(backend, sandbox, sleeps):
    backend.create_outbound(outbound())
    sandbox.control(ACCOUNT, fail_next_500=2)
    assert backend.find_outbound("DO26000001") is not None
    assert calls("GET") == [500, 500, 200]
    # equal-jitter backoff with no jitter: half of 0.5 s, then half of 1 s
    assert sleeps == [0.25, 0.5]


def test_rest_lookup_still_failing_after_the_retries_is_unavailable(warehouse, sandbox, sleeps):
    sandbox.control(ACCOUNT, fail_next_500=3)
    backend = backend_for(warehouse, http=recording_http("warehouse US-CA", sleeps, max_attempts=3))
    with pytest.raises(WarehouseUnavailable) as failure:
        backend.find_outbound("DO26000001")
    assert failure.value.status_code == 500
    assert not isinstance(failure.value, OutboundResponseLost)


def test_rest_429_retry_after_is_honoured(backend, sandbox, sleeps):
    sandbox.control(ACCOUNT, fail_next_429=1, fault_retry_after=1.5)
    order = backend.create_outbound(outbound())
    assert order.status == OutboundStatus.PROCESSING
    assert sleeps == [1.5]
    assert calls("POST") == [429, 201]


def test_rest_429_longer_than_we_wait_is_unavailable_with_its_retry_after(backend, sandbox, sleeps):
    sandbox.control(ACCOUNT, fail_next_429=1, fault_retry_after=120)
    with pytest.raises(WarehouseUnavailable) as failure:
        backend.create_outbound(outbound())
    # a 429 means the warehouse did nothing: not a lost answer
    assert not isinstance(failure.value, OutboundResponseLost)
    assert (failure.value.status_code, failure.value.retry_after) == (429, 120.0)
    assert not SandboxOutboundOrder.objects.exists()


def test_rest_timeouts_are_classified(warehouse, sandbox, sleeps):
    # given a client that waits half a second, and a warehouse that hangs for longer
    http = recording_http("warehouse US-CA", sleeps, timeout=(2.0, 0.5), max_attempts=2)
    backend = backend_for(warehouse, http=http)
    sandbox.control(ACCOUNT, timeout_next=1, timeout_seconds=1.5)
    # a create that timed out may have arrived: the caller must look it up first
    with pytest.raises(OutboundResponseLost, match="ReadTimeout"):
        backend.create_outbound(outbound())
    assert backend.find_outbound("DO26000001") is None
    # a lookup that times out is retried, then transient
    sandbox.control(ACCOUNT, timeout_next=2, timeout_seconds=1.5)
    with pytest.raises(WarehouseUnavailable, match="ReadTimeout") as failure:
        backend.find_outbound("DO26000001")
    assert not isinstance(failure.value, OutboundResponseLost)
    assert len(sleeps) == 1
    # let the hung requests end before the live server's database goes away
    time.sleep(1.6)


def test_rest_refused_order_is_permanent_with_the_warehouses_words(backend):
    with pytest.raises(WarehouseRejected, match="address1") as refused:
        backend.create_outbound(outbound(recipient=Recipient(name="Ada Lovelace", city="Boston", country="US")))
    assert refused.value.status_code == 400


def test_rest_wrong_token_is_an_auth_error(warehouse, sandbox, sleeps):
    sandbox.control(ACCOUNT, api_token="pat_rotated-by-the-warehouse")
    with pytest.raises(WarehouseAuthError, match="401"):
        backend_for(warehouse, http=recording_http("warehouse US-CA", sleeps)).find_outbound("DO26000001")


# --- cancel -----------------------------------------------------------------------------


def test_rest_cancel_before_shipping_cancels_at_the_warehouse(backend):
    backend.create_outbound(outbound())
    cancelled = backend.cancel_outbound("DO26000001")
    assert cancelled.status == OutboundStatus.CANCELLED
    assert SandboxOutboundOrder.objects.get().status == "Cancelled"
    # cancelling again answers the cancelled order
    assert backend.cancel_outbound("DO26000001").status == OutboundStatus.CANCELLED


def test_rest_cancel_after_shipping_is_refused(backend, sandbox):
    backend.create_outbound(outbound())
    sandbox.control(ACCOUNT, ship_now="DO26000001")
    with pytest.raises(CancelRefused, match="already left"):
        backend.cancel_outbound("DO26000001")
    assert backend.find_outbound("DO26000001").status == OutboundStatus.SHIPPED


def test_rest_cancel_of_an_order_the_warehouse_never_got(backend):
    with pytest.raises(OutboundNotFound):
        backend.cancel_outbound("DO26000001")


# --- shipping ---------------------------------------------------------------------------


def test_rest_order_ships_after_its_delay_with_carrier_and_tracking(backend, sandbox):
    # given a warehouse that ships a second after the order arrives
    sandbox.control(ACCOUNT, ship_after_seconds=1)
    backend.create_outbound(outbound())
    assert backend.find_outbound("DO26000001").status == OutboundStatus.PROCESSING
    # when the second has passed
    time.sleep(1.2)
    order = backend.find_outbound("DO26000001")
    # then it has left in one package, with everything in it
    assert order.status == OutboundStatus.SHIPPED
    (package,) = order.shipments
    assert (package.carrier, package.service) == ("USPS", "Ground Advantage")
    assert len(package.tracking_number) == 22 and package.tracking_number in package.tracking_url
    assert package.shipped_at is not None and package.shipped_at <= datetime.now(tz=UTC)
    assert sorted((line.item_id, line.quantity) for line in package.lines) == [(SERUM, 2), (MASK, 1)]


def test_rest_split_order_ships_in_two_packages(backend, sandbox):
    # given a warehouse that splits orders and sends the second package a second later
    sandbox.control(ACCOUNT, ship_after_seconds=0, split_packages=True, second_package_lag_seconds=1)
    backend.create_outbound(outbound())
    # then the first package leaves at once, the second later
    first = backend.find_outbound("DO26000001")
    assert first.status == OutboundStatus.PARTIALLY_SHIPPED
    assert len(first.shipments) == 1
    time.sleep(1.2)
    order = backend.find_outbound("DO26000001")
    assert order.status == OutboundStatus.SHIPPED
    assert len({package.tracking_number for package in order.shipments}) == 2
    assert order.shipments[0].warehouse_id == first.shipments[0].warehouse_id
    shipped: dict[str, int] = {}
    for package in order.shipments:
        for line in package.lines:
            shipped[line.item_id] = shipped.get(line.item_id, 0) + line.quantity
    assert shipped == {SERUM: 2, MASK: 1}


def test_rest_self_pickup_order_becomes_ready_then_picked_up(backend, sandbox):
    request = outbound(service_code="", self_pickup=True, pickup_code="PK4821")
    backend.create_outbound(request)
    stored = SandboxOutboundOrder.objects.get()
    assert (stored.payload["type"], stored.payload["tags"]) == ("Pickup", [{"name": "pickup_code", "value": "PK4821"}])
    sandbox.control(ACCOUNT, ship_now="DO26000001")
    assert backend.find_outbound("DO26000001").status == OutboundStatus.READY_FOR_PICKUP
    sandbox.control(ACCOUNT, pick_up="DO26000001")
    order = backend.find_outbound("DO26000001")
    assert (order.status, order.shipments) == (OutboundStatus.PICKED_UP, ())


def test_rest_exception_at_the_warehouse_says_why(backend, sandbox):
    sandbox.control(ACCOUNT, exception_next=1)
    order = backend.create_outbound(outbound())
    assert order.status == OutboundStatus.EXCEPTION
    assert "No stock" in order.message


# --- changes ----------------------------------------------------------------------------


def test_rest_changes_since_a_time_page_by_page(warehouse, sandbox, sleeps):
    backend = RestBackend(
        backend_for(warehouse).connection, http=recording_http("warehouse US-CA", sleeps), page_size=2
    )
    before = datetime.now(tz=UTC) - timedelta(seconds=1)
    for number in (1, 2, 3):
        backend.create_outbound(outbound(reference=f"DO2600000{number}"))
    # every order changed since before they were made, two a page, oldest first
    pages = list(backend.iter_changes(before))
    assert [[o.reference for o in page.orders] for page in pages] == [["DO26000001", "DO26000002"], ["DO26000003"]]
    # when one ships, only it has changed since now
    time.sleep(0.05)
    since = datetime.now(tz=UTC)
    sandbox.control(ACCOUNT, ship_now="DO26000002")
    (changed,) = backend.changes_since(since).orders
    assert (changed.reference, changed.status) == ("DO26000002", OutboundStatus.SHIPPED)
    assert changed.shipments and changed.updated_at >= since
    assert backend.changes_since(datetime.now(tz=UTC) + timedelta(minutes=1)).orders == ()
