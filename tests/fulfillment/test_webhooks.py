"""Warehouse webhooks, Standard Webhooks signed, as the sandbox warehouse sends them over
real HTTP: verified and read; forged, stale and future deliveries refused; a replay reads
as the same event id; several signatures in the header; delayed delivery."""

import base64
import json
import time

import pytest

from fulfillment.warehouses import backend_for
from fulfillment.warehouses.base import OutboundLine, OutboundRequest, OutboundStatus, Recipient, WebhookRejected
from fulfillment.warehouses.rest import RestBackend, webhook_signature
from tests.catalog.factories import WarehouseFactory
from tests.fulfillment.factories import WarehouseBackendFactory
from tests.sandbox_helpers import WarehouseSandbox, WebhookReceiver, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "hooks-us"
REFERENCE = "DO26000101"
OUR_SECRET = "whsec_" + base64.b64encode(b"our-webhook-signing-key-2026-xyz").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"the-warehouses-rotated-key-2026!").decode()


@pytest.fixture
def receiver():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def sandbox(live_server, receiver):
    sandbox = WarehouseSandbox(live_server.url)
    sandbox.control(ACCOUNT, ship_after_seconds=3600, webhook_url=receiver.url, webhook_secret=OUR_SECRET)
    return sandbox


@pytest.fixture
def backend(sandbox) -> RestBackend:
    account = sandbox.control(ACCOUNT)
    warehouse = WarehouseFactory(code="US-CA")
    WarehouseBackendFactory(
        warehouse=warehouse,
        kind="rest",
        base_url=sandbox.api_url(ACCOUNT),
        token=account["api_token"],
        webhook_secret=OUR_SECRET,
    )
    return backend_for(warehouse, http=recording_http("warehouse US-CA", []))


def ship_one(backend: RestBackend, sandbox: WarehouseSandbox) -> None:
    request = OutboundRequest(
        reference=REFERENCE,
        recipient=Recipient(name="Grace Hopper", address1="1 Compiler Way", city="San Francisco", country="US"),
        lines=(OutboundLine(item_id="LS228800001-01-01", quantity=1),),
        service_code="Standard",
    )
    backend.create_outbound(request)
    sandbox.control(ACCOUNT, ship_now=REFERENCE)


def test_webhook_signed_by_the_warehouse_is_verified_and_read(backend, sandbox, receiver):
    # when the order ships
    ship_one(backend, sandbox)
    # then one signed delivery arrives, and it reads as the shipped order
    ((headers, body),) = receiver.received
    event = backend.parse_webhook(headers, body)
    assert event.id == headers["webhook-id"] and event.id.startswith("msg_")
    assert event.type == "order.shipped"
    assert event.order is not None and event.order.reference == REFERENCE
    assert event.order.status == OutboundStatus.SHIPPED
    (package,) = event.order.shipments
    assert package.tracking_number and package.carrier == "USPS"
    assert abs(event.occurred_at.timestamp() - time.time()) < 60


def test_webhook_with_a_changed_body_is_refused(backend, sandbox, receiver):
    ship_one(backend, sandbox)
    ((headers, body),) = receiver.received
    forged = body.replace(REFERENCE.encode(), b"DO26000999")
    with pytest.raises(WebhookRejected, match="signature"):
        backend.parse_webhook(headers, forged)


def test_webhook_signed_with_another_secret_is_refused(backend, sandbox, receiver):
    sandbox.control(ACCOUNT, webhook_secret=NEW_SECRET)
    ship_one(backend, sandbox)
    ((headers, body),) = receiver.received
    with pytest.raises(WebhookRejected, match="signature"):
        backend.parse_webhook(headers, body)


def test_webhook_without_its_headers_is_refused(backend, sandbox, receiver):
    ship_one(backend, sandbox)
    ((headers, body),) = receiver.received
    stripped = {name: value for name, value in headers.items() if name.lower() != "webhook-signature"}
    with pytest.raises(WebhookRejected, match="webhook-signature"):
        backend.parse_webhook(stripped, body)


@pytest.mark.parametrize("offset", [301, -301], ids=["stale", "from-the-future"])
def test_webhook_more_than_five_minutes_from_now_is_refused(backend, sandbox, receiver, offset):
    ship_one(backend, sandbox)
    ((headers, body),) = receiver.received
    # the same genuine delivery, read six minutes later (or earlier)
    later = RestBackend(backend.connection, http=backend.http, now=lambda: time.time() + offset)
    with pytest.raises(WebhookRejected, match="five minutes"):
        later.parse_webhook(headers, body)
    assert backend.parse_webhook(headers, body).id == headers["webhook-id"]


def test_webhook_delivered_twice_reads_as_one_event_id(backend, sandbox, receiver):
    # given a warehouse that delivers every webhook twice (as a retry would)
    sandbox.control(ACCOUNT, webhook_duplicates=1)
    ship_one(backend, sandbox)
    # then both deliveries verify and carry the same event id, so the caller keeps one
    assert len(receiver.received) == 2
    events = [backend.parse_webhook(headers, body) for headers, body in receiver.received]
    assert events[0].id == events[1].id
    assert {event.order.reference for event in events} == {REFERENCE}


def test_webhook_signed_with_old_and_new_secret_verifies_with_either(backend, sandbox, receiver):
    # given the warehouse rotating its secret: it signs with the new one and with ours
    sandbox.control(ACCOUNT, webhook_secret=NEW_SECRET, webhook_previous_secret=OUR_SECRET)
    ship_one(backend, sandbox)
    ((headers, body),) = receiver.received
    # then the header lists two signatures, and the one made with our secret is enough
    assert len(headers["webhook-signature"].split()) == 2
    assert backend.parse_webhook(headers, body).type == "order.shipped"


def test_webhook_delay_holds_the_delivery_until_it_is_due(backend, sandbox, receiver):
    sandbox.control(ACCOUNT, webhook_delay_seconds=1)
    ship_one(backend, sandbox)
    assert receiver.received == []
    time.sleep(1.1)
    sandbox.control(ACCOUNT, advance=True)
    ((headers, body),) = receiver.received
    assert json.loads(body)["type"] == "order.shipped"
    assert backend.parse_webhook(headers, body).order.status == OutboundStatus.SHIPPED


def test_webhook_body_that_is_not_json_is_refused_even_when_signed(backend):
    stamp = str(int(time.time()))
    body = b"not json"
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": webhook_signature(OUR_SECRET, "msg_1", stamp, body),
    }
    with pytest.raises(WebhookRejected, match="cannot be read"):
        backend.parse_webhook(headers, body)
