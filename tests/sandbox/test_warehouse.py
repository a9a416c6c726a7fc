"""The warehouse emulator itself, over real HTTP and without our client: the API as
docs/warehouses.md describes it (paths, bearer token, validation, duplicate references,
list filters and paging headers, cancel, lazy shipping), its rate limit and fault switches,
and webhooks signed by the Standard Webhooks scheme, checked here from the scheme alone."""

import base64
import hashlib
import hmac
import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import call_command

from sandbox.models import SandboxOutboundOrder, SandboxRequest, SandboxWarehouseWebhook
from tests.sandbox_helpers import WarehouseSandbox, WebhookReceiver

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = "emulator-test"


def body(reference="REF-1001", **changes) -> dict:
    order = {
        "reference_id": reference,
        "shipping_method": "Standard",
        "recipient": {
            "name": "Alan Kay",
            "address": {
                "address1": "7 Smalltalk St",
                "city": "Boston",
                "state": "MA",
                "country": "US",
                "zip_code": "02134",
            },
        },
        "products": [{"reference_id": "SKU-A", "name": "Serum", "quantity": 3}],
    }
    return {**order, **changes}


@pytest.fixture
def sandbox(live_server):
    return WarehouseSandbox(live_server.url)


@pytest.fixture
def account(sandbox):
    return sandbox.control(ACCOUNT, ship_after_seconds=3600)


@pytest.fixture
def api(sandbox, account):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {account['api_token']}"
    base = sandbox.api_url(ACCOUNT)

    def call(method, path, **kwargs):
        return session.request(method, f"{base}/{path}", timeout=10, **kwargs)

    return call


def test_sandbox_warehouse_creates_201_and_answers_a_known_reference_with_the_same_order(api):
    created = api("POST", "order", json=body())
    assert created.status_code == 201
    order = created.json()
    assert (order["reference_id"], order["status"], order["type"]) == ("REF-1001", "Processing", "DTC")
    assert order["recipient"]["address"]["zip_code"] == "02134"
    (shipment,) = order["shipments"]
    assert shipment["status"] == "Processing" and shipment["tracking"] is None
    again = api("POST", "order", json=body(shipping_method="Expedited"))
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    assert again.json()["shipping_method"] == "Standard"  # the order held, untouched
    assert api("GET", f"order/{order['id']}").json()["id"] == order["id"]


