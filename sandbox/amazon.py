"""Amazon emulator: Seller Central's app consent page, the Login with Amazon token
endpoint, and the Selling Partner API's Orders v0 (getOrders, getOrder, getOrderItems,
confirmShipment) with Restricted Data Tokens for buyer PII.

Hosts become path segments:
    https://sellercentral.amazon.com/apps/authorize/consent -> /sandbox/amazon/sellercentral.amazon.com/apps/...
    https://api.amazon.com/auth/o2/token                    -> /sandbox/amazon/api.amazon.com/auth/o2/token
    https://sellingpartnerapi-na.amazon.com/orders/v0/...   -> /sandbox/amazon/sellingpartnerapi-na.amazon.com/...
Shapes follow the SP-API models (amzn/selling-partner-api-models ordersV0.json, tokens).
A seller is a SandboxShop whose domain is its selling partner id; the token names it.
getOrders has SP-API's token bucket (burst 20, refilled at 0.0167/s); 429s say QuotaExceeded.
"""

import base64
import json
import random
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import state
from .models import SandboxGrant, SandboxOrder, SandboxShop, SandboxToken

PLATFORM = "amazon"
SELLER_ID = re.compile(r"^[A-Z0-9]{8,20}$")
GRANT_LIFETIME = timedelta(minutes=5)
RDT_PREFIX = "Atz.sprdt|"
# Marketplace -> (country, currency, sales channel, ship service level)
MARKETPLACES = {
    "ATVPDKIKX0DER": ("US", "USD", "Amazon.com", "Std US D2D Dom"),
    "A1VC38T7YXB528": ("JP", "JPY", "Amazon.co.jp", "Std JP Kanto8"),
}
COUNTRY_MARKETPLACE = {country: marketplace for marketplace, (country, *_rest) in MARKETPLACES.items()}
PRODUCTS = [
    ("SNOWTOX-SERUM-30ML", "B0SNOWTOX1", "SNOWTOX Crystal Treatment Serum 30ml", Decimal("39.90"), Decimal("2980")),
    ("GLOW-MASK-5PK", "B0GLOWMASK", "Glow Sheet Mask, 5 pack", Decimal("19.50"), Decimal("1480")),
]
ADDRESSES = {
    "US": [("Jane Smith", "1 Cross St.", "Canton", "MI", "48817", "+1 734-555-0101")],
    "JP": [("山田 花子", "1-2-3 Ginza", "Chuo-ku", "Tokyo", "104-0061", "03-5555-0101")],
}


def _errors(status: int, code: str, message: str, details: str = "") -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message, "details": details}]}, status=status)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _order_id_text(number: int) -> str:
    digits = f"{number:017d}"
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"


def _order_id_number(text: str) -> int | None:
    digits = text.replace("-", "")
    return int(digits) if digits.isdigit() and len(digits) == 17 else None


# --- consent and LWA --------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def consent(request, host):
    """Seller Central's "Authorize <app>" page; Confirm redirects back with spapi_oauth_code."""
    params = request.GET if request.method == "GET" else request.POST
    app = state.app_for_application(PLATFORM, params.get("application_id", ""))
    redirect_uri = params.get("redirect_uri", "")
    problem = None
    if app is None:
        problem = "This application is not available: unknown application_id."
    elif urlsplit(redirect_uri).scheme not in {"http", "https"}:
        problem = "The redirect_uri is missing or not one of the app's redirect URIs."
    country = "JP" if host.endswith(".co.jp") else "US"
    context = {"host": host, "problem": problem, "app": app}
    if problem:
        return render(request, "sandbox/amazon_consent.html", context, status=400)
    if request.method == "GET":
        fields = {k: params.get(k, "") for k in ("application_id", "state", "redirect_uri", "version")}
        default_seller = f"A{country}SANDBOXSELLER"
        return render(request, "sandbox/amazon_consent.html", {**context, "fields": fields, "seller": default_seller})
    seller_id = params.get("selling_partner_id", "").strip().upper()
    if not SELLER_ID.match(seller_id):
        return render(
            request,
            "sandbox/amazon_consent.html",
            {**context, "problem": "Seller ids are 8-20 letters and digits."},
            400,
        )
    is_new = not SandboxShop.objects.filter(platform=PLATFORM, domain=seller_id).exists()
    shop = seller_for(seller_id, country=country)
    if is_new and getattr(settings, "SANDBOX_NEW_SHOP_ORDERS", 0):
        # A seller's first consent: some orders to pull, as in the other emulators.
        orders_create_random(shop, count=settings.SANDBOX_NEW_SHOP_ORDERS)
    grant = SandboxGrant.objects.create(
        shop=shop, app=app, code="ANDA" + secrets.token_hex(10), scopes="orders", redirect_uri=redirect_uri
    )
    callback = {"state": params.get("state", ""), "selling_partner_id": seller_id, "spapi_oauth_code": grant.code}
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(callback)}")


