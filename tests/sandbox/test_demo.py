"""`manage.py sandbox_seed` then `seed_demo` (what `make run` runs): the demo distributor's
US Shopify and JP Amazon stores come authorized against sandbox shops that hold orders of
the guide's serum; the scheduled pull turns them into distribution orders routed by site,
over real HTTP (live_server), and the sandbox's trickle adds more."""

import io
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from distribution.demo import demo_distributor
from distribution.models import Distributor, Role
from mapping.models import Mapping
from orders import pull
from orders.models import Order, OrderLine, OrderStatus, PullRun
from sandbox import demo as sandbox_demo_module
from sandbox.models import SandboxOrder, SandboxShop, SandboxToken
from stores.models import Platform, Store, StoreEvent

pytestmark = pytest.mark.django_db(transaction=True)

SERUM = "SNOWTOX-SERUM-30ML"
SHOPIFY_SCOPES = "read_orders,read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders"
# Shaped like the development setting (distribution/settings.py), which is empty under tests.
DEMO_SHOPS = {
    "shopify": {
        "shop_domain": "demo-test-us.myshopify.com",
        "site": "US",
        "currency": "USD",
        "access_token": "shpat_test-demo-access-token",
        "scope": SHOPIFY_SCOPES,
        "skus": [SERUM],
        "orders": 3,
    },
    "amazon": {
        "seller_id": "ATESTDEMOJP1",
        "marketplace_id": "A1VC38T7YXB528",
        "site": "JP",
        "currency": "JPY",
        "refresh_token": "Atzr|test-demo-refresh-token",
        "skus": [SERUM],
        "orders": 2,
    },
}
COUNTED = [get_user_model(), Distributor, Store, StoreEvent, Mapping, SandboxShop, SandboxToken, SandboxOrder]


@pytest.fixture
def sandbox_demo(live_server, settings, tmp_path):
    # seed_demo refuses with DEBUG off (pytest's default); the web server is the live server.
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    settings.SHOPIFY_API_BASE = f"{live_server.url}/sandbox/shopify/{{shop}}"
    settings.AMAZON_SELLER_CENTRAL_BASE = f"{live_server.url}/sandbox/amazon/{{host}}"
    settings.AMAZON_SP_API_BASE = f"{live_server.url}/sandbox/amazon/{{host}}"
    settings.AMAZON_LWA_TOKEN_URL = f"{live_server.url}/sandbox/amazon/api.amazon.com/auth/o2/token"
    settings.SANDBOX_DEMO_SHOPS = DEMO_SHOPS
    return live_server


def seed_demo() -> str:
    out = io.StringIO()
    call_command("sandbox_seed", stdout=out)
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def demo_stores() -> dict[str, Store]:
    return {store.platform: store for store in Store.objects.present().filter(distributor=demo_distributor())}


def routed(store: Store) -> set[tuple[str, str, str]]:
    lines = OrderLine.objects.filter(order__store=store)
    return set(lines.values_list("order__status", "store_sku", "item_code"))


