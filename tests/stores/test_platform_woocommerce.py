"""WooCommerce end to end over real HTTP against the sandbox (live_server): the shop's
key-issuing flow (/wc-auth/v1/authorize, keys posted to our public callback, the seller's
return), keys entered by hand and checked live, paging by X-WP-TotalPages, tracking as a
note + completed, signed webhooks, OAuth 1.0a signatures, 429, revoked keys.

WooCommerce keys do not expire, so there is no token refresh here: a refused key is a
revoked key (pinned by test_woocommerce_keys_never_expire_so_nothing_is_refreshed)."""

import html
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.utils import timezone

from sandbox.models import SandboxApiKey, SandboxOrder, SandboxRequest
from stores.authorization import store_authorization_complete, store_authorization_start
from stores.models import Store, StoreAuthorization, StoreEvent
from stores.platforms.base import (
    AuthorizationRefused,
    CredentialsExpired,
    CredentialsRevoked,
    FulfillmentStatus,
    PlatformAuthError,
    TrackingInfo,
)
from stores.platforms.woocommerce import key_issuing_url, oauth1_sign, webhook_signature
from stores.services import store_call, store_client
from tests.distribution.factories import owner_of
from tests.sandbox_helpers import HIDDEN_INPUT, WebhookReceiver, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "acme-woo"


class WooSandbox:
    def __init__(self, base_url: str, site: str = SITE):
        self.base_url = base_url.rstrip("/")
        self.site = site

    @property
    def site_url(self) -> str:
        return f"{self.base_url}/sandbox/woocommerce/{self.site}"

    def control(self, **switches) -> dict:
        response = requests.post(f"{self.site_url}/_sandbox/control", json=switches, timeout=30)
        response.raise_for_status()
        return response.json()

    def admin_answers(self, authorize_url: str, decision: str = "approve") -> requests.Response:
        """The shop's administrator opens the key-issuing page and approves or denies."""
        page = requests.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text
        fields = {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(page.text)}
        return requests.post(
            authorize_url.split("?")[0], data={**fields, "decision": decision}, allow_redirects=False, timeout=30
        )


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


# --- the key-issuing flow (/wc-auth/v1/authorize) ---------------------------------------

KEYS_CALLBACK = "/stores/authorize/woocommerce/keys/"
RETURN = "/stores/authorize/woocommerce/return/"


def start_at_shop(actor, live_server, sandbox, **form):
    """[Authorize Now] with "approve access at my shop": the key-issuing URL to send the seller to."""
    outcome = store_authorization_start(
        actor=actor,
        platform="woocommerce",
        form={
            "name": "Acme Woo",
            "site": "US",
            "currency": "USD",
            "site_url": sandbox.site_url,
            "connect_with": "shop",
            **form,
        },
        redirect_uri=live_server.url + RETURN,
        server_callback_uri=live_server.url + KEYS_CALLBACK,
    )
    return outcome.redirect_url


def query_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


def deliver(live_server, **payload) -> requests.Response:
    """A POST to our public key callback, as a WooCommerce shop (or anyone) would send it."""
    body = {"key_id": 1, "consumer_key": "ck_x", "consumer_secret": "cs_x", "key_permissions": "read_write"}
    return requests.post(live_server.url + KEYS_CALLBACK, json={**body, **payload}, timeout=10)


