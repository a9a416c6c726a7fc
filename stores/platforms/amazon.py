"""Amazon Selling Partner API: order payloads -> NormalizedOrder.

Orders API v0 gives the order (getOrder / getOrders) and its items (getOrderItems) in
separate calls; `combine` joins them into one document, the Order object with the
items' `OrderItems` beside its own fields, which is what `parse_order` reads.
`ItemPrice` is the price of the whole line (unit price x quantity), so the unit price
is derived. Pending orders carry no prices at all.

The newer Orders API 2026-01-01 (searchOrders) embeds the items; `parse_order` reads
that shape too (its status words are taken from the documented example only).
"""

import hmac
import re
import zlib
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
    iso_datetime,
    money,
    parse_page,
    quantity,
    register,
    require_mapping,
    text,
)

PLATFORM = "amazon"


# Marketplace id -> (site country, currency, SP-API region, Seller Central host).
MARKETPLACES: dict[str, tuple[str, str, str, str]] = {
    "ATVPDKIKX0DER": ("US", "USD", "na", "sellercentral.amazon.com"),
    "A2EUQ1WTGCTBG2": ("CA", "CAD", "na", "sellercentral.amazon.ca"),
    "A1VC38T7YXB528": ("JP", "JPY", "fe", "sellercentral.amazon.co.jp"),
    "A1F83G8C2ARO7P": ("GB", "GBP", "eu", "sellercentral.amazon.co.uk"),
    "A1PA6795UKMFR9": ("DE", "EUR", "eu", "sellercentral.amazon.de"),
    "A39IBJ37TRP1C6": ("AU", "AUD", "fe", "sellercentral.amazon.com.au"),
}
SP_API_HOSTS = {
    "na": "sellingpartnerapi-na.amazon.com",
    "eu": "sellingpartnerapi-eu.amazon.com",
    "fe": "sellingpartnerapi-fe.amazon.com",
}

