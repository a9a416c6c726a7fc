"""Many stores, several workers: 12 sandbox Shopify stores of 150 new orders each are pulled by
two Celery worker processes of two pool processes each (four in all) on Redis, from sweeps
that overlap (the sweep is asked for twice at once, as a slow beat tick beside a manual
[Sync now] would): every store is pulled and every order is there exactly once.

Everything runs in child processes on a database of its own, as in production (see
tests/real_worker.py). The orders/s of 1 and of 4 workers on 100 stores is for bench/."""

import os
import threading
import time

import pytest

from bench import bench_pull_workers
from tests import real_worker

STORES = 12
ORDERS_PER_STORE = 150

pytestmark = real_worker.NEEDS_SERVICES

FILL = real_worker.shopify_stores_fill(name="many", stores=STORES, orders=ORDERS_PER_STORE, seed=11)

COUNTS = bench_pull_workers.COUNTS  # the benchmark's exactly-once check, the same query


@pytest.fixture
def world(tmp_path):
    port = 19000 + os.getpid() % 1000
    extra = {"SHOPIFY_API_BASE": f"http://127.0.0.1:{port}/sandbox/shopify/{{shop}}"}
    with real_worker.world(tmp_path, name="many", redis_db=13, port=port, fill=FILL, env=extra) as made:
        yield made


def _counts(env):
    import psycopg2

    with psycopg2.connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute(COUNTS)
        return cursor.fetchone()


def test_many_stores_pulled_by_four_worker_processes_take_every_order_exactly_once(world, tmp_path):
    env, started = world
    # given two workers of two pool processes each
    for number in (1, 2):
        started.append(real_worker.celery_worker(env, tmp_path / f"worker-{number}.log", concurrency=2))
    # when the sweep is asked for twice at the same moment
    answers = []
    sweeps = [
        threading.Thread(
            target=lambda: answers.append(
                real_worker.manage_shell(env, "from orders import pull; print(len(pull.pull_sweep()))")
            )
        )
        for _ in range(2)
    ]
    for sweep in sweeps:
        sweep.start()
    for sweep in sweeps:
        sweep.join(timeout=120)
    assert len(answers) == 2
    # then every store is pulled to the end, and no order is there twice
    expected = STORES * ORDERS_PER_STORE
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        platform_orders, orders, dupes, pulled, open_runs = _counts(env)
        if platform_orders == expected and pulled == STORES and open_runs == 0:
            break
        time.sleep(1)
    platform_orders, orders, dupes, pulled, open_runs = _counts(env)
    logs = "".join((tmp_path / f"worker-{n}.log").read_text()[-1500:] for n in (1, 2))
    assert (platform_orders, orders, dupes) == (expected, expected, 0), logs
    assert pulled == STORES and open_runs == 0, logs
    # and the sweeps between them queued each store once: the second found them due no more
    assert sum(int(answer) for answer in answers) == STORES, answers
