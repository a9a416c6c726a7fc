"""WooCommerce end to end over real HTTP against the sandbox (live_server): keys checked
live, paging by X-WP-TotalPages, tracking as a note + completed, signed webhooks,
OAuth 1.0a signatures, 429, revoked keys.

WooCommerce keys do not expire, so there is no token refresh here: a refused key is a
revoked key."""

import json
import time

import pytest
import requests

from sandbox.models import SandboxOrder, SandboxRequest
from stores.authorization import store_authorization_start
from stores.models import Store, StoreEvent
from stores.platforms.base import (
    AuthorizationRefused,
    CredentialsRevoked,
    FulfillmentStatus,
    PlatformAuthError,
    TrackingInfo,
)
from stores.platforms.woocommerce import oauth1_sign, webhook_signature
from stores.services import store_call, store_client

from .factories import owner_of
from .sandbox_helpers import WebhookReceiver, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "acme-woo"


class WooSandbox:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    @property
    def site_url(self) -> str:
        return f"{self.base_url}/sandbox/woocommerce/{SITE}"

    def control(self, **switches) -> dict:
        response = requests.post(f"{self.site_url}/_sandbox/control", json=switches, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def sandbox(live_server):
    return WooSandbox(live_server.url)


@pytest.fixture
def actor():
    return owner_of()


@pytest.fixture
def sleeps():
    return []


def authorize(actor, sandbox, keys=None):
    keys = keys or sandbox.control(issue_key="read_write")
    outcome = store_authorization_start(
        actor=actor,
        platform="woocommerce",
        form={"name": "Acme Woo", "site": "US", "currency": "USD", "site_url": sandbox.site_url + "/"},
        secrets_form={"consumer_key": keys["consumer_key"], "consumer_secret": keys["consumer_secret"]},
        redirect_uri="",
    )
    return outcome.store


@pytest.fixture
def store(actor, sandbox):
    return authorize(actor, sandbox)


def test_woocommerce_keys_are_checked_live_and_saved(actor, sandbox):
    keys = sandbox.control(issue_key="read_write")
    store = authorize(actor, sandbox, keys)
    store.refresh_from_db()
    assert store.status == Store.Status.AUTHORIZED
    assert store.site_url == sandbox.site_url  # normalised: no trailing slash
    assert store.credentials == {"consumer_key": keys["consumer_key"], "consumer_secret": keys["consumer_secret"]}
    assert keys["consumer_secret"] not in store.credentials_encrypted
    # the live check was one signed call
    (call,) = SandboxRequest.objects.filter(path__endswith="/wp-json/wc/v3/orders")
    assert call.status == 200 and "oauth_signature=" in call.query and "consumer_secret" not in call.query


def test_woocommerce_wrong_keys_are_refused_and_nothing_is_saved(actor, sandbox):
    keys = sandbox.control(issue_key="read_write")
    with pytest.raises(AuthorizationRefused, match="refused these keys"):
        authorize(actor, sandbox, {**keys, "consumer_secret": "cs_wrong"})
    assert not Store.objects.exists()


def test_woocommerce_bad_oauth_signature_is_refused_by_the_site(sandbox):
    keys = sandbox.control(issue_key="read")
    url = f"{sandbox.site_url}/wp-json/wc/v3/orders"
    params = {
        "oauth_consumer_key": keys["consumer_key"],
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": "n1",
        "oauth_signature_method": "HMAC-SHA256",
    }
    good = {**params, "oauth_signature": oauth1_sign("GET", url, params, keys["consumer_secret"])}
    tampered = {**params, "oauth_signature": oauth1_sign("GET", url, params, "cs_not_the_secret")}
    assert requests.get(url, params=tampered, timeout=10).status_code == 401
    assert requests.get(url, params=good, timeout=10).status_code == 200
    # and a nonce is good once
    replay = requests.get(url, params=good, timeout=10)
    assert replay.status_code == 401 and "nonce" in replay.json()["message"]


def test_woocommerce_pull_reads_at_least_three_pages(store, sandbox, sleeps):
    sandbox.control(create_orders=5)

    def run(client):
        client.page_size = 2
        return list(client.iter_orders(since=None))

    pages = store_call(store=store, operation=run, http=recording_http("woocommerce", sleeps))
    assert [len(page.orders) for page in pages] == [2, 2, 1]
    assert [page.next_cursor for page in pages] == ["2", "3", None]
    ids = [order.external_id for page in pages for order in page.orders]
    assert ids == sorted(ids, key=int) and len(set(ids)) == 5
    order = pages[0].orders[0]
    assert order.platform == "woocommerce" and order.lines[0].sku and order.shipping_address.postal_code
    queries = list(
        SandboxRequest.objects.filter(path__endswith="/wp-json/wc/v3/orders")
        .order_by("id")
        .values_list("query", flat=True)
    )
    assert ["page=1" in queries[-3], "page=2" in queries[-2], "page=3" in queries[-1]] == [True, True, True]


def test_woocommerce_push_tracking_adds_a_note_and_completes_the_order(store, sandbox, sleeps):
    sandbox.control(create_orders=1)
    row = SandboxOrder.objects.get()
    http = recording_http("woocommerce", sleeps)
    result = store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=str(row.external_id),
            tracking=TrackingInfo(number="9400111899223334445566", carrier="USPS", notify_customer=True),
        ),
        http=http,
    )
    row.refresh_from_db()
    (note,) = row.extra["notes"]
    assert note["note"] == "Shipped via USPS, tracking number 9400111899223334445566."
    assert note["customer_note"] is True
    assert result.external_id == str(note["id"])
    assert row.payload["status"] == "completed" and row.payload["date_completed_gmt"]
    assert {"key": "_tracking_number", "value": "9400111899223334445566"} in [
        {"key": m["key"], "value": m["value"]} for m in row.payload["meta_data"]
    ]
    order = store_call(store=store, operation=lambda c: c.get_order(str(row.external_id)), http=http)
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED


