"""Orders demo: an example order file for the no-API store.

- `seed` writes an example order file (xlsx and csv, the template's columns) for the
  demo distributor's store without an API to var/demo/order-import-example.xlsx (and
  .csv): [Orders] > [Import orders], choose the store, upload it. Two orders of the guide's
  serum (one with two lines) and one with a SKU that has no mapping yet, which waits in
  "pending mapping" until it is mapped.
- New sandbox orders while the demo runs come from the sandbox itself
  (`manage.py sandbox_trickle`, started by `make run`); this app only pulls them.

Idempotent: the file is rewritten with the same content; nothing else is stored.
"""

import logging
from pathlib import Path

from django.conf import settings

from distribution import spreadsheet
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
    book = spreadsheet.XlsxBook()
    book.sheet("Orders", orderfile.COLUMNS, text_columns=orderfile.TEXT_COLUMNS).extend(_rows(store_name))
    book.save(xlsx_path)
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:
        spreadsheet.write_csv(handle, orderfile.COLUMNS, _rows(store_name))
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
    pullable = Store.objects.pullable().filter(distributor=distributor).count()
    if pullable:
        stdout.write(
            f"Orders: {pullable} store(s) with an API are pulled on schedule while the worker and beat run "
            "(Orders > Store sync)."
        )
