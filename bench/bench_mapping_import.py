"""[Batch Import] of product mappings: a 50,000-row xlsx, previewed and applied.

A fresh benchmark database gets a catalog (25,000 products, each in a US and a JP
warehouse: 50,000 items), a distributor with a US and a JP store and 9,000 existing
mappings, all by bulk_create. The file mixes what a distributor sends: 40,000 new
mappings, 5,000 changed, 4,000 unchanged and 1,000 rejected (wrong site, unknown Item
ID, the same store SKU twice). A worker process (this file with --worker, so Django is
set up on the benchmark database, DEBUG off) times, in process and as the portal runs
them inline:

- preview: `mapping_import_upload` (reads the file with python-calamine, checks every
  row, stores the verdict; nothing is written to the mappings);
- apply: `mapping_import_confirm` (checks every row again and writes, one transaction);
- and, for scale, python-calamine alone reading the same file into Python lists.
"""

import json
import os
import random
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

NAME = "mapping_import"
DESCRIPTION = "batch import of product mappings: a 50,000-row xlsx previewed and applied"

ROWS = 50_000
MAX_SECONDS = 2.5  # issue #12: preview + apply of 50,000 rows
MAX_READ_RATIO = 8  # ... and at most 8 times python-calamine reading the same file
BATCH = 5_000
# The file's mix, as fractions of its rows.
CHANGED, UNCHANGED, REJECTED = 0.10, 0.08, 0.02


def _plan(rows: int) -> dict:
    rejected = int(rows * REJECTED)
    changed = int(rows * CHANGED)
    unchanged = int(rows * UNCHANGED)
    return {"rows": rows, "changed": changed, "unchanged": unchanged, "rejected": rejected}


def _seed(rows: int):
    from django.contrib.auth import get_user_model

    from catalog.models import Category, Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from stores.models import Platform, Store

    products = rows // 2
    us = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
    jp = Warehouse.objects.create(code="JP-TYO", name="JP", country="JP", sites="JP")
    category = Category.objects.create(name="Skin care")
    for start in range(0, products, BATCH):
        created = Product.objects.bulk_create(
            [
                Product(code=f"BM{n:09d}", name=f"BENCH PRODUCT {n}", category=category, declared_value=Decimal("5"))
                for n in range(start, min(start + BATCH, products))
            ]
        )
        Item.objects.bulk_create(
            [
                Item(item_id=f"{p.code}-01-{number}", product=p, warehouse=w, price=Decimal("9.90"), weight_grams=120)
                for p in created
                for number, w in (("01", us), ("03", jp))
            ]
        )
    user = get_user_model().objects.create_user("bench@example.com", "bench@example.com", secrets.token_urlsafe(16))
    distributor = Distributor.objects.create(company_name="Bench Co.", contact_person="B", phone="1", country="US")
    owner = Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    stores = {
        "US": Store.objects.create(distributor=distributor, platform=Platform.SHOPIFY, name="Bench US", site="US"),
        "JP": Store.objects.create(distributor=distributor, platform=Platform.AMAZON, name="Bench JP", site="JP"),
    }
    return owner, stores, products, dict(Item.objects.values_list("item_id", "pk"))


