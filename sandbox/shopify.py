"""Shopify emulator: OAuth consent and token endpoints, REST Admin API orders,
fulfillment orders, fulfillments and webhooks, with Shopify's leaky-bucket rate limit.

Paths mirror Shopify's with the shop domain as a path segment:
    https://{shop}/admin/oauth/authorize     ->  /sandbox/shopify/{shop}/admin/oauth/authorize
    https://{shop}/admin/api/2024-10/...     ->  /sandbox/shopify/{shop}/admin/api/2024-10/...
Shapes follow shopify.dev's REST reference and the official client libraries' fixtures.
The `_sandbox/control` endpoint is the sandbox's own: fault switches and test orders.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import time
from datetime import datetime, timedelta
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
from .models import SandboxFulfillment, SandboxFulfillmentOrder, SandboxGrant, SandboxOrder, SandboxShop, SandboxWebhook

PLATFORM = "shopify"
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
GRANT_LIFETIME = timedelta(minutes=10)
LOCATION_ID = 24826418

# What a random test order is made of, when no SKUs are given.
DEFAULT_PRODUCTS = [
    ("SNOWTOX-SERUM-30ML", "SNOWTOX Crystal Treatment Serum", "30 ml", "39.90"),
    ("SNOWTOX-CREAM-50ML", "SNOWTOX Crystal Cream", "50 ml", "45.00"),
    ("GLOW-MASK-5PK", "Glow Sheet Mask", "5 pack", "19.50"),
    ("HYDRA-TONER-150", "Hydra Toner", "150 ml", "24.00"),
]
ADDRESSES = {
    "US": [
        ("Ada", "Lovelace", "+1 212 555 0101", "12 Analytical Ave", "Apt 3", "New York", "New York", "NY", "10001"),
        ("Grace", "Hopper", "+1 415 555 0102", "1 Compiler Way", "", "San Francisco", "California", "CA", "94103"),
        ("Alan", "Kay", "+1 617 555 0103", "7 Smalltalk St", "", "Boston", "Massachusetts", "MA", "02134"),
    ],
    "JP": [
        (
            "Yuki",
            "Tanaka",
            "+81 3-5555-0101",
            "1-2-3 Shibuya",
            "Shibuya Bldg 4F",
            "Shibuya-ku",
            "Tokyo",
            "JP-13",
            "150-0002",
        ),
        ("Ren", "Sato", "+81 6-5555-0102", "4-5-6 Umeda", "", "Osaka", "Osaka", "JP-27", "530-0001"),
    ],
}
COUNTRY_NAMES = {"US": "United States", "JP": "Japan"}


# --- HMAC (from shopify.dev and the official libraries' tests) --------------------------


def _escape_key(key: str) -> str:
    return key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")


def _escape_value(value: str) -> str:
    return value.replace("%", "%25").replace("&", "%26")


def oauth_hmac(params: dict, secret: str) -> str:
    pairs = sorted(f"{_escape_key(k)}={_escape_value(v)}" for k, v in params.items() if k != "hmac")
    return hmac.new(secret.encode(), "&".join(pairs).encode(), hashlib.sha256).hexdigest()


# --- responses --------------------------------------------------------------------------


def _errors(status: int, errors, **headers) -> JsonResponse:
    response = JsonResponse({"errors": errors}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _iso(moment: datetime) -> str:
    return timezone.localtime(moment, timezone.get_fixed_timezone(-300)).isoformat(timespec="seconds")


def _shop_or_none(domain: str) -> SandboxShop | None:
    return SandboxShop.objects.filter(platform=PLATFORM, domain=domain).first()


def admin_api(scope: str | None = None):
    """Shopify's gatekeeping for the Admin API: faults, token, scope, leaky bucket; logs the call."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, shop, *args, **kwargs):
            shop_row = _shop_or_none(shop)
            response = _gate(request, shop_row, scope)
            bucket = None
            if response is None:
                bucket = state.bucket_take(shop_row)
                if not bucket.allowed:
                    response = _errors(
                        429,
                        "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted "
                        "service.",
                        Retry_After=f"{max(bucket.retry_after, 0.1):.1f}",
                    )
                else:
                    response = view(request, shop_row, request.sandbox_token, *args, **kwargs)
            if bucket is not None:
                response["X-Shopify-Shop-Api-Call-Limit"] = f"{bucket.used}/{bucket.size}"
            state.request_log(shop=shop_row, request=request, status=response.status_code)
            return response

        return wrapper

    return decorate


