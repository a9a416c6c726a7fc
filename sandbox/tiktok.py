"""TikTok Shop emulator: the seller authorization page, the token endpoints, and the
Partner API v202309 calls a seller connector needs (authorized shops, order search and
detail, shipping providers, mark package as shipped, update shipping info), signed and
rate limited as the Partner docs describe, with order-status webhooks.

Hosts become path segments: https://open-api.tiktokglobalshop.com/order/202309/orders ->
/sandbox/tiktok/open-api.tiktokglobalshop.com/order/202309/orders, and so on.
Signature: hex HMAC-SHA256, key = app secret, message = secret + path + sorted
`{key}{value}` query pairs (without sign and access_token) + raw body + secret.
Errors carry TikTok's documented codes: 105002 expired token, 36009004 invalid
credentials, 106001 bad sign, 105005 missing scope, 36009002 too many requests.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import wraps

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import state
from .models import SandboxGrant, SandboxOrder, SandboxShop, SandboxToken, SandboxWebhook

PLATFORM = "tiktok"
REGION = re.compile(r"^[A-Z]{2}$")
CURRENCIES = {"US": "USD", "GB": "GBP", "JP": "JPY", "DE": "EUR", "ID": "IDR"}
PROVIDERS = [("7117858858072016686", "USPS"), ("7117859084333745966", "UPS"), ("7117859000000000003", "FedEx")]
PRODUCTS = [
    (
        "SNOWTOX-SERUM-30ML",
        "1729582718312380123",
        "2729382476852921560",
        "SNOWTOX Crystal Treatment Serum",
        "30ml",
        "39.90",
    ),
    ("GLOW-MASK-5PK", "1729582718312380124", "2729382476852921561", "Glow Sheet Mask", "5 pack", "19.50"),
]
ADDRESSES = {
    "US": ("David Kong", "(+1)213-***-1234", "5800 Bristol Pkwy", "Suite 100", "90230", "California", "Culver City"),
    "GB": ("Amy Lee", "(+44)20-***-0101", "1 Fleet Street", "", "EC4Y 1AA", "England", "London"),
}
TIMESTAMP_PAST, TIMESTAMP_FUTURE = 300, 30


def _answer(code: int = 0, message: str = "Success", data=None, status: int = 200) -> JsonResponse:
    body = {"code": code, "message": message, "request_id": secrets.token_hex(16).upper()}
    if data is not None:
        body["data"] = data
    return JsonResponse(body, status=status)


def sign(secret: str, path: str, params: dict, body: bytes) -> str:
    pairs = "".join(f"{key}{params[key]}" for key in sorted(params) if key not in {"sign", "access_token"})
    message = secret + path + pairs + body.decode() + secret
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _app(app_key: str):
    return state.app_for(PLATFORM, app_key)


# --- authorization ----------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def authorize(request, host):
    """The seller's authorization page; the redirect goes to the app's registered URL."""
    params = request.GET if request.method == "GET" else request.POST
    app = state.app_for_application(PLATFORM, params.get("service_id", ""))
    configured = (getattr(settings, "SANDBOX_APPS", {}) or {}).get(PLATFORM) or {}
    if app is None:
        return render(request, "sandbox/tiktok_authorize.html", {"problem": "Unknown service_id.", "host": host}, 400)
    if request.method == "GET":
        region = "US" if ".us." in host else "GB"
        return render(
            request,
            "sandbox/tiktok_authorize.html",
            {
                "host": host,
                "app": app,
                "state": params.get("state", ""),
                "service_id": app.application_id,
                "region": region,
            },
        )
    region = params.get("region", "US").upper()
    if not REGION.match(region):
        region = "US"
    name = params.get("shop_name", "").strip() or f"Sandbox {region} shop"
    is_new = not SandboxShop.objects.filter(platform=PLATFORM, name=name, country_code=region).exists()
    shop = shop_for(name, region=region)
    if is_new and getattr(settings, "SANDBOX_NEW_SHOP_ORDERS", 0):
        # A shop's first authorization: some orders to pull, as in the other emulators.
        orders_create_random(shop, count=settings.SANDBOX_NEW_SHOP_ORDERS)
    grant = SandboxGrant.objects.create(
        shop=shop,
        app=app,
        code="ROW_" + secrets.token_urlsafe(24),
        scopes="orders,fulfillment,logistics",
        redirect_uri=configured.get("redirect_uri", ""),
    )
    return HttpResponseRedirect(f"{grant.redirect_uri}?code={grant.code}&state={params.get('state', '')}")


def shop_for(name: str, *, region: str = "US") -> SandboxShop:
    existing = SandboxShop.objects.filter(platform=PLATFORM, name=name, country_code=region).first()
    if existing:
        return existing
    return SandboxShop.objects.create(
        platform=PLATFORM,
        domain=str(7_000_000_000_000_000_000 + secrets.randbelow(10**17)),
        name=name,
        cipher="GCP_" + secrets.token_urlsafe(24),
        country_code=region,
        currency=CURRENCIES.get(region, "USD"),
        # 50 requests per second per API for an app and shop.
        bucket_size=50,
        leak_per_second=50.0,
        next_order_number=576_461_413_000_000_000 + secrets.randbelow(10**9),
    )


def _token_data(token: SandboxToken) -> dict:
    return {
        "access_token": token.access_token,
        "access_token_expire_in": int(token.access_expires_at.timestamp()),
        "refresh_token": token.refresh_token,
        "refresh_token_expire_in": int(token.refresh_expires_at.timestamp()),
        "open_id": f"open-{token.shop.domain[-8:]}",
        "seller_name": token.shop.name,
        "seller_base_region": token.shop.country_code,
        "user_type": 0,
        "granted_scopes": token.scopes.split(","),
    }


@require_http_methods(["GET"])
def token_get(request):
    query = request.GET
    app = _app(query.get("app_key", ""))
    if app is None or not hmac.compare_digest(app.client_secret, query.get("app_secret", "")):
        return _answer(36009004, "Invalid credentials. Invalid app_key or app_secret.")
    if query.get("grant_type") != "authorized_code":
        return _answer(36009004, "Invalid grant_type.")
    with transaction.atomic():
        grant = SandboxGrant.objects.select_for_update().filter(app=app, code=query.get("auth_code", "")).first()
        # The auth code lives 30 minutes and works once.
        if grant is None or grant.used_at or grant.created_at < timezone.now() - timedelta(minutes=30):
            return _answer(36009004, "Invalid credentials. The auth_code is invalid or was already used.")
        grant.used_at = timezone.now()
        grant.save(update_fields=["used_at"])
    now = timezone.now()
    token = SandboxToken.objects.create(
        shop=grant.shop,
        app=app,
        access_token="TTP_" + secrets.token_urlsafe(32),
        refresh_token="TTP_" + secrets.token_urlsafe(32),
        scopes=grant.scopes,
        access_expires_at=now + timedelta(days=7),
        refresh_expires_at=now + timedelta(days=365),
    )
    state.request_log(shop=grant.shop, request=request, status=200)
    return _answer(data=_token_data(token), message="success")


@require_http_methods(["GET"])
def token_refresh(request):
    query = request.GET
    app = _app(query.get("app_key", ""))
    if app is None or not hmac.compare_digest(app.client_secret, query.get("app_secret", "")):
        return _answer(36009004, "Invalid credentials. Invalid app_key or app_secret.")
    with transaction.atomic():
        token = (
            SandboxToken.objects.select_for_update()
            .select_related("shop")
            .filter(app=app, refresh_token=query.get("refresh_token", ""), revoked=False)
            .first()
        )
        if token is None or token.refresh_expires_at <= timezone.now():
            return _answer(36009004, "Invalid credentials. The refresh_token is invalid or expired.")
        token.access_token = "TTP_" + secrets.token_urlsafe(32)
        token.access_expires_at = timezone.now() + timedelta(days=7)
        token.save(update_fields=["access_token", "access_expires_at"])
    state.request_log(shop=token.shop, request=request, status=200)
    return _answer(data=_token_data(token), message="success")


# --- the signed API ---------------------------------------------------------------------


def open_api(*, needs_shop: bool = True):
    """Signature, timestamp, token, shop cipher, faults and the per-API rate limit."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, host, *args, **kwargs):
            token = (
                SandboxToken.objects.select_related("shop", "app")
                .filter(access_token=request.headers.get("x-tts-access-token", ""))
                .first()
            )
            shop = token.shop if token else None
            response = _gate(request, host, token, needs_shop)
            if response is None:
                response = view(request, shop, *args, **kwargs)
            state.request_log(shop=shop, request=request, status=response.status_code)
            return response

        return wrapper

    return decorate


