"""Pull and convert 10,000 orders from the Shopify sandbox, its rate limit off, beside a floor:
the same requests replayed with their JSON decoded and nothing else done.

A fresh benchmark database gets a catalog (two warehouses), a distributor with an
authorized Shopify store whose SKUs are mapped, and 10,000 orders in the sandbox shop
(REST-shaped payloads as the sandbox serves them). gunicorn serves the sandbox; a worker
process (this file with --worker) runs the real pull (`orders.pull.pull_run_execute`)
over HTTP, pages of 250, and times the HTTP calls apart from the rest (parsing,
ingestion, routing through the mapping, writing the platform orders, distribution
orders, lines and events). The figure to meet is orders per second excluding HTTP.
"""

import json
import os
import random
import socket
import subprocess
import sys
import time
from decimal import Decimal

import requests

NAME = "orders_pull"
DESCRIPTION = "pull and convert 10,000 orders from the Shopify sandbox (rate limit off)"

ORDERS = 10_000
PAGE_SIZE = 250
MIN_RATE = 3000  # orders/s, HTTP excluded (issue #12)
MIN_RATE_HTTP = 1500  # orders/s, HTTP to the sandbox included
SHOP = "bench-pull.myshopify.com"
SKUS = [("SERUM-US", "US-CA"), ("MASK-US", "US-CA"), ("CREAM-DE", "DE-FRA"), ("TONER-US", "US-CA")]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fill(count: int, base_url: str):
    """Catalog, distributor, an authorized store with mappings, and `count` sandbox orders."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from catalog.models import Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from mapping.models import Mapping
    from sandbox import shopify as sandbox_shopify
    from sandbox import state
    from sandbox.models import SandboxOrder
    from stores.models import Platform, Store

    rng = random.Random(2026)
    warehouses = {
        code: Warehouse.objects.create(code=code, name=code, country=code[:2], sites=sites)
        for code, sites in (("US-CA", "US"), ("DE-FRA", "DE,US"))
    }
    user = get_user_model().objects.create_user("bench-pull@example.com", "bench-pull@example.com", "x-bench-2026")
    distributor = Distributor.objects.create(company_name="Bench Pull", contact_person="B", phone="1", country="US")
    Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    app = state.app_for("shopify", settings.SHOPIFY_CLIENT_ID)
    shop = state.shop_get_or_create("shopify", SHOP, bucket_size=1_000_000, leak_per_second=1_000_000.0)
    token = state.token_issue(shop=shop, app=app, scopes="read_orders", expiring=False)
    store = Store(distributor=distributor, platform=Platform.SHOPIFY, name="Bench US", site="US", shop_domain=SHOP)
    store.external_key = SHOP
    store.set_credentials({"access_token": token.access_token, "scope": "read_orders"})
    store.save()
    for number, (sku, code) in enumerate(SKUS):
        product = Product.objects.create(code=f"BP{number:09d}", name=f"BENCH PRODUCT {number}")
        item = Item.objects.create(
            item_id=f"BP{number:09d}-01-01", product=product, warehouse=warehouses[code], price="9.90", weight_grams=100
        )
        Mapping.objects.create(store=store, store_sku=sku, item=item)
    now = timezone.now()
    batch = []
    for index in range(count):
        picks = rng.sample(SKUS, k=rng.randint(1, 2))
        lines = [(sku, sku.title(), "", Decimal("19.90"), rng.randint(1, 3)) for sku, _code in picks]
        payload = sandbox_shopify.build_order(shop, number=1001 + index, lines=lines, rng=rng, now=now)
        batch.append(
            SandboxOrder(
                shop=shop, external_id=payload["id"], payload=payload, state="open", created_at=now, updated_at=now
            )
        )
        if len(batch) == 2_000:
            SandboxOrder.objects.bulk_create(batch)
            batch = []
    SandboxOrder.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return store


def worker(count: int, base_url: str) -> dict:
    import django

    django.setup()
    from orders import pull
    from orders.models import Order, PlatformOrder, PullRun
    from stores.platforms.base import PlatformHttp

    started = time.perf_counter()
    store = _fill(count, base_url)
    fill_seconds = time.perf_counter() - started

    class TimedHttp(PlatformHttp):
        seconds = 0.0
        calls = 0
        asked: list = []

        def request(self, method, url, **kwargs):
            begin = time.perf_counter()
            try:
                return super().request(method, url, **kwargs)
            finally:
                TimedHttp.seconds += time.perf_counter() - begin
                TimedHttp.calls += 1
                TimedHttp.asked.append((method, url, kwargs.get("params"), kwargs.get("headers")))

    run = PullRun.objects.create(store=store, trigger=PullRun.Trigger.MANUAL)
    begin = time.perf_counter()
    run = pull.pull_run_execute(run=run, http=TimedHttp(platform="shopify"), page_size=PAGE_SIZE)
    total = time.perf_counter() - begin
    if run.status != PullRun.Status.SUCCEEDED:
        raise RuntimeError(f"the pull failed: {run.message}")
    # The floor: the same requests again, each answer's JSON decoded, nothing else done.
    session = requests.Session()
    begin = time.perf_counter()
    for method, url, params, headers in TimedHttp.asked:
        session.request(method, url, params=params, headers=headers, timeout=60).json()
    floor = time.perf_counter() - begin
    platform_orders = PlatformOrder.objects.filter(store=store).count()
    orders = Order.objects.filter(store=store).count()
    if platform_orders != count:
        raise RuntimeError(f"{platform_orders} platform orders for {count} sandbox orders")
    return {
        "fill_seconds": fill_seconds,
        "total_seconds": total,
        "http_seconds": TimedHttp.seconds,
        "http_calls": TimedHttp.calls,
        "floor_seconds": floor,
        "platform_orders": platform_orders,
        "orders": orders,
    }


def _serve(ctx, env: dict) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = (ctx.var_dir / "orders-pull-gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "distribution.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--worker-class", "gthread", "--threads", "2", "--log-level", "warning"],
        cwd=ctx.base_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn for the sandbox exited early")
        try:
            requests.get(f"{base_url}/sandbox/", timeout=5)
            return process, base_url
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn for the sandbox did not start")


def run(ctx) -> list[dict]:
    count = ORDERS // 10 if ctx.quick else ORDERS
    with ctx.fresh_database() as url:
        base_env = ctx.env(database_url=url, SANDBOX_ENABLED="true", LOG_LEVEL="WARNING")
        process, base_url = _serve(ctx, base_env)
        try:
            env = {**base_env, "SHOPIFY_API_BASE": f"{base_url}/sandbox/shopify/{{shop}}"}
            data = ctx.run_worker(__file__, count, base_url, env=env)
        finally:
            process.terminate()
            process.wait(timeout=20)
    ctx.log(
        f"filled in {data['fill_seconds']:.1f} s; pulled {data['platform_orders']:,} platform orders into "
        f"{data['orders']:,} distribution orders in {data['total_seconds']:.1f} s "
        f"({data['http_calls']} HTTP calls, {data['http_seconds']:.1f} s)"
    )
    own = data["total_seconds"] - data["http_seconds"]
    size = f"{count:,} sandbox orders, pages of {PAGE_SIZE}, 1-2 lines each, two warehouses"
    rate = count / own
    return [
        {
            "figure": "orders pull: orders/s excluding HTTP",
            "value": round(rate, 1),
            "unit": "orders/s",
            "target": f"≥ {MIN_RATE} orders/s",
            "ok": rate >= MIN_RATE,
            "size": size,
            "command": ctx.command(NAME),
        },
        {
            "figure": "orders pull: orders/s including HTTP",
            "value": round(count / data["total_seconds"], 1),
            "unit": "orders/s",
            "target": f"≥ {MIN_RATE_HTTP} orders/s",
            "ok": count / data["total_seconds"] >= MIN_RATE_HTTP,
            "size": size,
            "command": ctx.command(NAME),
        },
        {
            "figure": "orders pull: floor, the same requests with their JSON decoded only",
            "value": round(count / data["floor_seconds"], 1),
            "unit": "orders/s",
            "target": "",
            "ok": None,
            "size": size,
            "command": ctx.command(NAME),
        },
        {
            "figure": "orders pull: time including HTTP ÷ the floor's",
            "value": round(data["total_seconds"] / data["floor_seconds"], 1),
            "unit": "×",
            "target": "",
            "ok": None,
            "size": size,
            "command": ctx.command(NAME),
        },
    ]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]), sys.argv[3])))
