"""Amazon SP-API end to end over real HTTP against the sandbox (live_server): Seller Central
consent + LWA, getOrders pages with NextToken and getOrderItems, Restricted Data Tokens,
confirmShipment, QuotaExceeded, expired and revoked tokens.

Amazon notifications reach sellers through SQS/EventBridge, not signed HTTP posts, so
there is no webhook signature to check: the state nonce is the callback's only guard."""

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from sandbox.models import SandboxOrder, SandboxRequest, SandboxToken
from stores.authorization import store_authorization_complete, store_authorization_start
from stores.models import Store
from stores.platforms.amazon import AmazonClient
from stores.platforms.base import (
    AuthorizationRefused,
    CredentialsRevoked,
    FulfillmentStatus,
    PayloadError,
    TrackingInfo,
)
from stores.services import store_call, store_client
from tests.distribution.factories import owner_of
from tests.sandbox_helpers import HIDDEN_INPUT, recording_http

pytestmark = pytest.mark.django_db(transaction=True)

US = "ATVPDKIKX0DER"
JP = "A1VC38T7YXB528"
SELLER = "A3SANDBOXSELLER1"
CALLBACK = "http://testserver/stores/authorize/callback/"


@pytest.fixture
def sandbox(live_server, settings):
    base = f"{live_server.url}/sandbox/amazon"
    settings.AMAZON_SELLER_CENTRAL_BASE = base + "/{host}"
    settings.AMAZON_SP_API_BASE = base + "/{host}"
    settings.AMAZON_LWA_TOKEN_URL = base + "/api.amazon.com/auth/o2/token"
    return base


def control(sandbox, seller=SELLER, **switches):
    response = requests.post(f"{sandbox}/_sandbox/{seller}/control", json=switches, timeout=30)
    response.raise_for_status()
    return response.json()


def consent(consent_url: str, seller: str = SELLER) -> dict:
    page = requests.get(consent_url, timeout=10)
    assert page.status_code == 200, page.text
    fields = dict(HIDDEN_INPUT.findall(page.text))
    answer = requests.post(
        consent_url, data={**fields, "selling_partner_id": seller}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


@pytest.fixture
def actor():
    return owner_of()


@pytest.fixture
def sleeps():
    return []


def authorize(actor, sandbox, *, marketplace=US, seller=SELLER):
    site, currency = ("JP", "JPY") if marketplace == JP else ("US", "USD")
    form = {"name": f"Acme {site}", "marketplace_id": marketplace, "site": site, "currency": currency}
    outcome = store_authorization_start(actor=actor, platform="amazon", form=form, redirect_uri=CALLBACK)
    return store_authorization_complete(actor=actor, params=consent(outcome.redirect_url, seller))


@pytest.fixture
def store(actor, sandbox):
    return authorize(actor, sandbox)


def test_amazon_authorize_end_to_end_through_seller_central_and_lwa(actor, sandbox):
    # given [Authorize Now] for Amazon US
    outcome = store_authorization_start(
        actor=actor,
        platform="amazon",
        form={"name": "Acme on Amazon", "marketplace_id": US, "site": "US", "currency": "USD"},
        redirect_uri=CALLBACK,
    )
    url = urlsplit(outcome.redirect_url)
    assert url.path.endswith("/sellercentral.amazon.com/apps/authorize/consent")
    query = dict(parse_qsl(url.query))
    assert query["application_id"] == "amzn1.sp.solution.sandbox" and query["version"] == "beta"
    # when the seller confirms and comes back with spapi_oauth_code
    params = consent(outcome.redirect_url)
    assert set(params) == {"state", "selling_partner_id", "spapi_oauth_code"}
    store = store_authorization_complete(actor=actor, params=params)
    # then the store holds the seller, the marketplace and an encrypted refresh token
    store.refresh_from_db()
    assert store.status == Store.Status.AUTHORIZED
    assert (store.seller_id, store.marketplace_id, store.site, store.currency) == (SELLER, US, "US", "USD")
    token = SandboxToken.objects.get(refresh_token__startswith="Atzr|")
    assert store.credentials["refresh_token"] == token.refresh_token
    assert token.refresh_token not in store.credentials_encrypted
    assert store.expires_at is not None  # yearly renewal


def test_amazon_callback_with_a_wrong_state_is_refused(actor, sandbox):
    outcome = store_authorization_start(
        actor=actor,
        platform="amazon",
        form={"name": "Acme", "marketplace_id": US, "site": "US", "currency": "USD"},
        redirect_uri=CALLBACK,
    )
    params = consent(outcome.redirect_url)
    with pytest.raises(AuthorizationRefused, match="state"):
        store_authorization_complete(actor=actor, params={**params, "state": "forged"})
    assert not Store.objects.exists()
    assert not SandboxToken.objects.exists()


def test_amazon_japan_store_is_a_jp_site_in_yen(actor, sandbox, sleeps):
    store = authorize(actor, sandbox, marketplace=JP, seller="AJPSELLER0001")
    assert (store.site, store.currency, store.marketplace_id) == ("JP", "JPY", JP)
    control(sandbox, "AJPSELLER0001", create_orders=1, marketplace=JP)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("amazon", sleeps)
    )
    (order,) = page.orders
    assert order.currency == "JPY" and order.shipping_address.country_code == "JP"
    assert (
        "sellingpartnerapi-fe.amazon.com"
        in SandboxRequest.objects.filter(path__contains="/orders/v0/orders").first().path
    )