def _gate(request, host, token, needs_shop):
    query = request.GET.dict()
    app = _app(query.get("app_key", ""))
    if app is None:
        return _answer(36009004, "Invalid credentials. Invalid app_key query parameter.", status=401)
    if "sign" not in query:
        return _answer(36009004, "Missing credentials. The request does not include a required signature.", status=401)
    try:
        stamp = int(query.get("timestamp", ""))
    except ValueError:
        stamp = -1
    now = time.time()
    if not now - TIMESTAMP_PAST <= stamp <= now + TIMESTAMP_FUTURE:
        return _answer(36009004, "Invalid timestamp.", status=401)
    path = request.path.split(f"/tiktok/{host}", 1)[1]
    if not hmac.compare_digest(sign(app.client_secret, path, query, request.body or b""), query["sign"]):
        return _answer(106001, "Invalid credentials. The sign query parameter is invalid.", status=401)
    if token is None or token.revoked or token.app_id != app.pk:
        return _answer(36009004, "Invalid credentials. The x-tts-access-token header is invalid.", status=401)
    shop = token.shop
    if shop.slow_seconds:
        time.sleep(min(shop.slow_seconds, 30))
    if state.fault_take(shop, "fail_next_500"):
        return _answer(36009003, "Internal error. Please try again.", status=500)
    if state.fault_take(shop, "fail_next_429") or not state.bucket_take(shop).allowed:
        return _answer(
            36009002, "Too many requests. You've made too many requests in a short period of time.", status=429
        )
    if token.access_expires_at <= timezone.now():
        return _answer(105002, "Expired credentials. The x-tts-access-token header has expired.", status=401)
    if needs_shop:
        if not query.get("shop_cipher"):
            return _answer(106013, "Missing identifier. The shop_cipher query parameter is required.", status=400)
        if query["shop_cipher"] != shop.cipher:
            return _answer(
                101000, "Invalid query or header. The shop does not match the provided shop_cipher.", status=401
            )
    elif query.get("shop_cipher"):
        return _answer(36009004, "Unexpected identifier. The shop_cipher query parameter is not required.", status=400)
    return None


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@open_api(needs_shop=False)
def authorized_shops(request, shop):
    return _answer(
        data={
            "shops": [
                {
                    "id": shop.domain,
                    "name": shop.name,
                    "region": shop.country_code,
                    "seller_type": "CROSS_BORDER",
                    "cipher": shop.cipher,
                    "code": f"{shop.country_code}LC{shop.domain[-6:]}",
                }
            ]
        }
    )