def _gate(request, shop: SandboxShop | None, scope: str | None):
    if shop is None:
        return _errors(404, "Not Found")
    if shop.slow_seconds:
        time.sleep(min(shop.slow_seconds, 30))
    if state.fault_take(shop, "fail_next_500"):
        return _errors(500, "Internal Server Error")
    if state.fault_take(shop, "fail_next_429"):
        return _errors(429, "Exceeded 2 calls per second for api client.", Retry_After=f"{shop.fault_retry_after:.1f}")
    token, _why = state.token_lookup(shop, request.headers.get("X-Shopify-Access-Token", ""))
    if token is None:
        return _errors(401, INVALID_TOKEN)
    if scope and scope not in token.scopes.split(","):
        return _errors(403, f"[API] This action requires merchant approval for {scope} scope.")
    request.sandbox_token = token
    return None


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- OAuth ------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def oauth_authorize(request, shop):
    """The consent page. GET shows it; POST (the merchant's "Install app") redirects back with a code."""
    params = request.GET if request.method == "GET" else request.POST
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    app = state.app_for(PLATFORM, client_id)
    problem = None
    if not SHOP_DOMAIN.match(shop):
        problem = f"{shop} is not a myshopify.com domain."
    elif app is None:
        problem = "Oauth error invalid_request: The client_id is invalid."
    elif urlsplit(redirect_uri).scheme not in {"http", "https"}:
        problem = "Oauth error invalid_request: The redirect_uri is missing or not a URL."
    if problem:
        return render(request, "sandbox/shopify_consent.html", {"problem": problem, "shop": shop}, status=400)
    shop_row = SandboxShop.objects.filter(platform=PLATFORM, domain=shop).first()
    if shop_row is None:
        # A merchant's first visit: the shop comes into being, with some orders to pull.
        shop_row = state.shop_get_or_create(PLATFORM, shop)
        if getattr(settings, "SANDBOX_NEW_SHOP_ORDERS", 0):
            orders_create_random(shop_row, count=settings.SANDBOX_NEW_SHOP_ORDERS, notify=False)
    scopes = ",".join(s.strip() for s in params.get("scope", "").split(",") if s.strip())
    if request.method == "GET":
        return render(
            request,
            "sandbox/shopify_consent.html",
            {
                "shop": shop_row,
                "app": app,
                "scopes": scopes.split(",") if scopes else [],
                "fields": {
                    "client_id": client_id,
                    "scope": scopes,
                    "redirect_uri": redirect_uri,
                    "state": params.get("state", ""),
                },
            },
        )
    if params.get("decision") != "install":
        return render(request, "sandbox/shopify_consent.html", {"cancelled": True, "shop": shop_row})
    grant = SandboxGrant.objects.create(
        shop=shop_row, app=app, code=secrets.token_hex(16), scopes=scopes, redirect_uri=redirect_uri
    )
    store_name = shop.split(".", 1)[0]
    callback = {
        "code": grant.code,
        "host": base64.b64encode(f"admin.shopify.com/store/{store_name}".encode()).decode().rstrip("="),
        "shop": shop,
        "state": params.get("state", ""),
        "timestamp": str(int(time.time())),
    }
    callback["hmac"] = oauth_hmac(callback, app.client_secret)
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(f"{redirect_uri}{separator}{urlencode(callback)}")


