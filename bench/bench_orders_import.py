"""Order file import (guide step 6): a 10,000-row and a 100,000-row xlsx file.

For each size, a fresh process (this file with --make) writes the file with openpyxl,
then another fresh process (--worker) on a fresh benchmark database (a catalog, a
store without an API, its SKUs mapped) first times merely reading the file with
python-calamine, then imports it the way the portal does: check every row (the
preview), then apply (create the platform orders, distribution orders, lines and
events). Its peak resident memory (ru_maxrss) is the figure for memory. Each row is
one order line; orders have one to three lines, so 10,000 rows are about 5,000 orders.
"""

import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

NAME = "orders_import"
DESCRIPTION = "import a 10,000-row and a 100,000-row order file (check + apply), beside reading it with calamine"

# (rows, most lines per order, seconds allowed): issue #12's targets.
SIZES = [(10_000, 3, 1.5), (10_000, 1, 1.5), (100_000, 3, 15.0)]
MAX_MEMORY_MB = 300
MAX_READ_RATIO = 8  # check + apply against python-calamine reading the same file
MAX_LINEAR_RATIO = 11  # the 100,000-row time against the 10,000-row time
SKUS = [f"SKU-{n:03d}" for n in range(40)]
CITIES = [
    ("US", "NY", "New York", "100{:02d}"),
    ("US", "MA", "Boston", "021{:02d}"),
    ("US", "CA", "Los Angeles", "900{:02d}"),
]


def make_file(path: str, rows: int, most_lines: int = 3) -> None:
    from openpyxl import Workbook

    sys.path.insert(0, os.getcwd())
    from orders.imports.format import COLUMNS

    rng = random.Random(2026)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Orders")
    sheet.append(COLUMNS)
    written, order = 0, 0
    while written < rows:
        order += 1
        country, state, city, postcode = rng.choice(CITIES)
        lines = min(rng.randint(1, most_lines), rows - written)
        for sku in rng.sample(SKUS, lines):
            sheet.append(
                [
                    "Bench Offline",
                    f"F-{order:07d}",
                    "2026-01-31 10:00",
                    sku,
                    rng.randint(1, 4),
                    f"Buyer {order}",
                    f"+1 212 555 {order % 10000:04d}",
                    f"buyer{order}@example.com",
                    country,
                    state,
                    city,
                    f"{order} Main Street",
                    "",
                    postcode.format(order % 100),
                    "Dropshipping",
                    "",
                ]
            )
            written += 1
    workbook.save(path)


def _fill():
    from django.contrib.auth import get_user_model

    from catalog.models import Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from mapping.models import Mapping
    from stores.models import Platform, Store

    warehouse = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
    user = get_user_model().objects.create_user("bench-import@example.com", "bench-import@example.com", "x-2026")
    distributor = Distributor.objects.create(company_name="Bench Import", contact_person="B", phone="1", country="US")
    membership = Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    store = Store.objects.create(distributor=distributor, platform=Platform.OTHER, name="Bench Offline", site="US")
    for number, sku in enumerate(SKUS):
        product = Product.objects.create(code=f"BI{number:09d}", name=f"BENCH IMPORT {number}")
        item = Item.objects.create(
            item_id=f"BI{number:09d}-01-01", product=product, warehouse=warehouse, price="4.50", weight_grams=80
        )
        Mapping.objects.create(store=store, store_sku=sku, item=item)
    return membership, store


def worker(path: str) -> dict:
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from python_calamine import CalamineWorkbook

    from orders.imports import services
    from orders.models import Order, OrderImport, PlatformOrder

    membership, store = _fill()
    begin = time.perf_counter()
    workbook = CalamineWorkbook.from_path(path)
    rows = sum(1 for _row in workbook.get_sheet_by_index(0).iter_rows())
    read_seconds = time.perf_counter() - begin
    content = Path(path).read_bytes()

    begin = time.perf_counter()
    order_import = services.order_import_create(
        actor=membership, store=store, upload=SimpleUploadedFile(Path(path).name, content)
    )
    services.order_import_check(order_import=order_import)
    checked = time.perf_counter() - begin
    if order_import.status != OrderImport.Status.READY or order_import.error_count:
        raise RuntimeError(f"check: {order_import.status} {order_import.message} {order_import.errors[:3]}")
    services.order_import_start_apply(actor=membership, order_import=order_import)
    services.order_import_apply(order_import=order_import)
    total = time.perf_counter() - begin
    if order_import.status != OrderImport.Status.DONE:
        raise RuntimeError(f"apply: {order_import.status} {order_import.message}")
    return {
        "rows": rows - 1,
        "orders": PlatformOrder.objects.count(),
        "distribution_orders": Order.objects.count(),
        "read_seconds": read_seconds,
        "check_seconds": checked,
        "total_seconds": total,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(ctx) -> list[dict]:
    sizes = [(rows // 10, most, limit) for rows, most, limit in SIZES] if ctx.quick else SIZES
    results, totals = [], {}
    for rows, most, limit in sizes:
        path = ctx.var_dir / f"orders-{rows}-{most}.xlsx"
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--make", str(path), str(rows), str(most)],
            cwd=ctx.base_dir,
            check=True,
            timeout=900,
        )
        with ctx.fresh_database() as url:
            try:
                data = ctx.run_worker(__file__, path, env=ctx.env(database_url=url, LOG_LEVEL="WARNING"))
            finally:
                path.unlink(missing_ok=True)
        ctx.log(
            f"{data['rows']:,} rows -> {data['orders']:,} orders: read {data['read_seconds']:.2f} s, "
            f"check {data['check_seconds']:.2f} s, import {data['total_seconds']:.2f} s, peak {data['peak_mb']:.0f} MB"
        )
        size = f"{data['rows']:,} rows, {data['orders']:,} orders, xlsx"
        label = f"{rows:,}-row" + (" (one-line orders)" if most == 1 else "")
        if most > 1:
            totals[rows] = data["total_seconds"]
        ratio = data["total_seconds"] / data["read_seconds"]

        def figure(name, value, unit, target="", ok=None, size=size):
            return {"figure": name, "value": value, "unit": unit, "target": target, "ok": ok, "size": size,
                    "command": ctx.command(NAME)}  # fmt: skip

        results += [
            figure(f"order import, {label} file: check + apply", round(data["total_seconds"], 2), "s",
                   f"≤ {limit:g} s", data["total_seconds"] <= limit),
            figure(f"order import, {label} file: floor (python-calamine read)", round(data["read_seconds"], 2), "s"),
            figure(f"order import, {label} file: ratio to the floor", round(ratio, 1), "×",
                   f"≤ {MAX_READ_RATIO}×", ratio <= MAX_READ_RATIO),
            figure(f"order import, {label} file: peak memory", round(data["peak_mb"], 1), "MB",
                   f"≤ {MAX_MEMORY_MB} MB", data["peak_mb"] <= MAX_MEMORY_MB),
        ]  # fmt: skip
    small, large = min(totals, default=None), max(totals, default=None)
    if small and large and small != large:
        linear = totals[large] / totals[small]
        results.append(
            {
                "figure": f"order import: {large:,}-row time ÷ {small:,}-row time",
                "value": round(linear, 1),
                "unit": "×",
                "target": f"≤ {MAX_LINEAR_RATIO}× (sizes 10× apart)",
                "ok": linear <= MAX_LINEAR_RATIO,
                "size": f"{large:,} and {small:,} rows",
                "command": ctx.command(NAME),
            }
        )
    return results


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--make":
    make_file(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(sys.argv[2])))
