"""WooCommerce REST API v3: order payloads -> NormalizedOrder.

Times: `date_created_gmt` / `date_modified_gmt` are naive UTC; the non-gmt fields are
the shop's local time with no offset, so only the gmt ones are used.
Names may carry HTML entities ("Ship Your Idea &ndash; Color: Black"); they are unescaped.
"""

import base64
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from .base import (
    AuthorizationRefused,
    AuthorizationResult,
    AuthorizationStart,
    CancelStatus,
    CredentialsRevoked,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    NormalizedBuyer,
    NormalizedLine,
    NormalizedOrder,
    OrderPage,
    PayloadError,
    PlatformAuthError,
    PlatformClient,
    PlatformRequestRejected,
    PlatformUnavailable,
    TrackingInfo,
    TrackingResult,
    ident,
    iso_datetime,
    money,
    quantity,
    register,
    require_mapping,
    text,
)

PLATFORM = "woocommerce"

# status -> (fulfilment, cancel); the financial side depends on date_paid and refunds.
STATUS = {
    "pending": (FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "processing": (FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "on-hold": (FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "completed": (FulfillmentStatus.FULFILLED, CancelStatus.NONE),
    "cancelled": (FulfillmentStatus.UNFULFILLED, CancelStatus.CANCELLED),
    "refunded": (FulfillmentStatus.UNKNOWN, CancelStatus.NONE),
    "failed": (FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "trash": (FulfillmentStatus.UNKNOWN, CancelStatus.CANCELLED),
}


def _financial(order: Mapping, status: str) -> FinancialStatus:
    if status == "refunded":
        return FinancialStatus.REFUNDED
    if status == "failed":
        return FinancialStatus.VOIDED
    if order.get("refunds"):
        return FinancialStatus.PARTIALLY_REFUNDED
    if order.get("date_paid_gmt") or order.get("date_paid") or status in {"processing", "completed"}:
        return FinancialStatus.PAID
    return FinancialStatus.PENDING


def _name(first, last) -> str:
    return " ".join(part for part in (text(first), text(last)) if part)


def _line(line: Mapping) -> NormalizedLine:
    count = quantity(line.get("quantity"))
    subtotal = money(line.get("subtotal"))
    # `subtotal` is the line before coupons, as text with the shop's decimals; `price`
    # is a JSON number (subtotal / quantity, possibly a long float), so it is the fallback.
    unit = subtotal / count if subtotal is not None and count else money(line.get("price"))
    variation = ident(line.get("variation_id"))
    return NormalizedLine(
        external_line_id=ident(line.get("id")),
        sku=text(line.get("sku")),
        quantity=count,
        unit_price=unit,
        title=html.unescape(text(line.get("name"))),
        product_id=ident(line.get("product_id")),
        variant_id="" if variation in {"", "0"} else variation,
        line_total=subtotal,
    )


def parse_order(order: Mapping) -> NormalizedOrder:
    order = require_mapping(order, "a WooCommerce order")
    if "id" not in order or "status" not in order or "line_items" not in order:
        raise PayloadError("Not a WooCommerce order: an order has `id`, `status` and `line_items`.")
    status = text(order.get("status"))
    fulfillment, cancel = STATUS.get(status, (FulfillmentStatus.UNKNOWN, CancelStatus.NONE))
    billing = order.get("billing") or {}
    shipping = order.get("shipping") or {}
    email = text(billing.get("email"))
    phone = text(shipping.get("phone")) or text(billing.get("phone"))
    shipping_lines = order.get("shipping_lines") or []
    state = text(shipping.get("state"))
    return NormalizedOrder(
        platform=PLATFORM,
        external_id=ident(order["id"]),
        display_number=text(order.get("number")) or ident(order["id"]),
        created_at=iso_datetime(order.get("date_created_gmt")),
        updated_at=iso_datetime(order.get("date_modified_gmt")),
        currency=text(order.get("currency")).upper(),
        financial_status=_financial(order, status),
        fulfillment_status=fulfillment,
        cancel_status=cancel,
        platform_status=status,
        buyer=NormalizedBuyer(
            external_id="" if ident(order.get("customer_id")) in {"", "0"} else ident(order.get("customer_id")),
            name=_name(billing.get("first_name"), billing.get("last_name")),
            email=email,
            phone=text(billing.get("phone")),
        ),
        shipping_address=NormalizedAddress(
            name=_name(shipping.get("first_name"), shipping.get("last_name")),
            company=text(shipping.get("company")),
            phone=phone,
            email=email,
            address1=text(shipping.get("address_1")),
            address2=text(shipping.get("address_2")),
            city=text(shipping.get("city")),
            # WooCommerce stores the state as a code (CA, RJ) wherever it knows the country's states.
            province_code=state,
            postal_code=text(shipping.get("postcode")),
            country_code=text(shipping.get("country")).upper(),
        ),
        lines=tuple(_line(line) for line in order.get("line_items") or []),
        shipping_method=html.unescape(text(shipping_lines[0].get("method_title"))) if shipping_lines else "",
        total=money(order.get("total")),
        raw=dict(order),
    )


def parse_document(document: Any) -> list[NormalizedOrder]:
    """A single order (GET/PUT /orders/{id}, a webhook body) or a list page (GET /orders)."""
    if isinstance(document, list):
        return [parse_order(order) for order in document]
    return [parse_order(document)]


# --- The client -------------------------------------------------------------------------


def normalize_site_url(value: str) -> str:
    """'shop.example/' -> 'https://shop.example'; the scheme is kept when given."""
    raw = text(value).rstrip("/")
    if raw and "://" not in raw:
        raw = f"https://{raw}"
    return raw


def is_site_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.query and not parts.fragment


def _rfc3986(value) -> str:
    return quote(str(value), safe="~-._")


def oauth1_sign(method: str, url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    """WooCommerce's one-legged OAuth 1.0a, HMAC-SHA256: base string METHOD&url&sorted params."""
    pairs = sorted((_rfc3986(k), _rfc3986(v)) for k, v in params.items() if k != "oauth_signature")
    base = "&".join([method.upper(), _rfc3986(url), _rfc3986("&".join(f"{k}={v}" for k, v in pairs))])
    return base64.b64encode(hmac.new(f"{consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()).decode()


def webhook_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _error_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return text(data.get("message") if isinstance(data, Mapping) else data)[:200]


@register
class WooCommerceClient(PlatformClient):
    platform = PLATFORM
    auth_kind = "keys"
    # WordPress caps per_page at 100.
    page_size = 100

    def __init__(self, connection=None, *, http=None, page_size: int = 0):
        super().__init__(connection, http=http)
        if page_size:
            self.page_size = page_size

    def api_url(self, path: str) -> str:
        return f"{normalize_site_url(self.connection.site_url)}/wp-json/wc/v3/{path}"

    # --- authorization ------------------------------------------------------------------
    def start_authorization(self, *, state, redirect_uri, form) -> AuthorizationStart:
        return AuthorizationStart(redirect_url=None)

    def complete_authorization(self, *, params, expected_state, redirect_uri, form) -> AuthorizationResult:
        """Keys typed by hand: checked by listing one order before anything is saved."""
        site_url = normalize_site_url(form.get("site_url", ""))
        if not is_site_url(site_url):
            raise AuthorizationRefused(
                f"“{form.get('site_url', '')}” is not a site address such as https://shop.example."
            )
        key, secret = text(params.get("consumer_key")), text(params.get("consumer_secret"))
        if not key or not secret:
            raise AuthorizationRefused("Enter the consumer key and the consumer secret.")
        self.connection.site_url = site_url
        self.connection.credentials = {"consumer_key": key, "consumer_secret": secret}
        response = self._send("GET", "orders", params={"per_page": 1})
        if response.status_code == 401:
            raise AuthorizationRefused(f"WooCommerce refused these keys: {_error_message(response)}", status_code=401)
        if response.status_code == 404:
            raise AuthorizationRefused(
                "No WooCommerce REST API answers at this address; check the site URL.", status_code=404
            )
        if response.status_code >= 400:
            raise AuthorizationRefused(
                f"WooCommerce answered {response.status_code}: {_error_message(response)}",
                status_code=response.status_code,
            )
        return AuthorizationResult(
            credentials=dict(self.connection.credentials), identifiers={"site_url": site_url}, scopes="read_write"
        )

    # --- calls --------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, params: Mapping | None = None, **kwargs) -> requests.Response:
        url = self.api_url(path)
        query = {k: str(v) for k, v in (params or {}).items()}
        key = self.credentials.get("consumer_key", "")
        secret = self.credentials.get("consumer_secret", "")
        if url.startswith("https://"):
            kwargs["auth"] = (key, secret)
        else:
            # Over plain HTTP WooCommerce ignores Basic auth and wants signed requests.
            query.update(
                oauth_consumer_key=key,
                oauth_timestamp=str(int(time.time())),
                oauth_nonce=secrets.token_hex(16),
                oauth_signature_method="HMAC-SHA256",
            )
            query["oauth_signature"] = oauth1_sign(method, url, query, secret)
        return self.http.request(method, url, params=query, headers={"Accept": "application/json"}, **kwargs)

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self._send(method, path, **kwargs)
        status = response.status_code
        if status == 401:
            message = _error_message(response)
            if "permission" in message.lower():
                raise PlatformAuthError(f"The WooCommerce key lacks a permission: {message}", status_code=401)
            # Keys do not expire: a refused key was deleted or revoked in WooCommerce.
            raise CredentialsRevoked(f"WooCommerce no longer accepts the API keys ({message}).", status_code=401)
        if status == 403:
            raise PlatformAuthError(f"WooCommerce denies this call ({_error_message(response)}).", status_code=403)
        if status >= 500:
            raise PlatformUnavailable(f"WooCommerce answered {status} to {method} {path}.", status_code=status)
        if status >= 400:
            raise PlatformRequestRejected(
                f"WooCommerce refused {method} {path} ({status}: {_error_message(response)}).", status_code=status
            )
        return response

    # --- orders -------------------------------------------------------------------------
    def fetch_orders(self, *, since: datetime | None, cursor: str | None = None) -> OrderPage:
        page = int(cursor or 1)
        params = {"per_page": self.page_size, "page": page, "orderby": "id", "order": "asc"}
        if since is not None:
            params.update(modified_after=since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), dates_are_gmt="true")
        response = self._call("GET", "orders", params=params)
        orders = [parse_order(order) for order in response.json()]
        try:
            total_pages = int(response.headers.get("X-WP-TotalPages", "0"))
        except ValueError:
            total_pages = 0
        return OrderPage(orders=orders, next_cursor=str(page + 1) if page < total_pages else None)

    def get_order(self, external_id: str) -> NormalizedOrder:
        return parse_order(self._call("GET", f"orders/{int(external_id)}").json())

    def push_tracking(self, *, external_order_id: str, tracking: TrackingInfo) -> TrackingResult:
        """Core WooCommerce has no tracking field: an order note, tracking meta, and status completed."""
        order_id = int(external_order_id)
        note = f"Shipped via {tracking.carrier}, tracking number {tracking.number}"
        if tracking.url:
            note += f": {tracking.url}"
        if tracking.lines is not None:
            note += " (items: " + ", ".join(f"{line_id} x {qty}" for line_id, qty in tracking.lines) + ")"
        created = self._call(
            "POST", f"orders/{order_id}/notes", json={"note": note + ".", "customer_note": tracking.notify_customer}
        ).json()
        update = {
            "meta_data": [
                {"key": "_tracking_number", "value": tracking.number},
                {"key": "_tracking_provider", "value": tracking.carrier},
                *([{"key": "_tracking_url", "value": tracking.url}] if tracking.url else []),
            ]
        }
        if tracking.lines is None:
            update["status"] = "completed"
        order = self._call("PUT", f"orders/{order_id}", json=update).json()
        return TrackingResult(external_id=ident(created.get("id")), raw={"note": created, "order": order})

    # --- webhooks -----------------------------------------------------------------------
    def subscribe_webhook(self, *, topic: str, address: str) -> dict:
        """Subscribe with a secret of our own, kept with the credentials to verify deliveries."""
        secret = self.credentials.get("webhook_secret") or secrets.token_urlsafe(32)
        if secret != self.credentials.get("webhook_secret"):
            self._save_credentials({**self.credentials, "webhook_secret": secret})
        body = {"name": f"Distribution: {topic}", "topic": topic, "delivery_url": address, "secret": secret}
        return self._call("POST", "webhooks", json=body).json()

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self.credentials.get("webhook_secret", "")
        given = next((v for k, v in headers.items() if k.lower() == "x-wc-webhook-signature"), "")
        return bool(secret and given) and hmac.compare_digest(webhook_signature(body, secret), given)

    @classmethod
    def parse_order(cls, payload: Mapping) -> NormalizedOrder:
        return parse_order(payload)

    @classmethod
    def parse_document(cls, document: Any) -> list[NormalizedOrder]:
        return parse_document(document)