def test_amazon_pull_pages_with_next_token_and_combines_order_items(store, sandbox, sleeps):
    control(sandbox, create_orders=5)

    def run(client):
        client.page_size = 2
        return list(client.iter_orders(since=None))

    pages = store_call(store=store, operation=run, http=recording_http("amazon", sleeps))
    assert [len(page.orders) for page in pages] == [2, 2, 1]
    assert pages[0].next_cursor and pages[1].next_cursor and pages[2].next_cursor is None
    orders = [order for page in pages for order in page.orders]
    assert len({order.external_id for order in orders}) == 5
    first = orders[0]
    row = SandboxOrder.objects.get(payload__AmazonOrderId=first.external_id)
    assert [line.sku for line in first.lines] == [item["SellerSKU"] for item in row.extra["items"]]
    assert first.lines[0].unit_price is not None
    # the restricted data token brought the buyer's address
    assert first.shipping_address.name and first.shipping_address.address1 and first.shipping_address.phone
    assert first.buyer.email.endswith("@marketplace.amazon.com")
    assert SandboxRequest.objects.filter(path__endswith="/restrictedDataToken", status=200).count() == 3
    assert SandboxRequest.objects.filter(path__endswith="/orderItems").count() == 5


def test_amazon_pull_sets_unreadable_orders_aside_and_reads_the_rest(store, sandbox, sleeps):
    # given four orders: one with a purchase date that is not a time, one without its order id
    control(sandbox, create_orders=4)
    rows = list(SandboxOrder.objects.order_by("external_id"))
    rows[1].payload["PurchaseDate"] = "last Tuesday"
    del rows[2].payload["AmazonOrderId"]
    for row in rows[1:3]:
        row.save(update_fields=["payload"])
    # when one page is read
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("amazon", sleeps)
    )
    # then the two good orders come with their items; the others are set aside with the reason
    assert [order.external_id for order in page.orders] == [
        rows[0].payload["AmazonOrderId"],
        rows[3].payload["AmazonOrderId"],
    ]
    assert all(order.lines for order in page.orders)
    dated, nameless = page.rejected
    assert dated.external_id == rows[1].payload["AmazonOrderId"] and "ISO 8601" in dated.reason
    assert dated.payload["OrderItems"]  # the order as parsed: getOrder's fields and its items
    assert nameless.external_id == "" and "AmazonOrderId" in nameless.reason
    # an order without an id has no items to ask for
    assert SandboxRequest.objects.filter(path__endswith="/orderItems").count() == 3


def test_amazon_sandbox_withholds_pii_without_a_restricted_data_token(store, sandbox):
    control(sandbox, create_orders=1)
    client = store_client(store=store)
    client.refresh_credentials()
    response = requests.get(
        f"{sandbox}/sellingpartnerapi-na.amazon.com/orders/v0/orders",
        params={"MarketplaceIds": US, "CreatedAfter": "2020-01-01T00:00:00Z"},
        headers={"x-amz-access-token": client.credentials["access_token"]},
        timeout=10,
    )
    (order,) = response.json()["payload"]["Orders"]
    assert set(order["ShippingAddress"]) == {"City", "StateOrRegion", "PostalCode", "CountryCode"}
    assert "BuyerEmail" not in order["BuyerInfo"]
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.0167"


def test_amazon_push_tracking_confirms_the_shipment(store, sandbox, sleeps):
    control(sandbox, create_orders=1)
    row = SandboxOrder.objects.get()
    order_id = row.payload["AmazonOrderId"]
    http = recording_http("amazon", sleeps)
    result = store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=order_id, tracking=TrackingInfo(number="1Z999AA10123456784", carrier="UPS")
        ),
        http=http,
    )
    row.refresh_from_db()
    (package,) = row.extra["packages"]
    assert package["carrierCode"] == "UPS" and package["trackingNumber"] == "1Z999AA10123456784"
    assert package["packageReferenceId"] == result.external_id
    assert row.payload["OrderStatus"] == "Shipped"
    order = store_call(store=store, operation=lambda c: c.get_order(order_id), http=http)
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    assert SandboxRequest.objects.get(path__endswith="/shipmentConfirmation").status == 204


