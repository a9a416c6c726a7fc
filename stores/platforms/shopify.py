"""Shopify: order payloads -> NormalizedOrder (REST Admin API, webhooks, GraphQL), and the client.

REST order ids and GraphQL gids name the same order (gid://shopify/Order/450789469 is
REST id 450789469); both normalise to the numeric id so a webhook, a REST poll and a
GraphQL poll of one order meet on one (store, external id).
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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
)

PLATFORM = "shopify"

FINANCIAL = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.AUTHORIZED,
    "partially_paid": FinancialStatus.PARTIALLY_PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
    "expired": FinancialStatus.VOIDED,
}
# REST `fulfillment_status`: null means nothing shipped yet.
FULFILLMENT = {
    None: FulfillmentStatus.UNFULFILLED,
    "": FulfillmentStatus.UNFULFILLED,
    "unfulfilled": FulfillmentStatus.UNFULFILLED,
    "partial": FulfillmentStatus.PARTIAL,
    "fulfilled": FulfillmentStatus.FULFILLED,
    "restocked": FulfillmentStatus.UNFULFILLED,
}
# GraphQL `displayFulfillmentStatus`.
GRAPHQL_FULFILLMENT = {
    "UNFULFILLED": FulfillmentStatus.UNFULFILLED,
    "ON_HOLD": FulfillmentStatus.UNFULFILLED,
    "OPEN": FulfillmentStatus.UNFULFILLED,
    "IN_PROGRESS": FulfillmentStatus.UNFULFILLED,
    "PENDING_FULFILLMENT": FulfillmentStatus.UNFULFILLED,
    "SCHEDULED": FulfillmentStatus.UNFULFILLED,
    "REQUEST_DECLINED": FulfillmentStatus.UNFULFILLED,
    "RESTOCKED": FulfillmentStatus.UNFULFILLED,
    "PARTIALLY_FULFILLED": FulfillmentStatus.PARTIAL,
    "FULFILLED": FulfillmentStatus.FULFILLED,
}


def gid_to_id(value) -> str:
    """'gid://shopify/Order/158040885' -> '158040885'; plain ids pass through."""
    raw = ident(value)
    if raw.startswith("gid://"):
        return raw.rsplit("/", 1)[-1].split("?", 1)[0]
    return raw


def _join_name(first, last) -> str:
    return " ".join(part for part in (text(first), text(last)) if part)


# --- REST -------------------------------------------------------------------------------


def _rest_address(address: Mapping | None, *, email: str) -> NormalizedAddress:
    if not address:
        return NormalizedAddress()
    return NormalizedAddress(
        name=text(address.get("name")) or _join_name(address.get("first_name"), address.get("last_name")),
        company=text(address.get("company")),
        phone=text(address.get("phone")),
        email=email,
        address1=text(address.get("address1")),
        address2=text(address.get("address2")),
        city=text(address.get("city")),
        province=text(address.get("province")),
        province_code=text(address.get("province_code")),
        postal_code=text(address.get("zip")),
        country_code=text(address.get("country_code")).upper(),
    )


def _rest_line(line: Mapping) -> NormalizedLine:
    # `current_quantity` (2023-01+) is what is still ordered after refunds and edits;
    # older payloads only have `quantity`. A line at 0 stays in the list, so nothing
    # disappears silently.
    wanted = line.get("current_quantity", line.get("quantity"))
    return NormalizedLine(
        external_line_id=ident(line.get("id")),
        sku=text(line.get("sku")),
        quantity=quantity(wanted),
        unit_price=money(line.get("price")),
        title=text(line.get("title")) or text(line.get("name")),
        variant_title=text(line.get("variant_title")),
        product_id=ident(line.get("product_id")),
        variant_id=ident(line.get("variant_id")),
        requires_shipping=line.get("requires_shipping") is not False,
    )


def parse_rest_order(order: Mapping) -> NormalizedOrder:
    order = require_mapping(order, "a Shopify order")
    if "id" not in order:
        raise PayloadError("A Shopify order has an `id`.")
    financial_raw = text(order.get("financial_status"))
    fulfillment_raw = order.get("fulfillment_status")
    cancelled = bool(order.get("cancelled_at"))
    customer = order.get("customer") or {}
    email = text(order.get("email")) or text(order.get("contact_email")) or text(customer.get("email"))
    shipping = order.get("shipping_address")
    shipping_lines = order.get("shipping_lines") or []
    status_words = [financial_raw, text(fulfillment_raw) or "unfulfilled"]
    if cancelled:
        status_words.append(f"cancelled ({text(order.get('cancel_reason')) or 'no reason'})")
    return NormalizedOrder(
        platform=PLATFORM,
        external_id=ident(order["id"]),
        display_number=text(order.get("name")) or text(order.get("order_number")),
        created_at=iso_datetime(order.get("created_at")),
        updated_at=iso_datetime(order.get("updated_at")),
        currency=text(order.get("currency")).upper(),
        financial_status=FINANCIAL.get(financial_raw, FinancialStatus.UNKNOWN),
        fulfillment_status=FULFILLMENT.get(fulfillment_raw, FulfillmentStatus.UNKNOWN),
        cancel_status=CancelStatus.CANCELLED if cancelled else CancelStatus.NONE,
        platform_status=" / ".join(word for word in status_words if word),
        buyer=NormalizedBuyer(
            external_id=ident(customer.get("id")),
            name=_join_name(customer.get("first_name"), customer.get("last_name"))
            or text((shipping or {}).get("name")),
            email=email,
            phone=text(order.get("phone")) or text(customer.get("phone")),
        ),
        shipping_address=_rest_address(shipping, email=email),
        lines=tuple(_rest_line(line) for line in order.get("line_items") or []),
        shipping_method=text(shipping_lines[0].get("title")) or text(shipping_lines[0].get("code"))
        if shipping_lines
        else "",
        total=money(order.get("total_price")),
        raw=dict(order),
    )


# --- GraphQL ----------------------------------------------------------------------------


def _shop_money(price_set: Mapping | None) -> tuple[Any, str]:
    shop = (price_set or {}).get("shopMoney") or {}
    return shop.get("amount"), text(shop.get("currencyCode"))


def _nodes(connection: Mapping | None) -> list[Mapping]:
    """A GraphQL connection's nodes, whether queried as edges{node} or nodes."""
    if not connection:
        return []
    if "nodes" in connection:
        return list(connection["nodes"] or [])
    return [edge["node"] for edge in connection.get("edges") or [] if edge.get("node") is not None]