@open_api()
def orders_search(request, shop):
    if request.method != "POST":
        return _answer(36009010, "Invalid method.", status=405)
    query, filters = request.GET, _body(request)
    try:
        size = int(query.get("page_size", 0))
    except ValueError:
        size = 0
    if not 1 <= size <= 100:
        return _answer(36009004, "Invalid parameter: page_size must be between 1 and 100.", status=400)
    field = {"create_time": "created_at", "update_time": "updated_at"}.get(query.get("sort_field", "create_time"))
    if field is None:
        return _answer(36009004, "Invalid parameter: sort_field.", status=400)
    rows = SandboxOrder.objects.filter(shop=shop)
    for name, lookup in (
        ("create_time_ge", "created_at__gte"),
        ("create_time_lt", "created_at__lt"),
        ("update_time_ge", "updated_at__gte"),
        ("update_time_lt", "updated_at__lt"),
    ):
        if filters.get(name) is not None:
            rows = rows.filter(**{lookup: datetime.fromtimestamp(int(filters[name]), tz=UTC)})
    if filters.get("order_status"):
        rows = rows.filter(state=filters["order_status"])
    descending = query.get("sort_order", "DESC") == "DESC"
    rows = rows.order_by(("-" if descending else "") + field, ("-" if descending else "") + "external_id")
    offset = 0
    if query.get("page_token"):
        try:
            offset = int(base64.urlsafe_b64decode(query["page_token"].encode()).decode())
        except ValueError:
            return _answer(36009004, "Invalid parameter: page_token.", status=400)
    total = rows.count()
    page = list(rows[offset : offset + size])
    next_token = base64.urlsafe_b64encode(str(offset + size).encode()).decode() if offset + size < total else ""
    return _answer(data={"next_page_token": next_token, "total_count": total, "orders": [r.payload for r in page]})