def test_woocommerce_authorize_at_the_shop_end_to_end(actor, live_server, sandbox, client):
    # given [Authorize Now] choosing to approve access at the shop
    url = start_at_shop(actor, live_server, sandbox)
    pending = StoreAuthorization.objects.get(distributor=actor.distributor)
    assert url.startswith(f"{sandbox.site_url}/wc-auth/v1/authorize?")
    assert query_of(url) == {
        "app_name": "Distribution platform",
        "scope": "read_write",
        "user_id": pending.state,
        "return_url": live_server.url + RETURN,
        "callback_url": live_server.url + KEYS_CALLBACK,
    }
    # when the shop's administrator approves
    answer = sandbox.admin_answers(url)
    # then the shop made a key, posted it to our callback, and sends the seller back
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(live_server.url + RETURN)
    back = query_of(answer.headers["Location"])
    assert back == {"success": "1", "user_id": pending.state}
    key = SandboxApiKey.objects.get(revoked=False)
    assert key.permissions == "read_write"
    pending.refresh_from_db()
    assert pending.credentials_received_at is not None
    assert key.consumer_secret not in pending.credentials_encrypted  # waiting encrypted
    assert pending.delivered_credentials["consumer_key"] == key.consumer_key
    assert not Store.objects.exists()  # nothing is saved before the seller returns
    # when the seller's browser arrives at the return view
    client.force_login(actor.user)
    response = client.get(RETURN, back)
    # then the keys were proven live and the store is saved, authorized
    assert response.status_code == 302 and response["Location"] == "/stores/"
    store = Store.objects.get(distributor=actor.distributor)
    assert store.status == Store.Status.AUTHORIZED
    assert (store.platform, store.site_url, store.name) == ("woocommerce", sandbox.site_url, "Acme Woo")
    assert store.credentials["consumer_key"] == key.consumer_key
    assert store.credentials["consumer_secret"] == key.consumer_secret
    assert store.credentials["key_id"] == str(key.pk)
    assert key.consumer_secret not in store.credentials_encrypted
    live_check = SandboxRequest.objects.filter(path__endswith="/wp-json/wc/v3/orders").get()
    assert live_check.status == 200
    pending.refresh_from_db()
    assert pending.consumed_at is not None and pending.credentials_encrypted == ""  # the keys left the row
    assert "is authorized" in client.get("/stores/").content.decode()


def test_woocommerce_authorize_at_the_shop_through_the_pages(client, live_server, sandbox, settings):
    # given a distributor on [Authorize Now]; the shop must reach this portal's public address
    settings.STORE_CALLBACK_BASE_URL = live_server.url
    me = owner_of()
    client.force_login(me.user)
    form = {"name": "Woo at shop", "site": "US", "currency": "USD", "site_url": sandbox.site_url}
    response = client.post("/stores/authorize/?platform=woocommerce", {**form, "connect_with": "shop"})
    # when they approve at the shop and come back
    assert response.status_code == 302
    assert response["Location"].startswith(f"{sandbox.site_url}/wc-auth/v1/authorize?")
    answer = sandbox.admin_answers(response["Location"])
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == live_server.url + RETURN
    back = client.get(f"{location.path}?{location.query}")
    # then the list shows the authorized store
    assert back.status_code == 302
    html_page = client.get("/stores/").content.decode()
    assert "The store “Woo at shop” is authorized." in html_page
    store = Store.objects.get(distributor=me.distributor)
    assert store.status == Store.Status.AUTHORIZED
    assert store.credentials["consumer_key"] == SandboxApiKey.objects.get().consumer_key


def test_woocommerce_form_asks_for_keys_only_when_entering_them_by_hand(client, sandbox):
    me = owner_of()
    client.force_login(me.user)
    form = {"name": "Woo", "site": "US", "currency": "USD", "site_url": sandbox.site_url, "connect_with": "keys"}
    response = client.post("/stores/authorize/?platform=woocommerce", form)
    assert response.status_code == 400
    assert "Required when entering keys yourself." in response.content.decode()
    page = client.get("/stores/authorize/?platform=woocommerce").content.decode()
    assert 'value="shop"' in page and 'value="keys"' in page
    assert not Store.objects.exists()


def test_woocommerce_denied_at_the_shop_saves_nothing(actor, live_server, sandbox, client):
    url = start_at_shop(actor, live_server, sandbox)
    answer = sandbox.admin_answers(url, decision="deny")
    back = query_of(answer.headers["Location"])
    assert back["success"] == "0"
    assert not SandboxApiKey.objects.exists()  # no key was made
    client.force_login(actor.user)
    client.get(RETURN, back)
    assert "not approved" in client.get("/stores/").content.decode()
    assert not Store.objects.exists()
    assert StoreAuthorization.objects.get().consumed_at is not None  # the state is spent