def seller_for(seller_id: str, *, country: str = "US") -> SandboxShop:
    currency = MARKETPLACES[COUNTRY_MARKETPLACE.get(country, "ATVPDKIKX0DER")][1]
    # getOrders' token bucket: a burst of 20, one request back every 60 s.
    return state.shop_get_or_create(
        PLATFORM,
        seller_id,
        country_code=country,
        currency=currency,
        bucket_size=20,
        leak_per_second=0.0167,
        next_order_number=11_400_000_000_000_000 + secrets.randbelow(10**12),
    )


def _lwa_error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse({"error_description": description, "error": error}, status=status)


@csrf_exempt
@require_http_methods(["POST"])
def lwa_token(request):
    params = request.POST
    app = state.app_for(PLATFORM, params.get("client_id", ""))
    if app is None or not secrets.compare_digest(app.client_secret, params.get("client_secret", "")):
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        with transaction.atomic():
            grant = SandboxGrant.objects.select_for_update().filter(app=app, code=params.get("code", "")).first()
            if grant is None or grant.used_at or grant.created_at < timezone.now() - GRANT_LIFETIME:
                return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : code")
            grant.used_at = timezone.now()
            grant.save(update_fields=["used_at"])
        token = SandboxToken.objects.create(
            shop=grant.shop,
            app=app,
            access_token="Atza|" + secrets.token_urlsafe(32),
            refresh_token="Atzr|" + secrets.token_urlsafe(32),
            scopes="orders",
            access_expires_at=timezone.now() + timedelta(hours=1),
        )
    elif grant_type == "refresh_token":
        with transaction.atomic():
            token = (
                SandboxToken.objects.select_for_update()
                .filter(app=app, refresh_token=params.get("refresh_token", ""), revoked=False)
                .first()
            )
            if token is None:
                return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
            # LWA refresh tokens do not rotate: the same one keeps minting 1-hour access tokens.
            token.access_token = "Atza|" + secrets.token_urlsafe(32)
            token.access_expires_at = timezone.now() + timedelta(hours=1)
            token.save(update_fields=["access_token", "access_expires_at"])
    else:
        return _lwa_error(400, "unsupported_grant_type", "Invalid grant_type")
    state.request_log(shop=token.shop, request=request, status=200)
    return JsonResponse(
        {
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "token_type": "bearer",
            "expires_in": 3600,
        }
    )


# --- SP-API gate ------------------------------------------------------------------------


def _api_path(request, host: str) -> str:
    return request.path.split(f"/amazon/{host}", 1)[1]