@open_api()
def orders_detail(request, shop):
    ids = [i for i in request.GET.get("ids", "").split(",") if i.strip()]
    if not 1 <= len(ids) <= 50:
        return _answer(36009004, "Invalid parameter: ids must list 1 to 50 order ids.", status=400)
    rows = SandboxOrder.objects.filter(shop=shop, external_id__in=[int(i) for i in ids if i.isdigit()])
    return _answer(data={"orders": [row.payload for row in rows]})


@open_api()
def shipping_providers(request, shop, delivery_option_id):
    return _answer(data={"shipping_providers": [{"id": pid, "name": name} for pid, name in PROVIDERS]})


def _order_row(shop, order_id) -> SandboxOrder | None:
    return SandboxOrder.objects.select_for_update().filter(shop=shop, external_id=order_id).first()


@open_api()
def mark_package_shipped(request, shop, order_id):
    data = _body(request)
    provider = dict(PROVIDERS).get(str(data.get("shipping_provider_id", "")))
    if not data.get("tracking_number") or provider is None:
        return _answer(21011001, "Invalid tracking_number or shipping_provider_id.", status=400)
    with transaction.atomic():
        row = _order_row(shop, order_id)
        if row is None:
            return _answer(21001001, "Order not found.", status=404)
        # A split order ships in several packages: its later packages go out while it is
        # PARTIALLY_SHIPPING (one of the order statuses the search filter documents).
        if row.state not in {"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"}:
            return _answer(21011002, f"The order is {row.state} and cannot be marked as shipped.", status=400)
        lines = row.payload["line_items"]
        open_lines = [line["id"] for line in lines if line.get("package_status") != "SHIPPED"]
        wanted = [str(i) for i in data.get("order_line_item_ids") or open_lines]
        unknown = set(wanted) - {line["id"] for line in lines}
        if unknown:
            return _answer(21011003, f"Unknown order_line_item_ids: {sorted(unknown)}.", status=400)
        shipped = sorted(set(wanted) - set(open_lines))
        if shipped or not wanted:
            return _answer(21011005, f"Order line items already in a shipped package: {shipped or 'all'}.", status=400)
        package_id = str(1_152_000_000_000_000_000 + secrets.randbelow(10**15))
        for line in lines:
            if line["id"] in wanted:
                line.update(
                    tracking_number=data["tracking_number"],
                    shipping_provider_id=data["shipping_provider_id"],
                    shipping_provider_name=provider,
                    package_id=package_id,
                    package_status="SHIPPED",
                    display_status="IN_TRANSIT",
                )
        shipped_all = all(line.get("package_status") == "SHIPPED" for line in lines)
        _update(
            row,
            "IN_TRANSIT" if shipped_all else "PARTIALLY_SHIPPING",
            tracking=data["tracking_number"],
            provider=(data["shipping_provider_id"], provider),
            package_id=package_id,
        )
    _notify(shop, row)
    return _answer(
        data={"order_id": str(order_id), "order_line_item_ids": wanted, "package_id": package_id, "warning": None}
    )


@open_api()
def update_shipping_info(request, shop, order_id):
    data = _body(request)
    provider = dict(PROVIDERS).get(str(data.get("shipping_provider_id", "")))
    if not data.get("tracking_number") or provider is None:
        return _answer(21011001, "Invalid tracking_number or shipping_provider_id.", status=400)
    with transaction.atomic():
        row = _order_row(shop, order_id)
        if row is None:
            return _answer(21001001, "Order not found.", status=404)
        if row.state not in {"AWAITING_COLLECTION", "IN_TRANSIT", "PARTIALLY_SHIPPING"}:
            return _answer(21011004, f"The order is {row.state}: no shipping information to update.", status=400)
        for line in row.payload["line_items"]:
            if line.get("package_status") == "SHIPPED":
                line.update(
                    tracking_number=data["tracking_number"],
                    shipping_provider_id=data["shipping_provider_id"],
                    shipping_provider_name=provider,
                )
        _update(row, row.state, tracking=data["tracking_number"], provider=(data["shipping_provider_id"], provider))
    return _answer(data={})


