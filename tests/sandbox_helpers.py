"""Driving the sandbox emulators over real HTTP from tests: consent pages, control switches,
the warehouse API's accounts, a webhook receiver."""

import html
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import requests

from stores.platforms.base import PlatformHttp, RetryPolicy

HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class ShopifySandbox:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def shop_url(self, shop: str, path: str = "") -> str:
        return f"{self.base_url}/sandbox/shopify/{shop}{path}"

    def control(self, shop: str, **switches) -> dict:
        response = requests.post(self.shop_url(shop, "/_sandbox/control"), json=switches, timeout=30)
        response.raise_for_status()
        return response.json()

    def press_consent(self, consent_url: str, *, decision: str = "install") -> requests.Response:
        """Open the consent page as the merchant and press a button; the sandbox's answer."""
        page = requests.get(consent_url, timeout=10)
        assert page.status_code == 200, page.text
        assert "Install app" in page.text
        fields = {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(page.text)}
        return requests.post(consent_url, data={**fields, "decision": decision}, allow_redirects=False, timeout=10)

    def consent(self, consent_url: str) -> dict:
        """Install the app; the query of the redirect back to our callback."""
        answer = self.press_consent(consent_url)
        assert answer.status_code == 302, answer.text
        return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


class WarehouseSandbox:
    """The sandbox warehouse API: an account's base URL (with the API version) and its control endpoint."""

    version = "2026-01"

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def api_url(self, account: str) -> str:
        return f"{self.base_url}/sandbox/warehouse/{account}/{self.version}"

    def control(self, account: str, **switches) -> dict:
        """Switches and actions; the account is made on first use. The answer has its api_token and webhook_secret."""
        url = f"{self.base_url}/sandbox/warehouse/{account}/_sandbox/control"
        response = requests.post(url, json=switches, timeout=30)
        response.raise_for_status()
        return response.json()


def recording_http(platform: str, sleeps: list, *, timeout=(5.0, 30.0), **policy) -> PlatformHttp:
    """A client HTTP helper that records its waits instead of sleeping, with no jitter."""
    return PlatformHttp(
        platform=platform, sleep=sleeps.append, rng=lambda: 0.0, policy=RetryPolicy(**policy), timeout=timeout
    )


class WebhookReceiver:
    """A tiny HTTP server standing in for our webhook endpoint; keeps what it receives."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/webhooks/shopify"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
