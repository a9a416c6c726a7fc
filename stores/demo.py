"""The stores' demo rows: the demo distributor's stores.

- A store without an API (orders come by importing an order file).
- With the sandbox on (settings.SANDBOX_DEMO_SHOPS), a US Shopify store and a JP Amazon
  store, connected to the sandbox shops the sandbox's demo made, with the token those
  shops granted our app (read from the same setting; the sandbox is never imported). They
  are saved the way a completed authorization saves a store (credentials encrypted,
  status authorized, an event on the timeline), so the scheduled pull reads their orders
  as soon as web, worker and beat run. No HTTP happens here: the web server is not up yet.

Further Shopify stores are authorized the way the guide says, against the sandbox: on
[Platform Store Authorization] pick Shopify, click [Authorize Now], enter any
name.myshopify.com domain and install the app on the sandbox's consent page; the new
sandbox shop comes with orders (SANDBOX_NEW_SHOP_ORDERS).

Idempotent: a store already connected to its shop is left as it is.
"""

from datetime import UTC, datetime

from django.conf import settings

from distribution.demo import demo_distributor
from distribution.models import Membership, Role

from .authorization import external_key_for, store_authorization_start, store_save_authorized
from .models import Platform, Store
from .platforms.amazon import AUTHORIZATION_LIFETIME
from .platforms.base import AuthorizationResult

DEMO_STORE = {"name": "Demo Market JP (no API)", "site": "JP", "currency": "JPY"}
SANDBOX_STORE_NAMES = {Platform.SHOPIFY: "Demo Shop US (Shopify)", Platform.AMAZON: "Demo Amazon JP"}


def _shopify(spec: dict) -> tuple[dict, AuthorizationResult]:
    form = {
        "name": SANDBOX_STORE_NAMES[Platform.SHOPIFY],
        "site": spec["site"],
        "currency": spec["currency"],
        "shop_domain": spec["shop_domain"],
    }
    scope = spec.get("scope", "")
    # A non-expiring offline token: no refresh token, no expiry.
    return form, AuthorizationResult(credentials={"access_token": spec["access_token"], "scope": scope}, scopes=scope)


def _amazon(spec: dict) -> tuple[dict, AuthorizationResult]:
    form = {
        "name": SANDBOX_STORE_NAMES[Platform.AMAZON],
        "site": spec["site"],
        "currency": spec["currency"],
        "seller_id": spec["seller_id"],
        "marketplace_id": spec["marketplace_id"],
    }
    # The LWA refresh token alone: the client fetches an access token on its first call.
    return form, AuthorizationResult(
        credentials={"refresh_token": spec["refresh_token"]},
        scopes="sellingpartnerapi::orders",
        expires_at=datetime.now(tz=UTC) + AUTHORIZATION_LIFETIME,
    )


SANDBOX_STORES = {Platform.SHOPIFY: _shopify, Platform.AMAZON: _amazon}


def _sandbox_stores(owner: Membership) -> list[Store]:
    if not settings.SANDBOX_ENABLED:
        return []
    stores = []
    for platform, spec in (getattr(settings, "SANDBOX_DEMO_SHOPS", {}) or {}).items():
        if platform not in SANDBOX_STORES:
            continue
        form, result = SANDBOX_STORES[platform](spec)
        connected = (
            Store.objects.present().filter(platform=platform, external_key=external_key_for(platform, form)).first()
        )
        if connected is None:
            connected = store_save_authorized(actor=owner, platform=platform, form=form, result=result, store=None)
        stores.append(connected)
    return stores


def seed(stdout) -> None:
    distributor = demo_distributor()
    owner = distributor.memberships.select_related("user", "distributor").get(role=Role.OWNER)
    if not Store.objects.present().filter(distributor=distributor, name=DEMO_STORE["name"]).exists():
        store_authorization_start(actor=owner, platform=Platform.OTHER, form=DEMO_STORE, redirect_uri="")
    for store in _sandbox_stores(owner):
        stdout.write(
            f"Stores: “{store.name}” ({store.get_platform_display()} {store.site}, sandbox "
            f"{store.shop_identifier}) is {store.get_status_display().lower()}; it is pulled on schedule "
            "while web, worker and beat run."
        )
    stdout.write(
        "Stores: authorize a Shopify sandbox store at /stores/ (Shopify > Authorize Now > any-name.myshopify.com)."
    )
