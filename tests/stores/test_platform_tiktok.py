"""TikTok Shop end to end over real HTTP against the sandbox (live_server): seller
authorization, signed calls, order search pages, shipping with our own carrier,
webhook signatures, rate limiting, expired and revoked tokens."""

import json
import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.utils import timezone

from sandbox.models import SandboxOrder, SandboxRequest, SandboxShop, SandboxToken
from stores.authorization import store_authorization_complete, store_authorization_start
from stores.models import Store
from stores.platforms.base import (
    AuthorizationRefused,
    CredentialsExpired,
    CredentialsRevoked,
    FulfillmentStatus,
    PlatformRequestRejected,
    TrackingInfo,
)
from stores.platforms.tiktok import TikTokClient, request_signature, webhook_signature
from stores.services import store_call, store_update_credentials
from tests.distribution.factories import owner_of
from tests.sandbox_helpers import WebhookReceiver, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {"name": "Acme TikTok US", "site": "US", "currency": "USD"}


@pytest.fixture
def sandbox(live_server, settings):
    settings.TIKTOK_BASE = f"{live_server.url}/sandbox/tiktok/{{host}}"
    settings.SANDBOX_APPS = {
        **settings.SANDBOX_APPS,
        "tiktok": {**settings.SANDBOX_APPS["tiktok"], "redirect_uri": "http://testserver/stores/authorize/callback/"},
    }
    return f"{live_server.url}/sandbox/tiktok"


def seller_authorizes(authorize_url: str, *, region: str = "US", shop_name: str = "Acme TT") -> dict:
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    query = dict(parse_qsl(urlsplit(authorize_url).query))
    answer = requests.post(
        authorize_url.split("?")[0],
        data={**query, "region": region, "shop_name": shop_name},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def control(sandbox, shop_id, **switches):
    response = requests.post(f"{sandbox}/_sandbox/{shop_id}/control", json=switches, timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.fixture
def actor():
    return owner_of()


@pytest.fixture
def sleeps():
    return []


def authorize(actor, form=FORM, **seller):
    outcome = store_authorization_start(actor=actor, platform="tiktok", form=form, redirect_uri="")
    return store_authorization_complete(actor=actor, params=seller_authorizes(outcome.redirect_url, **seller))


@pytest.fixture
def store(actor, sandbox):
    return authorize(actor)


def test_tiktok_authorize_end_to_end_connects_the_shop_of_the_site(actor, sandbox):
    outcome = store_authorization_start(actor=actor, platform="tiktok", form=FORM, redirect_uri="")
    assert "/services.us.tiktokshop.com/open/authorize?service_id=" in outcome.redirect_url
    params = seller_authorizes(outcome.redirect_url)
    assert set(params) == {"code", "state"}
    store = store_authorization_complete(actor=actor, params=params)
    store.refresh_from_db()
    shop = SandboxShop.objects.get(platform="tiktok")
    assert store.status == Store.Status.AUTHORIZED
    assert (store.shop_id, store.shop_cipher) == (shop.domain, shop.cipher)
    token = SandboxToken.objects.get(shop=shop)
    assert store.credentials["access_token"] == token.access_token
    assert token.refresh_token not in store.credentials_encrypted
    # the shops call was signed and carried no shop_cipher
    call = SandboxRequest.objects.get(path__endswith="/authorization/202309/shops")
    assert call.status == 200 and "sign=" in call.query and "shop_cipher" not in call.query


def test_tiktok_callback_with_a_wrong_state_is_refused(actor, sandbox):
    outcome = store_authorization_start(actor=actor, platform="tiktok", form=FORM, redirect_uri="")
    params = seller_authorizes(outcome.redirect_url)
    with pytest.raises(AuthorizationRefused, match="state"):
        store_authorization_complete(actor=actor, params={**params, "state": "forged"})
    assert not Store.objects.exists()


def test_tiktok_authorization_without_a_shop_in_the_site_region_is_refused(actor, sandbox):
    # the form says US, the seller's only shop sells in GB: its orders would go to the wrong warehouses
    with pytest.raises(AuthorizationRefused, match="no US shop"):
        authorize(actor, region="GB", shop_name="UK only")
    assert not Store.objects.exists()


def test_tiktok_bad_signature_is_refused_by_the_platform(store, sandbox):
    url = f"{sandbox}/open-api.tiktokglobalshop.com/order/202309/orders"
    params = {
        "app_key": "sandboxtiktokkey",
        "timestamp": str(int(time.time())),
        "ids": "1",
        "shop_cipher": store.shop_cipher,
    }
    headers = {"x-tts-access-token": store.credentials["access_token"]}
    bad = requests.get(
        url,
        params={**params, "sign": request_signature("wrong", "/order/202309/orders", params)},
        headers=headers,
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["code"] == 106001
    good = requests.get(
        url,
        params={**params, "sign": request_signature("sandbox-tiktok-secret", "/order/202309/orders", params)},
        headers=headers,
        timeout=10,
    )
    assert good.status_code == 200 and good.json()["code"] == 0


def test_tiktok_pull_reads_at_least_three_pages(store, sandbox, sleeps):
    control(sandbox, store.shop_id, create_orders=5)

    def run(client):
        client.page_size = 2
        return list(client.iter_orders(since=None))

    pages = store_call(store=store, operation=run, http=recording_http("tiktok", sleeps))
    assert [len(page.orders) for page in pages] == [2, 2, 1]
    orders = [order for page in pages for order in page.orders]
    assert len({order.external_id for order in orders}) == 5
    first = orders[0]
    assert first.platform == "tiktok" and first.currency == "USD"
    assert first.shipping_address.city == "Culver City" and first.shipping_address.province == "California"
    assert all(line.quantity == 1 and line.sku for line in first.lines)  # one line item per unit


def test_tiktok_pull_sets_an_unreadable_order_aside_and_reads_the_rest(store, sandbox, sleeps):
    # given three orders, the second with a creation time that is not a unix time
    control(sandbox, store.shop_id, create_orders=3)
    rows = list(SandboxOrder.objects.order_by("external_id"))
    rows[1].payload["create_time"] = "soon"
    rows[1].save(update_fields=["payload"])
    # when one page is read
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("tiktok", sleeps)
    )
    # then
    good = {str(rows[0].external_id), str(rows[2].external_id)}
    assert {order.external_id for order in page.orders} == good
    [rejected] = page.rejected
    assert rejected.external_id == str(rows[1].external_id) and "unix time" in rejected.reason
    assert rejected.payload["create_time"] == "soon"


def test_tiktok_push_tracking_marks_the_package_shipped_then_updates_it(store, sandbox, sleeps):
    control(sandbox, store.shop_id, create_orders=1)
    row = SandboxOrder.objects.get()
    http = recording_http("tiktok", sleeps)
    result = store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=str(row.external_id),
            tracking=TrackingInfo(number="9400100000000000000001", carrier="USPS"),
        ),
        http=http,
    )
    row.refresh_from_db()
    assert result.external_id == row.payload["packages"][0]["id"]
    assert row.payload["tracking_number"] == "9400100000000000000001"
    assert row.payload["shipping_provider"] == "USPS"
    order = store_call(store=store, operation=lambda c: c.get_order(str(row.external_id)), http=http)
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    # a corrected tracking number goes through shipping_info/update
    store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=str(row.external_id), tracking=TrackingInfo(number="1Z999", carrier="UPS")
        ),
        http=http,
    )
    row.refresh_from_db()
    assert row.payload["tracking_number"] == "1Z999" and row.payload["shipping_provider"] == "UPS"
    assert SandboxRequest.objects.filter(path__endswith="/shipping_info/update", status=200).count() == 1


