"""A worker killed mid-pull loses nothing and blocks nothing: a real Celery worker on
Redis pulls 4,000 sandbox orders over HTTP, is killed with SIGKILL half-way, is started
again, and within the lease plus two sweeps every order is there exactly once, with no
manual step; the killed run is closed as failed, saying why.

Everything runs in child processes on a database of its own (the worker, gunicorn for
the sandbox, the sweeps), as in production: PostgreSQL and Redis (CI has both)."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests import real_worker

ORDERS = 4000
LEASE_SECONDS = 6

pytestmark = real_worker.NEEDS_SERVICES

# Each page answers after half a second, so the pull is surely half-way when the test kills it.
FILL = real_worker.shopify_stores_fill(name="crash", stores=1, orders=ORDERS, seed=7, slow_seconds=0.5)

COUNTS = [
    "SELECT count(*) FROM orders_platformorder",
    "SELECT count(*) FROM orders_order",
    "SELECT count(*) FROM (SELECT external_id FROM orders_platformorder GROUP BY external_id HAVING count(*) > 1) d",
]
RUNS = "SELECT status, fetched, message FROM orders_pullrun ORDER BY id"


@pytest.fixture
def world(tmp_path):
    port = 18000 + os.getpid() % 1000
    extra = {
        "PULL_LEASE_SECONDS": str(LEASE_SECONDS),
        "SHOPIFY_API_BASE": f"http://127.0.0.1:{port}/sandbox/shopify/{{shop}}",
    }
    with real_worker.world(tmp_path, name="crash", redis_db=12, port=port, fill=FILL, env=extra) as made:
        yield made


def _counts(env):
    """(platform orders, orders, duplicated platform orders, [(run status, fetched, message)]), read directly."""
    import psycopg2

    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        numbers = []
        for sql in COUNTS:
            cursor.execute(sql)
            numbers.append(cursor.fetchone()[0])
        cursor.execute(RUNS)
        return (*numbers, cursor.fetchall())


def _worker(env, log: Path) -> subprocess.Popen:
    return real_worker.celery_worker(env, log)


def _sweep(env) -> str:
    return real_worker.manage_shell(env, "from orders import pull; print(len(pull.pull_sweep()))")


def test_a_worker_killed_mid_pull_is_recovered_by_the_sweep_with_every_order_once(world, tmp_path):
    env, started = world
    worker = _worker(env, tmp_path / "worker-1.log")
    started.append(worker)
    assert _sweep(env) == "1"
    # when the worker is killed (SIGKILL, as the OOM killer does) half-way through the pull
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        platform_orders = _counts(env)[0]
        if platform_orders >= 1000:
            break
        assert worker.poll() is None, (tmp_path / "worker-1.log").read_text()[-3000:]
        time.sleep(0.3)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    before = _counts(env)
    assert 0 < before[0] < ORDERS, f"the pull should be half-way when killed: {before[0]} of {ORDERS}"
    # and started again, with nobody touching anything
    worker = _worker(env, tmp_path / "worker-2.log")
    started.append(worker)
    # then within the lease plus two sweeps the store is pulled again, to the end
    time.sleep(LEASE_SECONDS + 1)
    sweeps = [_sweep(env)]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        platform_orders, orders, dupes, runs = _counts(env)
        if platform_orders == ORDERS and runs and runs[-1][0] == "succeeded":
            break
        if len(sweeps) < 2 and runs and runs[-1][0] == "failed":
            sweeps.append(_sweep(env))
        time.sleep(1)
    platform_orders, orders, dupes, runs = _counts(env)
    assert (platform_orders, orders, dupes) == (ORDERS, ORDERS, 0), (tmp_path / "worker-2.log").read_text()[-3000:]
    assert len(sweeps) <= 2
    assert runs[0][0] == "failed" and "killed or restarted" in runs[0][2]
    assert runs[-1][0] == "succeeded"
