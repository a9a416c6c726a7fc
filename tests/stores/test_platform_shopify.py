"""Shopify end to end over real HTTP against the sandbox (live_server): authorization,
order pull, tracking push, webhooks, rate limits and lost credentials."""

import json
from datetime import UTC, datetime

import pytest
import requests

from sandbox.models import SandboxFulfillmentOrder, SandboxOrder, SandboxRequest, SandboxToken
from stores.authorization import store_authorization_complete, store_authorization_start
from stores.models import Store, StoreAuthorization, StoreEvent
from stores.platforms.base import (
    AuthorizationRefused,
    CredentialsExpired,
    CredentialsRevoked,
    FulfillmentStatus,
    TrackingInfo,
)
from stores.platforms.shopify import ShopifyClient, callback_hmac, webhook_hmac
from stores.services import store_call
from tests.distribution.factories import owner_of
from tests.sandbox_helpers import ShopifySandbox, WebhookReceiver, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "acme-test.myshopify.com"
CALLBACK = "http://testserver/stores/authorize/shopify/callback/"
FORM = {"name": "Acme US", "site": "US", "currency": "USD", "shop_domain": SHOP}


@pytest.fixture
def sandbox(live_server, settings):
    settings.SHOPIFY_API_BASE = f"{live_server.url}/sandbox/shopify/{{shop}}"
    return ShopifySandbox(live_server.url)


@pytest.fixture
def actor():
    return owner_of()


@pytest.fixture
def sleeps():
    return []


def authorize(actor, sandbox, *, shop=SHOP, form=None):
    outcome = store_authorization_start(
        actor=actor, platform="shopify", form=form or {**FORM, "shop_domain": shop}, redirect_uri=CALLBACK
    )
    params = sandbox.consent(outcome.redirect_url)
    return store_authorization_complete(actor=actor, platform="shopify", params=params)


@pytest.fixture
def store(actor, sandbox):
    return authorize(actor, sandbox)


def pull_all(store, http, page_size):
    def run(client):
        client.page_size = page_size
        return list(client.iter_orders(since=None))

    return store_call(store=store, operation=run, http=http)


# --- authorization ----------------------------------------------------------------------


def test_shopify_authorize_end_to_end_saves_an_authorized_store(actor, sandbox):
    # given [Authorize Now] with a shop domain
    outcome = store_authorization_start(actor=actor, platform="shopify", form=FORM, redirect_uri=CALLBACK)
    assert outcome.redirect_url.startswith(sandbox.shop_url(SHOP, "/admin/oauth/authorize?"))
    assert "scope=read_orders%2C" in outcome.redirect_url
    # when the merchant installs the app on the consent page and is sent back
    params = sandbox.consent(outcome.redirect_url)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    store = store_authorization_complete(actor=actor, platform="shopify", params=params)
    # then the store is saved, authorized, with the sandbox's token encrypted on the row
    store.refresh_from_db()
    assert store.status == Store.Status.AUTHORIZED
    assert store.distributor == actor.distributor
    assert (store.platform, store.shop_domain, store.external_key) == ("shopify", SHOP, SHOP)
    assert (store.name, store.site, store.currency) == ("Acme US", "US", "USD")
    assert "read_orders" in store.scopes.split(",")
    token = SandboxToken.objects.get(shop__domain=SHOP)
    assert store.credentials["access_token"] == token.access_token
    assert store.credentials["refresh_token"] == token.refresh_token  # an expiring offline token
    assert token.access_token not in store.credentials_encrypted
    assert store.expires_at is not None
    assert StoreEvent.objects.filter(store=store, to_status="authorized").exists()
    assert StoreAuthorization.objects.get(state=params["state"]).consumed_at is not None


def test_shopify_callback_with_a_tampered_hmac_is_refused(actor, sandbox):
    outcome = store_authorization_start(actor=actor, platform="shopify", form=FORM, redirect_uri=CALLBACK)
    params = sandbox.consent(outcome.redirect_url)
    params["hmac"] = "0" * 64
    with pytest.raises(AuthorizationRefused, match="hmac"):
        store_authorization_complete(actor=actor, platform="shopify", params=params)
    assert not Store.objects.exists()
    assert not SandboxToken.objects.exists()  # the code was never exchanged


