"""Orders demo: an example order file for the no-API store, and the sandbox order trickle.

- `seed` writes an example order file (xlsx and csv, the template's columns) for the
  demo distributor's store without an API to var/demo/order-import-example.xlsx (and
  .csv): [Orders] > [Import orders], choose the store, upload it. Two orders of the guide's
  serum (one with two lines) and one with a SKU that has no mapping yet, which waits in
  "pending mapping" until it is mapped.
- `trickle` (beat, every few minutes, only with SANDBOX_ENABLED) asks the
  sandbox, over its own HTTP control endpoint, to place a new order in each of the demo
  distributor's authorized sandbox Shopify and Amazon shops, with the SKUs mapped for
  that store, so a newcomer watches orders arrive through the scheduled pull. Orders
  stay "awaiting payment" until payment is built.

Idempotent: the file is rewritten with the same content; nothing else is stored.
"""

import csv
import logging
import random
from pathlib import Path

import requests
from django.conf import settings
from openpyxl import Workbook

from distribution.models import Distributor
from stores.models import Platform, Store

from .imports import format as orderfile

logger = logging.getLogger(__name__)

GUIDE_SKU = "SNOWTOX-SERUM-30ML"
UNMAPPED_SKU = "MY-GIFT-BOX-01"
EXAMPLE_ORDERS = [
    # Order No, Order Date, SKU, Quantity, Recipient, Phone, Email, Country, State, City, Address 1, Address 2, Postcode
    ["DM-0001", "2026-01-31", GUIDE_SKU, 2, "Yuki Tanaka", "+81 3-5555-0101", "yuki@example.com",
     "JP", "Tokyo", "Chiyoda-ku", "1-1 Chiyoda", "", "100-0001", "Dropshipping", ""],
    ["DM-0002", "2026/02/01 10:30", GUIDE_SKU, 1, "Ren Sato", "+81 6-5555-0102", "",
     "Japan", "Osaka", "Osaka", "4-5-6 Umeda", "Umeda Bldg 3F", "530-0001", "Dropshipping", "Leave at the door"],
    ["DM-0002", "2026/02/01 10:30", UNMAPPED_SKU, 1, "Ren Sato", "+81 6-5555-0102", "",
     "Japan", "Osaka", "Osaka", "4-5-6 Umeda", "Umeda Bldg 3F", "530-0001", "Dropshipping", ""],
    ["DM-0003", "01.02.2026", GUIDE_SKU, 3, "Aiko Suzuki", "+81 45-555-0103", "aiko@example.com",
     "JPN", "Kanagawa", "Yokohama", "2-3-4 Minatomirai", "", "220-0012", "Self-pickup", ""],
]  # fmt: skip


def example_file_paths() -> tuple[Path, Path]:
    folder = Path(settings.VAR_DIR) / "demo"
    return folder / "order-import-example.xlsx", folder / "order-import-example.csv"


def _demo_distributor() -> Distributor | None:
    from distribution.demo import demo_distributor

    try:
        return demo_distributor()
    except Distributor.DoesNotExist:
        return None


def _rows(store_name: str) -> list[list]:
    return [[store_name, *values] for values in EXAMPLE_ORDERS]


def write_example_files(store_name: str) -> tuple[Path, Path]:
    xlsx_path, csv_path = example_file_paths()
    xlsx_path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(orderfile.COLUMNS)
    for row in _rows(store_name):
        sheet.append(row)
    for column in (2, 4, 7, 14):  # Order No, SKU, Phone, Postcode as text
        for cell in next(sheet.iter_cols(min_col=column, max_col=column, min_row=2)):
            cell.number_format = "@"
    workbook.save(xlsx_path)
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(orderfile.COLUMNS)
        writer.writerows(_rows(store_name))
    return xlsx_path, csv_path


def seed(stdout) -> None:
    distributor = _demo_distributor()
    if distributor is None:
        return
    offline = Store.objects.present().filter(distributor=distributor, platform=Platform.OTHER).order_by("id").first()
    if offline is not None:
        xlsx_path, _csv_path = write_example_files(offline.name)
        stdout.write(
            f"Orders: an example order file for “{offline.name}” is at {xlsx_path} (and .csv): Orders > Import orders."
        )
    sandbox_stores = [
        store for store in Store.objects.pullable().filter(distributor=distributor) if _sandbox_url(store)
    ]
    if sandbox_stores:
        stdout.write(
            f"Orders: {len(sandbox_stores)} sandbox store(s) receive a new order every few minutes "
            "while the worker and beat run; they are pulled on schedule (Orders > Store sync)."
        )


# --- the sandbox trickle ------------------------------------------------------------------


def _sandbox_url(store: Store) -> str | None:
    """The sandbox control endpoint for a store whose API is the sandbox's, else None."""
    base = getattr(settings, "SANDBOX_BASE_URL", "")
    if not (settings.SANDBOX_ENABLED and base):
        return None
    if store.platform == Platform.SHOPIFY and settings.SHOPIFY_API_BASE.startswith(base):
        return settings.SHOPIFY_API_BASE.format(shop=store.shop_domain) + "/_sandbox/control"
    if (
        store.platform == Platform.AMAZON
        and store.seller_id
        and getattr(settings, "AMAZON_SP_API_BASE", "").startswith(base)
    ):
        return f"{base}/amazon/_sandbox/{store.seller_id}/control"
    return None


def trickle(*, rng: random.Random | None = None) -> int:
    """Place one new sandbox order in each authorized demo sandbox store; returns how many."""
    if not settings.SANDBOX_ENABLED:
        return 0
    distributor = _demo_distributor()
    if distributor is None:
        return 0
    from mapping.models import Mapping

    rng = rng or random.Random()  # noqa: S311 (demo data)
    placed = 0
    for store in Store.objects.pullable().filter(distributor=distributor):
        url = _sandbox_url(store)
        if url is None:
            continue
        skus = list(Mapping.objects.filter(store=store).values_list("store_sku", flat=True)[:20]) or [GUIDE_SKU]
        if rng.random() < 0.15:
            skus.append(UNMAPPED_SKU)  # now and then an order waits for a mapping
        body = {"create_orders": 1, "skus": skus}
        if store.platform == Platform.AMAZON:
            body.update(marketplace=store.marketplace_id, country=store.site)
        try:
            requests.post(url, json=body, timeout=10).raise_for_status()
            placed += 1
        except requests.RequestException as exc:
            logger.info("sandbox trickle for store %s: %s", store.pk, exc)
    return placed
