"""The demo data the visual check opens the portal on (tests/distribution/test_visual.py).

`manage.py seed_demo` first (the catalogue, the demo distributor with its members, its
store without an API, the guide's mappings and queue, two top-ups, and orders shipped,
ready for pickup and at the warehouse), then what the demo gets only from the sandbox
or from a distributor at work, made through the services where they exist so each page
shows rows like real ones: a store on every platform with an API (one expired, one
failing to pull), mappings on the US store, orders from that store in every status a
distributor acts on (pending mapping, awaiting payment, on hold, cancelled, paid and at
the warehouse), an order file and a mapping file imported, and an open invitation.

`page_values` gives the id for each URL parameter; pages whose parameter needs a
particular row (an order that can still be split, a store with an API) get theirs from
`PAGE_VALUES`. A page with a parameter neither knows fails the test, naming it.
"""

import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone, translation

from catalog.models import Item, Product, Warehouse
from distribution.demo import demo_distributor
from distribution.models import Invitation, Membership, Role
from distribution.tenancy import scope
from mapping import services as mapping
from mapping.models import MappingImport
from orders.actions import orders_cancel, orders_hold, orders_pay
from orders.imports import services as order_imports
from orders.ingest.service import platform_orders_ingest
from orders.models import Order, OrderImport, OrderStatus, PlatformOrder, PullRun, StorePullState
from stores.models import Platform, Store
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    NormalizedBuyer,
    NormalizedLine,
    NormalizedOrder,
)
from tests.stores.factories import StoreFactory

US_ADDRESSES = [
    ("Olivia Martin", "415 Mission St", "San Francisco", "CA", "94105"),
    ("Liam Johnson", "77 Massachusetts Ave", "Cambridge", "MA", "02139"),
    ("Emma Davis", "1600 Amphitheatre Pkwy", "Mountain View", "CA", "94043"),
    ("Noah Wilson", "350 5th Ave", "New York", "NY", "10118"),
    ("Ava Brown", "233 S Wacker Dr", "Chicago", "IL", "60606"),
    ("Mia Garcia", "600 Congress Ave", "Austin", "TX", "78701"),
    ("Lucas Miller", "1 Microsoft Way", "Redmond", "WA", "98052"),
]
UNMAPPED_SKU = "GIFT-WRAP-PREMIUM"


@dataclass
class VisualData:
    owner: Membership
    values: dict[str, object] = field(default_factory=dict)
    page_values: dict[str, dict[str, object]] = field(default_factory=dict)
    queries: dict[str, dict[str, str]] = field(default_factory=dict)

    def kwargs_for(self, url_name: str, params: list[str]) -> tuple[dict, list[str]]:
        """The URL kwargs of a page, and the parameters no demo row fills.

        A value named for the page comes first, then one named for the parameter, then,
        for `<model>_id`, the first row of that model the owner's distributor may see
        (scoped by the model's tenant path, as the portal's views scope it)."""
        chosen = {**self.values, **self.page_values.get(url_name, {})}
        kwargs, missing = {}, []
        for param in params:
            value = chosen[param] if param in chosen else _first_row_id(param, self.owner.distributor)
            if value is None:
                missing.append(param)
            else:
                kwargs[param] = value
        return kwargs, missing


def _first_row_id(param: str, distributor) -> int | None:
    if not param.endswith("_id"):
        return None
    for model in apps.get_models():
        if model._meta.model_name == param[: -len("_id")].replace("_", ""):
            return scope(model._default_manager.order_by("pk"), distributor).values_list("pk", flat=True).first()
    return None


