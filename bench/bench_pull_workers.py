"""Many stores, several workers: 100 sandbox Shopify stores of 500 new orders each, pulled by
a Celery worker of 1 and then of 4 pool processes on Redis, against PostgreSQL.

For each worker count a fresh benchmark database is filled (100 distributors, a store
each with its SKU mapped; the sandbox holds the stores' orders, one line each, rate
limit off), gunicorn serves the sandbox (2 workers × 2 threads), a Celery worker starts
with that many pool processes, and the clock starts when one pull sweep runs (what
beat's tick does: every due store queued once) and stops when every order is in and no
pull run is open. Every order must be there exactly once (no store order twice) and
every store pulled: the benchmark fails otherwise. tests/orders/test_pull_many.py holds
the same exactly-once check as a test (overlapping sweeps, two workers).

Figures: orders/s with 1 and with 4 processes and the ratio (issue #12: on 2 cores, 4
should still beat 1 by overlapping the HTTP waits, by at least 1.6×).

PostgreSQL and REDIS_URL only (real workers on a real broker are the point).
"""

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

NAME = "pull_workers"
DESCRIPTION = "100 stores × 500 orders pulled by a Celery worker of 1 and of 4 processes (Redis, PostgreSQL)"

STORES = 100
ORDERS_PER_STORE = 500
PROCESSES = (1, 4)
MIN_SPEEDUP = 1.6
REDIS_DB = 10
TIMEOUT = 1200  # seconds for one pull of everything

COUNTS = """
SELECT (SELECT count(*) FROM orders_platformorder),
       (SELECT count(*) FROM orders_order),
       (SELECT count(*) FROM (SELECT store_id, external_id FROM orders_platformorder
                              GROUP BY store_id, external_id HAVING count(*) > 1) d),
       (SELECT count(DISTINCT store_id) FROM orders_pullrun WHERE status = 'succeeded'),
       (SELECT count(*) FROM orders_pullrun WHERE status IN ('queued', 'running'))
"""


def fill(stores: int, orders: int, *, name: str = "pull-workers", seed: int = 2026, slow_seconds: float = 0.0) -> dict:
    """`stores` sandbox Shopify stores (a distributor each, its SKU SERUM mapped) of `orders`
    new one-line orders each; each page of the sandbox answers after `slow_seconds`. The
    real-process tests fill their worlds with it too (tests/real_worker.py)."""
    import random

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from catalog.models import Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from mapping.models import Mapping
    from sandbox import shopify, state
    from sandbox.models import SandboxOrder
    from stores.models import Platform, Store

    begin = time.perf_counter()
    rng = random.Random(seed)
    warehouse = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
    product = Product.objects.create(code="RW000000001", name=f"{name.upper()} SERUM")
    item = Item.objects.create(
        item_id="RW000000001-01-01", product=product, warehouse=warehouse, price="9.90", weight_grams=100
    )
    app = state.app_for("shopify", settings.SHOPIFY_CLIENT_ID)
    now = timezone.now()
    rows = []
    for number in range(stores):
        email = f"{name}{number}@example.com"
        user = get_user_model().objects.create_user(email, email, "x")
        distributor = Distributor.objects.create(
            company_name=f"{name} {number}", contact_person="R", phone="1", country="US"
        )
        Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
        domain = f"{name}-{number}.myshopify.com"
        shop = state.shop_get_or_create(
            "shopify", domain, bucket_size=1_000_000, leak_per_second=1e6, slow_seconds=slow_seconds
        )
        token = state.token_issue(shop=shop, app=app, scopes="read_orders", expiring=False)
        store = Store(
            distributor=distributor,
            platform=Platform.SHOPIFY,
            name=f"{name} {number}",
            site="US",
            shop_domain=domain,
            external_key=domain,
        )
        store.set_credentials({"access_token": token.access_token, "scope": "read_orders"})
        store.save()
        Mapping.objects.create(store=store, store_sku="SERUM", item=item)
        for n in range(orders):
            payload = shopify.build_order(
                shop, number=1001 + n, lines=[("SERUM", "Serum", "", Decimal("19.90"), 1)], rng=rng, now=now
            )
            rows.append(
                SandboxOrder(
                    shop=shop, external_id=payload["id"], payload=payload, state="open", created_at=now, updated_at=now
                )
            )
        if len(rows) >= 5_000:
            SandboxOrder.objects.bulk_create(rows, batch_size=1_000)
            rows = []
    SandboxOrder.objects.bulk_create(rows, batch_size=1_000)
    return {"fill_seconds": time.perf_counter() - begin}


