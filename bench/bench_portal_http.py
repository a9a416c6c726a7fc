"""Portal pages under concurrent HTTP load, served the way production serves them.

gunicorn (gthread workers, DEBUG off, whitenoise's manifest static storage, persistent
database connections) runs on a fresh benchmark database seeded with the demo data;
`loadgen.py`, a second process, signs in as the demo owner and hammers each page.
Both share the machine's cores, so the figures are a floor for a dedicated server.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

NAME = "portal_http"
DESCRIPTION = "portal home (demo owner) and login page under concurrent load against gunicorn"

LOADGEN = Path(__file__).with_name("loadgen.py")
# As seeded by `manage.py seed_demo` (distribution/demo.py, OWNER).
DEMO_OWNER = ("demo@example.com", "demo-pass-2026")
# (label, path, signed in as the demo owner?)
PAGES = [("portal home", "/", True), ("login page", "/accounts/login/", False)]
MIN_REQUESTS_PER_SECOND = 150
MAX_P95_MS = 100
CONNECTIONS = 8
# Django is CPU-bound here: one worker per core (2 to 4), a few threads each to overlap database waits.
WORKERS = min(4, max(2, os.cpu_count() or 2))
THREADS = 4


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, url: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


@contextmanager
def gunicorn(ctx, env: dict[str, str]) -> Iterator[str]:
    """Serve the project with gunicorn on a free local port; yield its base URL; always stop it."""
    port = _free_port()
    log_path = ctx.var_dir / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "distribution.wsgi"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)]
            + ["--worker-class", "gthread", "--threads", str(THREADS), "--log-level", "warning"],
            cwd=ctx.base_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_serving(process, f"{base_url}/accounts/login/", log_path)
        ctx.log(f"gunicorn serving on {base_url} ({WORKERS} workers × {THREADS} threads)")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _load(ctx, url: str, *, login_url: str | None, seconds: float, warmup: float) -> dict:
    command = [sys.executable, str(LOADGEN), "--url", url, "--connections", str(CONNECTIONS)]
    command += ["--seconds", str(seconds), "--warmup", str(warmup)]
    env = dict(os.environ)
    if login_url:
        command += ["--login-url", login_url]
        env.update(BENCH_LOGIN=DEMO_OWNER[0], BENCH_PASSWORD=DEMO_OWNER[1])
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + warmup + 120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed ({result.returncode}):\n{result.stderr[-3000:]}")
    stats = json.loads(result.stdout)
    if stats["errors"]:
        raise RuntimeError(f"{stats['errors']} of the requests to {url} failed, e.g. {stats['error_samples']}")
    if not stats["requests"]:
        raise RuntimeError(f"no request to {url} completed within the measured window")
    return stats


def run(ctx) -> list[dict]:
    seconds, warmup = (3, 1) if ctx.quick else (10, 2)
    size = f"{CONNECTIONS} connections × {seconds} s; gunicorn {WORKERS} workers × {THREADS} threads; demo data"
    rows = []
    with ctx.fresh_database() as database_url:
        production = ctx.production_env(allowed_host="127.0.0.1")
        # Seeded under DEBUG (seed_demo refuses otherwise) but with the server's key, so it can read what was stored.
        keys = {"STORE_CREDENTIAL_KEYS": production["STORE_CREDENTIAL_KEYS"]}
        ctx.manage("seed_demo", database_url=database_url, extra_env=keys)
        ctx.manage("collectstatic", "--noinput", "--clear", database_url=database_url, extra_env=production)
        with gunicorn(ctx, ctx.env(database_url=database_url, **production)) as base_url:
            for label, path, signed_in in PAGES:
                stats = _load(
                    ctx,
                    base_url + path,
                    login_url=f"{base_url}/accounts/login/" if signed_in else None,
                    seconds=seconds,
                    warmup=warmup,
                )
                ctx.log(
                    f"{label}: {stats['requests']} requests, {stats['requests_per_second']:.0f} req/s, "
                    f"p50 {stats['p50_ms']:.1f} ms, p95 {stats['p95_ms']:.1f} ms, p99 {stats['p99_ms']:.1f} ms"
                )
                rows += [
                    {
                        "figure": f"{label}: throughput",
                        "value": round(stats["requests_per_second"], 1),
                        "unit": "req/s",
                        "target": f"≥ {MIN_REQUESTS_PER_SECOND} req/s",
                        "ok": stats["requests_per_second"] >= MIN_REQUESTS_PER_SECOND,
                        "size": size,
                        "command": ctx.command(NAME),
                    },
                    {
                        "figure": f"{label}: p95 latency",
                        "value": round(stats["p95_ms"], 1),
                        "unit": "ms",
                        "target": f"≤ {MAX_P95_MS} ms",
                        "ok": stats["p95_ms"] <= MAX_P95_MS,
                        "size": size,
                        "command": ctx.command(NAME),
                    },
                ]
    return rows
