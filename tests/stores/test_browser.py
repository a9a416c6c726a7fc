"""A distributor authorizes sandbox stores through [Authorize Now], in a real browser: Shopify
(OAuth consent) and WooCommerce (approve at the shop; the keys come server to server)."""

import re

import pytest

from sandbox.models import SandboxApiKey, SandboxToken
from stores.models import Store
from tests.distribution.factories import owner_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_authorize_a_shopify_sandbox_store_through_authorize_now(page, live_server, settings):
    # given a logged-in owner, with the sandbox standing in for Shopify
    settings.SHOPIFY_API_BASE = f"{live_server.url}/sandbox/shopify/{{shop}}"
    me = owner_of(email="stores@example.com")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "stores@example.com")
    page.fill("input[name=password]", "pass-word-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # when they open [Platform Store Authorization], pick Shopify and click [Authorize Now]
    page.goto("/stores/")
    page.select_option("select[name=platform]", "shopify")
    page.get_by_role("button", name="Authorize Now", exact=True).click()
    page.wait_for_url(re.compile(r"/stores/authorize/\?platform=shopify"))
    page.fill("input[name=name]", "Browser Shop US")
    page.fill("input[name=site]", "US")
    page.select_option("select[name=currency]", "USD")
    page.fill("input[name=shop_domain]", "browser-shop.myshopify.com")
    page.get_by_role("button", name="Save").click()

    # then the sandbox's consent page asks to install the app
    page.wait_for_url(re.compile(r"/sandbox/shopify/browser-shop\.myshopify\.com/admin/oauth/authorize"))
    assert "read_orders" in page.locator("[data-testid=consent-scopes]").inner_text()
    page.get_by_role("button", name="Install app").click()

    # and back on the list the store is authorized
    page.wait_for_url(f"{live_server.url}/stores/")
    row = page.locator("tr", has_text="Browser Shop US")
    assert row.locator("[data-testid=store-status]").inner_text() == "Authorized"
    assert "browser-shop.myshopify.com" in row.inner_text()
    store = Store.objects.get(distributor=me.distributor)
    assert store.status == Store.Status.AUTHORIZED
    assert store.credentials["access_token"] == SandboxToken.objects.get(shop__domain=store.shop_domain).access_token


def test_authorize_a_woocommerce_sandbox_store_by_approving_at_the_shop(page, live_server):
    # given a logged-in owner and a WooCommerce sandbox site
    me = owner_of(email="woo@example.com")
    site_url = f"{live_server.url}/sandbox/woocommerce/browser-woo"
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "woo@example.com")
    page.fill("input[name=password]", "pass-word-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # when they pick WooCommerce, keep "approve access at my shop" and save
    page.goto("/stores/")
    page.select_option("select[name=platform]", "woocommerce")
    page.get_by_role("button", name="Authorize Now", exact=True).click()
    page.wait_for_url(re.compile(r"/stores/authorize/\?platform=woocommerce"))
    page.fill("input[name=name]", "Browser Woo")
    page.fill("input[name=site]", "US")
    page.select_option("select[name=currency]", "USD")
    page.fill("input[name=site_url]", site_url)
    assert page.locator("input[name=connect_with][value=shop]").is_checked()
    page.get_by_role("button", name="Save").click()

    # then the shop asks its administrator to approve, and the keys come to us
    page.wait_for_url(re.compile(r"/sandbox/woocommerce/browser-woo/wc-auth/v1/authorize"))
    assert "would like to connect to your store" in page.content()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{live_server.url}/stores/")
    row = page.locator("tr", has_text="Browser Woo")
    assert row.locator("[data-testid=store-status]").inner_text() == "Authorized"
    store = Store.objects.get(distributor=me.distributor)
    assert store.credentials["consumer_key"] == SandboxApiKey.objects.get().consumer_key