def _graphql_line(node: Mapping) -> NormalizedLine:
    variant = node.get("variant") or {}
    product = node.get("product") or variant.get("product") or {}
    unit, _ = _shop_money(node.get("originalUnitPriceSet"))
    wanted = node.get("currentQuantity", node.get("quantity"))
    return NormalizedLine(
        external_line_id=gid_to_id(node.get("id")),
        sku=text(node.get("sku")) or text(variant.get("sku")),
        quantity=quantity(wanted),
        unit_price=money(unit),
        title=text(node.get("title")) or text(node.get("name")),
        variant_title=text(node.get("variantTitle")) or text(variant.get("title")),
        product_id=gid_to_id(product.get("id")),
        variant_id=gid_to_id(variant.get("id")),
        requires_shipping=node.get("requiresShipping") is not False,
    )


def _graphql_address(address: Mapping | None, *, email: str) -> NormalizedAddress:
    if not address:
        return NormalizedAddress()
    return NormalizedAddress(
        name=text(address.get("name")) or _join_name(address.get("firstName"), address.get("lastName")),
        company=text(address.get("company")),
        phone=text(address.get("phone")),
        email=email,
        address1=text(address.get("address1")),
        address2=text(address.get("address2")),
        city=text(address.get("city")),
        province=text(address.get("province")),
        province_code=text(address.get("provinceCode")),
        postal_code=text(address.get("zip")),
        country_code=(text(address.get("countryCodeV2")) or text(address.get("countryCode"))).upper(),
    )