def test_seed_demo_connects_sandbox_stores_that_the_pull_routes_by_site(sandbox_demo):
    # given the demo seeded twice (the second run adds nothing)
    output = seed_demo()
    before = counts()
    seed_demo()
    assert counts() == before
    # then the demo distributor has the store without an API and two authorized sandbox stores
    stores = demo_stores()
    assert set(stores) == {Platform.OTHER, Platform.SHOPIFY, Platform.AMAZON}
    us, jp = stores[Platform.SHOPIFY], stores[Platform.AMAZON]
    assert (us.site, us.currency, us.shop_domain, us.status) == (
        "US",
        "USD",
        "demo-test-us.myshopify.com",
        "authorized",
    )
    assert (jp.site, jp.currency, jp.seller_id, jp.marketplace_id, jp.status) == (
        "JP",
        "JPY",
        "ATESTDEMOJP1",
        "A1VC38T7YXB528",
        "authorized",
    )
    # with the very token the sandbox shop granted, encrypted at rest
    assert us.credentials == {"access_token": "shpat_test-demo-access-token", "scope": SHOPIFY_SCOPES}
    assert "shpat_" not in us.credentials_encrypted
    token = SandboxToken.objects.get(access_token="shpat_test-demo-access-token")
    assert (token.shop.domain, token.access_expires_at, token.refresh_token) == (us.shop_domain, None, None)
    assert jp.credentials == {"refresh_token": "Atzr|test-demo-refresh-token"}
    assert SandboxToken.objects.filter(shop__domain="ATESTDEMOJP1", refresh_token=jp.credentials["refresh_token"])
    assert StoreEvent.objects.filter(store__in=[us, jp], to_status="authorized").count() == 2
    # and the sandbox shops hold orders of the serum only
    shop_orders = SandboxOrder.objects.filter(shop__domain__in=[us.shop_domain, jp.seller_id])
    assert shop_orders.count() == 5
    assert "Demo Shop US (Shopify)" in output and "Demo Amazon JP" in output
    # the serum is mapped per site, as in the guide
    mapped = Mapping.objects.filter(store__in=[us, jp]).values_list("store__platform", "store_sku", "item__item_id")
    assert set(mapped) == {
        (Platform.SHOPIFY, SERUM, "LS228800001-01-01"),
        (Platform.AMAZON, SERUM, "LS228800001-01-03"),
    }

    # when beat's sweep pulls the due stores
    runs = pull.pull_sweep()
    # then both sandbox stores were pulled and their orders await payment, routed by site
    assert {run.store_id for run in runs} == {us.pk, jp.pk}
    assert set(PullRun.objects.filter(pk__in=[r.pk for r in runs]).values_list("status", flat=True)) == {"succeeded"}
    assert Order.objects.filter(store=us).count() == 3 and Order.objects.filter(store=jp).count() == 2
    assert routed(us) == {(OrderStatus.AWAITING_PAYMENT, SERUM, "LS228800001-01-01")}
    assert routed(jp) == {(OrderStatus.AWAITING_PAYMENT, SERUM, "LS228800001-01-03")}
    assert set(Order.objects.filter(store=jp).values_list("warehouse__code", flat=True)) == {"JP-TYO"}
    # the Amazon store refreshed its access token with the seeded refresh token, and kept it
    jp.refresh_from_db()
    assert jp.credentials["refresh_token"] == "Atzr|test-demo-refresh-token" and jp.credentials["access_token"]

    # when the sandbox's trickle places an order in each shop, and the stores are synced
    assert sandbox_demo_module.trickle(rng=random.Random(7)) == 2
    owner = demo_distributor().memberships.get(role=Role.OWNER)
    for store in (us, jp):
        run = pull.pull_request(actor=owner, store=store)
        run.refresh_from_db()
        assert run.status == PullRun.Status.SUCCEEDED, run.message
    # then the new orders came in too
    assert Order.objects.filter(store=us).count() == 4 and Order.objects.filter(store=jp).count() == 3
    serum_lines = OrderLine.objects.filter(store_sku=SERUM)
    assert set(serum_lines.filter(order__store=us).values_list("item_code", flat=True)) == {"LS228800001-01-01"}
    assert set(serum_lines.filter(order__store=jp).values_list("item_code", flat=True)) == {"LS228800001-01-03"}


def test_seed_demo_without_the_sandbox_makes_no_sandbox_shops_or_stores(sandbox_demo, settings):
    settings.SANDBOX_ENABLED = False
    seed_demo()
    assert set(demo_stores()) == {Platform.OTHER}
    assert not SandboxShop.objects.exists() and not SandboxToken.objects.exists()


def test_sandbox_trickle_does_nothing_with_the_sandbox_off(sandbox_demo, settings):
    seed_demo()
    settings.SANDBOX_ENABLED = False
    before = SandboxOrder.objects.count()
    assert sandbox_demo_module.trickle() == 0
    out = io.StringIO()
    call_command("sandbox_seed", stdout=out)
    assert "disabled" in out.getvalue()
    assert SandboxOrder.objects.count() == before


def test_sandbox_trickle_command_places_one_order_per_demo_shop(sandbox_demo):
    seed_demo()
    before = SandboxOrder.objects.count()
    out = io.StringIO()
    call_command("sandbox_trickle", "--once", stdout=out)
    assert "2 new order(s)" in out.getvalue()
    assert SandboxOrder.objects.count() == before + 2
    # and the new orders are pulled like any other
    runs = pull.pull_sweep()
    assert {PullRun.objects.get(pk=run.pk).status for run in runs} == {"succeeded"}
