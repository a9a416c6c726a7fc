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
import time
from pathlib import Path

import pytest

from tests import real_worker

ORDERS = 200
CLAIM_SECONDS = 5

pytestmark = real_worker.NEEDS_SERVICES

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


@pytest.fixture
def world(tmp_path):
    port = 19000 + os.getpid() % 1000
    fill = FILL.format(base_url=f"http://127.0.0.1:{port}/sandbox/warehouse/crash-wh/2026-01", orders=ORDERS)
    extra = {"PUSH_CLAIM_SECONDS": str(CLAIM_SECONDS)}
    with real_worker.world(
        tmp_path, name="pushcrash", redis_db=11, port=port, fill=fill, env=extra, web_workers=3
    ) as made:
        yield made


def _counts(env):
    import psycopg2

    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        numbers = []
        for sql in COUNTS:
            cursor.execute(sql)
            numbers.append(cursor.fetchone()[0])
        return tuple(numbers)


def _worker(env, log: Path) -> subprocess.Popen:
    return real_worker.celery_worker(env, log, concurrency=2)


def _sweep(env) -> int:
    return int(real_worker.manage_shell(env, "from fulfillment import push; print(push.push_sweep())").splitlines()[-1])


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