def parse_graphql_order(node: Mapping) -> NormalizedOrder:
    node = require_mapping(node, "a Shopify GraphQL order")
    if "id" not in node:
        raise PayloadError("A Shopify GraphQL order has an `id`.")
    total, total_currency = _shop_money(node.get("totalPriceSet"))
    financial_raw = text(node.get("displayFinancialStatus"))
    fulfillment_raw = text(node.get("displayFulfillmentStatus"))
    cancelled = bool(node.get("cancelledAt"))
    customer = node.get("customer") or {}
    email = text(node.get("email")) or text(customer.get("email"))
    shipping_line = node.get("shippingLine") or {}
    status_words = [financial_raw, fulfillment_raw, "CANCELLED" if cancelled else ""]
    return NormalizedOrder(
        platform=PLATFORM,
        external_id=gid_to_id(node["id"]),
        display_number=text(node.get("name")),
        created_at=iso_datetime(node.get("createdAt")),
        updated_at=iso_datetime(node.get("updatedAt")),
        currency=(text(node.get("currencyCode")) or total_currency).upper(),
        financial_status=FINANCIAL.get(financial_raw.lower(), FinancialStatus.UNKNOWN)
        if financial_raw
        else FinancialStatus.UNKNOWN,
        fulfillment_status=GRAPHQL_FULFILLMENT.get(fulfillment_raw, FulfillmentStatus.UNKNOWN),
        cancel_status=CancelStatus.CANCELLED if cancelled else CancelStatus.NONE,
        platform_status=" / ".join(word for word in status_words if word),
        buyer=NormalizedBuyer(
            external_id=gid_to_id(customer.get("id")),
            name=text(customer.get("displayName")) or _join_name(customer.get("firstName"), customer.get("lastName")),
            email=email,
            phone=text(node.get("phone")) or text(customer.get("phone")),
        ),
        shipping_address=_graphql_address(node.get("shippingAddress"), email=email),
        lines=tuple(_graphql_line(line) for line in _nodes(node.get("lineItems"))),
        shipping_method=text(shipping_line.get("title")) or text(shipping_line.get("code")),
        total=money(total),
        raw=dict(node),
    )


# --- Documents --------------------------------------------------------------------------


def parse_order(payload: Mapping) -> NormalizedOrder:
    """One order: a REST order (also the bare webhook body) or a GraphQL order node."""
    payload = require_mapping(payload, "a Shopify order")
    if "order" in payload and isinstance(payload["order"], Mapping):
        payload = payload["order"]
    if text(payload.get("id")).startswith("gid://"):
        return parse_graphql_order(payload)
    return parse_rest_order(payload)


def parse_document(document: Any) -> list[NormalizedOrder]:
    """Every order in a saved REST or GraphQL response, or a webhook body."""
    document = require_mapping(document, "a Shopify response")
    if "data" in document and isinstance(document["data"], Mapping):
        document = document["data"]  # a full GraphQL response; the docs' examples omit the envelope
    orders = document.get("orders")
    if isinstance(orders, list):
        return [parse_rest_order(order) for order in orders]
    if isinstance(orders, Mapping):
        return [parse_graphql_order(node) for node in _nodes(orders)]
    return [parse_order(document)]


# --- The client -------------------------------------------------------------------------

SHOP_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
CALLBACK_MAX_AGE = timedelta(hours=24)
# Refresh a little before the access token's stated expiry rather than wait for a 401.
REFRESH_MARGIN = timedelta(seconds=60)
REQUIRED_SCOPE = "read_orders"


def normalize_shop_domain(value: str) -> str:
    """'My-Shop', 'my-shop.myshopify.com', 'https://my-shop.myshopify.com/admin' -> 'my-shop.myshopify.com'."""
    raw = text(value).lower()
    raw = re.sub(r"^https?://", "", raw).split("/", 1)[0]
    if raw and "." not in raw:
        raw = f"{raw}.myshopify.com"
    return raw


def is_shop_domain(value: str) -> bool:
    return bool(SHOP_DOMAIN_RE.match(value or ""))


def payload_shop_domain(payload) -> str:
    """The shop an order payload itself names, inside the signed body: the host of its
    `order_status_url` (https://{name}.myshopify.com/{shop id}/orders/{token}/authenticate…).
    "" when it names none we can rely on (the field absent, or on a custom domain). The
    X-Shopify-Shop-Domain header is outside the signature, so it cannot say this alone."""
    if not isinstance(payload, Mapping):
        return ""
    host = (urlsplit(text(payload.get("order_status_url"))).hostname or "").lower()
    return host if is_shop_domain(host) else ""


def callback_hmac(params: Mapping[str, str | list[str]], secret: str) -> str:
    """Hex HMAC-SHA256 of the OAuth callback query, as Shopify computes it.

    Every pair but `hmac`, with % = & escaped in keys and % & in values, sorted and
    joined by &. A repeated `key[]` becomes `key=["a", "b"]`.
    """
    pairs = []
    for key, value in params.items():
        if key == "hmac":
            continue
        if isinstance(value, list | tuple):
            key = key[:-2] if key.endswith("[]") else key
            value = "[" + ", ".join(f'"{item}"' for item in value) + "]"
        escaped_key = key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        escaped_value = str(value).replace("%", "%25").replace("&", "%26")
        pairs.append(f"{escaped_key}={escaped_value}")
    message = "&".join(sorted(pairs))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def webhook_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _header(headers: Mapping[str, str], *names: str) -> str:
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return ""