def _oauth_error(description: str, error: str = "invalid_request", status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@csrf_exempt
@require_http_methods(["POST"])
def oauth_access_token(request, shop):
    params = request.POST if request.POST else _body(request)
    shop_row = _shop_or_none(shop)
    if shop_row is None:
        return _errors(404, "Not Found")
    app = state.app_for(PLATFORM, str(params.get("client_id", "")))
    if app is None or not hmac.compare_digest(app.client_secret, str(params.get("client_secret", ""))):
        state.request_log(shop=shop_row, request=request, status=400)
        return _oauth_error("The client credentials are invalid.", "invalid_client")
    if params.get("grant_type") == "refresh_token":
        response = _refresh(shop_row, app, str(params.get("refresh_token", "")))
    else:
        response = _exchange_code(shop_row, app, str(params.get("code", "")), str(params.get("expiring", "")) == "1")
    state.request_log(shop=shop_row, request=request, status=response.status_code)
    return response


def _token_response(token) -> JsonResponse:
    data = {"access_token": token.access_token, "scope": token.scopes}
    now = timezone.now()
    if token.refresh_token:
        data["expires_in"] = int((token.access_expires_at - now).total_seconds())
        data["refresh_token"] = token.refresh_token
        data["refresh_token_expires_in"] = int((token.refresh_expires_at - now).total_seconds())
    return JsonResponse(data)


def _exchange_code(shop: SandboxShop, app, code: str, expiring: bool) -> JsonResponse:
    with transaction.atomic():
        grant = SandboxGrant.objects.select_for_update().filter(shop=shop, app=app, code=code).first()
        if grant is None or grant.used_at is not None or grant.created_at < timezone.now() - GRANT_LIFETIME:
            return _oauth_error("The authorization code was not found or was already used.")
        grant.used_at = timezone.now()
        grant.save(update_fields=["used_at"])
    token = state.token_issue(shop=shop, app=app, scopes=grant.scopes, expiring=expiring)
    return _token_response(token)


def _refresh(shop: SandboxShop, app, refresh_token: str) -> JsonResponse:
    with transaction.atomic():
        old = (
            shop.tokens.select_for_update().filter(app=app, refresh_token=refresh_token).first()
            if refresh_token
            else None
        )
        if old is None or old.revoked or old.refresh_used:
            return _oauth_error("The refresh token is invalid or was revoked.", "invalid_grant")
        if old.refresh_expires_at is not None and old.refresh_expires_at <= timezone.now():
            return _oauth_error("The refresh token has expired.", "invalid_grant")
        old.refresh_used = True
        old.save(update_fields=["refresh_used"])
    # The refresh token rotates: the new pair replaces the old one.
    token = state.token_issue(shop=shop, app=app, scopes=old.scopes, expiring=True)
    return _token_response(token)


# --- orders -----------------------------------------------------------------------------

LIST_FILTERS = ("status", "created_at_min", "created_at_max", "updated_at_min", "updated_at_max", "since_id", "ids")


def _encode_page_info(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_page_info(value: str) -> dict | None:
    try:
        padded = value + "=" * (-len(value) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.get_current_timezone())


def _filtered(shop: SandboxShop, filters: dict):
    orders = SandboxOrder.objects.filter(shop=shop)
    status = filters.get("status", "open")
    if status in {"open", "closed", "cancelled"}:
        orders = orders.filter(state=status)
    for name, lookup in (
        ("created_at_min", "created_at__gte"),
        ("created_at_max", "created_at__lte"),
        ("updated_at_min", "updated_at__gte"),
        ("updated_at_max", "updated_at__lte"),
    ):
        if filters.get(name):
            moment = _parse_time(filters[name])
            if moment is None:
                return None
            orders = orders.filter(**{lookup: moment})
    if filters.get("since_id"):
        orders = orders.filter(external_id__gt=int(filters["since_id"]))
    if filters.get("ids"):
        orders = orders.filter(external_id__in=[int(i) for i in filters["ids"].split(",") if i.strip().isdigit()])
    return orders


def _project(payload: dict, fields: str) -> dict:
    if not fields:
        return payload
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {key: payload[key] for key in wanted if key in payload}


@admin_api(scope="read_orders")
def orders_list(request, shop, token, version):
    query = request.GET
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return _errors(400, {"limit": ["must be a number"]})
    if not 1 <= limit <= MAX_LIMIT:
        return _errors(400, {"limit": [f"must be between 1 and {MAX_LIMIT}"]})
    fields = query.get("fields", "")
    if query.get("page_info"):
        if any(name in query for name in LIST_FILTERS):
            return _errors(400, "page_info cannot be combined with filters: only limit and fields may be passed.")
        cursor = _decode_page_info(query["page_info"])
        if cursor is None:
            return _errors(400, {"page_info": ["Invalid value."]})
        filters = cursor.get("filters", {})
    else:
        cursor = None
        filters = {name: query[name] for name in LIST_FILTERS if query.get(name)}
    orders = _filtered(shop, filters)
    if orders is None:
        return _errors(400, "Invalid date.")
    if cursor and cursor.get("direction") == "previous":
        page = list(orders.filter(external_id__lt=cursor["first_id"]).order_by("-external_id")[:limit])[::-1]
    elif cursor:
        page = list(orders.filter(external_id__gt=cursor["last_id"]).order_by("external_id")[:limit])
    else:
        page = list(orders.order_by("external_id")[:limit])
    links = []
    base = request.build_absolute_uri(request.path)
    extra = {"fields": fields} if fields else {}
    if page and orders.filter(external_id__lt=page[0].external_id).exists():
        info = _encode_page_info({"filters": filters, "first_id": page[0].external_id, "direction": "previous"})
        links.append(f'<{base}?{urlencode({"limit": limit, **extra, "page_info": info})}>; rel="previous"')
    if page and orders.filter(external_id__gt=page[-1].external_id).exists():
        info = _encode_page_info({"filters": filters, "last_id": page[-1].external_id, "direction": "next"})
        links.append(f'<{base}?{urlencode({"limit": limit, **extra, "page_info": info})}>; rel="next"')
    response = JsonResponse({"orders": [_project(order.payload, fields) for order in page]})
    if links:
        response["Link"] = ", ".join(links)
    return response


def _order_or_404(shop, order_id):
    return SandboxOrder.objects.filter(shop=shop, external_id=order_id).first()


@admin_api(scope="read_orders")
def order_detail(request, shop, token, version, order_id):
    order = _order_or_404(shop, order_id)
    if order is None:
        return _errors(404, "Not Found")
    return JsonResponse({"order": _project(order.payload, request.GET.get("fields", ""))})


@admin_api(scope="read_merchant_managed_fulfillment_orders")
def fulfillment_orders_list(request, shop, token, version, order_id):
    order = _order_or_404(shop, order_id)
    if order is None:
        return _errors(404, "Not Found")
    return JsonResponse({"fulfillment_orders": [fo.payload for fo in order.fulfillment_orders.order_by("external_id")]})


@admin_api(scope="write_merchant_managed_fulfillment_orders")
def fulfillments_create(request, shop, token, version):
    if request.method != "POST":
        return _errors(405, "Method Not Allowed")
    data = _body(request).get("fulfillment")
    if not isinstance(data, dict) or not data.get("line_items_by_fulfillment_order"):
        return _errors(400, {"fulfillment": ["Required parameter missing or invalid"]})
    with transaction.atomic():
        try:
            order, shipped = _apply_fulfillment(shop, data["line_items_by_fulfillment_order"])
        except ValueError as exc:
            return _errors(422, {"base": [str(exc)]})
        fulfillment = _fulfillment_payload(order, shipped, data)
        SandboxFulfillment.objects.create(order=order, external_id=fulfillment["id"], payload=fulfillment)
        _refresh_order_fulfillment(order, fulfillment)
    state.webhook_deliver(shop=shop, topic="orders/updated", payload=order.payload)
    if order.payload.get("fulfillment_status") == "fulfilled":
        state.webhook_deliver(shop=shop, topic="orders/fulfilled", payload=order.payload)
    return JsonResponse({"fulfillment": fulfillment}, status=201)


def _apply_fulfillment(shop, groups) -> tuple[SandboxOrder, list[tuple[dict, int]]]:
    order = None
    shipped: list[tuple[dict, int]] = []
    for group in groups:
        fo = (
            SandboxFulfillmentOrder.objects.select_for_update()
            .select_related("order")
            .filter(order__shop=shop, external_id=group.get("fulfillment_order_id"))
            .first()
        )
        if fo is None:
            raise ValueError(f"Fulfillment order {group.get('fulfillment_order_id')} does not exist.")
        if order is not None and fo.order_id != order.pk:
            raise ValueError("All fulfillment orders must belong to the same order.")
        order = fo.order
        if fo.payload["status"] not in {"open", "in_progress"}:
            raise ValueError(f"Fulfillment order {fo.external_id} is {fo.payload['status']} and cannot be fulfilled.")
        listed = group.get("fulfillment_order_line_items") or []
        wanted = {int(item["id"]): int(item["quantity"]) for item in listed}
        for line in fo.payload["line_items"]:
            # Without a list of line items the whole fulfillment order is fulfilled.
            quantity = wanted.pop(line["id"], None) if listed else line["fulfillable_quantity"]
            if quantity is None or quantity == 0:
                continue
            if quantity > line["fulfillable_quantity"]:
                raise ValueError(f"Line {line['id']}: only {line['fulfillable_quantity']} left to fulfil.")
            line["fulfillable_quantity"] -= quantity
            shipped.append((line, quantity))
        if wanted:
            raise ValueError(f"Unknown fulfillment order line items: {sorted(wanted)}.")
        remaining = sum(line["fulfillable_quantity"] for line in fo.payload["line_items"])
        fo.payload["status"] = "closed" if remaining == 0 else "in_progress"
        fo.payload["updated_at"] = _iso(timezone.now())
        fo.save(update_fields=["payload"])
    if not shipped:
        raise ValueError("Nothing to fulfil.")
    return order, shipped


def _fulfillment_payload(order: SandboxOrder, shipped, data: dict) -> dict:
    info = data.get("tracking_info") or {}
    number = str(info.get("number") or "")
    fulfillment_id = state.new_id()
    now = _iso(timezone.now())
    by_line = {line["id"]: line for line in order.payload["line_items"]}
    line_items = []
    for fo_line, quantity in shipped:
        item = dict(by_line[fo_line["line_item_id"]])
        item["quantity"] = quantity
        item["fulfillment_status"] = "fulfilled"
        line_items.append(item)
    count = order.fulfillments.count() + 1
    return {
        "id": fulfillment_id,
        "order_id": order.external_id,
        "status": "success",
        "created_at": now,
        "service": "manual",
        "updated_at": now,
        "tracking_company": info.get("company"),
        "shipment_status": None,
        "location_id": LOCATION_ID,
        "origin_address": None,
        "line_items": line_items,
        "tracking_number": number or None,
        "tracking_numbers": [number] if number else [],
        "tracking_url": info.get("url") or None,
        "tracking_urls": [info["url"]] if info.get("url") else [],
        "receipt": {},
        "name": f"{order.payload['name']}.{count}",
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
    }


def _refresh_order_fulfillment(order: SandboxOrder, fulfillment: dict) -> None:
    fulfilled: dict[int, int] = {}
    for item in fulfillment["line_items"]:
        fulfilled[item["id"]] = fulfilled.get(item["id"], 0) + item["quantity"]
    for line in order.payload["line_items"]:
        line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - fulfilled.get(line["id"], 0))
        if line["fulfillable_quantity"] == 0:
            line["fulfillment_status"] = "fulfilled"
        elif fulfilled.get(line["id"]):
            line["fulfillment_status"] = "partial"
    left = sum(line["fulfillable_quantity"] for line in order.payload["line_items"])
    order.payload["fulfillment_status"] = "fulfilled" if left == 0 else "partial"
    order.payload.setdefault("fulfillments", []).append(fulfillment)
    now = timezone.now()
    order.payload["updated_at"] = _iso(now)
    order.updated_at = now
    order.save(update_fields=["payload", "updated_at"])


@admin_api(scope="write_merchant_managed_fulfillment_orders")
def fulfillment_update_tracking(request, shop, token, version, fulfillment_id):
    if request.method != "POST":
        return _errors(405, "Method Not Allowed")
    fulfillment = SandboxFulfillment.objects.filter(order__shop=shop, external_id=fulfillment_id).first()
    if fulfillment is None:
        return _errors(404, "Not Found")
    info = (_body(request).get("fulfillment") or {}).get("tracking_info") or {}
    payload = fulfillment.payload
    if info.get("number"):
        payload["tracking_number"] = str(info["number"])
        payload["tracking_numbers"] = [str(info["number"])]
    if info.get("company"):
        payload["tracking_company"] = info["company"]
    if info.get("url"):
        payload["tracking_url"] = info["url"]
        payload["tracking_urls"] = [info["url"]]
    payload["updated_at"] = _iso(timezone.now())
    fulfillment.save(update_fields=["payload"])
    return JsonResponse({"fulfillment": payload})


# --- webhooks ---------------------------------------------------------------------------


def _webhook_payload(webhook: SandboxWebhook, version: str) -> dict:
    return {
        "id": webhook.external_id,
        "address": webhook.address,
        "topic": webhook.topic,
        "created_at": _iso(webhook.created_at),
        "updated_at": _iso(webhook.created_at),
        "format": "json",
        "fields": [],
        "metafield_namespaces": [],
        "api_version": version,
    }


@admin_api()
def webhooks(request, shop, token, version):
    if request.method == "GET":
        rows = SandboxWebhook.objects.filter(shop=shop, app=token.app).order_by("external_id")
        return JsonResponse({"webhooks": [_webhook_payload(row, version) for row in rows]})
    if request.method != "POST":
        return _errors(405, "Method Not Allowed")
    data = _body(request).get("webhook") or {}
    topic, address = str(data.get("topic", "")), str(data.get("address", ""))
    if not topic or urlsplit(address).scheme not in {"http", "https"}:
        return _errors(422, {"address": ["is invalid"]} if topic else {"topic": ["can't be blank"]})
    row = SandboxWebhook.objects.create(
        shop=shop, app=token.app, external_id=state.new_id(), topic=topic, address=address
    )
    return JsonResponse({"webhook": _webhook_payload(row, version)}, status=201)


# --- test orders ------------------------------------------------------------------------


def _address(shop: SandboxShop, rng: random.Random) -> dict:
    first, last, phone, address1, address2, city, province, province_code, zip_code = rng.choice(
        ADDRESSES.get(shop.country_code, ADDRESSES["US"])
    )
    return {
        "first_name": first,
        "address1": address1,
        "phone": phone,
        "city": city,
        "zip": zip_code,
        "province": province,
        "country": COUNTRY_NAMES.get(shop.country_code, shop.country_code),
        "last_name": last,
        "address2": address2,
        "company": None,
        "latitude": None,
        "longitude": None,
        "name": f"{first} {last}",
        "country_code": shop.country_code,
        "province_code": province_code.split("-")[-1] if shop.country_code == "US" else province_code,
    }


def build_order(shop: SandboxShop, *, number: int, lines: list[tuple[str, str, str, Decimal, int]], rng, now) -> dict:
    """A REST Admin API 2024-10 order, with the fields the reference documents for one."""
    order_id = state.new_id()
    address = _address(shop, rng)
    email = f"{address['first_name'].lower()}.{address['last_name'].lower()}@example.com"
    line_items = []
    subtotal = Decimal(0)
    for sku, title, variant_title, price, quantity in lines:
        line_id = state.new_id()
        subtotal += price * quantity
        line_items.append(
            {
                "id": line_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                "current_quantity": quantity,
                "fulfillable_quantity": quantity,
                "fulfillment_service": "manual",
                "fulfillment_status": None,
                "gift_card": False,
                "grams": 200,
                "name": f"{title} - {variant_title}" if variant_title else title,
                "price": f"{price:.2f}",
                "product_exists": True,
                "product_id": 600_000_000 + (int(hashlib.sha256(sku.encode()).hexdigest()[:8], 16) % 10_000_000),
                "properties": [],
                "quantity": quantity,
                "requires_shipping": True,
                "sku": sku,
                "taxable": True,
                "title": title,
                "total_discount": "0.00",
                "variant_id": 30_000_000 + (int(hashlib.sha256(sku.encode()).hexdigest()[8:16], 16) % 10_000_000),
                "variant_inventory_management": "shopify",
                "variant_title": variant_title,
                "vendor": None,
                "tax_lines": [],
                "duties": [],
                "discount_allocations": [],
            }
        )
    created = _iso(now)
    total = f"{subtotal:.2f}"
    customer_id = state.new_id()
    token = hashlib.sha256(f"{shop.domain}:{order_id}".encode()).hexdigest()
    status_url = f"https://{shop.domain}/{70_000_000 + shop.pk}/orders/{token[:32]}/authenticate?key={token[32:]}"
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "app_id": None,
        "buyer_accepts_marketing": False,
        "cancel_reason": None,
        "cancelled_at": None,
        "closed_at": None,
        "confirmed": True,
        "contact_email": email,
        "created_at": created,
        # the reference's shape: the shop's own domain, its numeric id, the order's token
        "order_status_url": status_url,
        "currency": shop.currency,
        "current_subtotal_price": total,
        "current_total_price": total,
        "email": email,
        "financial_status": "paid",
        "fulfillment_status": None,
        "name": f"#{number}",
        "note": None,
        "number": number - 1000,
        "order_number": number,
        "phone": address["phone"],
        "presentment_currency": shop.currency,
        "processed_at": created,
        "source_name": "web",
        "subtotal_price": total,
        "tags": "",
        "taxes_included": False,
        "test": True,
        "total_discounts": "0.00",
        "total_line_items_price": total,
        "total_price": total,
        "total_tax": "0.00",
        "updated_at": created,
        "billing_address": dict(address),
        "customer": {
            "id": customer_id,
            "email": email,
            "first_name": address["first_name"],
            "last_name": address["last_name"],
            "phone": address["phone"],
            "currency": shop.currency,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        },
        "discount_applications": [],
        "fulfillments": [],
        "line_items": line_items,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": address,
        "shipping_lines": [
            {
                "id": state.new_id(),
                "code": "Standard",
                "price": "0.00",
                "source": "shopify",
                "title": "Standard Shipping",
                "tax_lines": [],
                "discount_allocations": [],
            }
        ],
    }