def test_woocommerce_key_delivery_naming_no_authorization_is_refused_and_the_shop_deletes_the_key(live_server, sandbox):
    # given a key-issuing URL whose user_id is not a state we issued
    url = key_issuing_url(
        sandbox.site_url,
        app_name="Distribution platform",
        user_id="made-up-state",
        return_url=live_server.url + RETURN,
        callback_url=live_server.url + KEYS_CALLBACK,
    )
    # when the administrator approves
    answer = sandbox.admin_answers(url)
    # then our callback refused the keys, so the shop deleted them and sends nobody back
    assert answer.status_code == 500
    assert "unable to send the consumer data" in answer.text
    assert not SandboxApiKey.objects.exists()
    assert not StoreAuthorization.objects.exists()


def test_woocommerce_key_delivery_is_accepted_once_and_only_while_the_authorization_lives(actor, live_server, sandbox):
    start_at_shop(actor, live_server, sandbox)
    pending = StoreAuthorization.objects.get()
    # a second delivery for the same authorization, or a late one, is refused
    assert deliver(live_server, user_id=pending.state).status_code == 200
    again = deliver(live_server, user_id=pending.state, consumer_key="ck_other")
    assert again.status_code == 400 and "already delivered" in again.json()["error"]
    pending.refresh_from_db()
    assert pending.delivered_credentials["consumer_key"] == "ck_x"
    start_at_shop(actor, live_server, sandbox)
    late = StoreAuthorization.objects.exclude(pk=pending.pk).get()
    StoreAuthorization.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = deliver(live_server, user_id=late.state)
    assert refused.status_code == 400 and "expired" in refused.json()["error"]


def test_woocommerce_key_delivery_must_be_read_write_json(actor, live_server, sandbox):
    start_at_shop(actor, live_server, sandbox)
    pending = StoreAuthorization.objects.get()
    read_only = deliver(live_server, user_id=pending.state, key_permissions="read")
    assert read_only.status_code == 400 and "read_write" in read_only.json()["error"]
    garbage = requests.post(live_server.url + KEYS_CALLBACK, data=b"key=value", timeout=10)
    assert garbage.status_code == 400
    assert requests.get(live_server.url + KEYS_CALLBACK, timeout=10).status_code == 405
    pending.refresh_from_db()
    assert pending.credentials_encrypted == ""


def test_woocommerce_keys_posted_by_someone_else_are_refused_at_the_return(actor, live_server, sandbox, client):
    # given an intruder who learnt the state posts keys of their own shop first
    sandbox.control()  # the distributor's site exists
    url = start_at_shop(actor, live_server, sandbox)
    state = query_of(url)["user_id"]
    intruders_shop = WooSandbox(live_server.url, site="intruder-shop")
    intruder_keys = intruders_shop.control(issue_key="read_write")
    assert deliver(live_server, user_id=state, **intruder_keys).status_code == 200
    # when the seller comes back
    client.force_login(actor.user)
    client.get(RETURN, {"success": "1", "user_id": state})
    # then the live check against the distributor's own site refused those keys: nothing saved
    assert "refused these keys" in client.get("/stores/").content.decode()
    assert not Store.objects.exists()


def test_woocommerce_return_of_another_distributors_authorization_is_refused(actor, live_server, sandbox, client):
    url = start_at_shop(actor, live_server, sandbox)
    back = query_of(sandbox.admin_answers(url).headers["Location"])
    intruder = owner_of()
    with pytest.raises(AuthorizationRefused, match="state"):
        store_authorization_complete(actor=intruder, platform="woocommerce", params={**back, "state": back["user_id"]})
    # the rightful seller still completes it
    client.force_login(actor.user)
    client.get(RETURN, back)
    assert Store.objects.get().distributor == actor.distributor