def _update(row: SandboxOrder, status: str, *, tracking: str, provider: tuple[str, str], package_id: str = "") -> None:
    now = timezone.now()
    row.payload.update(
        status=status,
        tracking_number=tracking,
        shipping_provider_id=provider[0],
        shipping_provider=provider[1],
        update_time=int(now.timestamp()),
    )
    if package_id:
        row.payload.setdefault("packages", []).append({"id": package_id})
    row.state = status
    row.updated_at = now
    row.save(update_fields=["payload", "state", "updated_at"])


# --- webhooks ---------------------------------------------------------------------------


def _notify(shop: SandboxShop, row: SandboxOrder) -> int:
    """Type 1, order status change; Authorization = hex HMAC-SHA256(app secret, app key + body)."""
    delivered = 0
    for hook in SandboxWebhook.objects.select_related("app").filter(shop=shop, topic="ORDER_STATUS_CHANGE"):
        body = json.dumps(
            {
                "type": 1,
                "tts_notification_id": str(state.new_id()),
                "shop_id": shop.domain,
                "timestamp": int(time.time()),
                "data": {
                    "order_id": str(row.external_id),
                    "order_status": row.state,
                    "is_on_hold_order": False,
                    "update_time": row.payload.get("update_time"),
                },
            }
        ).encode()
        signature = hmac.new(hook.app.client_secret.encode(), hook.app.client_id.encode() + body, hashlib.sha256)
        try:
            requests.post(
                hook.address,
                data=body,
                headers={"Content-Type": "application/json", "Authorization": signature.hexdigest()},
                timeout=3,
            )
            delivered += 1
        except requests.RequestException:
            continue
    return delivered


# --- test orders ------------------------------------------------------------------------


def build_order(shop: SandboxShop, *, order_id: int, lines, rng, now) -> dict:
    name, phone, line1, line2, postal, province, city = ADDRESSES.get(shop.country_code, ADDRESSES["US"])
    stamp = int(now.timestamp())
    items, subtotal = [], Decimal(0)
    for sku, product_id, sku_id, title, variant, price, quantity in lines:
        for _unit in range(quantity):  # one line item per unit
            subtotal += Decimal(price)
            items.append(
                {
                    "id": str(577_086_512_000_000_000 + secrets.randbelow(10**12)),
                    "sku_id": sku_id,
                    "product_id": product_id,
                    "product_name": title,
                    "sku_name": variant,
                    "seller_sku": sku,
                    "original_price": price,
                    "sale_price": price,
                    "platform_discount": "0",
                    "seller_discount": "0",
                    "currency": shop.currency,
                    "display_status": "AWAITING_SHIPMENT",
                    "package_status": "TO_FULFILL",
                    "is_gift": False,
                    "sku_type": "NORMAL",
                }
            )
    shipping = Decimal("5.00")
    return {
        "id": str(order_id),
        "status": "AWAITING_SHIPMENT",
        "shipping_type": "SELLER",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "delivery_type": "HOME_DELIVERY",
        "create_time": stamp,
        "update_time": stamp,
        "paid_time": stamp,
        "user_id": str(7_021_436_810_000_000_000 + secrets.randbelow(10**9)),
        "buyer_email": f"{secrets.token_hex(3)}@scs.tiktokw.us",
        "buyer_message": "",
        "payment": {
            "currency": shop.currency,
            "sub_total": f"{subtotal:.2f}",
            "shipping_fee": f"{shipping:.2f}",
            "seller_discount": "0",
            "platform_discount": "0",
            "total_amount": f"{subtotal + shipping:.2f}",
            "original_total_product_price": f"{subtotal:.2f}",
            "original_shipping_fee": f"{shipping:.2f}",
            "tax": "0",
        },
        "recipient_address": {
            "full_address": f"{line1} {line2} {city}, {province} {postal}".replace("  ", " "),
            "phone_number": phone,
            "name": name,
            "first_name": name.split(" ")[0],
            "last_name": name.split(" ")[-1],
            "postal_code": postal,
            "region_code": shop.country_code,
            "address_line1": line1,
            "address_line2": line2,
            "address_line3": "",
            "address_line4": "",
            "address_detail": line2,
            "district_info": [
                {"address_level_name": "Country", "address_name": shop.country_code, "address_level": "L0"},
                {"address_level_name": "State", "address_name": province, "address_level": "L1"},
                {"address_level_name": "City", "address_name": city, "address_level": "L3"},
            ],
        },
        "delivery_option_id": "7091146663229654785",
        "delivery_option_name": "Standard Shipping",
        "is_cod": False,
        "is_buyer_request_cancel": False,
        "is_on_hold_order": False,
        "is_sample_order": False,
        "packages": [],
        "line_items": items,
    }