def _fulfillment_order_payload(order: dict, shop: SandboxShop) -> dict:
    fo_id = state.new_id()
    address = order.get("shipping_address") or {}
    return {
        "id": fo_id,
        "shop_id": shop.pk,
        "order_id": order["id"],
        "assigned_location_id": LOCATION_ID,
        "request_status": "unsubmitted",
        "status": "open",
        "supported_actions": ["create_fulfillment", "hold", "move"],
        "destination": {
            "id": state.new_id(),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "company": address.get("company"),
            "country": address.get("country"),
            "email": order.get("email"),
            "first_name": address.get("first_name"),
            "last_name": address.get("last_name"),
            "phone": address.get("phone"),
            "province": address.get("province"),
            "zip": address.get("zip"),
        },
        "line_items": [
            {
                "id": state.new_id(),
                "shop_id": shop.pk,
                "fulfillment_order_id": fo_id,
                "quantity": line["quantity"],
                "line_item_id": line["id"],
                "inventory_item_id": line["variant_id"],
                "fulfillable_quantity": line["quantity"],
                "variant_id": line["variant_id"],
            }
            for line in order["line_items"]
        ],
        "international_duties": None,
        "fulfill_at": None,
        "fulfill_by": None,
        "fulfillment_holds": [],
        "created_at": order["created_at"],
        "updated_at": order["created_at"],
        "delivery_method": None,
        "assigned_location": {
            "address1": None,
            "address2": None,
            "city": None,
            "country_code": shop.country_code,
            "location_id": LOCATION_ID,
            "name": "Sandbox warehouse",
            "phone": None,
            "province": None,
            "zip": None,
        },
        "merchant_requests": [],
    }


