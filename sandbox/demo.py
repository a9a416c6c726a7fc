"""The outside world as the demo distributor finds it: sandbox shops that have already
granted our app access, with a few orders waiting.

`seed` (run by `manage.py seed_demo` when SANDBOX_ENABLED, before the stores' demo) makes
each shop of settings.SANDBOX_DEMO_SHOPS: the shop, the token it granted our app, and
`orders` orders of its `skus`. The stores' demo connects a store to each shop with the same
token (read from the same setting), so the demo's stores are authorized and pullable as
soon as the web server runs, without a consent page and without an HTTP call at seed time.
Likewise each warehouse account of settings.SANDBOX_DEMO_WAREHOUSES is made with the API
token and webhook secret the fulfilment demo connects its warehouse with.

Like the rest of the sandbox, this reads settings only: it imports none of our apps.
Idempotent: a shop that exists keeps its tokens and orders; nothing is added twice.
"""

import random
import secrets

from django.conf import settings
from django.utils import timezone

from . import amazon, shopify, state, warehouse
from .models import SandboxShop, SandboxToken

# Random orders, but the same ones on every fresh checkout.
ORDER_SEED = 2026


def _app(platform: str):
    client_id = ((getattr(settings, "SANDBOX_APPS", {}) or {}).get(platform) or {}).get("client_id", "")
    return state.app_for(platform, client_id) if client_id else None


def _shopify(spec: dict) -> SandboxShop | None:
    app = _app(shopify.PLATFORM)
    if app is None:
        return None
    shop = state.shop_get_or_create(
        shopify.PLATFORM, spec["shop_domain"], country_code=spec["site"], currency=spec["currency"]
    )
    # A non-expiring offline token (no refresh token): the demo keeps working days later.
    SandboxToken.objects.get_or_create(
        access_token=spec["access_token"],
        defaults={"shop": shop, "app": app, "scopes": spec.get("scope", "read_orders")},
    )
    if not shop.orders.exists():
        shopify.orders_create_random(
            shop, count=spec.get("orders", 3), skus=spec.get("skus"), seed=ORDER_SEED, notify=False
        )
    return shop


def _amazon(spec: dict) -> SandboxShop | None:
    app = _app(amazon.PLATFORM)
    if app is None:
        return None
    shop = amazon.seller_for(spec["seller_id"], country=spec["site"])
    # LWA refresh tokens do not expire or rotate; the access token beside it is spent, so the
    # first call refreshes, as after any hour of quiet.
    SandboxToken.objects.get_or_create(
        refresh_token=spec["refresh_token"],
        defaults={
            "shop": shop,
            "app": app,
            "access_token": "Atza|" + secrets.token_urlsafe(32),
            "scopes": "orders",
            "access_expires_at": timezone.now(),
        },
    )
    if not shop.orders.exists():
        amazon.orders_create_random(
            shop,
            count=spec.get("orders", 3),
            marketplace=spec.get("marketplace_id", ""),
            skus=spec.get("skus"),
            seed=ORDER_SEED,
        )
    return shop


SEEDERS = {shopify.PLATFORM: _shopify, amazon.PLATFORM: _amazon}


def _warehouse(spec: dict):
    """A warehouse account with the token and webhook secret the fulfilment demo uses too."""
    return warehouse.account_get_or_create(
        spec["account"],
        api_token=spec["api_token"],
        webhook_secret=spec["webhook_secret"],
        ship_after_seconds=spec.get("ship_after_seconds", 300),
        webhook_url=spec.get("webhook_url", ""),
    )


def seed(stdout) -> None:
    made = []
    for platform, spec in (getattr(settings, "SANDBOX_DEMO_SHOPS", {}) or {}).items():
        seeder = SEEDERS.get(platform)
        shop = seeder(spec) if seeder else None
        if shop is not None:
            made.append(f"{platform} {shop.domain} ({shop.orders.count()} orders)")
    if made:
        stdout.write(f"Sandbox: demo shops {'; '.join(made)}.")
    # Keyed by the platform's warehouse code, which the sandbox only passes through.
    accounts = [_warehouse(spec) for spec in (getattr(settings, "SANDBOX_DEMO_WAREHOUSES", {}) or {}).values()]
    if accounts:
        stdout.write(f"Sandbox: demo warehouse accounts {', '.join(a.shop.domain for a in accounts)}.")


# --- the trickle: new orders while the demo runs -----------------------------------------

# Now and then a buyer orders something the distributor has not mapped yet: that order
# waits in "pending mapping" on the platform's side of the demo.
SURPRISE_SKU = "MY-GIFT-BOX-01"
SURPRISE_SHARE = 0.15


def trickle(*, rng: random.Random | None = None) -> int:
    """One new order in each demo shop (its SKUs, now and then a surprise); returns how many.

    The shops' platforms then behave as they would for a real new order (Shopify sends
    its webhooks); our scheduled pull brings the orders in. Nothing here knows our apps.
    """
    if not getattr(settings, "SANDBOX_ENABLED", False):
        return 0
    rng = rng or random.Random()  # noqa: S311 (demo data)
    placed = 0
    for platform, spec in (getattr(settings, "SANDBOX_DEMO_SHOPS", {}) or {}).items():
        skus = list(spec.get("skus") or [])
        if rng.random() < SURPRISE_SHARE:
            skus.append(SURPRISE_SKU)
        seed = rng.randrange(2**31)
        if platform == shopify.PLATFORM:
            shop = SandboxShop.objects.filter(platform=platform, domain=spec["shop_domain"]).first()
            if shop is not None:
                placed += len(shopify.orders_create_random(shop, count=1, skus=skus, seed=seed))
        elif platform == amazon.PLATFORM:
            shop = SandboxShop.objects.filter(platform=platform, domain=spec["seller_id"]).first()
            if shop is not None:
                placed += len(
                    amazon.orders_create_random(
                        shop, count=1, marketplace=spec.get("marketplace_id", ""), skus=skus, seed=seed
                    )
                )
    return placed
