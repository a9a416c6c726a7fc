"""The Shopify emulator itself, over real HTTP: Shopify's paths, headers, paging rules,
rate limit and fault switches, and the command that fills a shop with orders."""

import io
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import state
from sandbox.models import SandboxApp, SandboxOrder, SandboxShop
from sandbox.shopify import oauth_hmac
from tests.sandbox_helpers import ShopifySandbox

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "bucket-test.myshopify.com"
# The parser tests' fixtures: orders in the platforms' documented shapes.
FIXTURES = Path(__file__).resolve().parents[1] / "stores" / "fixtures"


@pytest.fixture
def sandbox(live_server):
    return ShopifySandbox(live_server.url)


@pytest.fixture
def token(sandbox):
    """A token for the development app, as if the merchant had installed it."""
    sandbox.control(SHOP)
    shop = SandboxShop.objects.get(domain=SHOP)
    app = state.app_for("shopify", settings.SHOPIFY_CLIENT_ID)
    scopes = "read_orders,read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders"
    return state.token_issue(shop=shop, app=app, scopes=scopes, expiring=False).access_token


def api(sandbox, token, path, **params):
    return requests.get(
        sandbox.shop_url(SHOP, f"/admin/api/2024-10/{path}"),
        headers={"X-Shopify-Access-Token": token},
        params=params,
        timeout=10,
    )


def test_sandbox_shopify_leaky_bucket_answers_429_with_retry_after_then_recovers(sandbox, token):
    # given a bucket of 40 leaking 2 per second, when 60 calls arrive at once
    answers = [api(sandbox, token, "orders.json") for _ in range(60)]
    statuses = [answer.status_code for answer in answers]
    # then the first 40 pass, the bucket fills, and the overflow gets 429 with Retry-After
    assert statuses[:40] == [200] * 40
    assert 429 in statuses
    assert "40/40" in {answer.headers["X-Shopify-Shop-Api-Call-Limit"] for answer in answers}
    assert answers[0].headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    refused = [answer for answer in answers if answer.status_code == 429]
    assert all(0 < float(answer.headers["Retry-After"]) <= 1.0 for answer in refused)
    assert "Exceeded 2 calls per second" in refused[0].json()["errors"]
    # and after waiting as the last refusal told (calls that passed meanwhile refilled the bucket)
    last = api(sandbox, token, "orders.json")
    while last.status_code == 200:  # pragma: no cover - only on a very slow machine
        last = api(sandbox, token, "orders.json")
    time.sleep(float(last.headers["Retry-After"]) + 0.05)
    assert api(sandbox, token, "orders.json").status_code == 200


def test_sandbox_shopify_page_info_cannot_be_combined_with_filters(sandbox, token):
    sandbox.control(SHOP, create_orders=3)
    first = api(sandbox, token, "orders.json", limit=1, status="any")
    next_url = first.links["next"]["url"]
    assert "page_info=" in next_url and "status=" not in next_url
    page_info = next_url.split("page_info=")[1]
    refused = api(sandbox, token, "orders.json", page_info=page_info, status="any")
    assert refused.status_code == 400
    second = requests.get(next_url, headers={"X-Shopify-Access-Token": token}, timeout=10)
    assert second.status_code == 200
    assert 'rel="previous"' in second.headers["Link"] and 'rel="next"' in second.headers["Link"]
    assert second.json()["orders"][0]["id"] != first.json()["orders"][0]["id"]


def test_sandbox_shopify_limit_is_capped_at_250(sandbox, token):
    assert api(sandbox, token, "orders.json", limit=251).status_code == 400
    assert api(sandbox, token, "orders.json", limit=250).status_code == 200


def test_sandbox_shopify_default_status_is_open_and_fields_project(sandbox, token):
    sandbox.control(SHOP, create_orders=2)
    SandboxOrder.objects.filter(pk=SandboxOrder.objects.first().pk).update(state="cancelled")
    assert len(api(sandbox, token, "orders.json").json()["orders"]) == 1
    listed = api(sandbox, token, "orders.json", status="any", fields="id,name").json()["orders"]
    assert len(listed) == 2 and set(listed[0]) == {"id", "name"}


def test_sandbox_shopify_missing_scope_is_403(sandbox):
    sandbox.control(SHOP, create_orders=1)
    shop = SandboxShop.objects.get(domain=SHOP)
    app = state.app_for("shopify", settings.SHOPIFY_CLIENT_ID)
    weak = state.token_issue(shop=shop, app=app, scopes="read_products", expiring=False).access_token
    response = api(sandbox, weak, "orders.json")
    assert response.status_code == 403
    assert "read_orders" in response.json()["errors"]