def _query_value(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


@dataclass(frozen=True)
class ShopifyConfig:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    api_version: str
    api_base: str
    # Kept only while a rotated secret's webhooks may still arrive.
    previous_client_secret: str = ""

    @classmethod
    def from_settings(cls) -> "ShopifyConfig":
        return cls(
            client_id=settings.SHOPIFY_CLIENT_ID,
            client_secret=settings.SHOPIFY_CLIENT_SECRET,
            scopes=tuple(settings.SHOPIFY_SCOPES),
            api_version=settings.SHOPIFY_API_VERSION,
            api_base=settings.SHOPIFY_API_BASE,
            previous_client_secret=getattr(settings, "SHOPIFY_CLIENT_SECRET_PREVIOUS", ""),
        )


@register
class ShopifyClient(PlatformClient):
    platform = PLATFORM
    auth_kind = "oauth"
    required_settings = ("SHOPIFY_CLIENT_ID", "SHOPIFY_CLIENT_SECRET")
    page_size = 250

    def __init__(self, connection=None, *, http=None, config: ShopifyConfig | None = None, page_size: int = 0):
        super().__init__(connection, http=http)
        self.config = config or ShopifyConfig.from_settings()
        if page_size:
            self.page_size = page_size

    # --- URLs ---------------------------------------------------------------------------
    def shop_url(self, shop: str, path: str) -> str:
        return self.config.api_base.format(shop=shop).rstrip("/") + path

    def api_url(self, path: str) -> str:
        return self.shop_url(self.connection.shop_domain, f"/admin/api/{self.config.api_version}/{path}")

    # --- authorization ------------------------------------------------------------------
    def start_authorization(
        self, *, state: str, redirect_uri: str, form: Mapping[str, str], server_callback_uri: str = ""
    ) -> AuthorizationStart:
        shop = normalize_shop_domain(form.get("shop_domain", ""))
        if not is_shop_domain(shop):
            raise AuthorizationRefused(
                f"“{form.get('shop_domain', '')}” is not a Shopify shop domain (name.myshopify.com)."
            )
        query = urlencode(
            {
                "client_id": self.config.client_id,
                "scope": ",".join(self.config.scopes),
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return AuthorizationStart(redirect_url=f"{self.shop_url(shop, '/admin/oauth/authorize')}?{query}")

    def verify_callback(self, params: Mapping[str, str | list[str]], *, expected_state: str, shop: str) -> None:
        """Every check the OAuth callback needs before its code is worth exchanging."""
        given = params.get("hmac")
        if not isinstance(given, str) or not hmac.compare_digest(
            callback_hmac(params, self.config.client_secret), given
        ):
            raise AuthorizationRefused("The callback's signature (hmac) does not match: it did not come from Shopify.")
        state = params.get("state")
        if not isinstance(state, str) or not hmac.compare_digest(state, expected_state):
            raise AuthorizationRefused("The callback's state does not match the authorization that was started.")
        callback_shop = params.get("shop")
        if not isinstance(callback_shop, str) or not is_shop_domain(callback_shop):
            raise AuthorizationRefused("The callback names no valid shop domain.")
        if callback_shop != shop:
            raise AuthorizationRefused(f"The callback is for {callback_shop}, but {shop} was being authorized.")
        try:
            sent_at = datetime.fromtimestamp(int(params.get("timestamp", "")), tz=UTC)
        except (TypeError, ValueError):
            raise AuthorizationRefused("The callback carries no valid timestamp.") from None
        if abs(datetime.now(tz=UTC) - sent_at) > CALLBACK_MAX_AGE:
            raise AuthorizationRefused("The callback is too old.")
        if not params.get("code"):
            raise AuthorizationRefused("The callback carries no authorization code.")

    def complete_authorization(
        self,
        *,
        params: Mapping[str, str | list[str]],
        expected_state: str,
        redirect_uri: str,
        form: Mapping[str, str],
        delivered_credentials: Mapping | None = None,
    ) -> AuthorizationResult:
        shop = normalize_shop_domain(form.get("shop_domain", ""))
        self.verify_callback(params, expected_state=expected_state, shop=shop)
        response = self.http.request(
            "POST",
            self.shop_url(shop, "/admin/oauth/access_token"),
            data={
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
                "code": params["code"],
                # Expiring offline token + refresh token (required of public apps).
                "expiring": "1",
            },
        )
        if response.status_code != 200:
            raise AuthorizationRefused(
                f"Shopify refused the authorization code ({response.status_code}: {_error_text(response)}).",
                status_code=response.status_code,
            )
        credentials = self._credentials_from(response.json())
        granted = set(credentials.get("scope", "").split(","))
        if REQUIRED_SCOPE not in granted:
            raise AuthorizationRefused(f"Shopify granted no {REQUIRED_SCOPE} scope; orders cannot be read.")
        return AuthorizationResult(
            credentials=credentials,
            identifiers={"shop_domain": shop},
            scopes=credentials.get("scope", ""),
            expires_at=iso_datetime(credentials.get("refresh_token_expires_at")),
        )

    @staticmethod
    def _credentials_from(data: Mapping) -> dict:
        if not data.get("access_token"):
            raise AuthorizationRefused("Shopify answered without an access token.")
        now = datetime.now(tz=UTC)
        credentials = {"access_token": data["access_token"], "scope": text(data.get("scope"))}
        if data.get("expires_in"):
            credentials["access_token_expires_at"] = (now + timedelta(seconds=int(data["expires_in"]))).isoformat()
        if data.get("refresh_token"):
            credentials["refresh_token"] = data["refresh_token"]
            if data.get("refresh_token_expires_in"):
                credentials["refresh_token_expires_at"] = (
                    now + timedelta(seconds=int(data["refresh_token_expires_in"]))
                ).isoformat()
        return credentials

    def refresh_credentials(self) -> dict:
        refresh_token = self.credentials.get("refresh_token")
        if not refresh_token:
            # A non-expiring offline token that stopped working: the app was uninstalled.
            raise CredentialsRevoked("Shopify no longer accepts the access token (was the app uninstalled?).")
        refresh_expires = iso_datetime(self.credentials.get("refresh_token_expires_at"))
        if refresh_expires is not None and refresh_expires <= datetime.now(tz=UTC):
            raise CredentialsExpired("The Shopify authorization has expired; authorize the store again.")
        response = self.http.request(
            "POST",
            self.shop_url(self.connection.shop_domain, "/admin/oauth/access_token"),
            data={
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )
        if response.status_code in (400, 401, 403):
            detail = _error_text(response)
            # Shopify words an outdated refresh token as "expired"; anything else is a withdrawn grant.
            error = CredentialsExpired if "expired" in detail.lower() else CredentialsRevoked
            raise error(
                f"Shopify refused to refresh the access token ({detail}); authorize the store again.",
                status_code=response.status_code,
            )
        if response.status_code != 200:
            raise PlatformUnavailable(
                f"Shopify could not refresh the access token ({response.status_code}).",
                status_code=response.status_code,
            )
        credentials = {**self.credentials, **self._credentials_from(response.json())}
        self._save_credentials(credentials)
        return credentials

    # --- authorized calls ---------------------------------------------------------------
    def _access_token_due(self) -> bool:
        expires = iso_datetime(self.credentials.get("access_token_expires_at"))
        return expires is not None and expires - REFRESH_MARGIN <= datetime.now(tz=UTC)

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        """An Admin API call with the token; refresh once on expiry, then give up as expired/revoked."""
        refreshed = False
        if self._access_token_due() and self.credentials.get("refresh_token"):
            self.refresh_credentials()
            refreshed = True
        while True:
            headers = {"X-Shopify-Access-Token": self.credentials.get("access_token", ""), "Accept": "application/json"}
            response = self.http.request(method, self.api_url(path), headers=headers, **kwargs)
            if response.status_code == 401:
                if not refreshed:
                    self.refresh_credentials()
                    refreshed = True
                    continue
                raise CredentialsRevoked(
                    "Shopify rejects the access token even after a refresh; authorize the store again.",
                    status_code=401,
                )
            if response.status_code == 403:
                raise PlatformAuthError(
                    f"Shopify denies this call ({_error_text(response)}); authorize the store again to grant it.",
                    status_code=403,
                )
            if response.status_code in (402, 423):
                raise PlatformAuthError(
                    f"The Shopify shop is frozen or locked ({response.status_code}).", status_code=response.status_code
                )
            if response.status_code >= 500:
                raise PlatformUnavailable(
                    f"Shopify answered {response.status_code} to {method} {path}.", status_code=response.status_code
                )
            if response.status_code >= 400:
                raise PlatformRequestRejected(
                    f"Shopify refused {method} {path} ({response.status_code}: {_error_text(response)}).",
                    status_code=response.status_code,
                )
            return response

    # --- orders -------------------------------------------------------------------------
    def fetch_orders(self, *, since: datetime | None, cursor: str | None = None) -> OrderPage:
        if cursor:
            # A page_info request may carry only limit and fields: the filters are baked in.
            params = {"limit": self.page_size, "page_info": cursor}
        else:
            params = {"limit": self.page_size, "status": "any"}
            if since is not None:
                params["updated_at_min"] = since.isoformat()
        response = self._call("GET", "orders.json", params=params)
        orders, rejected = parse_page(response.json().get("orders", []), parse_rest_order, id_field="id")
        next_link = response.links.get("next", {}).get("url")
        return OrderPage(
            orders=orders,
            next_cursor=_query_value(next_link, "page_info") if next_link else None,
            rejected=rejected,
        )

    def get_order(self, external_id: str) -> NormalizedOrder:
        response = self._call("GET", f"orders/{int(external_id)}.json")
        return parse_rest_order(response.json()["order"])

    def push_tracking(self, *, external_order_id: str, tracking: TrackingInfo) -> TrackingResult:
        """Create a fulfillment with tracking on the order's open fulfillment orders: every
        open line, or just `tracking.lines` (a partial fulfillment). Sent again after an
        answer that never came, it finds its fulfillment on the order and answers that."""
        response = self._call("GET", f"orders/{int(external_order_id)}/fulfillment_orders.json")
        open_orders = [
            fo for fo in response.json().get("fulfillment_orders", []) if fo.get("status") in {"open", "in_progress"}
        ]
        groups = []
        wanted = None
        if tracking.lines is not None:
            wanted = {}
            for line_id, qty in tracking.lines:
                wanted[str(line_id)] = wanted.get(str(line_id), 0) + int(qty)
        for fo in open_orders:
            if wanted is None:
                groups.append({"fulfillment_order_id": fo["id"]})
                continue
            items = []
            for item in fo.get("line_items", []):
                line_id = str(item.get("line_item_id"))
                quantity = min(wanted.get(line_id, 0), item.get("fulfillable_quantity") or 0)
                if quantity > 0:
                    items.append({"id": item["id"], "quantity": quantity})
                    wanted[line_id] -= quantity  # a line spread over two fulfillment orders is taken once
            if items:
                groups.append({"fulfillment_order_id": fo["id"], "fulfillment_order_line_items": items})
        if not groups:
            done = self._fulfillment_with(external_order_id, tracking.number)
            if done is not None:
                return TrackingResult(external_id=ident(done.get("id")), raw=done)
            raise PlatformRequestRejected(f"Shopify order {external_order_id} has nothing left to fulfil.")
        tracking_info = {"number": tracking.number, "company": tracking.carrier, "url": tracking.url}
        body = {
            "fulfillment": {
                "notify_customer": tracking.notify_customer,
                "tracking_info": {key: value for key, value in tracking_info.items() if value},
                "line_items_by_fulfillment_order": groups,
            }
        }
        created = self._call("POST", "fulfillments.json", json=body).json()["fulfillment"]
        return TrackingResult(external_id=ident(created.get("id")), raw=created)

    def _fulfillment_with(self, external_order_id: str, number: str) -> dict | None:
        """The order's fulfillment already carrying this tracking number, if any."""
        order = self._call("GET", f"orders/{int(external_order_id)}.json").json().get("order") or {}
        for fulfillment in order.get("fulfillments") or []:
            numbers = [fulfillment.get("tracking_number"), *(fulfillment.get("tracking_numbers") or [])]
            if number and number in numbers and fulfillment.get("status") != "cancelled":
                return fulfillment
        return None

    # --- webhooks -----------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = _header(headers, "X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256")
        if not given:
            return False
        secrets_to_try = [s for s in (self.config.client_secret, self.config.previous_client_secret) if s]
        return any(hmac.compare_digest(webhook_hmac(body, secret), given) for secret in secrets_to_try)

    def subscribe_webhook(self, *, topic: str, address: str) -> dict:
        body = {"webhook": {"topic": topic, "address": address, "format": "json"}}
        return self._call("POST", "webhooks.json", json=body).json()["webhook"]

    @classmethod
    def parse_order(cls, payload: Mapping) -> NormalizedOrder:
        return parse_order(payload)

    @classmethod
    def parse_document(cls, document: Any) -> list[NormalizedOrder]:
        return parse_document(document)


def _error_text(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, Mapping):
        for key in ("error_description", "errors", "error"):
            if data.get(key):
                return text(data[key])[:200]
    return text(data)[:200]