def _rows_and_existing(rows: int, stores, products: int, items: dict) -> tuple[list[list], list]:
    """The file's rows (shuffled) and the mappings that exist before the import."""
    from mapping.models import Mapping

    rng = random.Random(2026)  # a fixed shuffle: the same file every run
    mix = _plan(rows)
    sites = {"US": "01", "JP": "03"}
    body, existing = [], []
    n = 0

    def item_for(site, k):
        return f"BM{k % products:09d}-01-{sites[site]}"

    def next_sku():
        nonlocal n
        n += 1
        return f"SKU-{n:07d}"

    for index in range(mix["changed"] + mix["unchanged"]):
        site = "US" if index % 2 else "JP"
        sku = next_sku()
        item_id = item_for(site, index)
        old = item_id if index >= mix["changed"] else item_for(site, index + 7)
        existing.append(Mapping(store=stores[site], store_sku=sku, item_id=items[old], source="import"))
        body.append([stores[site].name, sku, item_id, "", ""])
    rejected = mix["rejected"]
    wrong_site = rejected // 2
    pairs = (rejected - wrong_site - rejected // 4) // 2  # the same SKU twice: both rows are rejected
    unknown = rejected - wrong_site - 2 * pairs
    for index in range(wrong_site):  # an Item of the other site's warehouse
        site = "US" if index % 2 else "JP"
        body.append([stores[site].name, next_sku(), item_for("JP" if site == "US" else "US", index), "", ""])
    for _index in range(unknown):  # an Item ID that does not exist
        body.append(["Bench US", next_sku(), "NOPE00000-01-01", "", ""])
    for index in range(pairs):
        sku = next_sku()
        body.append(["Bench US", sku, item_for("US", index), "", ""])
        body.append(["Bench US", sku, item_for("US", index + 1), "", ""])
    while len(body) < rows:
        site = "US" if len(body) % 2 else "JP"
        body.append([stores[site].name, next_sku(), item_for(site, len(body)), str(8_000_000_000 + len(body)), ""])
    rng.shuffle(body)
    return body, existing


def _write_xlsx(path: Path, body: list[list]) -> None:
    from openpyxl import Workbook

    from mapping.xlsx import COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Mappings")
    sheet.append(COLUMNS)
    for row in body:
        sheet.append(row)
    workbook.save(path)


def worker(rows: int, scratch: str) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from python_calamine import CalamineWorkbook

    from mapping import services
    from mapping.models import Mapping

    settings.MAPPING_IMPORT_INLINE_ROWS = rows  # run preview and apply here, as the portal does inline
    started = time.perf_counter()
    owner, stores, products, items = _seed(rows)
    body, existing = _rows_and_existing(rows, stores, products, items)
    Mapping.objects.bulk_create(existing, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    path = Path(scratch) / "mapping-import.xlsx"
    _write_xlsx(path, body)
    seed_seconds = time.perf_counter() - started

    begin = time.perf_counter()
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    calamine_seconds = time.perf_counter() - begin
    assert len(sheet) == rows + 1

    upload = SimpleUploadedFile("mappings.xlsx", path.read_bytes())
    begin = time.perf_counter()
    mapping_import = services.mapping_import_upload(actor=owner, file=upload)
    preview_seconds = time.perf_counter() - begin
    mapping_import.refresh_from_db()
    preview = [mapping_import.new_count, mapping_import.changed_count, mapping_import.unchanged_count]
    preview.append(mapping_import.rejected_count)

    begin = time.perf_counter()
    applied = services.mapping_import_confirm(actor=owner, mapping_import=mapping_import)
    apply_seconds = time.perf_counter() - begin
    mix = _plan(rows)
    expected = [rows - mix["changed"] - mix["unchanged"] - mix["rejected"], mix["changed"], mix["unchanged"]]
    expected.append(mix["rejected"])
    if preview != expected or applied.status != "applied":
        raise RuntimeError(f"unexpected verdict {preview} (expected {expected}), status {applied.status}")
    total = Mapping.objects.count()
    if total != len(existing) + expected[0]:
        raise RuntimeError(f"{total} mappings after the import, expected {len(existing) + expected[0]}")
    return {
        "seed_seconds": seed_seconds,
        "calamine_seconds": calamine_seconds,
        "preview_seconds": preview_seconds,
        "apply_seconds": apply_seconds,
        "verdict": dict(zip(["new", "changed", "unchanged", "rejected"], preview, strict=True)),
        "file_bytes": path.stat().st_size,
    }


def run(ctx) -> list[dict]:
    rows = ROWS // 10 if ctx.quick else ROWS
    env_overrides = ctx.production_env()
    with ctx.fresh_database() as url:
        data = ctx.run_worker(__file__, rows, ctx.var_dir, env=ctx.env(database_url=url, **env_overrides))
    verdict = data["verdict"]
    ctx.log(
        f"seeded the catalog, stores, mappings and the file ({data['file_bytes'] / 2**20:.1f} MB) "
        f"in {data['seed_seconds']:.1f} s"
    )
    ctx.log(
        f"verdict: {verdict['new']:,} new, {verdict['changed']:,} changed, "
        f"{verdict['unchanged']:,} unchanged, {verdict['rejected']:,} rejected"
    )
    size = (
        f"{rows:,} rows ({verdict['new']:,} new, {verdict['changed']:,} changed, {verdict['unchanged']:,} unchanged, "
        f"{verdict['rejected']:,} rejected); {rows:,} items, 2 stores"
    )
    total = data["preview_seconds"] + data["apply_seconds"]

    def row(figure, value, target="", ok=None, unit="s"):
        return {
            "figure": figure,
            "value": round(value, 2),
            "unit": unit,
            "target": target,
            "ok": ok,
            "size": size,
            "command": ctx.command(NAME),
        }

    ratio = total / data["calamine_seconds"]
    return [
        row("mapping import: preview + apply", total, f"≤ {MAX_SECONDS:g} s", total <= MAX_SECONDS),
        row(
            "mapping import: ratio to the floor (python-calamine read)",
            ratio,
            f"≤ {MAX_READ_RATIO}×",
            ratio <= MAX_READ_RATIO,
            unit="×",
        ),
        row("mapping import: preview", data["preview_seconds"]),
        row("mapping import: apply", data["apply_seconds"]),
        row("mapping import: python-calamine reading the file alone", data["calamine_seconds"]),
    ]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]), sys.argv[3])))