def sp_api(*, rate_limited: bool = False, rate_limit: str = ""):
    """Token (or restricted data token), faults and rate limit; logs the call."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, host, *args, **kwargs):
            presented = request.headers.get("x-amz-access-token", "")
            row = SandboxToken.objects.select_related("shop", "app").filter(access_token=presented).first()
            shop = row.shop if row else None
            response = _gate(request, host, row)
            if response is None and rate_limited:
                bucket = state.bucket_take(shop)
                if not bucket.allowed:
                    response = _errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
            if response is None:
                request.sandbox_token = row
                response = view(request, shop, host, *args, **kwargs)
            if rate_limit:
                response["x-amzn-RateLimit-Limit"] = rate_limit
            response["x-amzn-RequestId"] = secrets.token_hex(16)
            state.request_log(shop=shop, request=request, status=response.status_code)
            return response

        return wrapper

    return decorate


def _gate(request, host: str, row: SandboxToken | None):
    if row is None or row.revoked:
        return _errors(403, "Unauthorized", "Access to requested resource is denied.")
    shop = row.shop
    if shop.slow_seconds:
        time.sleep(min(shop.slow_seconds, 30))
    if state.fault_take(shop, "fail_next_500"):
        return _errors(500, "InternalFailure", "We encountered an internal error. Please try again.")
    if state.fault_take(shop, "fail_next_429"):
        return _errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    if row.access_expires_at is not None and row.access_expires_at <= timezone.now():
        return _errors(
            403, "Unauthorized", "Access to requested resource is denied.", "The access token you provided has expired."
        )
    if row.access_token.startswith(RDT_PREFIX) and not _rdt_covers(row, request.method, _api_path(request, host)):
        return _errors(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The restricted data token does not cover this resource.",
        )
    return None


def _rdt_resources(row: SandboxToken | None) -> list[dict]:
    if row is None or not row.access_token.startswith(RDT_PREFIX):
        return []
    return json.loads(row.scopes)


def _rdt_covers(row: SandboxToken, method: str, path: str) -> bool:
    return any(r.get("method") == method and r.get("path") == path for r in _rdt_resources(row))


def _pii_elements(request, host: str) -> set[str]:
    path = _api_path(request, host)
    elements: set[str] = set()
    for resource in _rdt_resources(getattr(request, "sandbox_token", None)):
        if resource.get("path") == path:
            elements.update(resource.get("dataElements") or [])
    return elements


def _redacted(order: dict, elements: set[str]) -> dict:
    """Without a restricted data token, buyer and address PII stay out of the order."""
    order = dict(order)
    if "shippingAddress" not in elements and "ShippingAddress" in order:
        address = order["ShippingAddress"]
        order["ShippingAddress"] = {
            k: address[k] for k in ("City", "StateOrRegion", "PostalCode", "CountryCode") if k in address
        }
    if "buyerInfo" not in elements and "BuyerInfo" in order:
        order["BuyerInfo"] = {k: v for k, v in order["BuyerInfo"].items() if k == "PurchaseOrderNumber"}
    return order


@csrf_exempt
@require_http_methods(["POST"])
def restricted_data_token(request, host):
    presented = request.headers.get("x-amz-access-token", "")
    row = SandboxToken.objects.select_related("shop", "app").filter(access_token=presented).first()
    response = _gate(request, host, row)
    if response is None and row.access_token.startswith(RDT_PREFIX):
        response = _errors(403, "Unauthorized", "Access to requested resource is denied.")
    if response is not None:
        state.request_log(shop=row.shop if row else None, request=request, status=response.status_code)
        return response
    try:
        resources = json.loads(request.body or b"{}").get("restrictedResources")
    except ValueError:
        resources = None
    if (
        not isinstance(resources, list)
        or not resources
        or not all(
            isinstance(r, dict) and r.get("method") and str(r.get("path", "")).startswith("/") for r in resources
        )
    ):
        state.request_log(shop=row.shop, request=request, status=400)
        return _errors(400, "InvalidInput", "restrictedResources must list method and path.")
    token = SandboxToken.objects.create(
        shop=row.shop,
        app=row.app,
        access_token=RDT_PREFIX + secrets.token_urlsafe(32),
        scopes=json.dumps(resources)[:500],
        access_expires_at=timezone.now() + timedelta(hours=1),
    )
    state.request_log(shop=row.shop, request=request, status=200)
    return JsonResponse({"restrictedDataToken": token.access_token, "expiresIn": 3600})


# --- Orders v0 --------------------------------------------------------------------------


def _encode_token(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode_token(value: str) -> dict | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


@sp_api(rate_limited=True, rate_limit="0.0167")
def get_orders(request, shop, host):
    query = request.GET
    if query.get("NextToken"):
        saved = _decode_token(query["NextToken"])
        if saved is None:
            return _errors(400, "InvalidInput", "Invalid NextToken.")
        params, offset = saved["params"], saved["offset"]
    else:
        params = {
            k: query.get(k, "")
            for k in ("MarketplaceIds", "CreatedAfter", "LastUpdatedAfter", "OrderStatuses", "MaxResultsPerPage")
        }
        offset = 0
    marketplaces = [m for m in params.get("MarketplaceIds", "").split(",") if m]
    if not marketplaces:
        return _errors(400, "InvalidInput", "MarketplaceIds is required.")
    if bool(params.get("CreatedAfter")) == bool(params.get("LastUpdatedAfter")):
        return _errors(400, "InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter must be specified.")
    try:
        size = int(params.get("MaxResultsPerPage") or 100)
    except ValueError:
        size = 0
    if not 1 <= size <= 100:
        return _errors(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
    by_update = bool(params.get("LastUpdatedAfter"))
    since = _parse_time(params.get("LastUpdatedAfter") or params.get("CreatedAfter"))
    if since is None:
        return _errors(400, "InvalidInput", "Dates must be ISO 8601.")
    rows = SandboxOrder.objects.filter(shop=shop, **{("updated_at__gte" if by_update else "created_at__gte"): since})
    rows = rows.order_by("updated_at" if by_update else "created_at", "external_id")
    statuses = [s for s in params.get("OrderStatuses", "").split(",") if s]
    matching = [
        row for row in rows if row.payload["MarketplaceId"] in marketplaces and (not statuses or row.state in statuses)
    ]
    page = matching[offset : offset + size]
    elements = _pii_elements(request, host)
    payload = {"Orders": [_redacted(row.payload, elements) for row in page]}
    if offset + size < len(matching):
        payload["NextToken"] = _encode_token({"params": params, "offset": offset + size})
    payload["LastUpdatedBefore" if by_update else "CreatedBefore"] = _iso(timezone.now() - timedelta(minutes=2))
    return JsonResponse({"payload": payload})


def _find(shop, order_id: str) -> SandboxOrder | None:
    number = _order_id_number(order_id)
    return SandboxOrder.objects.filter(shop=shop, external_id=number).first() if number is not None else None


@sp_api(rate_limit="0.5")
def get_order(request, shop, host, order_id):
    row = _find(shop, order_id)
    if row is None:
        return _errors(404, "NotFound", "The requested order was not found.")
    return JsonResponse({"payload": _redacted(row.payload, _pii_elements(request, host))})


@sp_api(rate_limit="0.5")
def get_order_items(request, shop, host, order_id):
    row = _find(shop, order_id)
    if row is None:
        return _errors(404, "NotFound", "The requested order was not found.")
    items = row.extra.get("items", [])
    if row.payload["OrderStatus"] in {"Pending", "PendingAvailability"}:
        items = [
            {k: v for k, v in item.items() if k not in {"ItemPrice", "ItemTax", "ShippingPrice"}} for item in items
        ]
    return JsonResponse({"payload": {"AmazonOrderId": row.payload["AmazonOrderId"], "OrderItems": items}})


REQUIRED_PACKAGE = ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems")


@sp_api(rate_limit="2.0")
def confirm_shipment(request, shop, host, order_id):
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _errors(400, "InvalidInput", "The request body is not JSON.")
    package = body.get("packageDetail") or {}
    missing = [name for name in REQUIRED_PACKAGE if not package.get(name)]
    if not body.get("marketplaceId"):
        missing.insert(0, "marketplaceId")
    if missing:
        return _errors(400, "InvalidInput", f"Missing required field(s): {', '.join(missing)}.")
    if package["carrierCode"] == "Other" and not package.get("carrierName"):
        return _errors(400, "InvalidInput", "carrierName is required when carrierCode is Other.")
    with transaction.atomic():
        row = SandboxOrder.objects.select_for_update().filter(pk=getattr(_find(shop, order_id), "pk", None)).first()
        if row is None:
            return _errors(404, "NotFound", "The requested order was not found.")
        if body["marketplaceId"] != row.payload["MarketplaceId"]:
            return _errors(400, "InvalidInput", "The marketplaceId does not match the order's marketplace.")
        if row.payload["OrderStatus"] not in {"Unshipped", "PartiallyShipped"}:
            return _errors(400, "InvalidInput", f"An order in status {row.payload['OrderStatus']} cannot be confirmed.")
        items = {item["OrderItemId"]: item for item in row.extra.get("items", [])}
        for line in package["orderItems"]:
            item = items.get(str(line.get("orderItemId")))
            quantity = int(line.get("quantity") or 0)
            if item is None:
                return _errors(400, "InvalidInput", f"Unknown orderItemId {line.get('orderItemId')}.")
            if quantity < 1 or quantity > item["QuantityOrdered"] - item.get("QuantityShipped", 0):
                return _errors(400, "InvalidInput", f"Invalid quantity for orderItemId {item['OrderItemId']}.")
            item["QuantityShipped"] = item.get("QuantityShipped", 0) + quantity
        shipped = sum(item.get("QuantityShipped", 0) for item in items.values())
        ordered = sum(item["QuantityOrdered"] for item in items.values())
        status = "Shipped" if shipped >= ordered else "PartiallyShipped"
        now = timezone.now()
        row.payload.update(
            OrderStatus=status,
            NumberOfItemsShipped=shipped,
            NumberOfItemsUnshipped=ordered - shipped,
            LastUpdateDate=_iso(now),
        )
        row.state = status
        row.updated_at = now
        row.extra = {**row.extra, "items": list(items.values()), "packages": [*row.extra.get("packages", []), package]}
        row.save(update_fields=["payload", "state", "updated_at", "extra"])
    return HttpResponse(status=204)


# --- test orders ------------------------------------------------------------------------


def build_order(shop: SandboxShop, *, number: int, marketplace: str, lines, rng, now: datetime) -> tuple[dict, list]:
    country, currency, channel, level = MARKETPLACES[marketplace]
    name, address1, city, region, postal, phone = rng.choice(ADDRESSES[country])
    items = []
    total = Decimal(0)
    for index, (sku, asin, title, price_usd, price_jpy, quantity) in enumerate(lines):
        unit = price_jpy if currency == "JPY" else price_usd
        amount = unit * quantity
        total += amount
        items.append(
            {
                "ASIN": asin,
                "OrderItemId": f"{(number % 10**12) * 10 + index:014d}",
                "SellerSKU": sku,
                "Title": title,
                "QuantityOrdered": quantity,
                "QuantityShipped": 0,
                "ProductInfo": {"NumberOfItems": "1"},
                "ItemPrice": {
                    "CurrencyCode": currency,
                    "Amount": f"{amount:.0f}" if currency == "JPY" else f"{amount:.2f}",
                },
                "ItemTax": {"CurrencyCode": currency, "Amount": "0" if currency == "JPY" else "0.00"},
                "PromotionDiscount": {"CurrencyCode": currency, "Amount": "0" if currency == "JPY" else "0.00"},
                "IsGift": "false",
                "ConditionId": "New",
                "ConditionSubtypeId": "New",
                "IsTransparency": False,
            }
        )
    order = {
        "AmazonOrderId": _order_id_text(number),
        "PurchaseDate": _iso(now),
        "LastUpdateDate": _iso(now),
        "OrderStatus": "Unshipped",
        "FulfillmentChannel": "MFN",
        "SalesChannel": channel,
        "ShipServiceLevel": level,
        "OrderTotal": {"CurrencyCode": currency, "Amount": f"{total:.0f}" if currency == "JPY" else f"{total:.2f}"},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": sum(item["QuantityOrdered"] for item in items),
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "IsReplacementOrder": False,
        "MarketplaceId": marketplace,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": _iso(now + timedelta(hours=1)),
        "LatestShipDate": _iso(now + timedelta(days=2)),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsGlobalExpressEnabled": False,
        "IsPremiumOrder": False,
        "IsSoldByAB": False,
        "IsIBA": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "ShippingAddress": {
            "Name": name,
            "AddressLine1": address1,
            "City": city,
            "StateOrRegion": region,
            "PostalCode": postal,
            "CountryCode": country,
            "Phone": phone,
            "AddressType": "Residential",
        },
        "BuyerInfo": {"BuyerEmail": f"{secrets.token_hex(6)}@marketplace.amazon.com", "BuyerName": name},
    }
    return order, items


def orders_create_random(
    shop: SandboxShop, *, count: int, marketplace: str = "", skus=None, seed=None
) -> list[SandboxOrder]:
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    marketplace = marketplace or COUNTRY_MARKETPLACE.get(shop.country_code, "ATVPDKIKX0DER")
    known = {product[0]: product for product in PRODUCTS}
    # A SKU the seller lists anyway keeps its ASIN, title and prices; any other gets made-up ones.
    catalogue = [
        known.get(sku) or (sku, f"B0{i:08d}", sku.replace("-", " ").title(), Decimal("19.90"), Decimal("1980"))
        for i, sku in enumerate(skus or [])
    ] or PRODUCTS
    created = []
    base = timezone.now() - timedelta(seconds=count)
    for index in range(count):
        with transaction.atomic():
            locked = SandboxShop.objects.select_for_update().get(pk=shop.pk)
            number = locked.next_order_number
            locked.next_order_number = number + 1
            locked.save(update_fields=["next_order_number"])
        picks = rng.sample(catalogue, k=rng.randint(1, min(2, len(catalogue))))
        lines = [(*pick, rng.randint(1, 2)) for pick in picks]
        moment = base + timedelta(seconds=index)
        order, items = build_order(shop, number=number, marketplace=marketplace, lines=lines, rng=rng, now=moment)
        created.append(
            SandboxOrder.objects.create(
                shop=shop,
                external_id=number,
                payload=order,
                state=order["OrderStatus"],
                extra={"items": items},
                created_at=moment,
                updated_at=moment,
            )
        )
    return created


def orders_create_from_payloads(shop: SandboxShop, payloads: list[dict]) -> list[SandboxOrder]:
    """Orders from saved getOrder/getOrders Order objects, each with its getOrderItems list
    beside it as `OrderItems` (the two calls' payloads, joined); a taken id gets a new one."""
    created = []
    for order in payloads:
        order = json.loads(json.dumps(order))
        items = order.pop("OrderItems", None)
        if not items:
            raise ValueError("Each Amazon order needs its items (getOrderItems' OrderItems) as `OrderItems`.")
        number = _order_id_number(str(order.get("AmazonOrderId", "")))
        if number is None or SandboxOrder.objects.filter(shop=shop, external_id=number).exists():
            number = state.order_number_take(shop)
            order["AmazonOrderId"] = _order_id_text(number)
        created_at = _parse_time(str(order.get("PurchaseDate") or "")) or timezone.now()
        updated_at = _parse_time(str(order.get("LastUpdateDate") or "")) or created_at
        order.setdefault("OrderStatus", "Unshipped")
        created.append(
            SandboxOrder.objects.create(
                shop=shop,
                external_id=number,
                payload=order,
                state=order["OrderStatus"],
                extra={"items": items},
                created_at=created_at,
                updated_at=updated_at,
            )
        )
    return created


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request, seller_id):
    """Fault switches and test orders for one seller (the sandbox's own endpoint).

    POST JSON, any of: fail_next_429, fail_next_500, slow_seconds, bucket_size, leak_per_second;
    expire_access_tokens, revoke_tokens (true); create_orders (a count), marketplace, skus.
    """
    if not SELLER_ID.match(seller_id):
        return _errors(404, "NotFound", "No such seller.")
    data = json.loads(request.body or b"{}") if request.method == "POST" else {}
    shop = seller_for(seller_id, country=str(data.get("country", "US")).upper())
    if request.method == "POST":
        switches = {
            k: data[k]
            for k in ("fail_next_429", "fail_next_500", "slow_seconds", "bucket_size", "leak_per_second")
            if k in data
        }
        state.faults_set(shop, **switches)
        if data.get("expire_access_tokens"):
            state.tokens_expire_access(shop)
        if data.get("revoke_tokens"):
            state.tokens_revoke(shop)
        if data.get("create_orders"):
            orders_create_random(
                shop, count=int(data["create_orders"]), marketplace=data.get("marketplace", ""), skus=data.get("skus")
            )
    return JsonResponse({"seller": seller_id, "orders": shop.orders.count(), "country": shop.country_code})