def order_store(shop: SandboxShop, payload: dict, *, notify: bool = True) -> SandboxOrder:
    """Keep an order (and its fulfillment order) as the shop's own; fire orders/create."""
    now = timezone.now()
    created = _parse_time(str(payload.get("created_at") or "")) or now
    updated = _parse_time(str(payload.get("updated_at") or "")) or created
    if payload.get("cancelled_at"):
        order_state = "cancelled"
    elif payload.get("closed_at"):
        order_state = "closed"
    else:
        order_state = "open"
    with transaction.atomic():
        order = SandboxOrder.objects.create(
            shop=shop,
            external_id=int(payload["id"]),
            payload=payload,
            state=order_state,
            created_at=created,
            updated_at=updated,
        )
        if payload.get("line_items"):
            fo = _fulfillment_order_payload(payload, shop)
            SandboxFulfillmentOrder.objects.create(order=order, external_id=fo["id"], payload=fo)
    if notify:
        state.webhook_deliver(shop=shop, topic="orders/create", payload=payload)
    return order


def orders_create_random(
    shop: SandboxShop, *, count: int, skus: list[str] | None = None, seed: int | None = None, notify: bool = True
) -> list[SandboxOrder]:
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    known = {sku: (sku, title, variant, Decimal(price)) for sku, title, variant, price in DEFAULT_PRODUCTS}
    # A SKU the shop sells anyway keeps its title and price; any other gets a made-up one.
    catalogue = [known.get(sku) or (sku, sku.replace("-", " ").title(), "", Decimal("19.90")) for sku in skus or []]
    catalogue = catalogue or list(known.values())
    created = []
    base_time = timezone.now() - timedelta(seconds=count)
    for index in range(count):
        with transaction.atomic():
            locked = SandboxShop.objects.select_for_update().get(pk=shop.pk)
            number = locked.next_order_number
            locked.next_order_number = number + 1
            locked.save(update_fields=["next_order_number"])
        picks = rng.sample(catalogue, k=rng.randint(1, min(2, len(catalogue))))
        lines = [(sku, title, variant, price, rng.randint(1, 3)) for sku, title, variant, price in picks]
        payload = build_order(shop, number=number, lines=lines, rng=rng, now=base_time + timedelta(seconds=index))
        created.append(order_store(shop, payload, notify=notify))
    return created