def _stores(distributor, owner) -> dict[str, Store]:
    made = {
        "shopify": StoreFactory(
            distributor=distributor,
            created_by=owner.user,
            platform=Platform.SHOPIFY,
            name="Snowtox US Official",
            site="US",
            currency="USD",
            shop_domain="snowtox-us.myshopify.com",
            external_key="snowtox-us.myshopify.com",
            credentials={"access_token": "shpat_visual", "scope": "read_orders"},
            authorized_at=timezone.now() - timedelta(days=40),
        ),
        "woocommerce": StoreFactory(
            distributor=distributor,
            created_by=owner.user,
            platform=Platform.WOOCOMMERCE,
            name="Beauty Corner DE",
            site="DE",
            currency="EUR",
            shop_domain="",
            site_url="https://beauty-corner.example.de",
            external_key="https://beauty-corner.example.de",
            credentials={"consumer_key": "ck_visual", "consumer_secret": "cs_visual"},
            authorized_at=timezone.now() - timedelta(days=12),
        ),
        "amazon": StoreFactory(
            distributor=distributor,
            created_by=owner.user,
            platform=Platform.AMAZON,
            name="Snowtox Amazon JP",
            site="JP",
            currency="JPY",
            shop_domain="",
            seller_id="A2VISUALJP01",
            marketplace_id="A1VC38T7YXB528",
            external_key="A2VISUALJP01:A1VC38T7YXB528",
            credentials={"refresh_token": "Atzr|visual"},
            status=Store.Status.EXPIRED,
            status_reason="The seller's yearly consent is due.",
            authorized_at=timezone.now() - timedelta(days=370),
            expires_at=timezone.now() - timedelta(days=5),
        ),
        "tiktok": StoreFactory(
            distributor=distributor,
            created_by=owner.user,
            platform=Platform.TIKTOK,
            name="Snowtox TikTok UK",
            site="GB",
            currency="GBP" if "GBP" in dict(Store._meta.get_field("currency").choices) else "USD",
            shop_domain="",
            shop_id="7495000000000001",
            shop_cipher="GCP_visual",
            external_key="7495000000000001",
            credentials={"access_token": "tt_visual", "refresh_token": "tt_refresh"},
            authorized_at=timezone.now() - timedelta(days=3),
        ),
    }
    # The Shopify store's last pull failed: the sync page and the home page say so.
    now = timezone.now()
    StorePullState.objects.update_or_create(
        store=made["shopify"],
        defaults={
            "last_pull_at": now - timedelta(minutes=29),
            "last_result": StorePullState.Result.FAILED,
            "last_message": "Shopify answered 503 Service Unavailable three times.",
        },
    )
    PullRun.objects.create(
        store=made["shopify"],
        trigger=PullRun.Trigger.MANUAL,
        requested_by=owner.user,
        status=PullRun.Status.FAILED,
        message="Shopify answered 503 Service Unavailable.",
        started_at=now - timedelta(minutes=30),
        finished_at=now - timedelta(minutes=29),
    )
    return made


def _normalized(store: Store, number: int, lines: list[tuple[str, int, str]]) -> NormalizedOrder:
    name, street, city, province, postcode = US_ADDRESSES[number % len(US_ADDRESSES)]
    placed = timezone.now() - timedelta(hours=6 * number + 1)
    return NormalizedOrder(
        platform=store.platform,
        external_id=f"5{number:09d}",
        display_number=f"#{1040 + number}",
        created_at=placed,
        updated_at=placed,
        currency=store.currency,
        financial_status=FinancialStatus.PAID,
        fulfillment_status=FulfillmentStatus.UNFULFILLED,
        cancel_status=CancelStatus.NONE,
        platform_status="paid",
        buyer=NormalizedBuyer(name=name, email=f"{name.split()[0].lower()}@example.com"),
        shipping_address=NormalizedAddress(
            name=name,
            phone=f"+1 415 555 01{number:02d}",
            address1=street,
            city=city,
            province=province,
            province_code=province,
            postal_code=postcode,
            country_code="US",
        ),
        lines=tuple(
            NormalizedLine(
                external_line_id=f"{number}{n}",
                sku=sku,
                quantity=quantity,
                unit_price=Decimal("29.90"),
                title=title,
            )
            for n, (sku, quantity, title) in enumerate(lines)
        ),
        total=Decimal("29.90") * sum(quantity for _sku, quantity, _title in lines),
    )


def _us_orders(owner: Membership, store: Store) -> dict[str, Order]:
    """Orders of the US Shopify store in every status a distributor acts on."""
    us_items = list(
        Item.objects.visible()
        .filter(warehouse__code="US-CA", stock_on_hand__gt=20)
        .exclude(item_id__startswith="LS228800001-")
        .select_related("product")
        .order_by("item_id")[:4]
    )
    guide = Item.objects.get(item_id="LS228800001-01-01")
    skus = {"SNOWTOX-SERUM-30ML": guide}
    for item in us_items:
        skus[f"US-{item.item_id}"] = item
    for sku, item in skus.items():
        mapping.mapping_create(actor=owner, store=store, store_sku=sku, item=item)
    mapped = [(sku, item.product.name.title()) for sku, item in skus.items()]
    baskets = [
        [(mapped[0][0], 2, mapped[0][1]), (mapped[1][0], 1, mapped[1][1])],  # split / pay
        [(mapped[2][0], 1, mapped[2][1])],  # merged with the next on the merge page
        [(mapped[0][0], 1, mapped[0][1])],
        [(mapped[3][0], 3, mapped[3][1]), (UNMAPPED_SKU, 1, "Premium gift wrap")],  # pending mapping
        [(mapped[1][0], 1, mapped[1][1])],  # on hold
        [(mapped[2][0], 2, mapped[2][1])],  # cancelled
        [(mapped[4][0], 1, mapped[4][1]), (mapped[0][0], 1, mapped[0][1])],  # paid, at the warehouse
    ]
    normalized = [_normalized(store, n, basket) for n, basket in enumerate(baskets, start=1)]
    platform_orders_ingest(store=store, orders=normalized, source=PlatformOrder.Source.PULL)
    by_number = {
        order.platform_order.external_id: order
        for order in Order.objects.filter(store=store).select_related("platform_order")
    }
    orders = {
        "splittable": by_number[normalized[0].external_id],
        "merge_a": by_number[normalized[1].external_id],
        "merge_b": by_number[normalized[2].external_id],
        "pending": by_number[normalized[3].external_id],
        "held": by_number[normalized[4].external_id],
        "cancelled": by_number[normalized[5].external_id],
        "paid": by_number[normalized[6].external_id],
    }
    orders_hold(actor=owner, orders=[orders["held"]], reason="Buyer asked to change the address")
    orders_cancel(actor=owner, orders=[orders["cancelled"]], reason="Out of stock at the buyer's request")
    orders_pay(actor=owner, orders=[orders["paid"]], idempotency_key="visual:paid")
    for key, order in orders.items():
        orders[key] = Order.objects.get(pk=order.pk)
    return orders


