"""The stores' demo rows: one store without an API for the demo distributor.

Shopify stores are authorized the way the guide says, against the sandbox: on
[Platform Store Authorization] pick Shopify, click [Authorize Now], enter any
name.myshopify.com domain and install the app on the sandbox's consent page; the new
sandbox shop comes with orders (SANDBOX_NEW_SHOP_ORDERS).
"""

from distribution.demo import demo_distributor
from distribution.models import Role

from .authorization import store_authorization_start
from .models import Platform, Store

DEMO_STORE = {"name": "Demo Market JP (no API)", "site": "JP", "currency": "JPY"}


def seed(stdout) -> None:
    distributor = demo_distributor()
    if not Store.objects.present().filter(distributor=distributor, name=DEMO_STORE["name"]).exists():
        owner = distributor.memberships.select_related("user", "distributor").get(role=Role.OWNER)
        store_authorization_start(actor=owner, platform=Platform.OTHER, form=DEMO_STORE, redirect_uri="")
    stdout.write(
        "Stores: authorize a Shopify sandbox store at /stores/ (Shopify > Authorize Now > any-name.myshopify.com)."
    )