def test_woocommerce_return_without_delivered_keys_is_refused(actor, live_server, sandbox):
    url = start_at_shop(actor, live_server, sandbox)
    state = query_of(url)["user_id"]
    with pytest.raises(AuthorizationRefused, match="did not deliver the keys"):
        store_authorization_complete(
            actor=actor, platform="woocommerce", params={"success": "1", "user_id": state, "state": state}
        )
    assert not Store.objects.exists()


def test_woocommerce_at_the_shop_needs_an_https_callback(actor, sandbox):
    with pytest.raises(AuthorizationRefused, match="https"):
        store_authorization_start(
            actor=actor,
            platform="woocommerce",
            form={"name": "W", "site": "US", "currency": "USD", "site_url": sandbox.site_url, "connect_with": "shop"},
            redirect_uri="http://portal.example.com/stores/authorize/woocommerce/return/",
            server_callback_uri="http://portal.example.com/stores/authorize/woocommerce/keys/",
        )
    assert not StoreAuthorization.objects.exists()


def test_woocommerce_reauthorize_at_the_shop_keeps_the_store(actor, live_server, sandbox, client, store):
    # given a store whose keys were revoked
    sandbox.control(revoke_keys=True)
    with pytest.raises(CredentialsRevoked):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None))
    # when it is authorized again at the shop
    outcome = store_authorization_start(
        actor=actor,
        platform="woocommerce",
        store=store,
        form={"connect_with": "shop"},
        redirect_uri=live_server.url + RETURN,
        server_callback_uri=live_server.url + KEYS_CALLBACK,
    )
    back = query_of(sandbox.admin_answers(outcome.redirect_url).headers["Location"])
    client.force_login(actor.user)
    client.get(RETURN, back)
    # then the same store is authorized with the new key
    store.refresh_from_db()
    assert Store.objects.count() == 1
    assert store.status == Store.Status.AUTHORIZED
    assert store.credentials["consumer_key"] == SandboxApiKey.objects.get(revoked=False).consumer_key


# --- keys entered by hand ----------------------------------------------------------------


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


def test_woocommerce_pull_sets_an_unreadable_order_aside_and_reads_the_rest(store, sandbox, sleeps):
    # given three orders, the second with a creation time that is not a time
    sandbox.control(create_orders=3)
    rows = list(SandboxOrder.objects.order_by("external_id"))
    rows[1].payload["date_created_gmt"] = "yesterday"
    rows[1].save(update_fields=["payload"])
    # when one page is read
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("woocommerce", sleeps)
    )
    # then
    assert [order.external_id for order in page.orders] == [str(rows[0].external_id), str(rows[2].external_id)]
    [rejected] = page.rejected
    assert rejected.external_id == str(rows[1].external_id) and "ISO 8601" in rejected.reason
    assert rejected.payload["date_created_gmt"] == "yesterday"


def test_woocommerce_push_tracking_adds_a_note_and_completes_the_order(store, sandbox, sleeps):
    # a shop without the Shipment Tracking extension: its routes answer rest_no_route
    sandbox.control(create_orders=1, shipment_tracking=False)
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