def orders_create_random(shop: SandboxShop, *, count: int, skus=None, seed=None) -> list[SandboxOrder]:
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    catalogue = (
        [
            (sku, f"17295827183123{i:05d}", f"27293824768529{i:05d}", sku.title(), "", "19.90")
            for i, sku in enumerate(skus)
        ]
        if skus
        else PRODUCTS
    )
    created = []
    base = timezone.now() - timedelta(seconds=count)
    for index in range(count):
        with transaction.atomic():
            locked = SandboxShop.objects.select_for_update().get(pk=shop.pk)
            order_id = locked.next_order_number
            locked.next_order_number = order_id + 1
            locked.save(update_fields=["next_order_number"])
        picks = rng.sample(catalogue, k=rng.randint(1, min(2, len(catalogue))))
        lines = [(*pick, rng.randint(1, 2)) for pick in picks]
        moment = base + timedelta(seconds=index)
        payload = build_order(shop, order_id=order_id, lines=lines, rng=rng, now=moment)
        row = SandboxOrder.objects.create(
            shop=shop,
            external_id=order_id,
            payload=payload,
            state=payload["status"],
            created_at=moment,
            updated_at=moment,
        )
        _notify(shop, row)
        created.append(row)
    return created


def orders_create_from_payloads(shop: SandboxShop, payloads: list[dict], *, notify: bool = True) -> list[SandboxOrder]:
    """Orders from saved order-detail payloads (`data.orders[]`); an id the shop has gets a new one."""
    created = []
    for payload in payloads:
        payload = json.loads(json.dumps(payload))
        if "line_items" not in payload:
            raise ValueError("A TikTok Shop order has `line_items`.")
        order_id = str(payload.get("id") or "")
        if not order_id.isdigit() or SandboxOrder.objects.filter(shop=shop, external_id=int(order_id)).exists():
            order_id = str(state.order_number_take(shop))
            payload["id"] = order_id
        now = timezone.now()
        created_at = datetime.fromtimestamp(int(payload.get("create_time") or now.timestamp()), tz=UTC)
        updated_at = datetime.fromtimestamp(int(payload.get("update_time") or created_at.timestamp()), tz=UTC)
        payload.setdefault("status", "AWAITING_SHIPMENT")
        payload.setdefault("packages", [])
        row = SandboxOrder.objects.create(
            shop=shop,
            external_id=int(order_id),
            payload=payload,
            state=payload["status"],
            created_at=created_at,
            updated_at=updated_at,
        )
        if notify:
            _notify(shop, row)
        created.append(row)
    return created


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request, shop_id):
    """Faults, tokens, webhook address and test orders for one shop (the sandbox's own endpoint).

    POST JSON, any of: fail_next_429, fail_next_500, slow_seconds; expire_access_tokens,
    revoke_tokens (true); webhook_url (the app's order-status webhook); create_orders, skus.
    """
    shop = SandboxShop.objects.filter(platform=PLATFORM, domain=shop_id).first()
    if shop is None:
        return _answer(21001001, "Shop not found.", status=404)
    if request.method == "POST":
        data = _body(request)
        state.faults_set(shop, **{k: data[k] for k in ("fail_next_429", "fail_next_500", "slow_seconds") if k in data})
        if data.get("expire_access_tokens"):
            state.tokens_expire_access(shop)
        if data.get("revoke_tokens"):
            state.tokens_revoke(shop)
        if data.get("webhook_url"):
            app = state.app_for(PLATFORM, settings.SANDBOX_APPS[PLATFORM]["client_id"])
            SandboxWebhook.objects.update_or_create(
                shop=shop,
                topic="ORDER_STATUS_CHANGE",
                defaults={"app": app, "address": data["webhook_url"], "external_id": state.new_id()},
            )
        if data.get("create_orders"):
            orders_create_random(shop, count=int(data["create_orders"]), skus=data.get("skus"))
    return JsonResponse({"shop_id": shop.domain, "cipher": shop.cipher, "orders": shop.orders.count()})