def test_sandbox_shopify_slow_switch_delays_responses(sandbox, token):
    sandbox.control(SHOP, slow_seconds=0.4)
    started = time.monotonic()
    assert api(sandbox, token, "orders.json").status_code == 200
    assert time.monotonic() - started >= 0.4


def test_sandbox_shopify_consent_redirect_is_signed_as_documented(sandbox):
    consent = sandbox.shop_url(
        SHOP,
        "/admin/oauth/authorize?client_id=sandbox-shopify-client-id&scope=read_orders"
        "&redirect_uri=http://testserver/cb/&state=nonce-1",
    )
    params = sandbox.consent(consent)
    secret = SandboxApp.objects.get(client_id="sandbox-shopify-client-id").client_secret
    assert params["hmac"] == oauth_hmac(params, secret)
    assert params["state"] == "nonce-1" and params["shop"] == SHOP
    # and the code is single use
    exchange = {"client_id": "sandbox-shopify-client-id", "client_secret": secret, "code": params["code"]}
    url = sandbox.shop_url(SHOP, "/admin/oauth/access_token")
    first = requests.post(url, data=exchange, timeout=10)
    assert first.status_code == 200 and first.json()["access_token"].startswith("shpat_")
    assert "refresh_token" not in first.json()  # no expiring=1: a non-expiring offline token
    assert requests.post(url, data=exchange, timeout=10).status_code == 400


def test_sandbox_shopify_unknown_app_gets_no_consent_page(sandbox):
    response = requests.get(
        sandbox.shop_url(SHOP, "/admin/oauth/authorize?client_id=nobody&redirect_uri=http://x/"), timeout=10
    )
    assert response.status_code == 400
    assert "client_id is invalid" in response.text


def test_sandbox_shopify_cancel_on_the_consent_page_does_not_redirect(sandbox):
    consent = sandbox.shop_url(
        SHOP, "/admin/oauth/authorize?client_id=sandbox-shopify-client-id&scope=read_orders&redirect_uri=http://x/"
    )
    answer = sandbox.press_consent(consent, decision="cancel")
    assert answer.status_code == 200 and "Installation cancelled" in answer.text


def test_sandbox_create_orders_command_random_and_from_a_file():
    out = io.StringIO()
    call_command(
        "sandbox_create_orders", "--shop", "cmd-shop.myshopify.com", "--count", "3", "--sku", "SKU-1", stdout=out
    )
    assert "Created 3 order(s)" in out.getvalue()
    orders = SandboxOrder.objects.filter(shop__domain="cmd-shop.myshopify.com")
    assert orders.count() == 3
    assert {line["sku"] for order in orders for line in order.payload["line_items"]} == {"SKU-1"}
    assert [order.payload["name"] for order in orders.order_by("created_at")] == ["#1001", "#1002", "#1003"]

    saved = FIXTURES / "shopify/rest_2024-10_GET_orders_status_any_response.json"
    call_command("sandbox_create_orders", "--shop", "cmd-shop.myshopify.com", "--file", str(saved), stdout=out)
    assert SandboxOrder.objects.filter(shop__domain="cmd-shop.myshopify.com", external_id=5829104736).exists()


def test_sandbox_create_orders_command_refuses_a_bad_shop():
    with pytest.raises(CommandError):
        call_command("sandbox_create_orders", "--shop", "not a shop", stdout=io.StringIO())


def test_sandbox_create_orders_command_for_a_woocommerce_site():
    out = io.StringIO()
    call_command("sandbox_create_orders", "--platform", "woocommerce", "--shop", "cmd-woo", "--count", "2", stdout=out)
    orders = SandboxOrder.objects.filter(shop__platform="woocommerce", shop__domain="cmd-woo").order_by("external_id")
    assert [order.external_id for order in orders] == [700, 701]
    assert orders[0].payload["status"] == "processing" and orders[0].payload["line_items"]


def test_sandbox_create_orders_command_for_an_amazon_seller():
    out = io.StringIO()
    call_command(
        "sandbox_create_orders",
        "--platform",
        "amazon",
        "--shop",
        "ajpseller0001",
        "--country",
        "JP",
        "--count",
        "2",
        stdout=out,
    )
    orders = SandboxOrder.objects.filter(shop__platform="amazon", shop__domain="AJPSELLER0001")
    assert orders.count() == 2
    assert {order.payload["MarketplaceId"] for order in orders} == {"A1VC38T7YXB528"}
    assert {order.payload["OrderTotal"]["CurrencyCode"] for order in orders} == {"JPY"}