def test_woocommerce_push_tracking_uses_the_shipment_tracking_extension_when_the_shop_has_it(store, sandbox, sleeps):
    sandbox.control(create_orders=1)
    row = SandboxOrder.objects.get()
    tracking = TrackingInfo(
        number="9400111899223334445566",
        carrier="USPS",
        carrier_code="USPS",
        shipped_at=datetime(2026, 7, 10, 15, 0, tzinfo=UTC),
        lines=[(str(row.payload["line_items"][0]["id"]), 1)],
        complete=True,
    )
    http = recording_http("woocommerce", sleeps)
    result = store_call(
        store=store,
        operation=lambda c: c.push_tracking(external_order_id=str(row.external_id), tracking=tracking),
        http=http,
    )
    row.refresh_from_db()
    # a tracking item of the extension, with the provider's own link; no note, no meta of ours
    (item,) = row.extra["shipment_trackings"]
    assert (item["tracking_provider"], item["tracking_number"]) == ("USPS", "9400111899223334445566")
    assert item["date_shipped"] == "2026-07-10"
    assert (
        item["tracking_link"]
        == "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=9400111899223334445566"
    )
    assert result.external_id == item["tracking_id"]
    assert "notes" not in row.extra
    assert "_tracking_number" not in [m["key"] for m in row.payload["meta_data"]]
    assert row.payload["status"] == "completed"  # complete=True
    # the extension's own GET answers it, in its documented shape
    listed = store_call(
        store=store,
        operation=lambda c: c._call("GET", c.shipment_tracking_url(row.external_id)).json(),
        http=http,
    )
    assert [entry["tracking_id"] for entry in listed] == [item["tracking_id"]]
    assert set(listed[0]) == {
        "tracking_id",
        "tracking_provider",
        "tracking_link",
        "tracking_number",
        "date_shipped",
        "_links",
    }
    # sent again (an answer that never came), it finds its item and adds none
    again = store_call(
        store=store,
        operation=lambda c: c.push_tracking(external_order_id=str(row.external_id), tracking=tracking),
        http=http,
    )
    row.refresh_from_db()
    assert again.external_id == result.external_id and len(row.extra["shipment_trackings"]) == 1


def test_woocommerce_carrier_off_the_extensions_list_goes_as_a_custom_provider(store, sandbox, sleeps):
    sandbox.control(create_orders=1)
    row = SandboxOrder.objects.get()
    url = "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01=123456789012"
    store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=str(row.external_id),
            tracking=TrackingInfo(number="123456789012", carrier="Yamato Transport", url=url, lines=[], complete=False),
        ),
        http=recording_http("woocommerce", sleeps),
    )
    row.refresh_from_db()
    (item,) = row.extra["shipment_trackings"]
    assert (item["custom_tracking_provider"], item["tracking_link"]) == ("Yamato Transport", url)
    assert row.payload["status"] == "processing"  # not everything has shipped


def test_woocommerce_partial_shipment_without_the_extension_notes_it_and_leaves_the_order_open(store, sandbox, sleeps):
    sandbox.control(create_orders=1, shipment_tracking=False)
    row = SandboxOrder.objects.get()
    line_id = str(row.payload["line_items"][0]["id"])
    store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=str(row.external_id),
            tracking=TrackingInfo(number="1Z9", carrier="UPS", lines=[(line_id, 1)], complete=False),
        ),
        http=recording_http("woocommerce", sleeps),
    )
    row.refresh_from_db()
    (note,) = row.extra["notes"]
    assert note["note"] == f"Shipped via UPS, tracking number 1Z9 (items: {line_id} x 1)."
    assert row.payload["status"] == "processing"
    assert SandboxRequest.objects.filter(path__contains="/wc-shipment-tracking/", status=404).count() == 1


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


def test_woocommerce_keys_never_expire_so_nothing_is_refreshed(store, sandbox, sleeps):
    # WooCommerce keys have no expiry and no refresh token: "expired token refreshed" cannot
    # apply. A refused key is revoked at once, and no token endpoint is ever called.
    client = store_client(store=store)
    with pytest.raises(CredentialsExpired):
        client.refresh_credentials()
    assert store.expires_at is None
    sandbox.control(revoke_keys=True)
    with pytest.raises(CredentialsRevoked):
        store_call(
            store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("woocommerce", sleeps)
        )
    assert sleeps == []  # not retried either: a 401 is an answer, not a hiccup
    assert not SandboxRequest.objects.exclude(path__contains="/wp-json/wc/v3/").exists()


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
            "connect_with": "keys",
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
            "connect_with": "keys",
            "consumer_key": "ck_x",
            "consumer_secret": "cs_x",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "refused these keys" in html
    assert "cs_x" not in html  # the secret is not echoed back