def pull(expected: int, stores: int) -> dict:
    """One sweep (beat's tick), then wait until every order is in and no run is open."""
    from django.db import connection

    from orders import pull as order_pull

    begin = time.perf_counter()
    queued = len(order_pull.pull_sweep())
    deadline = time.monotonic() + TIMEOUT
    while True:
        with connection.cursor() as cursor:
            cursor.execute(COUNTS)
            platform_orders, orders, dupes, pulled, open_runs = cursor.fetchone()
        if (platform_orders >= expected and pulled >= stores and open_runs == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    seconds = time.perf_counter() - begin
    return {
        "seconds": seconds,
        "queued": queued,
        "platform_orders": platform_orders,
        "orders": orders,
        "dupes": dupes,
        "pulled": pulled,
        "open_runs": open_runs,
    }


def _celery_worker(ctx, env: dict, processes: int) -> subprocess.Popen:
    log_path = ctx.var_dir / f"pull-workers-celery-{processes}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "distribution", "worker", "--pool=prefork"]
        + [f"--concurrency={processes}", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=ctx.base_dir,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited early: {log_path.read_text()[-2000:]}")
        if " ready." in log_path.read_text():
            return process
        time.sleep(0.3)
    _stop(process)
    raise RuntimeError("the Celery worker did not become ready")


def _stop(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _one(ctx, processes: int, stores: int, orders: int) -> dict:
    import redis

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_orders_pull import _serve

    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    with ctx.fresh_database() as url:
        env = ctx.env(
            database_url=url,
            REDIS_URL=redis_url,
            SANDBOX_ENABLED="true",
            CELERY_TASK_ALWAYS_EAGER="false",
            TESTING="",
            LOG_LEVEL="WARNING",
        )
        filled = ctx.run_worker(__file__, "fill", stores, orders, env=env)
        web, base_url = _serve(ctx, env)
        env = {**env, "SHOPIFY_API_BASE": f"{base_url}/sandbox/shopify/{{shop}}"}
        worker = _celery_worker(ctx, env, processes)
        try:
            data = ctx.run_worker(__file__, "pull", stores * orders, stores, env=env, timeout=TIMEOUT + 120)
        finally:
            _stop(worker)
            web.terminate()
            web.wait(timeout=20)
    expected = stores * orders
    if (data["platform_orders"], data["orders"], data["dupes"]) != (expected, expected, 0) or data["pulled"] != stores:
        raise RuntimeError(f"{processes} process(es): not every order exactly once: {data}")
    ctx.log(
        f"{processes} process(es): {expected:,} orders of {stores} stores in {data['seconds']:.1f} s "
        f"(filled in {filled['fill_seconds']:.1f} s; {data['queued']} stores queued by the sweep)"
    )
    return data


def run(ctx) -> list[dict]:
    if not ctx.is_postgres or not os.environ.get("REDIS_URL"):
        ctx.log("skipped: needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)")
        return []
    stores, orders = (10, 100) if ctx.quick else (STORES, ORDERS_PER_STORE)
    rates = {}
    for processes in PROCESSES:
        data = _one(ctx, processes, stores, orders)
        rates[processes] = stores * orders / data["seconds"]
    speedup = rates[PROCESSES[-1]] / rates[PROCESSES[0]]
    size = f"{stores} sandbox Shopify stores × {orders} one-line orders; one sweep; sandbox on gunicorn 2 × 2 threads"
    command = ctx.command(NAME)
    rows = [
        {
            "figure": f"many stores: orders/s pulled by a worker of {processes} process(es)",
            "value": round(rate, 1),
            "unit": "orders/s",
            "target": "",
            "ok": None,
            "size": size,
            "command": command,
        }
        for processes, rate in rates.items()
    ]
    rows.append(
        {
            "figure": f"many stores: {PROCESSES[-1]} processes ÷ {PROCESSES[0]}",
            "value": round(speedup, 2),
            "unit": "×",
            "target": f"≥ {MIN_SPEEDUP}",
            "ok": speedup >= MIN_SPEEDUP,
            "size": size,
            "command": command,
        }
    )
    return rows


if __name__ == "__main__" and len(sys.argv) >= 3 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    mode, args = sys.argv[2], [int(value) for value in sys.argv[3:]]
    print(json.dumps(fill(*args) if mode == "fill" else pull(*args)))