def test_sandbox_warehouse_refuses_calls_without_the_token(sandbox, account):
    answer = requests.get(f"{sandbox.api_url(ACCOUNT)}/order", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert answer.status_code == 401
    assert requests.get(f"{sandbox.api_url('no-such-account')}/order", timeout=10).status_code == 404


def test_sandbox_warehouse_validation_names_the_fields(api):
    answer = api("POST", "order", json=body(reference_id="", products=[{"reference_id": "SKU-A", "quantity": 0}]))
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert set(errors) == {"reference_id", "products[0].quantity"}
    assert not SandboxOutboundOrder.objects.exists()


def test_sandbox_warehouse_lists_by_reference_and_by_update_time_with_paging_headers(api):
    before = datetime.now(tz=UTC) - timedelta(seconds=1)
    for number in range(1, 4):
        api("POST", "order", json=body(reference=f"REF-{number}"))
    by_reference = api("GET", "order", params={"ReferenceIds": "REF-2,REF-9"}).json()
    assert [order["reference_id"] for order in by_reference] == ["REF-2"]
    page = api("GET", "order", params={"LastUpdateStartDate": before.isoformat(), "SortOrder": "Oldest", "Limit": 2})
    assert [order["reference_id"] for order in page.json()] == ["REF-1", "REF-2"]
    assert (page.headers["total-count"], page.headers["total-pages"], page.headers["page-number"]) == ("3", "2", "1")
    later = (datetime.now(tz=UTC) + timedelta(minutes=1)).isoformat()
    assert api("GET", "order", params={"LastUpdateStartDate": later}).json() == []
    assert api("GET", "order", params={"LastUpdateStartDate": "yesterday"}).status_code == 400


def test_sandbox_warehouse_ships_lazily_and_refuses_to_cancel_what_left(sandbox, api):
    order = api("POST", "order", json=body()).json()
    sandbox.control(ACCOUNT, ship_now="REF-1001")
    shipped = api("GET", f"order/{order['id']}").json()
    assert shipped["status"] == "Fulfilled"
    tracking = shipped["shipments"][0]["tracking"]
    assert tracking["carrier"] == "USPS" and tracking["tracking_number"] in tracking["tracking_url"]
    refused = api("POST", f"order/{order['id']}/cancel")
    assert refused.status_code == 422
    assert refused.json()["canceled_shipment_results"][0]["is_success"] is False


def test_sandbox_warehouse_cancels_an_order_still_inside(api):
    order = api("POST", "order", json=body()).json()
    answer = api("POST", f"order/{order['id']}/cancel")
    assert answer.status_code == 200
    assert answer.json()["order"]["status"] == "Cancelled"
    assert answer.json()["order"]["shipments"][0]["status"] == "Cancelled"


def test_sandbox_warehouse_splits_units_over_two_packages(sandbox, api):
    sandbox.control(ACCOUNT, split_packages=True)
    order = api("POST", "order", json=body()).json()
    assert [shipment["products"][0]["inventory_items"][0]["quantity"] for shipment in order["shipments"]] == [1, 2]


def test_sandbox_warehouse_rate_limit_answers_429_with_retry_after(sandbox, api):
    sandbox.control(ACCOUNT, bucket_size=3, leak_per_second=0.5)
    statuses = [api("GET", "order").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    refused = api("GET", "order")
    assert refused.status_code == 429 and float(refused.headers["Retry-After"]) > 0


def test_sandbox_warehouse_lost_create_stores_the_order_then_answers_504(sandbox, api):
    sandbox.control(ACCOUNT, lose_next_create=1)
    assert api("POST", "order", json=body()).status_code == 504
    assert SandboxOutboundOrder.objects.filter(reference_id="REF-1001").exists()
    assert api("POST", "order", json=body()).status_code == 200


def test_sandbox_warehouse_timeout_hangs_then_answers_504_having_done_nothing(sandbox, api):
    sandbox.control(ACCOUNT, timeout_next=1, timeout_seconds=0.4)
    started = time.monotonic()
    assert api("POST", "order", json=body()).status_code == 504
    assert time.monotonic() - started >= 0.4
    assert not SandboxOutboundOrder.objects.exists()
    assert SandboxRequest.objects.filter(path__contains="/warehouse/", status=504).count() == 1


def test_sandbox_warehouse_500_switch(sandbox, api):
    sandbox.control(ACCOUNT, fail_next_500=1)
    assert [api("GET", "order").status_code for _ in range(2)] == [500, 200]


def standard_webhooks_valid(secret: str, headers: dict, payload: bytes) -> bool:
    """The Standard Webhooks check, written from the scheme: HMAC-SHA256 over id.timestamp.body."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + payload
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, expected)
        for version, _, value in (part.partition(",") for part in headers["webhook-signature"].split())
    )


def test_sandbox_warehouse_webhooks_are_standard_webhooks_signed(sandbox, api, account):
    with WebhookReceiver() as receiver:
        sandbox.control(ACCOUNT, webhook_url=receiver.url, webhook_duplicates=1)
        api("POST", "order", json=body())
        sandbox.control(ACCOUNT, ship_now="REF-1001")
    assert len(receiver.received) == 2
    (first_headers, payload), (second_headers, again) = receiver.received
    assert standard_webhooks_valid(account["webhook_secret"], first_headers, payload)
    assert standard_webhooks_valid(account["webhook_secret"], second_headers, again)
    assert first_headers["webhook-id"] == second_headers["webhook-id"] and payload == again
    assert abs(int(first_headers["webhook-timestamp"]) - time.time()) < 60
    assert first_headers["x-webhook-topic"] == "order.shipped"
    event = json.loads(payload)
    assert (event["type"], event["data"]["reference_id"], event["data"]["status"]) == (
        "order.shipped",
        "REF-1001",
        "Fulfilled",
    )
    assert SandboxWarehouseWebhook.objects.get().deliveries == 2


def test_sandbox_trickle_ships_what_is_due(sandbox, api, settings):
    settings.SANDBOX_ENABLED = True
    sandbox.control(ACCOUNT, ship_after_seconds=0)
    api("POST", "order", json=body())
    out = io.StringIO()
    call_command("sandbox_trickle", "--once", stdout=out)
    assert "1 warehouse package(s) left" in out.getvalue()
    assert SandboxOutboundOrder.objects.get().status == "Fulfilled"


def test_sandbox_index_lists_the_warehouse(live_server):
    emulators = requests.get(f"{live_server.url}/sandbox/", timeout=10).json()["emulators"]
    assert "warehouse" in {emulator["platform"] for emulator in emulators}