# OrderStatus -> (financial, fulfilment, cancel)
STATUS = {
    "PendingAvailability": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "Pending": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "Unshipped": (FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "PartiallyShipped": (FinancialStatus.PAID, FulfillmentStatus.PARTIAL, CancelStatus.NONE),
    "Shipped": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED, CancelStatus.NONE),
    "InvoiceUnconfirmed": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED, CancelStatus.NONE),
    "Canceled": (FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED, CancelStatus.CANCELLED),
    "Unfulfillable": (FinancialStatus.UNKNOWN, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
}
STATUS_2026 = {
    "PENDING": (FinancialStatus.PENDING, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "UNSHIPPED": (FinancialStatus.PAID, FulfillmentStatus.UNFULFILLED, CancelStatus.NONE),
    "PARTIALLY_SHIPPED": (FinancialStatus.PAID, FulfillmentStatus.PARTIAL, CancelStatus.NONE),
    "SHIPPED": (FinancialStatus.PAID, FulfillmentStatus.FULFILLED, CancelStatus.NONE),
    "CANCELLED": (FinancialStatus.VOIDED, FulfillmentStatus.UNFULFILLED, CancelStatus.CANCELLED),
}


def marketplace_site(marketplace_id: str) -> str:
    return MARKETPLACES.get(marketplace_id, ("", "", "", ""))[0]


def marketplace_currency(marketplace_id: str) -> str:
    return MARKETPLACES.get(marketplace_id, ("", "", "", ""))[1]


def _region_code(state: str) -> str:
    # StateOrRegion is a code in the US ("MI") but a name elsewhere ("Tokyo", "東京都").
    return state if 0 < len(state) <= 3 and state.isascii() and state.isalpha() else ""


def _truthy(value) -> bool:
    return value is True or text(value).lower() == "true"


# --- v0 ---------------------------------------------------------------------------------


def _v0_line(item: Mapping) -> NormalizedLine:
    count = quantity(item.get("QuantityOrdered"))
    total = money((item.get("ItemPrice") or {}).get("Amount"))
    return NormalizedLine(
        external_line_id=text(item.get("OrderItemId")),
        sku=text(item.get("SellerSKU")),
        quantity=count,
        unit_price=total / count if total is not None and count else None,
        title=text(item.get("Title")),
        product_id=text(item.get("ASIN")),
        line_total=total,
    )


def combine(order: Mapping, items: Mapping | list) -> dict:
    """getOrder's Order (or its response) + getOrderItems' payload (or response) -> one document."""
    order = require_mapping(order, "an Amazon order")
    order = order.get("payload", order)
    if isinstance(items, Mapping):
        items = items.get("payload", items)
        items_order_id = text(items.get("AmazonOrderId"))
        if items_order_id and items_order_id != text(order.get("AmazonOrderId")):
            raise PayloadError(
                f"These order items belong to order {items_order_id}, not {text(order.get('AmazonOrderId'))}."
            )
        items = items.get("OrderItems") or []
    return {**order, "OrderItems": list(items)}


def parse_v0_order(order: Mapping) -> NormalizedOrder:
    order = require_mapping(order, "an Amazon order")
    if not order.get("AmazonOrderId"):
        raise PayloadError("An Amazon order has an `AmazonOrderId`.")
    status = text(order.get("OrderStatus"))
    financial, fulfillment, cancel = STATUS.get(
        status, (FinancialStatus.UNKNOWN, FulfillmentStatus.UNKNOWN, CancelStatus.NONE)
    )
    items = order.get("OrderItems") or []
    if cancel == CancelStatus.NONE and any(
        _truthy((item.get("BuyerRequestedCancel") or {}).get("IsBuyerRequestedCancel")) for item in items
    ):
        cancel = CancelStatus.REQUESTED
    marketplace = text(order.get("MarketplaceId"))
    order_total = order.get("OrderTotal") or {}
    item_currency = next(
        (text((item.get("ItemPrice") or {}).get("CurrencyCode")) for item in items if item.get("ItemPrice")), ""
    )
    buyer = order.get("BuyerInfo") or {}
    address = order.get("ShippingAddress") or {}
    state = text(address.get("StateOrRegion"))
    return NormalizedOrder(
        platform=PLATFORM,
        external_id=text(order["AmazonOrderId"]),
        display_number=text(order["AmazonOrderId"]),
        created_at=iso_datetime(order.get("PurchaseDate")),
        updated_at=iso_datetime(order.get("LastUpdateDate")),
        currency=(text(order_total.get("CurrencyCode")) or item_currency or marketplace_currency(marketplace)).upper(),
        financial_status=financial,
        fulfillment_status=fulfillment,
        cancel_status=cancel,
        platform_status=status,
        buyer=NormalizedBuyer(
            name=text(buyer.get("BuyerName")), email=text(buyer.get("BuyerEmail")), phone=text(address.get("Phone"))
        ),
        shipping_address=NormalizedAddress(
            name=text(address.get("Name")),
            company=text(address.get("CompanyName")) or text((buyer.get("BuyerTaxInfo") or {}).get("CompanyLegalName")),
            phone=text(address.get("Phone")),
            email=text(buyer.get("BuyerEmail")),
            address1=text(address.get("AddressLine1")),
            address2=text(address.get("AddressLine2")),
            address3=text(address.get("AddressLine3")),
            city=text(address.get("City")),
            province=state,
            province_code=_region_code(state),
            postal_code=text(address.get("PostalCode")),
            country_code=text(address.get("CountryCode")).upper(),
        ),
        lines=tuple(_v0_line(item) for item in items),
        shipping_method=text(order.get("ShipServiceLevel")) or text(order.get("ShipmentServiceLevelCategory")),
        total=money(order_total.get("Amount")),
        raw=dict(order),
    )


# --- 2026-01-01 -------------------------------------------------------------------------


def _2026_line(item: Mapping) -> NormalizedLine:
    product = item.get("product") or {}
    unit = ((product.get("price") or {}).get("unitPrice") or {}).get("amount")
    total = ((item.get("proceeds") or {}).get("proceedsTotal") or {}).get("amount")
    return NormalizedLine(
        external_line_id=text(item.get("orderItemId")),
        sku=text(product.get("sellerSku")),
        quantity=quantity(item.get("quantityOrdered")),
        unit_price=money(unit),
        title=text(product.get("title")),
        product_id=text(product.get("asin")),
        line_total=money(total),
    )


def parse_2026_order(order: Mapping) -> NormalizedOrder:
    order = require_mapping(order, "an Amazon order")
    fulfillment_info = order.get("fulfillment") or {}
    status = text(fulfillment_info.get("fulfillmentStatus"))
    financial, fulfillment, cancel = STATUS_2026.get(
        status, (FinancialStatus.UNKNOWN, FulfillmentStatus.UNKNOWN, CancelStatus.NONE)
    )
    items = order.get("orderItems") or []
    pending_requests = [
        item
        for item in items
        if (item.get("cancellation") or {}).get("cancellationRequest")
        and not (item.get("cancellation") or {}).get("cancellationExecution")
    ]
    if cancel == CancelStatus.NONE and pending_requests:
        cancel = CancelStatus.REQUESTED
    grand_total = (order.get("proceeds") or {}).get("grandTotal") or {}
    channel = order.get("salesChannel") or {}
    buyer = order.get("buyer") or {}
    address = (order.get("recipient") or {}).get("deliveryAddress") or {}
    state = text(address.get("stateOrRegion"))
    return NormalizedOrder(
        platform=PLATFORM,
        external_id=text(order.get("orderId")),
        display_number=text(order.get("orderId")),
        created_at=iso_datetime(order.get("createdTime")),
        updated_at=iso_datetime(order.get("lastUpdatedTime")),
        currency=(
            text(grand_total.get("currencyCode")) or marketplace_currency(text(channel.get("marketplaceId")))
        ).upper(),
        financial_status=financial,
        fulfillment_status=fulfillment,
        cancel_status=cancel,
        platform_status=status,
        buyer=NormalizedBuyer(
            name=text(buyer.get("buyerName")), email=text(buyer.get("buyerEmail")), phone=text(address.get("phone"))
        ),
        shipping_address=NormalizedAddress(
            name=text(address.get("name")),
            company=text(address.get("companyName")),
            phone=text(address.get("phone")),
            email=text(buyer.get("buyerEmail")),
            address1=text(address.get("addressLine1")),
            address2=text(address.get("addressLine2")),
            address3=text(address.get("addressLine3")),
            city=text(address.get("city")),
            province=state,
            province_code=_region_code(state),
            postal_code=text(address.get("postalCode")),
            country_code=text(address.get("countryCode")).upper(),
        ),
        lines=tuple(_2026_line(item) for item in items),
        shipping_method=text(fulfillment_info.get("fulfillmentServiceLevel")),
        total=money(grand_total.get("amount")),
        raw=dict(order),
    )


# --- Documents --------------------------------------------------------------------------


def parse_order(payload: Mapping) -> NormalizedOrder:
    payload = require_mapping(payload, "an Amazon order")
    if "NotificationType" in payload:
        # ORDER_CHANGE and the like come through SQS/EventBridge with a summary only: no buyer,
        # address or prices. They say which order to fetch; they are not the order.
        summary = (payload.get("Payload") or {}).get("OrderChangeNotification") or {}
        raise PayloadError(
            f"This is an Amazon {text(payload.get('NotificationType'))} notification for order "
            f"{text(summary.get('AmazonOrderId')) or '(none)'}, not an order: fetch the order with getOrder."
        )
    payload = payload.get("payload", payload)
    if "AmazonOrderId" in payload:
        if "OrderStatus" not in payload and "PurchaseDate" not in payload:
            part = "getOrderAddress" if "ShippingAddress" in payload else "getOrderItems"
            raise PayloadError(f"This is a {part} response; combine it with its getOrder response.")
        return parse_v0_order(payload)
    if "orderId" in payload:
        return parse_2026_order(payload)
    raise PayloadError("Not an Amazon order: no `AmazonOrderId` (v0) or `orderId` (2026-01-01).")


def parse_document(document: Any, *, items: Mapping | list | None = None) -> list[NormalizedOrder]:
    """getOrder or getOrders (v0), searchOrders (2026-01-01); `items` is getOrderItems for a single order."""
    document = require_mapping(document, "an Amazon response")
    payload = document.get("payload", document)
    if isinstance(payload.get("Orders"), list):
        if items is not None:
            raise PayloadError("Order items go with a single getOrder response, not a getOrders page.")
        return [parse_v0_order(order) for order in payload["Orders"]]
    if isinstance(document.get("orders"), list):
        return [parse_2026_order(order) for order in document["orders"]]
    if items is not None:
        payload = combine(payload, items)
    return [parse_order(payload)]


# --- The client -------------------------------------------------------------------------

SELLER_ID_RE = re.compile(r"^[A-Z0-9]{8,20}$")
REFRESH_MARGIN = timedelta(seconds=60)
# Amazon asks sellers to renew an app's authorization every year.
AUTHORIZATION_LIFETIME = timedelta(days=365)
PII_ELEMENTS = ["buyerInfo", "shippingAddress"]
# confirmShipment's carrierCode values we send as such; any other carrier goes as "Other" + carrierName.
CARRIER_CODES = {
    code.lower(): code
    for code in (
        "UPS",
        "USPS",
        "FedEx",
        "DHL",
        "OnTrac",
        "Yamato Transport",
        "Sagawa Express",
        "Japan Post",
        "Canada Post",
    )
}


@dataclass(frozen=True)
class AmazonConfig:
    app_id: str
    client_id: str
    client_secret: str
    draft: bool
    seller_central_base: str
    sp_api_base: str
    lwa_token_url: str

    @classmethod
    def from_settings(cls) -> "AmazonConfig":
        return cls(
            app_id=settings.AMAZON_APP_ID,
            client_id=settings.AMAZON_LWA_CLIENT_ID,
            client_secret=settings.AMAZON_LWA_CLIENT_SECRET,
            draft=settings.AMAZON_APP_DRAFT,
            seller_central_base=settings.AMAZON_SELLER_CENTRAL_BASE,
            sp_api_base=settings.AMAZON_SP_API_BASE,
            lwa_token_url=settings.AMAZON_LWA_TOKEN_URL,
        )


def _errors_text(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, Mapping):
        if data.get("errors"):
            first = data["errors"][0]
            return " ".join(part for part in (text(first.get("message")), text(first.get("details"))) if part)[:200]
        return text(data.get("error_description") or data.get("error"))[:200]
    return text(data)[:200]


@register
class AmazonClient(PlatformClient):
    platform = PLATFORM
    auth_kind = "oauth"
    required_settings = ("AMAZON_APP_ID", "AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET")
    page_size = 100

    def __init__(self, connection=None, *, http=None, config: AmazonConfig | None = None, page_size: int = 0):
        super().__init__(connection, http=http)
        self.config = config or AmazonConfig.from_settings()
        if page_size:
            self.page_size = page_size

    @property
    def marketplace_id(self) -> str:
        return self.connection.marketplace_id

    def _endpoint(self) -> str:
        region = MARKETPLACES[self.marketplace_id][2]
        return self.config.sp_api_base.format(host=SP_API_HOSTS[region]).rstrip("/")

    # --- authorization (website authorization workflow) --------------------------------
    def start_authorization(
        self, *, state: str, redirect_uri: str, form: Mapping[str, str], server_callback_uri: str = ""
    ) -> AuthorizationStart:
        marketplace = text(form.get("marketplace_id"))
        if marketplace not in MARKETPLACES:
            raise AuthorizationRefused(f"Unknown Amazon marketplace: {marketplace or '(none)'}.")
        query = {"application_id": self.config.app_id, "state": state, "redirect_uri": redirect_uri}
        if self.config.draft:
            query["version"] = "beta"
        base = self.config.seller_central_base.format(host=MARKETPLACES[marketplace][3]).rstrip("/")
        return AuthorizationStart(redirect_url=f"{base}/apps/authorize/consent?{urlencode(query)}")

    def complete_authorization(
        self,
        *,
        params: Mapping[str, str],
        expected_state: str,
        redirect_uri: str,
        form: Mapping[str, str],
        delivered_credentials: Mapping | None = None,
    ) -> AuthorizationResult:
        # Amazon's redirect is not signed: the single-use state is what ties it to us.
        state = params.get("state")
        if not isinstance(state, str) or not hmac.compare_digest(state, expected_state):
            raise AuthorizationRefused("The callback's state does not match the authorization that was started.")
        code = params.get("spapi_oauth_code")
        seller_id = params.get("selling_partner_id")
        if not isinstance(code, str) or not code:
            raise AuthorizationRefused("The callback carries no spapi_oauth_code.")
        if not isinstance(seller_id, str) or not SELLER_ID_RE.match(seller_id):
            raise AuthorizationRefused("The callback names no valid selling partner id.")
        response = self.http.request(
            "POST",
            self.config.lwa_token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
        )
        if response.status_code != 200:
            raise AuthorizationRefused(
                f"Login with Amazon refused the authorization code ({_errors_text(response)}).",
                status_code=response.status_code,
            )
        data = response.json()
        if not data.get("refresh_token"):
            raise AuthorizationRefused("Login with Amazon answered without a refresh token.")
        credentials = {"refresh_token": data["refresh_token"], **self._access_from(data)}
        return AuthorizationResult(
            credentials=credentials,
            identifiers={"seller_id": seller_id, "marketplace_id": text(form.get("marketplace_id"))},
            scopes="sellingpartnerapi::orders",
            expires_at=datetime.now(tz=UTC) + AUTHORIZATION_LIFETIME,
        )

    @staticmethod
    def _access_from(data: Mapping) -> dict:
        expires = datetime.now(tz=UTC) + timedelta(seconds=int(data.get("expires_in") or 3600))
        return {"access_token": text(data.get("access_token")), "access_token_expires_at": expires.isoformat()}

    def refresh_credentials(self) -> dict:
        refresh_token = self.credentials.get("refresh_token")
        if not refresh_token:
            raise CredentialsRevoked("No Amazon refresh token is stored; authorize the store again.")
        response = self.http.request(
            "POST",
            self.config.lwa_token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
        )
        if response.status_code == 400:
            raise CredentialsRevoked(
                f"Login with Amazon refused the refresh token ({_errors_text(response)}); authorize the store again.",
                status_code=400,
            )
        if response.status_code == 401:
            raise PlatformAuthError(
                f"Login with Amazon refused our app's client credentials ({_errors_text(response)}).", status_code=401
            )
        if response.status_code != 200:
            raise PlatformUnavailable(
                f"Login with Amazon answered {response.status_code}.", status_code=response.status_code
            )
        credentials = {**self.credentials, **self._access_from(response.json())}
        self._save_credentials(credentials)
        return credentials

    # --- calls --------------------------------------------------------------------------
    def _access_token_due(self) -> bool:
        expires = iso_datetime(self.credentials.get("access_token_expires_at"))
        return (
            not self.credentials.get("access_token")
            or expires is None
            or expires - REFRESH_MARGIN <= datetime.now(tz=UTC)
        )

    def _send(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        headers = {"x-amz-access-token": token, "Accept": "application/json"}
        return self.http.request(method, self._endpoint() + path, headers=headers, **kwargs)

    def _call(self, method: str, path: str, *, restricted: list[str] | None = None, **kwargs) -> requests.Response:
        """An SP-API call; PII paths go with a Restricted Data Token. A 403 earns one refresh."""
        refreshed = False
        if self._access_token_due():
            self.refresh_credentials()
            refreshed = True
        while True:
            token = self.credentials["access_token"]
            if restricted:
                token = self._restricted_token(method, path, restricted, refreshed=refreshed)
            response = self._send(method, path, token, **kwargs)
            if response.status_code == 403:
                if not refreshed:
                    self.refresh_credentials()
                    refreshed = True
                    continue
                raise PlatformAuthError(
                    f"Amazon denies {method} {path} even with a fresh token ({_errors_text(response)}); "
                    "check the app's roles, then authorize the store again.",
                    status_code=403,
                )
            if response.status_code >= 500:
                raise PlatformUnavailable(
                    f"Amazon answered {response.status_code} to {method} {path}.", status_code=500
                )
            if response.status_code >= 400:
                raise PlatformRequestRejected(
                    f"Amazon refused {method} {path} ({response.status_code}: {_errors_text(response)}).",
                    status_code=response.status_code,
                )
            return response

    def _restricted_token(self, method: str, path: str, elements: list[str], *, refreshed: bool) -> str:
        body = {"restrictedResources": [{"method": method, "path": path, "dataElements": elements}]}
        response = self._send(
            "POST", "/tokens/2021-03-01/restrictedDataToken", self.credentials["access_token"], json=body
        )
        if response.status_code == 403 and not refreshed:
            self.refresh_credentials()
            response = self._send(
                "POST", "/tokens/2021-03-01/restrictedDataToken", self.credentials["access_token"], json=body
            )
        if response.status_code == 403:
            raise CredentialsRevoked(
                f"Amazon refuses a restricted data token ({_errors_text(response)}).", status_code=403
            )
        if response.status_code != 200:
            raise PlatformUnavailable(f"Amazon answered {response.status_code} for a restricted data token.")
        return response.json()["restrictedDataToken"]

    # --- orders -------------------------------------------------------------------------
    def _order_items(self, order_id: str) -> list[dict]:
        items, next_token = [], None
        while True:
            params = {"NextToken": next_token} if next_token else None
            payload = self._call("GET", f"/orders/v0/orders/{order_id}/orderItems", params=params).json()["payload"]
            items.extend(payload.get("OrderItems") or [])
            next_token = payload.get("NextToken")
            if not next_token:
                return items

    def fetch_orders(self, *, since: datetime | None, cursor: str | None = None) -> OrderPage:
        params = {"MarketplaceIds": self.marketplace_id}
        if cursor:
            params["NextToken"] = cursor
        else:
            start = since or datetime.now(tz=UTC) - timedelta(days=30)
            params.update(
                LastUpdatedAfter=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), MaxResultsPerPage=self.page_size
            )
        payload = self._call("GET", "/orders/v0/orders", params=params, restricted=PII_ELEMENTS).json()["payload"]
        documents = [self._with_items(order) for order in payload.get("Orders") or []]
        orders, rejected = parse_page(documents, parse_v0_order, id_field="AmazonOrderId")
        return OrderPage(orders=orders, next_cursor=payload.get("NextToken") or None, rejected=rejected)

    def _with_items(self, order):
        """getOrders' order with its getOrderItems beside it; an order without an id stays as
        it came, for the parser to reject (its items cannot be asked for)."""
        order_id = text(order.get("AmazonOrderId")) if isinstance(order, Mapping) else ""
        if not order_id:
            return order
        return {**order, "OrderItems": self._order_items(order_id)}

    def get_order(self, external_id: str) -> NormalizedOrder:
        path = f"/orders/v0/orders/{external_id}"
        order = self._call("GET", path, restricted=PII_ELEMENTS).json()["payload"]
        return parse_v0_order({**order, "OrderItems": self._order_items(external_id)})

    def push_tracking(self, *, external_order_id: str, tracking: TrackingInfo) -> TrackingResult:
        """confirmShipment: one package with its items; 204 means Amazon took it."""
        if tracking.lines is None:
            lines = [
                (item["OrderItemId"], item["QuantityOrdered"] - item.get("QuantityShipped", 0))
                for item in self._order_items(external_order_id)
                if item["QuantityOrdered"] - item.get("QuantityShipped", 0) > 0
            ]
        else:
            lines = list(tracking.lines)
        if not lines:
            raise PlatformRequestRejected(f"Amazon order {external_order_id} has nothing left to ship.")
        # The caller's carrierCode from Amazon's list when it has one, else ours by name.
        code = tracking.carrier_code.strip() or CARRIER_CODES.get(tracking.carrier.strip().lower(), "Other")
        # Unique per package within the order, and the same for the same tracking number.
        reference = str(zlib.crc32(tracking.number.encode()) or 1)
        shipped_at = tracking.shipped_at or datetime.now(tz=UTC)
        package = {
            "packageReferenceId": reference,
            "carrierCode": code,
            "trackingNumber": tracking.number,
            "shipDate": shipped_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "orderItems": [{"orderItemId": str(item_id), "quantity": int(qty)} for item_id, qty in lines],
        }
        if code == "Other":
            package["carrierName"] = tracking.carrier
        if tracking.service:
            package["shippingMethod"] = tracking.service
        body = {"marketplaceId": self.marketplace_id, "packageDetail": package}
        self._call("POST", f"/orders/v0/orders/{external_order_id}/shipmentConfirmation", json=body)
        return TrackingResult(external_id=reference, raw=body)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        # Amazon delivers notifications through SQS or EventBridge, never as signed HTTP posts.
        return False

    @classmethod
    def parse_order(cls, payload: Mapping) -> NormalizedOrder:
        return parse_order(payload)

    @classmethod
    def parse_document(cls, document: Any) -> list[NormalizedOrder]:
        return parse_document(document)