def test_shopify_callback_with_an_unknown_state_is_refused(actor, sandbox):
    outcome = store_authorization_start(actor=actor, platform="shopify", form=FORM, redirect_uri=CALLBACK)
    params = sandbox.consent(outcome.redirect_url)
    params["state"] = "made-up-state"
    params["hmac"] = callback_hmac(params, "sandbox-shopify-client-secret")  # even correctly signed
    with pytest.raises(AuthorizationRefused, match="state"):
        store_authorization_complete(actor=actor, platform="shopify", params=params)
    assert not Store.objects.exists()


def test_shopify_callback_of_another_distributors_authorization_is_refused(actor, sandbox):
    outcome = store_authorization_start(actor=actor, platform="shopify", form=FORM, redirect_uri=CALLBACK)
    params = sandbox.consent(outcome.redirect_url)
    intruder = owner_of()
    with pytest.raises(AuthorizationRefused, match="state"):
        store_authorization_complete(actor=intruder, platform="shopify", params=params)
    assert not Store.objects.exists()


def test_shopify_callback_for_another_shop_than_started_is_refused(actor, sandbox):
    # given an authorization started for one shop, consented on another shop
    outcome = store_authorization_start(actor=actor, platform="shopify", form=FORM, redirect_uri=CALLBACK)
    other_shop_url = outcome.redirect_url.replace(f"/shopify/{SHOP}/", "/shopify/someone-else.myshopify.com/")
    params = sandbox.consent(other_shop_url)
    # then the correctly signed callback is refused on the shop check
    with pytest.raises(AuthorizationRefused, match="someone-else.myshopify.com"):
        store_authorization_complete(actor=actor, platform="shopify", params=params)
    assert not Store.objects.exists()


def test_shopify_callback_cannot_be_replayed(actor, sandbox):
    outcome = store_authorization_start(actor=actor, platform="shopify", form=FORM, redirect_uri=CALLBACK)
    params = sandbox.consent(outcome.redirect_url)
    store_authorization_complete(actor=actor, platform="shopify", params=params)
    with pytest.raises(AuthorizationRefused, match="already"):
        store_authorization_complete(actor=actor, platform="shopify", params=params)
    assert Store.objects.count() == 1


def test_shopify_authorizing_a_connected_shop_again_reauthorizes_the_same_store(actor, sandbox, store):
    Store.objects.filter(pk=store.pk).update(status=Store.Status.REVOKED, status_reason="uninstalled")
    again = authorize(actor, sandbox)
    assert again.pk == store.pk
    again.refresh_from_db()
    assert again.status == Store.Status.AUTHORIZED and again.status_reason == ""
    assert Store.objects.count() == 1


def test_shopify_shop_of_another_distributor_cannot_be_connected(actor, sandbox, store):
    with pytest.raises(Exception, match="another distributor"):
        authorize(owner_of(), sandbox)


# --- orders -----------------------------------------------------------------------------


def test_shopify_pull_reads_at_least_three_pages_by_link_header(store, sandbox, sleeps):
    # given seven orders in the shop
    sandbox.control(SHOP, create_orders=7)
    # when pulled three at a time
    pages = pull_all(store, recording_http("shopify", sleeps), page_size=3)
    # then three pages chained by page_info cursors hold every order once
    assert [len(page.orders) for page in pages] == [3, 3, 1]
    assert pages[0].next_cursor and pages[1].next_cursor and pages[2].next_cursor is None
    ids = [order.external_id for page in pages for order in page.orders]
    assert sorted(ids) == sorted(str(o.external_id) for o in SandboxOrder.objects.all())
    assert len(set(ids)) == 7
    first = pages[0].orders[0]
    assert first.lines and first.lines[0].sku and first.lines[0].unit_price is not None
    assert first.shipping_address.country_code == "US"
    queries = list(SandboxRequest.objects.filter(path__endswith="/orders.json").values_list("query", flat=True))
    assert len(queries) == 3
    assert "status=any" in queries[0] and all("page_info=" in q and "status=" not in q for q in queries[1:])
    assert sleeps == []


def test_shopify_pull_since_filters_by_update_time(store, sandbox, sleeps):
    sandbox.control(SHOP, create_orders=2)
    later = datetime.now(tz=UTC).replace(year=datetime.now(tz=UTC).year + 1)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=later), http=recording_http("shopify", sleeps)
    )
    assert page.orders == [] and page.next_cursor is None


def second_order() -> SandboxOrder:
    return SandboxOrder.objects.order_by("external_id")[1]