def orders_create_from_payloads(shop: SandboxShop, payloads: list[dict], *, notify: bool = True) -> list[SandboxOrder]:
    """Orders from saved payloads (a documented example, a real export); ids already taken get new ones."""
    created = []
    for payload in payloads:
        payload = json.loads(json.dumps(payload))
        if not payload.get("id") or SandboxOrder.objects.filter(shop=shop, external_id=int(payload["id"])).exists():
            payload["id"] = state.new_id()
            payload["admin_graphql_api_id"] = f"gid://shopify/Order/{payload['id']}"
        created.append(order_store(shop, payload, notify=notify))
    return created


# --- the sandbox's own control panel ----------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request, shop):
    """Fault switches and test data for one shop (the sandbox's own endpoint, not Shopify's).

    POST JSON, any of: fail_next_429, fault_retry_after, fail_next_500, slow_seconds,
    bucket_size, leak_per_second (numbers); expire_access_tokens, expire_refresh_tokens,
    revoke_tokens (true); create_orders (a count), skus (a list).
    """
    shop_row = state.shop_get_or_create(PLATFORM, shop) if SHOP_DOMAIN.match(shop) else None
    if shop_row is None:
        return _errors(404, "Not Found")
    if request.method == "POST":
        data = _body(request)
        switches = {
            k: data[k]
            for k in (
                "fail_next_429",
                "fault_retry_after",
                "fail_next_500",
                "slow_seconds",
                "bucket_size",
                "leak_per_second",
            )
            if k in data
        }
        try:
            state.faults_set(shop_row, **switches)
        except ValueError as exc:
            return _errors(400, str(exc))
        if data.get("expire_access_tokens"):
            state.tokens_expire_access(shop_row)
        if data.get("expire_refresh_tokens"):
            state.tokens_expire_refresh(shop_row)
        if data.get("revoke_tokens"):
            state.tokens_revoke(shop_row)
        if data.get("create_orders"):
            orders_create_random(shop_row, count=int(data["create_orders"]), skus=data.get("skus"))
    return JsonResponse(
        {
            "shop": shop_row.domain,
            "orders": shop_row.orders.count(),
            "fail_next_429": shop_row.fail_next_429,
            "fault_retry_after": shop_row.fault_retry_after,
            "fail_next_500": shop_row.fail_next_500,
            "slow_seconds": shop_row.slow_seconds,
            "bucket_size": shop_row.bucket_size,
            "leak_per_second": shop_row.leak_per_second,
        }
    )


def not_found(request, shop, rest=""):
    return HttpResponse(json.dumps({"errors": "Not Found"}), status=404, content_type="application/json")
