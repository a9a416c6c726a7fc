"""The shared platform HTTP helper: Retry-After, jittered backoff, bounded attempts."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from stores.platforms.base import PlatformHttp, PlatformUnavailable, RetryPolicy, parse_retry_after


class ScriptedSession:
    """Answers requests from a script of (status, headers) or exceptions, recording each call."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls: list[tuple[str, str]] = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, headers = step
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = b"{}"
        response.url = url
        return response


def make_http(session, sleeps, **policy):
    return PlatformHttp(
        platform="test", session=session, sleep=sleeps.append, rng=lambda: 0.0, policy=RetryPolicy(**policy)
    )


def test_platform_http_honours_retry_after_on_429_then_succeeds():
    sleeps = []
    session = ScriptedSession((429, {"Retry-After": "2.0"}), (429, {"Retry-After": "1"}), (200, {}))
    response = make_http(session, sleeps).request("GET", "https://shop.example/orders.json")
    assert response.status_code == 200
    assert sleeps == [2.0, 1.0]
    assert len(session.calls) == 3


def test_platform_http_backs_off_exponentially_with_jitter_on_5xx():
    sleeps = []
    session = ScriptedSession((503, {}), (502, {}), (500, {}), (200, {}))
    http = PlatformHttp(
        platform="test", session=session, sleep=sleeps.append, rng=lambda: 1.0, policy=RetryPolicy(base_delay=0.5)
    )
    assert http.request("GET", "https://shop.example/x").status_code == 200
    # equal jitter: between half and all of 0.5, 1, 2 seconds; rng=1.0 gives the top
    assert sleeps == [0.5, 1.0, 2.0]


def test_platform_http_jitter_spreads_the_delay():
    http = PlatformHttp(platform="test", rng=lambda: 0.0, policy=RetryPolicy(base_delay=1.0, max_delay=8.0))
    assert [http.backoff(n, None) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_platform_http_gives_up_after_the_bounded_attempts():
    sleeps = []
    session = ScriptedSession(*[(429, {"Retry-After": "1"})] * 3)
    with pytest.raises(PlatformUnavailable) as excinfo:
        make_http(session, sleeps, max_attempts=3).request("GET", "https://shop.example/x")
    assert excinfo.value.status_code == 429
    assert len(session.calls) == 3
    assert len(sleeps) == 2


def test_platform_http_does_not_wait_out_a_very_long_retry_after():
    sleeps = []
    session = ScriptedSession((429, {"Retry-After": "3600"}))
    with pytest.raises(PlatformUnavailable):
        make_http(session, sleeps, max_retry_after=60).request("GET", "https://shop.example/x")
    assert sleeps == []


def test_platform_http_never_repeats_a_post_after_a_server_error():
    sleeps = []
    session = ScriptedSession((500, {}))
    response = make_http(session, sleeps).request("POST", "https://shop.example/fulfillments.json")
    assert response.status_code == 500  # the caller decides; a second POST might ship twice
    assert sleeps == []


def test_platform_http_repeats_a_post_after_429_because_nothing_happened():
    sleeps = []
    session = ScriptedSession((429, {"Retry-After": "1"}), (201, {}))
    assert make_http(session, sleeps).request("POST", "https://shop.example/fulfillments.json").status_code == 201


def test_platform_http_retries_connection_errors_for_get_only():
    sleeps = []
    session = ScriptedSession(requests.ConnectionError("reset"), (200, {}))
    assert make_http(session, sleeps).request("GET", "https://shop.example/x").status_code == 200
    with pytest.raises(PlatformUnavailable):
        make_http(ScriptedSession(requests.Timeout("slow")), sleeps).request("POST", "https://shop.example/x")


def test_parse_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now.timestamp()) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
