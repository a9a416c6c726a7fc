"""The WooCommerce sandbox's key-issuing endpoint (/wc-auth/v1/authorize) checks its five
mandatory parameters as WooCommerce does, and hands keys only to an https callback (or a
loopback address, for development without TLS)."""

import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from sandbox.models import SandboxApiKey, SandboxShop
from tests.sandbox_helpers import WebhookReceiver

pytestmark = pytest.mark.django_db(transaction=True)

PARAMS = {
    "app_name": "Some App",
    "scope": "read_write",
    "user_id": "u-123",
    "return_url": "https://app.example/return?from=woo",
    "callback_url": "https://app.example/keys",
}


@pytest.fixture
def authorize_url(live_server):
    return f"{live_server.url}/sandbox/woocommerce/sandbox-shop/wc-auth/v1/authorize"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"user_id": ""}, "Missing parameter user_id"),
        ({"callback_url": ""}, "Missing parameter callback_url"),
        ({"scope": "admin"}, "Invalid scope admin"),
        ({"return_url": "https://"}, "The return_url is not a valid URL"),
        ({"callback_url": "http://app.example/keys"}, "The callback_url needs to be over SSL"),
    ],
)
def test_sandbox_woocommerce_wc_auth_refuses_bad_parameters(authorize_url, change, problem):
    response = requests.get(f"{authorize_url}?{urlencode({**PARAMS, **change})}", timeout=10)
    assert response.status_code == 400
    assert problem in response.text
    assert "Approve" not in response.text


def test_sandbox_woocommerce_wc_auth_page_names_the_app_and_the_access(authorize_url):
    response = requests.get(f"{authorize_url}?{urlencode(PARAMS)}", timeout=10)
    assert response.status_code == 200
    assert "Some App would like to connect to your store" in response.text
    assert "read_write" in response.text
    assert SandboxShop.objects.filter(platform="woocommerce", domain="sandbox-shop").exists()


def test_sandbox_woocommerce_wc_auth_deny_returns_success_0_keeping_the_return_query(authorize_url):
    response = requests.post(authorize_url, data={**PARAMS, "decision": "deny"}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "app.example" and location.path == "/return"
    assert dict(parse_qsl(location.query)) == {"from": "woo", "success": "0", "user_id": "u-123"}
    assert not SandboxApiKey.objects.exists()


def test_sandbox_woocommerce_wc_auth_posts_the_key_as_json_to_a_loopback_callback(authorize_url):
    # a loopback http callback is allowed in the sandbox (development runs without TLS)
    with WebhookReceiver() as receiver:
        params = {**PARAMS, "scope": "read", "callback_url": receiver.url}
        response = requests.post(
            authorize_url, data={**params, "decision": "approve"}, allow_redirects=False, timeout=10
        )
    assert response.status_code == 302
    assert dict(parse_qsl(urlsplit(response.headers["Location"]).query))["success"] == "1"
    ((headers, body),) = receiver.received
    assert headers["Content-Type"].startswith("application/json")
    key = SandboxApiKey.objects.get()

    assert json.loads(body) == {
        "key_id": key.pk,
        "user_id": "u-123",
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": "read",
    }
    assert key.consumer_key.startswith("ck_") and key.consumer_secret.startswith("cs_")
    assert key.description.startswith("Some App - API (")


def test_sandbox_woocommerce_new_site_gets_orders_on_its_first_consent_page(authorize_url, settings):
    settings.SANDBOX_NEW_SHOP_ORDERS = 3
    requests.get(f"{authorize_url}?{urlencode(PARAMS)}", timeout=10)
    requests.get(f"{authorize_url}?{urlencode(PARAMS)}", timeout=10)  # a second visit adds none
    assert SandboxShop.objects.get(platform="woocommerce", domain="sandbox-shop").orders.count() == 3