def test_amazon_unknown_carrier_goes_as_other_with_its_name(store, sandbox, sleeps):
    control(sandbox, create_orders=1)
    row = SandboxOrder.objects.get()
    store_call(
        store=store,
        operation=lambda c: c.push_tracking(
            external_order_id=row.payload["AmazonOrderId"], tracking=TrackingInfo(number="YT123", carrier="Yun Express")
        ),
        http=recording_http("amazon", sleeps),
    )
    row.refresh_from_db()
    assert row.extra["packages"][0]["carrierCode"] == "Other"
    assert row.extra["packages"][0]["carrierName"] == "Yun Express"


def test_amazon_quota_exceeded_then_success(store, sandbox, sleeps):
    control(sandbox, create_orders=1, fail_next_429=2)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("amazon", sleeps)
    )
    assert len(page.orders) == 1
    assert len(sleeps) == 2 and all(wait > 0 for wait in sleeps)  # no Retry-After: jittered backoff


def test_amazon_get_orders_burst_is_twenty(store, sandbox):
    client = store_client(store=store)
    client.refresh_credentials()
    token = client.credentials["access_token"]
    statuses = [
        requests.get(
            f"{sandbox}/sellingpartnerapi-na.amazon.com/orders/v0/orders",
            params={"MarketplaceIds": US, "CreatedAfter": "2020-01-01T00:00:00Z"},
            headers={"x-amz-access-token": token},
            timeout=10,
        ).status_code
        for _ in range(22)
    ]
    assert statuses[:20] == [200] * 20 and statuses[20:] == [429, 429]


def test_amazon_expired_access_token_is_refreshed(store, sandbox, sleeps):
    control(sandbox, create_orders=1)
    store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("amazon", sleeps))
    store.refresh_from_db()
    before = store.credentials["access_token"]
    control(sandbox, expire_access_tokens=True)
    page = store_call(
        store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("amazon", sleeps)
    )
    assert len(page.orders) == 1
    store.refresh_from_db()
    assert store.credentials["access_token"] != before
    assert store.status == Store.Status.AUTHORIZED


def test_amazon_revoked_authorization_marks_the_store(store, sandbox, sleeps):
    control(sandbox, revoke_tokens=True)
    with pytest.raises(CredentialsRevoked):
        store_call(store=store, operation=lambda c: c.fetch_orders(since=None), http=recording_http("amazon", sleeps))
    store.refresh_from_db()
    assert store.status == Store.Status.REVOKED
    assert "refresh token" in store.status_reason


def test_amazon_store_form_derives_site_and_currency(client, sandbox):
    me = owner_of()
    client.force_login(me.user)
    response = client.post("/stores/authorize/?platform=amazon", {"name": "Acme JP", "marketplace_id": JP})
    assert response.status_code == 302
    assert "/sellercentral.amazon.co.jp/apps/authorize/consent" in response["Location"]
    params = consent(response["Location"], "AJPFORMSELLER1")
    back = client.get("/stores/authorize/callback/", params)
    assert back.status_code == 302
    store = Store.objects.get(distributor=me.distributor)
    assert (store.platform, store.site, store.currency, store.seller_id) == ("amazon", "JP", "JPY", "AJPFORMSELLER1")


def test_amazon_notifications_are_not_signed_http_webhooks():
    # "webhook signature good and bad" cannot apply to Amazon: ORDER_CHANGE notifications
    # arrive through SQS or EventBridge (Notifications API), never as an HTTPS POST with a
    # signature. verify_webhook therefore accepts nothing, and a notification is not taken
    # for an order: it names the order the pull fetches with getOrder.
    notification = {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "Payload": {"OrderChangeNotification": {"AmazonOrderId": "903-8868176-2219830"}},
    }
    body = json.dumps(notification).encode()
    client = AmazonClient()
    assert client.verify_webhook({"Content-Type": "application/json"}, body) is False
    assert client.verify_webhook({"X-Amz-Sns-Signature": "anything"}, body) is False
    with pytest.raises(PayloadError, match="903-8868176-2219830, not an order: fetch the order with getOrder"):
        AmazonClient.parse_order(notification)


def test_amazon_sandbox_seller_gets_orders_on_first_consent(actor, sandbox, settings):
    settings.SANDBOX_NEW_SHOP_ORDERS = 2
    authorize(actor, sandbox, seller="ANEWSELLER0001")
    assert SandboxOrder.objects.filter(shop__domain="ANEWSELLER0001").count() == 2
