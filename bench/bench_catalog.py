"""The distributor's catalog list with 10,000 products and 30,000 items in the database.

A fresh benchmark database is filled with bulk_create (three warehouses, an item of
every product in each), then a worker process (this file with --worker, so that
Django is set up on the benchmark database) requests GET /catalog/ as a signed-in
distributor through Django's test client: the first page, a search and a filtered
page. It measures the whole request in process (middleware, queries, template),
without HTTP or a web server, with DEBUG off as in production.
"""

import json
import os
import random
import re
import secrets
import statistics
import sys
import time
from decimal import Decimal

NAME = "catalog"
DESCRIPTION = "catalog list page (first page, search, filters) with 10,000 products and 30,000 items"

PRODUCTS = 10_000
ITEMS_PER_PRODUCT = 3
MAX_P95_MS = 150
REQUESTS = 200
WARMUP = 10
BATCH = 2_000
# (label, query string)
PAGES = [
    ("first page", ""),
    ("search", "q=crystal"),
    ("filtered", "warehouse=JP-TYO&in_stock=on&category=3"),
]
WAREHOUSES = [("US-CA", "US", "US"), ("DE-FRA", "DE", "DE,FR,IT,ES,NL,GB"), ("JP-TYO", "JP", "JP")]
WORDS = ["SNOWTOX", "CRYSTAL", "SERUM", "TONER", "CREAM", "MASK", "OIL", "BALM", "GEL", "LOTION", "ESSENCE", "MIST"]
WORDS += ["BAMBOO", "GLASS", "CABLE", "CHARGER", "STAND", "BOARD", "JAR", "LID", "BRUSH", "PENCIL", "TINT", "POWDER"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _fill(products: int) -> tuple:
    """Bulk-create the catalog and a distributor owner; return that owner's user."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from catalog.models import Category, Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role

    rng = random.Random(2026)
    warehouses = Warehouse.objects.bulk_create(
        [
            Warehouse(code=code, name=f"{code} warehouse", country=country, sites=sites)
            for code, country, sites in WAREHOUSES
        ]
    )
    categories = Category.objects.bulk_create([Category(name=f"Category {n:02d}") for n in range(1, 13)])
    for start in range(0, products, BATCH):
        batch = [
            Product(
                code=f"BP{n:09d}",
                name=" ".join(rng.sample(WORDS, 3)) + f" {n}",
                brand=rng.choice(["SNOWTOX", "KIYOMI", "NORDLYS", "AURELIA", "VERDANT", "PIXELHOME"]),
                category=categories[n % len(categories)],
                hs_code="330499",
                declared_value=Decimal(rng.randint(100, 3000)) / 100,
                weight_grams=rng.randint(40, 900),
                is_active=n % 50 != 0,  # a few retired products, as in life
            )
            for n in range(start, min(start + BATCH, products))
        ]
        created = Product.objects.bulk_create(batch)
        items = []
        for product in created:
            for number, warehouse in enumerate(warehouses[:ITEMS_PER_PRODUCT], start=1):
                stock = 0 if rng.random() < 0.15 else rng.randint(1, 800)
                items.append(
                    Item(
                        item_id=f"{product.code}-01-{number:02d}",
                        product=product,
                        warehouse=warehouse,
                        price=Decimal(rng.randint(250, 5000)) / 100,
                        weight_grams=product.weight_grams,
                        stock_on_hand=stock,
                        reserved=min(stock, rng.randint(0, 5)),
                    )
                )
        Item.objects.bulk_create(items)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = get_user_model().objects.create_user("bench@example.com", "bench@example.com", secrets.token_urlsafe(16))
    distributor = Distributor.objects.create(company_name="Bench Co.", contact_person="B", phone="1", country="US")
    Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    return user, Product.objects.count(), Item.objects.count()


def worker(products: int, requests: int) -> dict:
    import django

    django.setup()
    from django.test import Client

    started = time.perf_counter()
    user, product_count, item_count = _fill(products)
    fill_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    figures = {}
    for label, query in PAGES:
        url = f"/catalog/?{query}" if query else "/catalog/"
        for _ in range(WARMUP):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
        timings = []
        for _ in range(requests):
            begin = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - begin) * 1000)
        html = response.content.decode()
        figures[label] = {
            "p50": statistics.median(timings),
            "p95": _percentile(timings, 0.95),
            # The test client records no template context outside tests: read the page itself.
            "shown": len(set(re.findall(r'href="/catalog/products/(\d+)/"', html))),
            "total": re.search(r'data-testid="result-count">([\d,]+)', html).group(1),
        }
    return {"products": product_count, "items": item_count, "fill_seconds": fill_seconds, "figures": figures}


def run(ctx) -> list[dict]:
    products = PRODUCTS // 10 if ctx.quick else PRODUCTS
    requests = REQUESTS // 4 if ctx.quick else REQUESTS
    size = f"{products:,} products, {products * ITEMS_PER_PRODUCT:,} items; {requests} requests each"
    env_overrides = ctx.production_env()
    with ctx.fresh_database() as url:
        # DEBUG off uses the manifest static storage, which needs collected files.
        ctx.manage("collectstatic", "--noinput", database_url=url, extra_env=env_overrides)
        data = ctx.run_worker(__file__, products, requests, env=ctx.env(database_url=url, **env_overrides))
    ctx.log(f"filled {data['products']:,} products and {data['items']:,} items in {data['fill_seconds']:.1f} s")
    rows = []
    for label, _query in PAGES:
        figure = data["figures"][label]
        ctx.log(f"{label}: {figure['shown']} shown of {figure['total']} matching")
        rows += ctx.latency_rows(NAME, f"catalog list, {label}", figure, size=size, max_p95_ms=MAX_P95_MS)
    return rows


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]), int(sys.argv[3]))))
