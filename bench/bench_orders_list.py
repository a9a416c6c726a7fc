"""The Orders list page with 100,000 orders of one distributor among 1,000,000 in all.

A fresh benchmark database is filled with bulk_create (three stores, three warehouses,
100,000 platform orders and distribution orders in every status, one or two lines
each); eighteen other distributors get 50,000 orders each, copies of those made in SQL
(their own stores, numbers, platform orders and lines), so the tables hold 1,000,000
orders the list must not read. Then a worker process (this file with --worker, Django set up on the benchmark
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
DESCRIPTION = "order list page (tabs, search, filters): 100,000 orders of one distributor among 1,000,000"

ORDERS = 100_000
# Orders of other distributors, in the same tables: (distributors, orders each).
OTHERS = (18, 50_000)
REQUESTS = 200
WARMUP = 10
BATCH = 5_000
# (label, query string, p95 target in ms): the issue names the first page and the search
# (a broad one: one recipient in seven is a Hopper); the status tab is the first page's
# work, the one-order search is the common case, the filters keep the earlier 150 ms.
PAGES = [
    ("first page", "", 40),
    ("status tab", "status=awaiting_payment", 40),
    ("search", "q=Hopper", 60),
    ("search, one order", "q=Hopper+12345", 60),
    ("filtered", "warehouse=JP-TYO&logistics=dropshipping", 150),
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


def _copy_sql(model, overrides: dict[str, str], where: str) -> str:
    """INSERT INTO model's table SELECT every column of its rows matching `where`, with
    some columns replaced by SQL expressions over the source row (alias s). Built from
    the model's own table and column names; values come as %(name)s parameters."""
    table = model._meta.db_table
    columns = [field.column for field in model._meta.concrete_fields]
    values = ", ".join(overrides.get(column, f's."{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    return f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" s WHERE {where}'  # noqa: S608


# The source orders a copy is made of: the first `each` of the distributor's.
_SOURCE_ORDERS = "SELECT id FROM orders_order WHERE distributor_id = %(source)s AND id <= %(last)s"


def _fill_others(distributor, distributors: int, each: int) -> None:
    """Other distributors' orders: copies (in SQL, so a million rows take seconds) of the
    first `each` orders of `distributor`, with their platform orders and lines, under
    their own distributor, store and order numbers; ids shifted by a fixed offset per copy."""
    from django.core.management.color import no_style
    from django.db import connection

    from distribution.models import Distributor
    from orders.models import Order, OrderLine, PlatformOrder
    from stores.models import Platform, Store

    if not distributors:
        return
    copy_platform_orders = _copy_sql(
        PlatformOrder,
        {"id": "s.id + %(platform_off)s", "store_id": "%(store)s"},
        f"s.id IN ({_SOURCE_ORDERS.replace('SELECT id', 'SELECT platform_order_id')})",
    )
    copy_orders = _copy_sql(
        Order,
        {
            "id": "s.id + %(order_off)s",
            "distributor_id": "%(distributor)s",
            "store_id": "%(store)s",
            "platform_order_id": "s.platform_order_id + %(platform_off)s",
            # DO + date + the new id in hex: unique as the ids are.
            "number": "'DO' || to_char(s.created_at, 'YYMMDD') || lpad(upper(to_hex(s.id + %(order_off)s)), 8, '0')",
        },
        f"s.id IN ({_SOURCE_ORDERS})",
    )
    copy_lines = _copy_sql(
        OrderLine,
        {
            "id": "s.id + %(line_off)s",
            "order_id": "s.order_id + %(order_off)s",
            "platform_order_id": "s.platform_order_id + %(platform_off)s",
        },
        f"s.order_id IN ({_SOURCE_ORDERS})",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(o.id), max(o.platform_order_id), (SELECT max(id) FROM orders_orderline), "
            "(SELECT id FROM orders_order WHERE distributor_id = %s ORDER BY id OFFSET %s LIMIT 1) "
            "FROM orders_order o",
            [distributor.pk, each - 1],
        )
        order_step, platform_step, line_step, last = cursor.fetchone()
        for copy in range(1, distributors + 1):
            other = Distributor.objects.create(
                company_name=f"Other {copy}", contact_person="O", phone="1", country="DE"
            )
            store = Store.objects.create(distributor=other, platform=Platform.SHOPIFY, name=f"Other {copy}", site="DE")
            params = {
                "source": distributor.pk,
                "last": last,
                "distributor": other.pk,
                "store": store.pk,
                "order_off": order_step * copy,
                "platform_off": platform_step * copy,
                "line_off": line_step * copy,
            }
            for sql in (copy_platform_orders, copy_orders, copy_lines):
                cursor.execute(sql, params)
        for sql in connection.ops.sequence_reset_sql(no_style(), [PlatformOrder, Order, OrderLine]):
            cursor.execute(sql)


def _fill(count: int, others: tuple[int, int]):
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
    _fill_others(distributor, *others)
    # The state autovacuum keeps a live database in (visibility map set, statistics fresh).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return user


def worker(count: int, requests: int, distributors: int, each: int) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.models import Order

    started = time.perf_counter()
    user = _fill(count, (distributors, each))
    fill_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    figures = {}
    for label, query, _target in PAGES:
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
    distributors, each = OTHERS
    if ctx.quick:
        each //= 10
    if not ctx.is_postgres:
        distributors = 0  # the copies are made in PostgreSQL's SQL
    total = count + distributors * each
    size = (
        f"{count:,} orders (~{count * 3 // 2:,} lines) of one distributor among {total:,} orders"
        f" of {distributors + 1} distributors; {requests} requests each"
    )
    env = ctx.production_env()
    with ctx.fresh_database() as url:
        ctx.manage("collectstatic", "--noinput", database_url=url, extra_env=env)
        data = ctx.run_worker(
            __file__, count, requests, distributors, each, env=ctx.env(database_url=url, **env), timeout=3600
        )
    ctx.log(f"filled {data['orders']:,} orders in {data['fill_seconds']:.1f} s; queries {data['queries']}")
    rows = []
    for label, _query, target in PAGES:
        figure = data["figures"][label]
        rows += ctx.latency_rows(NAME, f"order list, {label}", figure, size=size, max_p95_ms=target)
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


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(*(int(arg) for arg in sys.argv[2:]))))