def test_tiktok_unknown_carrier_is_refused_with_the_choices(store, sandbox, sleeps):
    control(sandbox, store.shop_id, create_orders=1)
    row = SandboxOrder.objects.get()
    with pytest.raises(PlatformRequestRejected, match="USPS"):
        store_call(
            store=store,
            operation=lambda c: c.push_tracking(
                external_order_id=str(row.external_id), tracking=TrackingInfo(number="X1", carrier="Pigeon Post")
            ),
            http=recording_http("tiktok", sleeps),
        )


def test_tiktok_webhook_signature_good_and_bad(store, sandbox):
    with WebhookReceiver() as receiver:
        control(sandbox, store.shop_id, webhook_url=receiver.url, create_orders=1)
    (headers, body), *_ = receiver.received
    client = TikTokClient()
    assert json.loads(body)["type"] == 1
    assert client.verify_webhook(headers, body) is True
    assert client.verify_webhook(headers, body.replace(b'"type": 1', b'"type": 11')) is False
    assert client.verify_webhook({"Authorization": webhook_signature("sandboxtiktokkey", "wrong", body)}, body) is False


def test_tiktok_webhook_signature_matches_the_self_computed_vector(settings):
    settings.TIKTOK_APP_KEY, settings.TIKTOK_APP_SECRET = "29a39d", "e59af819cc"
    vector = "72be2b2d87ad7ba394f304cbc5b2c2b9a8982dc91867ec4174f9703b53e41f49"
    assert TikTokClient().verify_webhook({"Authorization": vector}, b'{"type":1}')


def test_tiktok_too_many_requests_then_success(store, sandbox, sleeps):
    control(sandbox, store.shop_id, create_orders=1, fail_next_429=1)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("tiktok", sleeps)
    )
    assert len(page.orders) == 1 and len(sleeps) == 1


def test_tiktok_expired_access_token_is_refreshed(store, sandbox, sleeps):
    control(sandbox, store.shop_id, create_orders=1, expire_access_tokens=True)
    before = store.credentials["access_token"]
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("tiktok", sleeps)
    )
    assert len(page.orders) == 1
    store.refresh_from_db()
    assert store.credentials["access_token"] != before
    assert SandboxRequest.objects.filter(path__endswith="/api/v2/token/refresh", status=200).count() == 1


def test_tiktok_revoked_authorization_marks_the_store(store, sandbox, sleeps):
    control(sandbox, store.shop_id, revoke_tokens=True)
    with pytest.raises(CredentialsRevoked):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("tiktok", sleeps))
    store.refresh_from_db()
    assert store.status == Store.Status.REVOKED and "refresh token" in store.status_reason


def test_tiktok_expired_authorization_marks_the_store_expired(store, sandbox, sleeps):
    # given the access token and the authorization itself (the refresh token) have lapsed
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    store_update_credentials(
        store=store,
        credentials={**store.credentials, "access_token_expires_at": past, "refresh_token_expires_at": past},
    )
    # when a pull is attempted
    with pytest.raises(CredentialsExpired):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("tiktok", sleeps))
    # then the store is expired (not revoked), says why, and offers re-authorization
    store.refresh_from_db()
    assert store.status == Store.Status.EXPIRED and "expired" in store.status_reason
    assert store.needs_reauthorization
    assert not SandboxRequest.objects.filter(path__endswith="/api/v2/token/refresh").exists()


def test_tiktok_sandbox_shop_gets_orders_on_its_first_authorization(actor, sandbox, settings):
    settings.SANDBOX_NEW_SHOP_ORDERS = 2
    store = authorize(actor, shop_name="Fresh TT")
    assert SandboxOrder.objects.filter(shop__domain=store.shop_id).count() == 2
