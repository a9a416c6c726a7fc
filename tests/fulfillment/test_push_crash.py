"""A worker killed while pushing leaves no order behind and none twice: a real Celery
worker on Redis pushes 200 paid orders to the sandbox warehouse over HTTP, is killed with
SIGKILL part-way, is started again, and after the claim has lapsed and beat's sweep has
run, the warehouse holds exactly 200 orders, one per order number, and every order is at
the warehouse.

Everything runs in child processes on a database of its own (the worker, gunicorn for the
sandbox, the sweeps), as in production: PostgreSQL and Redis (CI has both)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import using_postgres

ROOT = Path(settings.BASE_DIR)
ORDERS = 200
CLAIM_SECONDS = 5

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (using_postgres() and os.environ.get("REDIS_URL")), reason="a real worker on Redis and PostgreSQL"
    ),
]

FILL = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from catalog.models import Item, Product, Warehouse
from distribution.models import Distributor, Membership, Role
from fulfillment.models import BackendKind, WarehouseBackend
from fulfillment.services import warehouse_backend_set_secrets
from orders.models import Order, OrderLine, OrderStatus
from sandbox import state, warehouse as sandbox_warehouse
from stores.models import Platform, Store

account = sandbox_warehouse.account_get_or_create("crash-wh", ship_after_seconds=3600)
# Every call answers after a tenth of a second, so the push is surely part-way when killed.
state.faults_set(account.shop, slow_seconds=0.1, bucket_size=100000, leak_per_second=100000)
warehouse = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
backend = WarehouseBackend(warehouse=warehouse, kind=BackendKind.REST, base_url="{base_url}")
warehouse_backend_set_secrets(backend=backend, token=account.api_token, webhook_secret=account.webhook_secret)
product = Product.objects.create(code="CR000000001", name="CRASH SERUM")
item = Item.objects.create(item_id="CR000000001-01-01", product=product, warehouse=warehouse, price="9.90",
                           weight_grams=100, stock_on_hand=1000)
user = get_user_model().objects.create_user("crash@example.com", "crash@example.com", "x")
distributor = Distributor.objects.create(company_name="Crash", contact_person="C", phone="1", country="US")
Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
store = Store.objects.create(distributor=distributor, platform=Platform.OTHER, name="Crash US", site="US")
orders = Order.objects.bulk_create([
    Order(distributor=distributor, store=store, number=f"DOCRASH{{n:05d}}", status=OrderStatus.PAID,
          warehouse=warehouse, recipient_name="Ada", address1="1 Main St", city="Boston", province="MA",
          postal_code="02134", country="US", goods_amount=Decimal("9.90"), total_amount=Decimal("9.90"))
    for n in range({orders})
])
OrderLine.objects.bulk_create([
    OrderLine(order=order, store_sku="SERUM", quantity=1, item=item, item_code=item.item_id,
              product_name=product.name, unit_price=Decimal("9.90"))
    for order in orders
])
print("filled")
"""

COUNTS = [
    "SELECT count(*) FROM sandbox_sandboxoutboundorder",
    "SELECT count(DISTINCT reference_id) FROM sandbox_sandboxoutboundorder",
    "SELECT count(*) FROM orders_order WHERE status = 'at_warehouse'",
    "SELECT count(*) FROM fulfillment_outbound",
]


def _admin_sql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True, capture_output=True)


@pytest.fixture
def world(tmp_path):
    name = f"distribution_pushcrash_{uuid.uuid4().hex[:8]}"
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    _admin_sql(f"CREATE DATABASE {name}")
    port = 19000 + os.getpid() % 1000
    env = {
        **os.environ,
        "DATABASE_URL": f"{base}/{name}",
        "REDIS_URL": os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/11",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "SANDBOX_ENABLED": "true",
        "TESTING": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PUSH_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "SANDBOX_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
        "DJANGO_SETTINGS_MODULE": "distribution.settings",
        "LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    subprocess.run([python, "-m", "celery", "-A", "distribution", "purge", "-f"], cwd=ROOT, env=env, timeout=60)
    fill = FILL.format(base_url=f"http://127.0.0.1:{port}/sandbox/warehouse/crash-wh/2026-01", orders=ORDERS)
    filled = subprocess.run(
        [python, "manage.py", "shell", "--no-imports", "-c", fill],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "filled" in filled.stdout, filled.stderr[-3000:]
    web = subprocess.Popen(
        [python, "-m", "gunicorn", "distribution.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = []
    try:
        yield env, started
    finally:
        for process in [*started, web]:
            if process.poll() is None:
                if process in started:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
                process.wait(timeout=30)
        _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _counts(env):
    import psycopg2

    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        numbers = []
        for sql in COUNTS:
            cursor.execute(sql)
            numbers.append(cursor.fetchone()[0])
        return tuple(numbers)


def _worker(env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "distribution", "worker", "--pool=prefork", "--concurrency=2"]
        + ["--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL takes the pool children too
    )


def _sweep(env) -> int:
    code = "from fulfillment import push; print(push.push_sweep())"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.strip().splitlines()[-1])


def test_a_worker_killed_mid_push_leaves_exactly_one_warehouse_order_per_paid_order(world, tmp_path):
    env, started = world
    worker = _worker(env, tmp_path / "worker-1.log")
    started.append(worker)
    # given beat's sweep queueing a push of all 200 paid orders
    assert _sweep(env) == ORDERS
    # when the worker is killed (SIGKILL, as the OOM killer does) part-way through
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _counts(env)[0] >= 40:
            break
        assert worker.poll() is None, (tmp_path / "worker-1.log").read_text()[-3000:]
        time.sleep(0.2)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    killed_at = _counts(env)
    assert 0 < killed_at[0] < ORDERS, f"the push should be part-way when killed: {killed_at}"
    # and started again, with the claims of the killed attempts lapsing and beat sweeping every few seconds
    worker = _worker(env, tmp_path / "worker-2.log")
    started.append(worker)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if _counts(env)[2] == ORDERS:
            break
        time.sleep(CLAIM_SECONDS)
        _sweep(env)
    # then the warehouse holds exactly one order per paid order, and every order is at the warehouse
    warehouse_orders, references, at_warehouse, outbounds = _counts(env)
    log = (tmp_path / "worker-2.log").read_text()[-3000:]
    assert (warehouse_orders, references, at_warehouse, outbounds) == (ORDERS, ORDERS, ORDERS, ORDERS), log