def _order_file(owner: Membership, store: Store) -> OrderImport:
    """The demo's example order file (DM-0001..3), imported into the store without an API."""
    from orders.demo import example_file_paths

    _xlsx, csv_path = example_file_paths()
    upload = ContentFile(csv_path.read_bytes(), name="order-import-example.csv")
    order_import = order_imports.order_import_create(actor=owner, store=store, upload=upload)
    order_imports.order_import_check(order_import=order_import)
    order_import.refresh_from_db()
    if order_import.status == OrderImport.Status.READY:
        order_imports.order_import_start_apply(actor=owner, order_import=order_import)
        order_imports.order_import_apply(order_import=order_import)
    return order_import


def _mapping_file(owner: Membership, store: Store) -> MappingImport:
    """A mapping file previewed and waiting for [Confirm]: new rows, a re-pointed SKU, and
    rows refused (an item of a warehouse that does not serve the store's site, an unknown item)."""
    from openpyxl import Workbook

    us = list(Item.objects.visible().filter(warehouse__code="US-CA").order_by("-item_id")[:3])
    jp = Item.objects.filter(warehouse__code="JP-TYO").order_by("item_id").first()
    rows = [(store.name, f"BUNDLE-{n}", item.item_id) for n, item in enumerate(us, start=1)]
    rows += [(store.name, "SNOWTOX-SERUM-30ML", us[0].item_id), (store.name, "JP-ONLY", jp.item_id)]
    rows += [(store.name, "TYPO-SKU", "LS000000000-01-01")]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Mappings")
    sheet.append(["Store", "Store SKU", "Item ID"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    # The import keeps its uploader's language for the reasons it writes; the demo owner
    # works in Chinese, so the Chinese pages read them in Chinese.
    with translation.override("zh-hans"):
        return mapping.mapping_import_upload(actor=owner, file=ContentFile(buffer.getvalue(), name="mappings.xlsx"))


def seed() -> VisualData:
    call_command("seed_demo", allow_production=True, stdout=io.StringIO())
    distributor = demo_distributor()
    owner = distributor.memberships.select_related("user", "distributor").get(role=Role.OWNER)
    offline = Store.objects.present().get(distributor=distributor, platform=Platform.OTHER)
    stores = _stores(distributor, owner)
    orders = _us_orders(owner, stores["shopify"])
    order_import = _order_file(owner, offline)
    mapping_import = _mapping_file(owner, stores["shopify"])
    invitation = Invitation.objects.create(
        distributor=distributor, email="new.colleague@example.com", role=Role.OPERATOR, invited_by=owner.user
    )
    shipped = Order.objects.filter(distributor=distributor, status=OrderStatus.SHIPPED).order_by("pk").first()
    guide = Product.objects.get(code="LS228800001")
    values = {
        # The richest row of each kind: the shipped order with its tracking, the store with
        # a failing pull, the guide's product with its images and documents.
        "order_id": (shipped or orders["paid"]).pk,
        "store_id": stores["shopify"].pk,
        "product_id": guide.pk,
        "orderimport_id": order_import.pk,
        "mappingimport_id": mapping_import.pk,
        "token": invitation.token,
        "code": Warehouse.objects.order_by("code").first().code,
    }
    page_values = {
        "orders:order_split": {"order_id": orders["splittable"].pk},
        "fulfillment:tracking_file": {"store_id": offline.pk},
    }
    # Pages that need a query string; a page given several is opened once for each (the
    # label names the screenshot).
    queries = {
        "orders:merge": {"": f"ids={orders['merge_a'].pk},{orders['merge_b'].pk}"},
        "orders:pay": {"": f"ids={orders['splittable'].pk},{orders['merge_a'].pk}"},
        "stores:authorize": {platform: f"platform={platform}" for platform in Platform.values},
        "mapping:item_search": {"": f"store={stores['shopify'].pk}&q=serum"},
        "mapping:sku_search": {"": f"store={stores['shopify'].pk}&q=SNOW"},
    }
    return VisualData(owner=owner, values=values, page_values=page_values, queries=queries)