def test_shopify_pull_sets_an_unreadable_order_aside_and_reads_the_rest(store, sandbox, sleeps):
    # given three orders, the second with a line quantity that is not whole
    sandbox.control(SHOP, create_orders=3)
    bad = second_order()
    bad.payload["line_items"][0]["current_quantity"] = "1.5"
    bad.save(update_fields=["payload"])
    # when one page is read
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps)
    )
    # then the two good orders are there and the bad one is set aside with its id, reason and payload
    good = SandboxOrder.objects.exclude(pk=bad.pk)
    assert sorted(order.external_id for order in page.orders) == sorted(str(row.external_id) for row in good)
    [rejected] = page.rejected
    assert rejected.external_id == str(bad.external_id)
    assert "whole" in rejected.reason and rejected.payload["id"] == bad.external_id


def test_shopify_unreadable_order_is_recorded_by_the_pull_without_failing_it(store, sandbox, sleeps):
    from orders import pull
    from orders.models import IngestionError, PlatformOrder, PullRun

    sandbox.control(SHOP, create_orders=3)
    bad = second_order()
    bad.payload["created_at"] = "last Tuesday"
    bad.save(update_fields=["payload"])
    run = PullRun.objects.create(store=store, trigger=PullRun.Trigger.MANUAL)
    run = pull.pull_run_execute(run=run, http=recording_http("shopify", sleeps))
    assert (run.status, run.created, run.failed) == (PullRun.Status.SUCCEEDED, 2, 1)
    assert PlatformOrder.objects.filter(store=store).count() == 2
    error = IngestionError.objects.get(store=store)
    assert error.external_id == str(bad.external_id) and "ISO 8601" in error.reason
    assert error.payload["created_at"] == "last Tuesday"


def test_shopify_push_tracking_fulfils_the_order_through_its_fulfillment_order(store, sandbox, sleeps):
    # given a paid, unfulfilled order
    sandbox.control(SHOP, create_orders=1)
    order_id = str(SandboxOrder.objects.get().external_id)
    http = recording_http("shopify", sleeps)
    # when the tracking number is pushed
    result = store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=order_id,
            tracking=TrackingInfo(
                number="1Z001985YW99744790", carrier="UPS", url="https://ups.example/1Z001985YW99744790"
            ),
        ),
        http=http,
    )
    # then Shopify holds a fulfillment with the tracking, and the order reads as fulfilled
    assert result.external_id
    assert result.raw["tracking_number"] == "1Z001985YW99744790"
    assert result.raw["tracking_company"] == "UPS"
    assert SandboxFulfillmentOrder.objects.get().payload["status"] == "closed"
    order = store_call(store=store, operation=lambda c: c.get_order(order_id), http=http)
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED


def test_shopify_push_tracking_of_some_lines_is_a_partial_fulfillment(store, sandbox, sleeps):
    sandbox.control(SHOP, create_orders=1, skus=["SKU-A", "SKU-B"])
    payload = SandboxOrder.objects.get().payload
    while len(payload["line_items"]) < 2:  # the generator picks one or two lines
        sandbox.control(SHOP, create_orders=1, skus=["SKU-A", "SKU-B"])
        payload = SandboxOrder.objects.order_by("-pk").first().payload
    first_line = payload["line_items"][0]
    order = store_call(
        store=store,
        operation=lambda c: (
            c.push_tracking(
                external_order_id=str(payload["id"]),
                tracking=TrackingInfo(
                    number="TRACK-1", carrier="USPS", lines=[(str(first_line["id"]), first_line["quantity"])]
                ),
            ),
            c.get_order(str(payload["id"])),
        )[1],
        http=recording_http("shopify", sleeps),
    )
    assert order.fulfillment_status == FulfillmentStatus.PARTIAL


# --- webhooks ---------------------------------------------------------------------------


def test_shopify_webhook_signature_good_and_bad(store, sandbox, sleeps):
    with WebhookReceiver() as receiver:
        # given a subscription to orders/create
        store_call(
            store=store,
            operation=lambda c: c.subscribe_webhook(topic="orders/create", address=receiver.url),
            http=recording_http("shopify", sleeps),
        )
        # when the shop gets an order
        sandbox.control(SHOP, create_orders=1)
    (headers, body), *_ = receiver.received
    client = ShopifyClient()
    # then the delivery verifies, and any change to body or signature does not
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert client.verify_webhook(headers, body) is True
    assert client.verify_webhook(headers, body.replace(b'"paid"', b'"refunded"')) is False
    assert (
        client.verify_webhook({**headers, "X-Shopify-Hmac-Sha256": webhook_hmac(body, "wrong-secret")}, body) is False
    )
    assert client.verify_webhook({}, body) is False
    assert client.parse_order(json.loads(body)).external_id == str(SandboxOrder.objects.get().external_id)


