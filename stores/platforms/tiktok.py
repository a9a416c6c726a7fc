"""TikTok Shop Partner API (202309): order payloads -> NormalizedOrder.

TikTok lists one line item per unit: two of a SKU are two line items with quantity 1
each (a `quantity` field is honoured if a later version sends one). Times are unix
seconds. The address has no city field: it is found in `district_info` by level name,
or falls back to `post_town`.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings

from .base import (
    AuthorizationRefused,
    AuthorizationResult,
    AuthorizationStart,
    CancelStatus,
    CredentialsExpired,
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
    parse_page,
    quantity,
    register,
    require_mapping,
    text,
    unix_datetime,
)

PLATFORM = "tiktok"

# status -> fulfilment; CANCELLED is a cancel status, UNPAID the only unpaid one.
FULFILLMENT = {
    "UNPAID": FulfillmentStatus.UNFULFILLED,
    "ON_HOLD": FulfillmentStatus.UNFULFILLED,
    "AWAITING_SHIPMENT": FulfillmentStatus.UNFULFILLED,
    "PARTIALLY_SHIPPING": FulfillmentStatus.PARTIAL,
    # The package has its tracking number and waits for the carrier: shipped, for us.
    "AWAITING_COLLECTION": FulfillmentStatus.FULFILLED,
    "IN_TRANSIT": FulfillmentStatus.FULFILLED,
    "DELIVERED": FulfillmentStatus.FULFILLED,
    "COMPLETED": FulfillmentStatus.FULFILLED,
    "CANCELLED": FulfillmentStatus.UNFULFILLED,
}
CITY_LEVEL_NAMES = ("city", "town", "municipality")


def _district(address: Mapping, *, level: str | None = None, names: tuple[str, ...] = ()) -> str:
    for entry in address.get("district_info") or []:
        if level and entry.get("address_level") == level:
            return text(entry.get("address_name"))
        if names and text(entry.get("address_level_name")).lower() in names:
            return text(entry.get("address_name"))
    return ""


def _line(item: Mapping) -> NormalizedLine:
    return NormalizedLine(
        external_line_id=ident(item.get("id")),
        sku=text(item.get("seller_sku")),
        quantity=quantity(item.get("quantity", 1)),
        unit_price=money(item.get("sale_price")),
        title=text(item.get("product_name")),
        variant_title=text(item.get("sku_name")),
        product_id=ident(item.get("product_id")),
        variant_id=ident(item.get("sku_id")),
    )


def _refuse_webhook(document: Mapping) -> None:
    if "tts_notification_id" in document:
        # Webhooks name the order and its new status only; the order itself comes from get_order.
        data = document.get("data") or {}
        raise PayloadError(
            f"This is a TikTok Shop webhook (type {text(document.get('type'))}) for order "
            f"{text(data.get('order_id')) or '(none)'}, not an order: fetch the order with get_order."
        )


def parse_order(order: Mapping) -> NormalizedOrder:
    order = require_mapping(order, "a TikTok Shop order")
    _refuse_webhook(order)
    if not order.get("id"):
        raise PayloadError("A TikTok Shop order has an `id`.")
    status = text(order.get("status"))
    if status == "CANCELLED":
        cancel = CancelStatus.CANCELLED
    elif order.get("is_buyer_request_cancel") is True:
        cancel = CancelStatus.REQUESTED
    else:
        cancel = CancelStatus.NONE
    if status == "UNPAID":
        financial = FinancialStatus.PENDING
    elif status == "CANCELLED":
        financial = FinancialStatus.VOIDED if not order.get("paid_time") else FinancialStatus.REFUNDED
    elif status in FULFILLMENT:
        financial = FinancialStatus.PAID
    else:
        financial = FinancialStatus.UNKNOWN
    payment = order.get("payment") or {}
    address = order.get("recipient_address") or {}
    extra_lines = [text(address.get(key)) for key in ("address_line3", "address_line4")]
    address1 = text(address.get("address_line1")) or text(address.get("address_detail"))
    return NormalizedOrder(
        platform=PLATFORM,
        external_id=ident(order["id"]),
        display_number=ident(order["id"]),
        created_at=unix_datetime(order.get("create_time")),
        updated_at=unix_datetime(order.get("update_time")),
        currency=text(payment.get("currency")).upper(),
        financial_status=financial,
        fulfillment_status=FULFILLMENT.get(status, FulfillmentStatus.UNKNOWN),
        cancel_status=cancel,
        platform_status=status,
        buyer=NormalizedBuyer(
            external_id=ident(order.get("user_id")),
            name=text(address.get("name")),
            email=text(order.get("buyer_email")),
            phone=text(address.get("phone_number")),
        ),
        shipping_address=NormalizedAddress(
            name=text(address.get("name")),
            phone=text(address.get("phone_number")),
            email=text(order.get("buyer_email")),
            address1=address1,
            address2=text(address.get("address_line2")),
            address3=", ".join(part for part in extra_lines if part),
            city=_district(address, names=CITY_LEVEL_NAMES) or text(address.get("post_town")),
            province=_district(address, level="L1"),
            postal_code=text(address.get("postal_code")),
            country_code=text(address.get("region_code")).upper(),
        ),
        lines=tuple(_line(item) for item in order.get("line_items") or []),
        shipping_method=text(order.get("delivery_option_name")),
        total=money(payment.get("total_amount")),
        raw=dict(order),
    )


def parse_document(document: Any) -> list[NormalizedOrder]:
    """Order detail (`data.orders[]`), an order search page (same), or one bare order."""
    document = require_mapping(document, "a TikTok Shop response")
    _refuse_webhook(document)
    if "code" in document and document.get("code") != 0:
        raise PayloadError(f"TikTok Shop answered code {document.get('code')}: {text(document.get('message'))}")
    data = document.get("data", document)
    if isinstance(data, Mapping) and isinstance(data.get("orders"), list):
        return [parse_order(order) for order in data["orders"]]
    return [parse_order(data)]


# --- The client -------------------------------------------------------------------------

AUTH_HOST = "services.tiktokshop.com"
AUTH_HOST_US = "services.us.tiktokshop.com"
GRANTS_HOST = "auth.tiktok-shops.com"
API_HOST = "open-api.tiktokglobalshop.com"
REFRESH_MARGIN = timedelta(minutes=5)
# Documented error codes (Partner docs, "Common errors").
EXPIRED_TOKEN = 105002
INVALID_CREDENTIALS = 36009004
MISSING_SCOPE = 105005
SHOP_MISMATCH = 101000
TOO_MANY_REQUESTS = 36009002
# The order has no tracking yet, or already has some (then it is updated instead).
AWAITING_SHIPMENT = {"AWAITING_SHIPMENT", "ON_HOLD"}
SHIPPED = {"AWAITING_COLLECTION", "IN_TRANSIT", "PARTIALLY_SHIPPING"}


def request_signature(secret: str, path: str, params: Mapping[str, str], body: bytes = b"") -> str:
    """secret + path + sorted {key}{value} (without sign, access_token) + body + secret, hex HMAC-SHA256."""
    pairs = "".join(f"{key}{params[key]}" for key in sorted(params) if key not in {"sign", "access_token"})
    message = f"{secret}{path}{pairs}{body.decode()}{secret}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TikTokConfig:
    app_key: str
    app_secret: str
    service_id: str
    base: str

    @classmethod
    def from_settings(cls) -> "TikTokConfig":
        return cls(
            app_key=settings.TIKTOK_APP_KEY,
            app_secret=settings.TIKTOK_APP_SECRET,
            service_id=settings.TIKTOK_SERVICE_ID,
            base=settings.TIKTOK_BASE,
        )

    def url(self, host: str, path: str) -> str:
        return self.base.format(host=host).rstrip("/") + path


def _reply(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {"code": -1, "message": response.text[:200]}
    return data if isinstance(data, dict) else {"code": -1, "message": str(data)[:200]}


@register
class TikTokClient(PlatformClient):
    platform = PLATFORM
    auth_kind = "oauth"
    required_settings = ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_SERVICE_ID")
    page_size = 50

    def __init__(self, connection=None, *, http=None, config: TikTokConfig | None = None, page_size: int = 0):
        super().__init__(connection, http=http)
        self.config = config or TikTokConfig.from_settings()
        if page_size:
            self.page_size = page_size

    # --- authorization ------------------------------------------------------------------
    def start_authorization(
        self, *, state: str, redirect_uri: str, form: Mapping[str, str], server_callback_uri: str = ""
    ) -> AuthorizationStart:
        # The seller comes back to the redirect URL registered with the app in Partner Center.
        host = AUTH_HOST_US if text(form.get("site")).upper() == "US" else AUTH_HOST
        query = urlencode({"service_id": self.config.service_id, "state": state})
        return AuthorizationStart(redirect_url=f"{self.config.url(host, '/open/authorize')}?{query}")

    def _token_call(self, path: str, params: dict) -> dict:
        response = self.http.request("GET", self.config.url(GRANTS_HOST, path), params=params)
        reply = _reply(response)
        if response.status_code >= 500:
            raise PlatformUnavailable(f"TikTok Shop answered {response.status_code} for a token.")
        return reply

    def complete_authorization(
        self,
        *,
        params: Mapping[str, str],
        expected_state: str,
        redirect_uri: str,
        form: Mapping[str, str],
        delivered_credentials: Mapping | None = None,
    ) -> AuthorizationResult:
        state = params.get("state")
        if not isinstance(state, str) or not hmac.compare_digest(state, expected_state):
            raise AuthorizationRefused("The callback's state does not match the authorization that was started.")
        code = params.get("code")
        if not isinstance(code, str) or not code:
            raise AuthorizationRefused("The callback carries no authorization code.")
        reply = self._token_call(
            "/api/v2/token/get",
            {
                "app_key": self.config.app_key,
                "app_secret": self.config.app_secret,
                "auth_code": code,
                "grant_type": "authorized_code",
            },
        )
        if reply.get("code") != 0:
            raise AuthorizationRefused(f"TikTok Shop refused the authorization code ({text(reply.get('message'))}).")
        self.connection.credentials = self._credentials_from(reply["data"])
        shops = self._call("GET", "/authorization/202309/shops", with_shop=False)["shops"]
        site = text(form.get("site")).upper()
        # The site decides which warehouses ship, so a shop of another region is never taken instead.
        shop = next((s for s in shops if text(s.get("region")).upper() == site), None)
        if shop is None:
            regions = ", ".join(sorted({text(s.get("region")) for s in shops})) or "none"
            raise AuthorizationRefused(f"The authorization holds no {site} shop (its shops' regions: {regions}).")
        refresh_expires = iso_datetime(self.connection.credentials.get("refresh_token_expires_at"))
        return AuthorizationResult(
            credentials=dict(self.connection.credentials),
            identifiers={"shop_id": ident(shop.get("id")), "shop_cipher": text(shop.get("cipher"))},
            scopes=",".join(reply["data"].get("granted_scopes") or []),
            expires_at=refresh_expires,
        )

    @staticmethod
    def _credentials_from(data: Mapping) -> dict:
        # TikTok gives the expiry moments as unix timestamps (not durations).
        return {
            "access_token": text(data.get("access_token")),
            "access_token_expires_at": unix_datetime(data.get("access_token_expire_in")).isoformat(),
            "refresh_token": text(data.get("refresh_token")),
            "refresh_token_expires_at": unix_datetime(data.get("refresh_token_expire_in")).isoformat(),
            "open_id": text(data.get("open_id")),
        }

    def refresh_credentials(self) -> dict:
        refresh_expires = iso_datetime(self.credentials.get("refresh_token_expires_at"))
        if refresh_expires is not None and refresh_expires <= datetime.now(tz=UTC):
            raise CredentialsExpired("The TikTok Shop authorization has expired; authorize the store again.")
        reply = self._token_call(
            "/api/v2/token/refresh",
            {
                "app_key": self.config.app_key,
                "app_secret": self.config.app_secret,
                "refresh_token": self.credentials.get("refresh_token", ""),
                "grant_type": "refresh_token",
            },
        )
        if reply.get("code") != 0:
            raise CredentialsRevoked(
                f"TikTok Shop refused the refresh token ({text(reply.get('message'))}); authorize the store again."
            )
        credentials = {**self.credentials, **self._credentials_from(reply["data"])}
        self._save_credentials(credentials)
        return credentials

    # --- signed calls -------------------------------------------------------------------
    def _send(self, method: str, path: str, *, params: Mapping | None, body: dict | None, with_shop: bool):
        query = {key: str(value) for key, value in (params or {}).items()}
        query.update(app_key=self.config.app_key, timestamp=str(int(time.time())))
        if with_shop:
            query["shop_cipher"] = self.connection.shop_cipher
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        query["sign"] = request_signature(self.config.app_secret, path, query, raw)
        headers = {"x-tts-access-token": self.credentials.get("access_token", ""), "content-type": "application/json"}
        return self.http.request(
            method, self.config.url(API_HOST, path), params=query, data=raw or None, headers=headers
        )

    def _access_token_due(self) -> bool:
        expires = iso_datetime(self.credentials.get("access_token_expires_at"))
        return expires is not None and expires - REFRESH_MARGIN <= datetime.now(tz=UTC)

    def _call(self, method: str, path: str, *, params=None, body=None, with_shop: bool = True) -> dict:
        """A signed call; the reply's `data`. Expired token: refresh once. Refused token: revoked."""
        refreshed = False
        if self._access_token_due() and self.credentials.get("refresh_token"):
            self.refresh_credentials()
            refreshed = True
        while True:
            response = self._send(method, path, params=params, body=body, with_shop=with_shop)
            reply = _reply(response)
            code = reply.get("code")
            if code == 0 and response.status_code < 400:
                return reply.get("data") or {}
            message = text(reply.get("message"))
            if code in {EXPIRED_TOKEN, INVALID_CREDENTIALS} and "token" in message.lower():
                if not refreshed:
                    self.refresh_credentials()
                    refreshed = True
                    continue
                raise CredentialsRevoked(f"TikTok Shop refuses the access token ({message}).", status_code=401)
            if code in {MISSING_SCOPE, SHOP_MISMATCH}:
                raise PlatformAuthError(f"TikTok Shop denies {path} ({message}).", status_code=response.status_code)
            if code == TOO_MANY_REQUESTS or response.status_code >= 500:
                raise PlatformUnavailable(
                    f"TikTok Shop could not answer {path} ({message}).", status_code=response.status_code
                )
            raise PlatformRequestRejected(
                f"TikTok Shop refused {path} ({code}: {message}).", status_code=response.status_code
            )

    # --- orders -------------------------------------------------------------------------
    def fetch_orders(self, *, since: datetime | None, cursor: str | None = None) -> OrderPage:
        params = {"page_size": self.page_size, "sort_field": "update_time", "sort_order": "ASC"}
        if cursor:
            params["page_token"] = cursor
        body = {"update_time_ge": int(since.timestamp())} if since is not None else {}
        data = self._call("POST", "/order/202309/orders/search", params=params, body=body)
        orders, rejected = parse_page(data.get("orders") or [], parse_order, id_field="id")
        return OrderPage(orders=orders, next_cursor=text(data.get("next_page_token")) or None, rejected=rejected)

    def _order_payload(self, external_id: str) -> dict:
        orders = self._call("GET", "/order/202309/orders", params={"ids": external_id}).get("orders") or []
        if not orders:
            raise PlatformRequestRejected(f"TikTok Shop has no order {external_id}.")
        return orders[0]

    def get_order(self, external_id: str) -> NormalizedOrder:
        return parse_order(self._order_payload(external_id))

    def push_tracking(self, *, external_order_id: str, tracking: TrackingInfo) -> TrackingResult:
        """Ship with our own carrier: mark the package of these lines shipped, or correct the
        tracking of lines already shipped.

        The provider is the one of the order's delivery option whose id is
        `tracking.carrier_code`, else whose name is `tracking.carrier`. Line items are one per
        unit; lines of a partly shipped order that have no tracking yet go out as a new
        package (a split order's later part), lines that have one get it updated."""
        order = self._order_payload(external_order_id)
        option = text(order.get("delivery_option_id"))
        providers = (
            self._call("GET", f"/logistics/202309/delivery_options/{option}/shipping_providers").get(
                "shipping_providers"
            )
            or []
        )
        code, name = tracking.carrier_code.strip(), tracking.carrier.strip().lower()
        provider = next((p for p in providers if code and text(p.get("id")) == code), None) or next(
            (p for p in providers if text(p.get("name")).lower() == name), None
        )
        if provider is None:
            names = ", ".join(text(p.get("name")) for p in providers)
            raise PlatformRequestRejected(
                f"TikTok Shop offers no carrier named {tracking.carrier} for this order (it offers: {names})."
            )
        status = text(order.get("status"))
        body = {"tracking_number": tracking.number, "shipping_provider_id": provider["id"]}
        has_tracking = {
            text(item.get("id")) for item in order.get("line_items") or [] if text(item.get("tracking_number"))
        }
        wanted = None if tracking.lines is None else [str(line_id) for line_id, _qty in tracking.lines]
        new_lines = None if wanted is None else [line_id for line_id in wanted if line_id not in has_tracking]
        ships_new = status in AWAITING_SHIPMENT or (status == "PARTIALLY_SHIPPING" and bool(new_lines))
        if status in SHIPPED and not ships_new:
            self._call("POST", f"/fulfillment/202309/orders/{external_order_id}/shipping_info/update", body=body)
            return TrackingResult(external_id=external_order_id, raw=body)
        if not ships_new:
            raise PlatformRequestRejected(f"TikTok Shop order {external_order_id} is {status}; it cannot be shipped.")
        if new_lines is not None:
            body["order_line_item_ids"] = new_lines
        data = self._call("POST", f"/fulfillment/202309/orders/{external_order_id}/packages", body=body)
        return TrackingResult(external_id=ident(data.get("package_id")), raw=data)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Authorization = hex HMAC-SHA256(app secret, app key + raw body) (a third-party client's
        reading of the docs; TikTok's own page only points at its signing guide)."""
        given = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        expected = webhook_signature(self.config.app_key, self.config.app_secret, body)
        return bool(given) and hmac.compare_digest(expected, given)

    @classmethod
    def parse_order(cls, payload: Mapping) -> NormalizedOrder:
        return parse_order(payload)

    @classmethod
    def parse_document(cls, document: Any) -> list[NormalizedOrder]:
        return parse_document(document)
