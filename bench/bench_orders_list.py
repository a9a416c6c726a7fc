"""The Orders list page with 100,000 orders of one distributor in the database.

A fresh benchmark database is filled with bulk_create (three stores, three warehouses,
100,000 platform orders and distribution orders in every status, one or two lines
each); then a worker process (this file with --worker, Django set up on the benchmark
database, DEBUG off) requests the list through Django's test client as the signed-in
owner: the first page, a status tab, a search and a filtered page, 200 times each after
a warm-up. It also counts the queries of the first page at page sizes 25 and 100: the
count must not grow with the page size.
"""

import json
import os
import random
import secrets
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

NAME = "orders_list"
DESCRIPTION = "order list page (tabs, search, filters) with 100,000 orders in the database"

ORDERS = 100_000
MAX_P95_MS = 150
REQUESTS = 200
WARMUP = 10
BATCH = 5_000
PAGES = [
    ("first page", ""),
    ("status tab", "status=awaiting_payment"),
    ("search", "q=Hopper"),
    ("filtered", "warehouse=JP-TYO&logistics=dropshipping"),
]
STATUSES = [
    ("awaiting_payment", 40),
    ("pending_mapping", 5),
    ("paid", 10),
    ("at_warehouse", 10),
    ("shipped", 25),
    ("cancelled", 8),
    ("superseded", 2),
]
NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Kay", "Yuki Tanaka", "Ren Sato", "Marie Curie", "Hedy Lamarr"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def _fill(count: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from catalog.models import Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from orders.ingest import new_order_number
    from orders.models import Order, OrderLine, PlatformOrder
    from stores.models import Platform, Store

    rng = random.Random(2026)
    warehouses = [
        Warehouse.objects.create(code=code, name=code, country=country, sites=country)
        for code, country in (("US-CA", "US"), ("DE-FRA", "DE"), ("JP-TYO", "JP"))
    ]
    items = []
    for number, warehouse in enumerate(warehouses):
        product = Product.objects.create(code=f"BL{number:09d}", name=f"BENCH LIST {number}")
        items.append(
            Item.objects.create(
                item_id=f"BL{number:09d}-01-{number + 1:02d}",
                product=product,
                warehouse=warehouse,
                price="12.80",
                weight_grams=120,
            )
        )
    user = get_user_model().objects.create_user(
        "bench-list@example.com", "bench-list@example.com", secrets.token_urlsafe(12)
    )
    distributor = Distributor.objects.create(company_name="Bench List", contact_person="B", phone="1", country="US")
    Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    stores = [
        Store.objects.create(distributor=distributor, platform=Platform.SHOPIFY, name=f"Bench {site}", site=site)
        for site in ("US", "DE", "JP")
    ]
    statuses = [status for status, weight in STATUSES for _ in range(weight)]
    now = timezone.now()
    # Orders arrive over time: give each its own creation time (one a minute) instead of "now".
    Order._meta.get_field("created_at").auto_now_add = False
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        platform_orders = PlatformOrder.objects.bulk_create(
            [
                PlatformOrder(
                    store=stores[n % 3],
                    external_id=str(5_000_000_000 + start + n),
                    display_number=f"#{1001 + start + n}",
                    source=PlatformOrder.Source.PULL,
                    disposition="converted",
                    lines=[{"sku": "SKU", "quantity": 1}],
                    raw={"id": 5_000_000_000 + start + n},
                )
                for n in range(size)
            ]
        )
        orders = Order.objects.bulk_create(
            [
                Order(
                    distributor=distributor,
                    store=po.store,
                    platform_order=po,
                    number=new_order_number(),
                    status=rng.choice(statuses),
                    warehouse=warehouses[(start + n) % 3],
                    logistics="dropshipping" if n % 7 else "self_pickup",
                    recipient_name=f"{rng.choice(NAMES)} {start + n}",
                    city="Tokyo",
                    postal_code="100-0001",
                    country="JP",
                    goods_amount=Decimal("25.60"),
                    handling_amount=Decimal("1.30"),
                    total_amount=Decimal("26.90"),
                    placed_at=now - timedelta(minutes=start + n),
                    created_at=now - timedelta(minutes=start + n),
                    tracking_number=f"1Z{start + n:012d}" if n % 4 == 0 else "",
                )
                for n, po in enumerate(platform_orders)
            ]
        )
        lines = []
        for order in orders:
            item = items[warehouses.index(next(w for w in warehouses if w.pk == order.warehouse_id))]
            for sku_number in range(1 + order.pk % 2):
                lines.append(
                    OrderLine(
                        order=order,
                        store_sku=f"SKU-{sku_number}",
                        quantity=1 + sku_number,
                        item=item,
                        item_code=item.item_id,
                        product_name=item.product.name,
                        warehouse_code=order.warehouse.code if order.warehouse_id else "",
                        unit_price=Decimal("12.80"),
                    )
                )
        OrderLine.objects.bulk_create(lines)
    # The state autovacuum keeps a live database in (visibility map set, statistics fresh).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return user


def worker(count: int, requests: int) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.models import Order

    started = time.perf_counter()
    user = _fill(count)
    fill_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    figures = {}
    for label, query in PAGES:
        url = f"/orders/?{query}" if query else "/orders/"
        for _ in range(WARMUP):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
        timings = []
        for _ in range(requests):
            begin = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - begin) * 1000)
        figures[label] = {"p50": statistics.median(timings), "p95": _percentile(timings, 0.95)}
    queries = {}
    for page_size in (25, 100):
        settings.PORTAL_PAGE_SIZE = page_size
        with CaptureQueriesContext(connection) as captured:
            client.get("/orders/")
        queries[page_size] = len(captured)
    return {"orders": Order.objects.count(), "fill_seconds": fill_seconds, "figures": figures, "queries": queries}


def run(ctx) -> list[dict]:
    count = ORDERS // 10 if ctx.quick else ORDERS
    requests = REQUESTS // 4 if ctx.quick else REQUESTS
    size = f"{count:,} orders, ~{count * 3 // 2:,} lines, one distributor; {requests} requests each"
    env = ctx.production_env()
    with ctx.fresh_database() as url:
        ctx.manage("collectstatic", "--noinput", database_url=url, extra_env=env)
        data = ctx.run_worker(__file__, count, requests, env=ctx.env(database_url=url, **env), timeout=3600)
    ctx.log(f"filled {data['orders']:,} orders in {data['fill_seconds']:.1f} s; queries {data['queries']}")
    rows = []
    for label, _query in PAGES:
        figure = data["figures"][label]
        rows += ctx.latency_rows(NAME, f"order list, {label}", figure, size=size, max_p95_ms=MAX_P95_MS)
    small, large = data["queries"]["25"], data["queries"]["100"]
    rows.append(
        {
            "figure": "order list: queries per page (page size 25 and 100)",
            "value": large,
            "unit": "queries",
            "target": f"same at 25 and 100 rows ({small} at 25)",
            "ok": small == large,
            "size": size,
            "command": ctx.command(NAME),
        }
    )
    return rows


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]), int(sys.argv[3]))))