def test_shopify_webhook_verification_matches_the_documented_vector(settings):
    settings.SHOPIFY_CLIENT_SECRET = "hush"
    assert ShopifyClient().verify_webhook(
        {"x-shopify-hmac-sha256": "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="}, b'{"id":1}'
    )


def test_shopify_callback_hmac_matches_the_official_library_vectors():
    params = {"code": "a94a110d86d2452eb3e2af4cfb8a3828", "shop": "some-shop.myshopify.com", "timestamp": "1337178173"}
    assert callback_hmac(params, "hush") == "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"
    listed = {"ids[]": ["2", "1"], "shop": "some-shop.myshopify.com"}
    assert callback_hmac(listed, "hush") == "b93b9f82996f6f8bf9f1b7bbddec284c8fabacdc4e12dc80550b4705f3003b1e"


# --- rate limits, faults, lost credentials ----------------------------------------------


def test_shopify_429_then_success_honours_retry_after(store, sandbox, sleeps):
    sandbox.control(SHOP, create_orders=1, fail_next_429=2, fault_retry_after=1.5)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps)
    )
    assert len(page.orders) == 1
    assert sleeps == [1.5, 1.5]
    assert list(SandboxRequest.objects.filter(path__endswith="/orders.json").values_list("status", flat=True)) == [
        429,
        429,
        200,
    ]


def test_shopify_server_error_then_success_backs_off(store, sandbox, sleeps):
    sandbox.control(SHOP, create_orders=1, fail_next_500=1)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps)
    )
    assert len(page.orders) == 1
    assert len(sleeps) == 1 and sleeps[0] > 0


def test_shopify_expired_access_token_is_refreshed_once_and_saved(store, sandbox, sleeps):
    # given the access token has expired at Shopify
    old = store.credentials
    sandbox.control(SHOP, create_orders=1, expire_access_tokens=True)
    # when orders are pulled
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps)
    )
    # then the client refreshed once, the call succeeded, and the rotated tokens are saved
    assert len(page.orders) == 1
    store.refresh_from_db()
    new = store.credentials
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert SandboxToken.objects.filter(access_token=new["access_token"], refresh_token=new["refresh_token"]).exists()
    assert SandboxRequest.objects.filter(path__endswith="/access_token").count() == 2  # install + one refresh
    assert store.status == Store.Status.AUTHORIZED


def test_shopify_revoked_token_marks_the_store_revoked(store, sandbox, sleeps):
    # given the merchant uninstalled the app
    sandbox.control(SHOP, revoke_tokens=True)
    # when a pull is attempted
    with pytest.raises(CredentialsRevoked):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps))
    # then the store says why and asks for re-authorization
    store.refresh_from_db()
    assert store.status == Store.Status.REVOKED
    assert "refresh" in store.status_reason
    assert store.needs_reauthorization
    assert StoreEvent.objects.filter(store=store, from_status="authorized", to_status="revoked").exists()


def test_shopify_expired_refresh_token_marks_the_store_expired(store, sandbox, sleeps):
    sandbox.control(SHOP, expire_refresh_tokens=True)
    with pytest.raises(CredentialsExpired):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps))
    store.refresh_from_db()
    assert store.status == Store.Status.EXPIRED
    assert store.status_reason


def test_shopify_calls_on_a_revoked_store_are_refused_until_reauthorized(actor, store, sandbox, sleeps):
    sandbox.control(SHOP, revoke_tokens=True)
    with pytest.raises(CredentialsRevoked):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps))
    with pytest.raises(Exception, match="authorize it again"):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None))
    authorize(actor, sandbox)
    store.refresh_from_db()
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("shopify", sleeps)
    )
    assert page.orders == []


def test_shopify_sandbox_rejects_requests_without_a_token(sandbox):
    sandbox.control(SHOP)
    response = requests.get(sandbox.shop_url(SHOP, "/admin/api/2024-10/orders.json"), timeout=10)
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]
