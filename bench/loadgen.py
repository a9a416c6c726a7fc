"""HTTP load generator: C connections hammer one URL for N seconds; prints JSON stats.

    python bench/loadgen.py --url http://127.0.0.1:8123/ --seconds 10 --connections 8 \
        [--login-url http://127.0.0.1:8123/accounts/login/]   # credentials in BENCH_LOGIN / BENCH_PASSWORD

It runs as its own process so the client's CPU time is not counted inside the server's,
and uses only threads and requests.Session, so it works wherever the project does.
With --login-url it signs in once through allauth's form (GET the page, take the
csrftoken cookie, POST login and password) and every connection reuses that session.

A request counts when it completes inside the measured window (after --warmup); an
error is any answer other than --expect-status (redirects are not followed, so a lost
session shows up as an error, not as a fast login page).
"""

import argparse
import json
import math
import os
import sys
import threading
import time

import requests


def login(login_url: str, email: str, password: str) -> requests.cookies.RequestsCookieJar:
    session = requests.Session()
    page = session.get(login_url, timeout=30)
    page.raise_for_status()
    token = session.cookies.get("csrftoken")
    if not token:
        raise SystemExit(f"login page {login_url} set no csrftoken cookie")
    response = session.post(
        login_url,
        data={"login": email, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"login as {email} failed: HTTP {response.status_code}")
    return session.cookies


class Recorder:
    def __init__(self, measure_from: float, deadline: float):
        self.measure_from = measure_from
        self.deadline = deadline
        self.latencies: list[float] = []
        self.errors = 0
        self.error_samples: list[str] = []
        self._lock = threading.Lock()

    def record(self, started: float, finished: float, error: str | None) -> None:
        if started < self.measure_from or finished > self.deadline:
            return
        with self._lock:
            if error is None:
                self.latencies.append(finished - started)
            else:
                self.errors += 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(error)


def hammer(url: str, cookies, recorder: Recorder, expect_status: int) -> None:
    session = requests.Session()
    if cookies is not None:
        session.cookies.update(cookies)
    while True:
        started = time.perf_counter()
        if started >= recorder.deadline:
            return
        try:
            response = session.get(url, allow_redirects=False, timeout=30)
            error = None if response.status_code == expect_status else f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        recorder.record(started, time.perf_counter(), error)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=2.0, help="load before the measured window, not counted")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--expect-status", type=int, default=200)
    parser.add_argument("--login-url", help="sign in here first, with BENCH_LOGIN / BENCH_PASSWORD")
    args = parser.parse_args(argv)

    cookies = None
    if args.login_url:
        cookies = login(args.login_url, os.environ["BENCH_LOGIN"], os.environ["BENCH_PASSWORD"])

    now = time.perf_counter()
    recorder = Recorder(measure_from=now + args.warmup, deadline=now + args.warmup + args.seconds)
    threads = [
        threading.Thread(target=hammer, args=(args.url, cookies, recorder, args.expect_status), daemon=True)
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    latencies = sorted(recorder.latencies)
    json.dump(
        {
            "url": args.url,
            "connections": args.connections,
            "seconds": args.seconds,
            "requests": len(latencies),
            "errors": recorder.errors,
            "error_samples": recorder.error_samples,
            "requests_per_second": len(latencies) / args.seconds,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