def test_woocommerce_webhook_signature_good_and_bad(store, sandbox, sleeps):
    with WebhookReceiver() as receiver:
        store_call(
            store=store,
            operation=lambda c: c.subscribe_webhook(topic="order.created", address=receiver.url),
            http=recording_http("woocommerce", sleeps),
        )
        sandbox.control(create_orders=1)
    (headers, body), *_ = receiver.received
    store.refresh_from_db()
    assert store.credentials["webhook_secret"]  # saved with the credentials
    client = store_client(store=store)
    assert headers["X-WC-Webhook-Topic"] == "order.created"
    assert client.verify_webhook(headers, body) is True
    assert client.verify_webhook(headers, body + b" ") is False
    assert client.verify_webhook({**headers, "X-WC-Webhook-Signature": webhook_signature(body, "guess")}, body) is False
    assert client.parse_order(json.loads(body)).external_id == str(SandboxOrder.objects.get().external_id)


def test_woocommerce_429_then_success_honours_retry_after(store, sandbox, sleeps):
    sandbox.control(create_orders=1, fail_next_429=1, fault_retry_after=2)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("woocommerce", sleeps)
    )
    assert len(page.orders) == 1
    assert sleeps == [2.0]


def test_woocommerce_revoked_keys_mark_the_store_revoked(store, sandbox, sleeps):
    sandbox.control(revoke_keys=True)
    with pytest.raises(CredentialsRevoked):
        store_call(
            store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("woocommerce", sleeps)
        )
    store.refresh_from_db()
    assert store.status == Store.Status.REVOKED
    assert "Consumer key is invalid" in store.status_reason
    assert StoreEvent.objects.filter(store=store, to_status="revoked").exists()


def test_woocommerce_read_only_key_cannot_push_tracking(actor, sandbox, sleeps):
    store = authorize(actor, sandbox, sandbox.control(issue_key="read"))
    sandbox.control(create_orders=1)
    row = SandboxOrder.objects.get()
    with pytest.raises(PlatformAuthError, match="write permissions"):
        store_call(
            store=store,
            operation=lambda c: c.push_tracking(
                external_order_id=str(row.external_id), tracking=TrackingInfo(number="1", carrier="UPS")
            ),
            http=recording_http("woocommerce", sleeps),
        )
    store.refresh_from_db()
    assert store.status == Store.Status.FAILED and "write permissions" in store.status_reason


def test_woocommerce_store_form_through_the_page(client, sandbox):
    me = owner_of()
    client.force_login(me.user)
    keys = sandbox.control(issue_key="read_write")
    response = client.post(
        "/stores/authorize/?platform=woocommerce",
        {
            "name": "Woo via page",
            "site": "us",
            "currency": "USD",
            "site_url": sandbox.site_url,
            "consumer_key": keys["consumer_key"],
            "consumer_secret": keys["consumer_secret"],
        },
    )
    assert response.status_code == 302
    store = Store.objects.get(distributor=me.distributor)
    assert store.platform == "woocommerce" and store.status == Store.Status.AUTHORIZED
    bad = client.post(
        "/stores/authorize/?platform=woocommerce",
        {
            "name": "Bad",
            "site": "US",
            "currency": "USD",
            "site_url": sandbox.site_url,
            "consumer_key": "ck_x",
            "consumer_secret": "cs_x",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "refused these keys" in html
    assert "cs_x" not in html  # the secret is not echoed back
