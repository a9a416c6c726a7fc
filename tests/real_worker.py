"""A world of real processes for the tests that kill a Celery worker mid-task: a database
of its own on the PostgreSQL server, gunicorn serving the sandbox, Celery workers on Redis,
and `manage.py shell` for the sweeps, all child processes as in production."""

import os
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.conftest import using_postgres

ROOT = Path(settings.BASE_DIR)

# The marks of a test that runs real processes: PostgreSQL and Redis, as CI has them.
NEEDS_SERVICES = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not (using_postgres() and os.environ.get("REDIS_URL")), reason="real workers on Redis and PostgreSQL"
    ),
]


def shopify_stores_fill(*, name: str, stores: int, orders: int, seed: int, slow_seconds: float = 0.0) -> str:
    """The `fill` script of a world of `stores` sandbox Shopify stores (a distributor each,
    its SKU SERUM mapped) of `orders` new one-line orders each; each page of the sandbox
    answers after `slow_seconds`. The many-stores benchmark's own fill does the work."""
    return f"""
from bench.bench_pull_workers import fill
fill({stores}, {orders}, name={name!r}, seed={seed}, slow_seconds={slow_seconds})
print("filled")
"""


def admin_sql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True, capture_output=True)


def manage_shell(env: dict, code: str, *, timeout: float = 120) -> str:
    """Run `code` in `manage.py shell` in that world; its output (the test fails on an error)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def celery_worker(env: dict, log: Path, *, concurrency: int = 1) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "distribution", "worker", "--pool=prefork"]
        + [f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL takes the pool children too
    )


@contextmanager
def world(tmp_path: Path, *, name: str, redis_db: int, port: int, fill: str, env: dict, web_workers: int = 2):
    """A migrated database filled by `fill` (which prints "filled"), Redis db `redis_db`
    emptied, the sandbox on gunicorn at `port`; yields (env, started): add each worker
    started to `started` and it is killed (SIGKILL, its whole group) at the end."""
    database = f"distribution_{name}_{uuid.uuid4().hex[:8]}"
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    admin_sql(f"CREATE DATABASE {database}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{base}/{database}",
        "REDIS_URL": os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{redis_db}",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "SANDBOX_ENABLED": "true",
        "TESTING": "",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SANDBOX_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
        "DJANGO_SETTINGS_MODULE": "distribution.settings",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    python = sys.executable
    started: list[subprocess.Popen] = []
    web = None
    try:
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        # Empty, not only purged: a killed worker's unacknowledged tasks of an earlier run
        # would be handed out again, with ids that name other orders in this new database.
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        assert "filled" in manage_shell(env, fill, timeout=300)
        web = subprocess.Popen(
            [python, "-m", "gunicorn", "distribution.wsgi", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(web_workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        yield env, started
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        if web is not None and web.poll() is None:
            web.kill()
            web.wait(timeout=30)
        admin_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
