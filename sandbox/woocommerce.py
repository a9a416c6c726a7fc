"""WooCommerce emulator: the REST API v3 (`/wp-json/wc/v3`) orders, order notes and
webhooks, authenticated as WooCommerce authenticates, the Shipment Tracking extension's
routes (`/wp-json/wc-shipment-tracking/v3`, switchable per shop), plus the shop's key page
and its key-issuing endpoint (`/wc-auth/v1/authorize`, "Application Authentication").

A sandbox site lives at /sandbox/woocommerce/{site}/ and plays https://{site}/:
    https://shop.example/wp-json/wc/v3/orders -> /sandbox/woocommerce/{site}/wp-json/wc/v3/orders
Shapes follow the official REST API docs (woocommerce-rest-api-docs, wp-api-v3).

Authentication as WooCommerce does it: over HTTPS, HTTP Basic (consumer key / secret) or
`consumer_key`/`consumer_secret` query parameters; over plain HTTP only OAuth 1.0a
"one-legged" signatures (HMAC-SHA1 or HMAC-SHA256, key = consumer secret + "&"),
with a 15-minute timestamp window and single-use nonces. The sandbox site runs on UTC,
so local and GMT dates are the same.
"""

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import random
import re
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import state
from .models import SandboxApiKey, SandboxOrder, SandboxShop, SandboxWebhook

PLATFORM = "woocommerce"
SITE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
TIMESTAMP_WINDOW = 15 * 60
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash")
PRODUCTS = [
    ("SNOWTOX-SERUM-30ML", "SNOWTOX Crystal Treatment Serum", 93, "39.90"),
    ("SNOWTOX-CREAM-50ML", "SNOWTOX Crystal Cream", 94, "45.00"),
    ("GLOW-MASK-5PK", "Glow Sheet Mask", 95, "19.50"),
]
BUYERS = {
    "US": [("John", "Doe", "969 Market", "San Francisco", "CA", "94103", "(555) 555-5555")],
    "JP": [("Hana", "Suzuki", "2-1-1 Nihonbashi", "Chuo-ku", "JP13", "103-0027", "03-5555-0100")],
    "BR": [("João", "Silva", "Av. Brasil, 432", "Rio de Janeiro", "RJ", "12345-000", "(21) 5555-0100")],
}


def _error(status: int, code: str, message: str, **data) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "data": {"status": status, **data}}, status=status)


def _site_url(request, site: str) -> str:
    return request.build_absolute_uri(f"/sandbox/woocommerce/{site}")


def _now() -> datetime:
    return timezone.now().astimezone(UTC)


def _wp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- authentication ---------------------------------------------------------------------


def _rfc3986(value) -> str:
    return quote(str(value), safe="~-._")


def oauth1_signature(method: str, url: str, params: dict, consumer_secret: str, signature_method: str) -> str:
    """OAuth 1.0a HMAC signature as the WooCommerce docs describe it."""
    pairs = sorted((_rfc3986(k), _rfc3986(v)) for k, v in params.items() if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), _rfc3986(url), _rfc3986(normalized)])
    digest = hashlib.sha256 if signature_method == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new(f"{consumer_secret}&".encode(), base.encode(), digest).digest()).decode()


def _key(shop: SandboxShop, consumer_key: str) -> SandboxApiKey | None:
    return SandboxApiKey.objects.filter(shop=shop, consumer_key=consumer_key, revoked=False).first()


def _authenticate(request, shop: SandboxShop, site: str):
    """The API key the request proves, or an error response."""
    if request.is_secure():
        consumer_key = consumer_secret = ""
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                consumer_key, _, consumer_secret = base64.b64decode(header[6:]).decode().partition(":")
        consumer_key = consumer_key or request.GET.get("consumer_key", "")
        consumer_secret = consumer_secret or request.GET.get("consumer_secret", "")
        key = _key(shop, consumer_key)
        if key is None or not hmac.compare_digest(key.consumer_secret, consumer_secret):
            return None, _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        return key, None
    params = request.GET.dict()
    if "oauth_consumer_key" not in params:
        return None, _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    key = _key(shop, params["oauth_consumer_key"])
    if key is None:
        return None, _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    method = params.get("oauth_signature_method", "")
    if method not in {"HMAC-SHA1", "HMAC-SHA256"}:
        return None, _error(
            401, "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid."
        )
    try:
        stamp = int(params.get("oauth_timestamp", ""))
    except ValueError:
        stamp = 0
    if abs(time.time() - stamp) > TIMESTAMP_WINDOW:
        return None, _error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
    expected = oauth1_signature(
        request.method, request.build_absolute_uri(request.path), params, key.consumer_secret, method
    )
    if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
        return None, _error(
            401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
        )
    nonce_key = f"sandbox-wc-nonce:{key.pk}:{stamp}:{params.get('oauth_nonce', '')}"
    if not params.get("oauth_nonce") or not cache.add(nonce_key, 1, TIMESTAMP_WINDOW * 2):
        return None, _error(
            401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used."
        )
    return key, None


def rest_api(write: bool | None = None):
    """Faults, authentication, permissions; logs the call. `write=None` decides by method."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, site, *args, **kwargs):
            shop = SandboxShop.objects.filter(platform=PLATFORM, domain=site).first()
            if shop is None:
                return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
            response = _faults(shop)
            if response is None:
                key, response = _authenticate(request, shop, site)
                if response is None:
                    needs_write = write if write is not None else request.method not in {"GET", "HEAD"}
                    if needs_write and key.permissions == "read":
                        response = _error(
                            401,
                            "woocommerce_rest_authentication_error",
                            "The API key provided does not have write permissions.",
                        )
                    elif not needs_write and key.permissions == "write":
                        response = _error(
                            401,
                            "woocommerce_rest_authentication_error",
                            "The API key provided does not have read permissions.",
                        )
                    else:
                        response = view(request, shop, site, *args, **kwargs)
            state.request_log(shop=shop, request=request, status=response.status_code)
            return response

        return wrapper

    return decorate


def _faults(shop: SandboxShop):
    if shop.slow_seconds:
        time.sleep(min(shop.slow_seconds, 30))
    if state.fault_take(shop, "fail_next_500"):
        return _error(500, "internal_server_error", "There has been a critical error on this website.")
    if state.fault_take(shop, "fail_next_429"):
        response = _error(429, "too_many_requests", "Too many requests.")
        response["Retry-After"] = f"{int(max(1, round(shop.fault_retry_after)))}"
        return response
    return None


# --- orders -----------------------------------------------------------------------------


def _filtered(shop: SandboxShop, query):
    orders = SandboxOrder.objects.filter(shop=shop)
    statuses = [s for s in query.get("status", "any").split(",") if s]
    if statuses and "any" not in statuses:
        if any(s not in STATUSES for s in statuses):
            return None
        orders = orders.filter(state__in=statuses)
    else:
        orders = orders.exclude(state="trash")
    for name, lookup in (
        ("after", "created_at__gt"),
        ("before", "created_at__lt"),
        ("modified_after", "updated_at__gt"),
        ("modified_before", "updated_at__lt"),
    ):
        if query.get(name):
            moment = _parse_time(query[name])
            if moment is None:
                return None
            orders = orders.filter(**{lookup: moment})
    return orders


ORDERBY = {"date": "created_at", "id": "external_id", "modified": "updated_at", "include": "external_id"}


@rest_api()
def orders(request, shop, site):
    if request.method == "POST":
        return _errors_not_supported()
    query = request.GET
    try:
        page = int(query.get("page", 1))
        per_page = int(query.get("per_page", DEFAULT_PER_PAGE))
    except ValueError:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        return _error(
            400,
            "rest_invalid_param",
            "Invalid parameter(s): per_page",
            params={"per_page": f"per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)"},
        )
    if page < 1:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): page")
    rows = _filtered(shop, query)
    if rows is None:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): status, after, modified_after")
    field = ORDERBY.get(query.get("orderby", "date"), "created_at")
    direction = "" if query.get("order", "desc") == "asc" else "-"
    rows = rows.order_by(f"{direction}{field}", f"{direction}external_id")
    total = rows.count()
    pages = (total + per_page - 1) // per_page
    chunk = list(rows[(page - 1) * per_page : page * per_page])
    response = JsonResponse([row.payload for row in chunk], safe=False)
    response["X-WP-Total"] = str(total)
    response["X-WP-TotalPages"] = str(pages)
    base = request.build_absolute_uri(request.path)
    keep = {k: v for k, v in query.items() if k != "page" and not k.startswith("oauth_")}
    links = []
    if page > 1:
        links.append(f'<{base}?{urlencode({**keep, "page": page - 1})}>; rel="prev"')
    if page < pages:
        links.append(f'<{base}?{urlencode({**keep, "page": page + 1})}>; rel="next"')
    if links:
        response["Link"] = ", ".join(links)
    return response


def _errors_not_supported():
    return _error(501, "sandbox_not_supported", "The sandbox does not create orders through the API.")


def _order(shop, order_id) -> SandboxOrder | None:
    return SandboxOrder.objects.filter(shop=shop, external_id=order_id).first()


def _invalid_id():
    return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")


@rest_api()
def order(request, shop, site, order_id):
    row = _order(shop, order_id)
    if row is None:
        return _invalid_id()
    if request.method == "GET":
        return JsonResponse(row.payload)
    if request.method not in {"PUT", "PATCH", "POST"}:
        return _error(405, "rest_no_route", "No route was found matching the URL and request method.")
    data = _body(request)
    status = data.get("status")
    if status is not None and status not in STATUSES:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): status")
    with transaction.atomic():
        row = SandboxOrder.objects.select_for_update().get(pk=row.pk)
        now = _now()
        payload = row.payload
        if status and status != payload["status"]:
            payload["status"] = status
            row.state = status
            if status == "completed":
                payload["date_completed"] = payload["date_completed_gmt"] = _wp_time(now)
        for entry in data.get("meta_data") or []:
            if not isinstance(entry, dict) or "key" not in entry:
                continue
            existing = next((m for m in payload["meta_data"] if m["key"] == entry["key"]), None)
            if existing is not None:
                existing["value"] = entry.get("value")
            else:
                payload["meta_data"].append(
                    {"id": state.new_id() % 100000, "key": entry["key"], "value": entry.get("value")}
                )
        payload["date_modified"] = payload["date_modified_gmt"] = _wp_time(now)
        row.payload = payload
        row.updated_at = now
        row.save(update_fields=["payload", "state", "updated_at"])
    webhook_deliver(shop=shop, site_url=_site_url(request, site), topic="order.updated", payload=row.payload)
    return JsonResponse(row.payload)


def _note_payload(site_url: str, order_id: int, note: dict) -> dict:
    return {
        **note,
        "_links": {
            "self": [{"href": f"{site_url}/wp-json/wc/v3/orders/{order_id}/notes/{note['id']}"}],
            "collection": [{"href": f"{site_url}/wp-json/wc/v3/orders/{order_id}/notes"}],
            "up": [{"href": f"{site_url}/wp-json/wc/v3/orders/{order_id}"}],
        },
    }


@rest_api()
def order_notes(request, shop, site, order_id):
    row = _order(shop, order_id)
    if row is None:
        return _invalid_id()
    site_url = _site_url(request, site)
    if request.method == "GET":
        notes = sorted(row.extra.get("notes", []), key=lambda n: n["id"], reverse=True)
        return JsonResponse([_note_payload(site_url, row.external_id, n) for n in notes], safe=False)
    data = _body(request)
    if not str(data.get("note") or "").strip():
        return _error(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
    with transaction.atomic():
        row = SandboxOrder.objects.select_for_update().get(pk=row.pk)
        now = _now()
        note = {
            "id": max([n["id"] for n in row.extra.get("notes", [])] or [280]) + 1,
            "author": "WooCommerce",
            "date_created": _wp_time(now),
            "date_created_gmt": _wp_time(now),
            "note": str(data["note"]),
            "customer_note": bool(data.get("customer_note", False)),
        }
        row.extra = {**row.extra, "notes": [*row.extra.get("notes", []), note]}
        row.save(update_fields=["extra"])
    return JsonResponse(_note_payload(site_url, row.external_id, note), status=201)


# --- the Shipment Tracking extension (wc-shipment-tracking/v3) ----------------------------
#
# WooCommerce.com's Shipment Tracking extension adds tracking items to an order:
#   GET/POST /wp-json/wc-shipment-tracking/v3/orders/<order_id>/shipment-trackings
#   GET/DELETE .../shipment-trackings/<tracking_id>
#   GET /wp-json/wc-shipment-tracking/v3/shipment-trackings/providers   (public)
# A tracking item is {tracking_id, tracking_provider, tracking_link, tracking_number,
# date_shipped, _links}; a predefined tracking_provider gets the provider's own link (any
# tracking_link sent is ignored), custom_tracking_provider + custom_tracking_link name a
# carrier the list lacks (woocommerce.com/document/shipment-tracking, the extension's REST
# API document). A shop with the switch `shipment_tracking` off answers these routes
# rest_no_route, as a shop without the extension does.

# The extension's built-in providers, grouped by country (%1$s tracking number, %2$s
# postcode, %3$s country), as its get_providers() lists them.
ST_PROVIDERS = {
    "Australia": {
        "Australia Post": "https://auspost.com.au/mypost/track/#/details/%1$s",
        "FedEx": "https://www.fedex.com/apps/fedextrack/?tracknumbers=%1$s&cntry_code=au",
        "Fastway Couriers": "https://www.fastway.com.au/tools/track/?l=%1$s",
    },
    "Canada": {
        "Canada Post": "https://www.canadapost.ca/cpotools/apps/track/personal/findByTrackNumber?trackingNumber=%1$s",
        "Purolator": "https://www.purolator.com/purolator/ship-track/tracking-summary.page?pin=%1$s",
    },
    "France": {"Colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code=%1$s"},
    "Germany": {
        "DHL Intraship (DE)": "https://nolp.dhl.de/nextt-online-public/set_identcodes.do?lang=de&idc=%1$s",
        "Hermes": "https://tracking.hermesworld.com/?TrackID=%1$s",
        "Deutsche Post DHL": "https://nolp.dhl.de/nextt-online-public/set_identcodes.do?lang=de&idc=%1$s",
        "UPS Germany": "https://wwwapps.ups.com/WebTracking?loc=de_DE&InquiryNumber1=%1$s",
        "DPD": "https://tracking.dpd.de/parcelstatus?query=%1$s&locale=en_DE",
    },
    "Italy": {
        "BRT (Bartolini)": "https://as777.brt.it/vas/sped_det_show.hsm?Nspediz=%1$s",
        "DHL Express": "https://www.dhl.it/it/express/ricerca.html?AWB=%1$s&brand=DHL",
    },
    "Netherlands": {"PostNL": "https://postnl.nl/tracktrace/?B=%1$s&P=%2$s&D=%3$s&T=C"},
    "United Kingdom (UK)": {
        "DHL": "https://www.dhl.com/content/g0/en/express/tracking.shtml?brand=DHL&AWB=%1$s",
        "ParcelForce": "https://www.parcelforce.com/portal/pw/track?trackNumber=%1$s",
        "Royal Mail": "https://www.royalmail.com/track-your-item/?trackNumber=%1$s",
        "TNT Express (consignment)": "https://www.tnt.com/webtracker/tracking.do?searchType=CON&cons=%1$s",
        "DPD.co.uk": "https://www.dpd.co.uk/apps/tracking/?reference=%1$s#results",
        "DHL Parcel UK": "https://track.dhlparcel.co.uk/?con=%1$s",
    },
    "United States (US)": {
        "Fedex": "https://www.fedex.com/Tracking?action=track&tracknumbers=%1$s",
        "FedEx Sameday": "https://www.fedexsameday.com/fdx_dotracking_ua.aspx?tracknum=%1$s",
        "OnTrac": "http://www.ontrac.com/trackingdetail.asp?tracking=%1$s",
        "UPS": "https://www.ups.com/track?loc=en_US&tracknum=%1$s",
        "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=%1$s",
        "DHL US": "https://www.logistics.dhl/us-en/home/tracking/tracking-ecommerce.html?tracking-id=%1$s",
    },
}


def _st_slug(name: str) -> str:
    """As the extension compares providers: sanitize_title, roughly (lowercase, dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")


def _st_provider(name: str) -> tuple[str, str] | None:
    wanted = _st_slug(name)
    for providers in ST_PROVIDERS.values():
        for provider, link in providers.items():
            if _st_slug(provider) == wanted:
                return provider, link
    return None


def _st_link(template: str, number: str, payload: dict) -> str:
    shipping = payload.get("shipping") or {}
    return (
        template.replace("%1$s", quote(number, safe=""))
        .replace("%2$s", quote(str(shipping.get("postcode") or ""), safe=""))
        .replace("%3$s", quote(str(shipping.get("country") or ""), safe=""))
    )


def _st_no_route():
    return _error(404, "rest_no_route", "No route was found matching the URL and request method.")


def _st_payload(site_url: str, order_id: int, item: dict) -> dict:
    base = f"{site_url}/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings"
    return {
        "tracking_id": item["tracking_id"],
        "tracking_provider": item["custom_tracking_provider"] or item["tracking_provider"],
        "tracking_link": item["tracking_link"],
        "tracking_number": item["tracking_number"],
        "date_shipped": item["date_shipped"],
        "_links": {
            "self": [{"href": f"{base}/{item['tracking_id']}"}],
            "collection": [{"href": base}],
            "up": [{"href": f"{site_url}/wp-json/wc/v3/orders/{order_id}"}],
        },
    }


def _st_invalid_order():
    return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")


@rest_api()
def shipment_trackings(request, shop, site, order_id):
    """An order's tracking items: GET lists them, POST adds one (201 with Location)."""
    if not shop.wc_shipment_tracking or request.method not in {"GET", "POST"}:
        return _st_no_route()
    row = _order(shop, order_id)
    if row is None:
        return _st_invalid_order()
    site_url = _site_url(request, site)
    if request.method == "GET":
        items = row.extra.get("shipment_trackings", [])
        return JsonResponse([_st_payload(site_url, row.external_id, item) for item in items], safe=False)
    data = _body(request)
    number = str(data.get("tracking_number") or "").strip()
    if not number:
        return _error(
            400, "rest_missing_callback_param", "Missing parameter(s): tracking_number", params=["tracking_number"]
        )
    custom = str(data.get("custom_tracking_provider") or "").strip()
    shipped = str(data.get("date_shipped") or "").strip()
    try:
        date_shipped = datetime.strptime(shipped[:10], "%Y-%m-%d").date() if shipped else _now().date()
    except ValueError:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): date_shipped")
    with transaction.atomic():
        row = SandboxOrder.objects.select_for_update().get(pk=row.pk)
        if custom:
            provider, link = "", str(data.get("custom_tracking_link") or "")
        else:
            known = _st_provider(str(data.get("tracking_provider") or ""))
            # A predefined provider's own link; any tracking_link sent is ignored.
            provider, link = known if known else (str(data.get("tracking_provider") or ""), "")
        item = {
            "tracking_id": secrets.token_hex(16),
            "tracking_provider": provider,
            "custom_tracking_provider": custom,
            "tracking_link": _st_link(link, number, row.payload) if link else "",
            "tracking_number": number,
            "date_shipped": date_shipped.isoformat(),
        }
        row.extra = {**row.extra, "shipment_trackings": [*row.extra.get("shipment_trackings", []), item]}
        row.save(update_fields=["extra"])
    payload = _st_payload(site_url, row.external_id, item)
    answer = JsonResponse(payload, status=201)
    answer["Location"] = payload["_links"]["self"][0]["href"]
    return answer


@rest_api()
def shipment_tracking(request, shop, site, order_id, tracking_id):
    """One tracking item: GET reads it, DELETE removes it."""
    if not shop.wc_shipment_tracking or request.method not in {"GET", "DELETE"}:
        return _st_no_route()
    row = _order(shop, order_id)
    if row is None:
        return _st_invalid_order()
    items = row.extra.get("shipment_trackings", [])
    item = next((i for i in items if i["tracking_id"] == tracking_id), None)
    if item is None:
        return _error(404, "woocommerce_rest_order_invalid_id", "Invalid tracking ID.")
    payload = _st_payload(_site_url(request, site), row.external_id, item)
    if request.method == "DELETE":
        with transaction.atomic():
            row = SandboxOrder.objects.select_for_update().get(pk=row.pk)
            kept = [i for i in row.extra.get("shipment_trackings", []) if i["tracking_id"] != tracking_id]
            row.extra = {**row.extra, "shipment_trackings": kept}
            row.save(update_fields=["extra"])
    return JsonResponse(payload)


@csrf_exempt
def shipment_tracking_providers(request, site):
    """The providers the shop offers, by country: public, no key needed."""
    shop = SandboxShop.objects.filter(platform=PLATFORM, domain=site).first()
    if shop is None or not shop.wc_shipment_tracking or request.method != "GET":
        return _st_no_route()
    state.request_log(shop=shop, request=request, status=200)
    return JsonResponse(ST_PROVIDERS)


# --- webhooks ---------------------------------------------------------------------------

TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")


def _webhook_payload(row: SandboxWebhook) -> dict:
    resource, event = row.topic.split(".", 1)
    return {
        "id": row.external_id,
        "name": row.name,
        "status": "active",
        "topic": row.topic,
        "resource": resource,
        "event": event,
        "hooks": [f"woocommerce_{event}_{resource}"],
        "delivery_url": row.address,
        "date_created": _wp_time(row.created_at),
        "date_created_gmt": _wp_time(row.created_at),
    }


@rest_api()
def webhooks(request, shop, site):
    if request.method == "GET":
        return JsonResponse(
            [_webhook_payload(row) for row in SandboxWebhook.objects.filter(shop=shop).order_by("external_id")],
            safe=False,
        )
    data = _body(request)
    topic, address = str(data.get("topic", "")), str(data.get("delivery_url", ""))
    if topic not in TOPICS:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): topic")
    if not address.startswith(("http://", "https://")):
        return _error(400, "rest_invalid_param", "Invalid parameter(s): delivery_url")
    row = SandboxWebhook.objects.create(
        shop=shop,
        external_id=state.new_id() % 100000,
        topic=topic,
        address=address,
        name=str(data.get("name", ""))[:200],
        # Without a secret WooCommerce derives one from the user; the sandbox makes one up.
        secret=str(data.get("secret") or secrets.token_hex(16)),
    )
    return JsonResponse(_webhook_payload(row), status=201)


def webhook_deliver(*, shop: SandboxShop, site_url: str, topic: str, payload: dict) -> int:
    """POST to each subscription of `topic`, signed base64(HMAC-SHA256(secret, body))."""
    body = json.dumps(payload).encode()
    resource, event = topic.split(".", 1)
    delivered = 0
    for row in SandboxWebhook.objects.filter(shop=shop, topic=topic, app__isnull=True):
        signature = base64.b64encode(hmac.new(row.secret.encode(), body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": site_url.rstrip("/") + "/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature,
            "X-WC-Webhook-ID": str(row.external_id),
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }
        try:
            requests.post(row.address, data=body, headers=headers, timeout=5)
            delivered += 1
        except requests.RequestException:
            continue
    return delivered


# --- test orders and keys ---------------------------------------------------------------


def build_order(shop: SandboxShop, *, order_id: int, lines, rng, now: datetime, site_url: str) -> dict:
    """An order in the shape of GET /wp-json/wc/v3/orders/{id}."""
    first, last, address1, city, state_code, postcode, phone = rng.choice(BUYERS.get(shop.country_code, BUYERS["US"]))
    stamp = _wp_time(now)
    line_items = []
    subtotal = Decimal(0)
    for sku, name, product_id, price, quantity in lines:
        amount = Decimal(price) * quantity
        subtotal += amount
        line_items.append(
            {
                "id": order_id * 10 + len(line_items) + 1,
                "name": name,
                "product_id": product_id,
                "variation_id": 0,
                "quantity": quantity,
                "tax_class": "",
                "subtotal": f"{amount:.2f}",
                "subtotal_tax": "0.00",
                "total": f"{amount:.2f}",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
                "sku": sku,
                "price": float(price) if "." in price else int(price),
            }
        )
    address = {
        "first_name": first,
        "last_name": last,
        "company": "",
        "address_1": address1,
        "address_2": "",
        "city": city,
        "state": state_code,
        "postcode": postcode,
        "country": shop.country_code,
    }
    shipping_total = Decimal("10.00")
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{secrets.token_hex(6)}",
        "created_via": "checkout",
        "version": "9.4.0",
        "status": "processing",
        "currency": shop.currency,
        "date_created": stamp,
        "date_created_gmt": stamp,
        "date_modified": stamp,
        "date_modified_gmt": stamp,
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": f"{shipping_total:.2f}",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": f"{subtotal + shipping_total:.2f}",
        "total_tax": "0.00",
        "prices_include_tax": False,
        "customer_id": 0,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": "",
        "billing": {**address, "email": f"{first.lower()}.{last.lower()}@example.com", "phone": phone},
        "shipping": address,
        "payment_method": "bacs",
        "payment_method_title": "Direct Bank Transfer",
        "transaction_id": "",
        "date_paid": stamp,
        "date_paid_gmt": stamp,
        "date_completed": None,
        "date_completed_gmt": None,
        "cart_hash": "",
        "meta_data": [],
        "line_items": line_items,
        "tax_lines": [],
        "shipping_lines": [
            {
                "id": order_id * 10,
                "method_title": "Flat Rate",
                "method_id": "flat_rate",
                "total": f"{shipping_total:.2f}",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "_links": {
            "self": [{"href": f"{site_url}/wp-json/wc/v3/orders/{order_id}"}],
            "collection": [{"href": f"{site_url}/wp-json/wc/v3/orders"}],
        },
    }


def order_store(shop: SandboxShop, payload: dict, *, site_url: str, notify: bool = True) -> SandboxOrder:
    created = _parse_time(str(payload.get("date_created_gmt") or "")) or _now()
    updated = _parse_time(str(payload.get("date_modified_gmt") or "")) or created
    row = SandboxOrder.objects.create(
        shop=shop,
        external_id=int(payload["id"]),
        payload=payload,
        state=payload.get("status", "processing"),
        created_at=created,
        updated_at=updated,
    )
    if notify:
        webhook_deliver(shop=shop, site_url=site_url, topic="order.created", payload=payload)
    return row


def orders_create_random(
    shop: SandboxShop, *, count: int, site_url: str, skus=None, seed=None, notify: bool = True
) -> list[SandboxOrder]:
    rng = random.Random(seed)  # noqa: S311 (test data, not security)
    catalogue = (
        [(sku, sku.replace("-", " ").title(), 100 + i, "19.90") for i, sku in enumerate(skus)] if skus else PRODUCTS
    )
    created = []
    base_time = _now() - timedelta(seconds=count)
    for index in range(count):
        with transaction.atomic():
            locked = SandboxShop.objects.select_for_update().get(pk=shop.pk)
            order_id = locked.next_order_number
            locked.next_order_number = order_id + 1
            locked.save(update_fields=["next_order_number"])
        picks = rng.sample(catalogue, k=rng.randint(1, min(2, len(catalogue))))
        lines = [(sku, name, product_id, price, rng.randint(1, 3)) for sku, name, product_id, price in picks]
        payload = build_order(
            shop, order_id=order_id, lines=lines, rng=rng, now=base_time + timedelta(seconds=index), site_url=site_url
        )
        created.append(order_store(shop, payload, site_url=site_url, notify=notify))
    return created


def orders_create_from_payloads(
    shop: SandboxShop, payloads: list[dict], *, site_url: str, notify: bool = True
) -> list[SandboxOrder]:
    """Orders from saved GET /orders/{id} payloads; an id the site already has gets a new one."""
    created = []
    for payload in payloads:
        payload = json.loads(json.dumps(payload))
        if "line_items" not in payload:
            raise ValueError("A WooCommerce order has `line_items`.")
        order_id = payload.get("id")
        if not isinstance(order_id, int) or SandboxOrder.objects.filter(shop=shop, external_id=order_id).exists():
            payload["id"] = order_id = state.order_number_take(shop)
            payload["number"] = str(order_id)
        payload.setdefault("status", "processing")
        payload.setdefault("meta_data", [])
        created.append(order_store(shop, payload, site_url=site_url, notify=notify))
    return created


def key_issue(shop: SandboxShop, *, permissions: str = "read_write", description: str = "") -> SandboxApiKey:
    return SandboxApiKey.objects.create(
        shop=shop,
        consumer_key="ck_" + secrets.token_hex(20),
        consumer_secret="cs_" + secrets.token_hex(20),
        permissions=permissions,
        description=description,
    )


def shop_for(site: str, **defaults) -> SandboxShop:
    return state.shop_get_or_create(PLATFORM, site, **{"next_order_number": 700, **defaults})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def keys_page(request, site):
    """WooCommerce > Settings > Advanced > REST API, reduced to "Generate API key"."""
    if not SITE.match(site):
        return _error(404, "rest_no_route", "No such site.")
    shop = shop_for(site)
    issued = None
    if request.method == "POST":
        issued = key_issue(
            shop,
            permissions=request.POST.get("permissions", "read_write"),
            description=request.POST.get("description", "")[:200],
        )
    return render(
        request,
        "sandbox/woocommerce_keys.html",
        {"shop": shop, "issued": issued, "site_url": _site_url(request, site)},
    )


# --- the key-issuing endpoint (Application Authentication) -------------------------------

WC_AUTH_PARAMS = ("app_name", "scope", "user_id", "return_url", "callback_url")
WC_AUTH_SCOPES = ("read", "write", "read_write")
# WooCommerce posts keys only to https. The sandbox also takes plain http on a loopback
# address, because development and the tests run the portal without TLS.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DELIVERY_TIMEOUT = 30


def _formatted_url(value: str) -> str:
    """As WooCommerce reads return_url/callback_url: a URL without a scheme becomes https://."""
    return value if "://" in value else f"https://{value}"


def _wc_auth_problem(params) -> str | None:
    """WooCommerce's validation of the five mandatory parameters, in its words."""
    for name in WC_AUTH_PARAMS:
        if not params.get(name):
            return f"Missing parameter {name}"
    if params["scope"] not in WC_AUTH_SCOPES:
        return f"Invalid scope {params['scope']}"
    for name in ("return_url", "callback_url"):
        parts = urlsplit(_formatted_url(params[name]))
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            return f"The {name} is not a valid URL"
    callback = urlsplit(_formatted_url(params["callback_url"]))
    if callback.scheme != "https" and (callback.hostname or "") not in LOOPBACK_HOSTS:
        return "The callback_url needs to be over SSL"
    return None


def _with_query(url: str, **params) -> str:
    """The URL with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _shop_first_visit(request, site: str) -> SandboxShop:
    """The site's shop; a new one (a merchant's first visit) gets some orders to pull."""
    shop = SandboxShop.objects.filter(platform=PLATFORM, domain=site).first()
    if shop is None:
        shop = shop_for(site)
        if getattr(settings, "SANDBOX_NEW_SHOP_ORDERS", 0):
            orders_create_random(
                shop, count=settings.SANDBOX_NEW_SHOP_ORDERS, site_url=_site_url(request, site), notify=False
            )
    return shop


def key_deliver(key: SandboxApiKey, *, user_id: str, callback_url: str) -> bool:
    """POST the new key to the app as WooCommerce does (JSON body); True only on a 200."""
    payload = {
        "key_id": key.pk,
        "user_id": user_id,
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "key_permissions": key.permissions,
    }
    try:
        answer = requests.post(
            _formatted_url(callback_url),
            data=json.dumps(payload),
            headers={"Content-Type": "application/json;charset=UTF-8"},
            timeout=DELIVERY_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException:
        return False
    return answer.status_code == 200


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wc_auth_authorize(request, site):
    """`/wc-auth/v1/authorize`: the shop asks its signed-in administrator to let an app in.

    GET shows the page (after checking app_name, scope, user_id, return_url, callback_url).
    POST is the administrator's answer. Approve makes a key with the requested permissions,
    posts it as JSON to callback_url, and only if that answered 200 sends the browser to
    return_url with success=1 and the app's user_id; otherwise the key is deleted and the
    page says the consumer data could not be sent. Deny sends the browser to return_url with
    success=0. (The real shop first asks the administrator to log in; the sandbox's
    administrator is always signed in.)
    """
    if not SITE.match(site):
        return _error(404, "rest_no_route", "No such site.")
    params = request.GET if request.method == "GET" else request.POST
    context = {"site": site, "site_url": _site_url(request, site)}
    problem = _wc_auth_problem(params)
    if problem:
        return render(request, "sandbox/woocommerce_authorize.html", {**context, "problem": problem}, status=400)
    shop = _shop_first_visit(request, site)
    fields = {name: params[name] for name in WC_AUTH_PARAMS}
    return_url = _formatted_url(fields["return_url"])
    if request.method == "GET":
        return render(request, "sandbox/woocommerce_authorize.html", {**context, "shop": shop, "fields": fields})
    if params.get("decision") != "approve":
        state.request_log(shop=shop, request=request, status=302)
        return HttpResponseRedirect(_with_query(return_url, success=0, user_id=fields["user_id"]))
    stamp = _now().strftime("%Y-%m-%d %H:%M:%S")
    key = key_issue(shop, permissions=fields["scope"], description=f"{fields['app_name'][:170]} - API ({stamp})")
    if not key_deliver(key, user_id=fields["user_id"], callback_url=fields["callback_url"]):
        key.delete()
        state.request_log(shop=shop, request=request, status=500)
        problem = "An error occurred in the request and at the time were unable to send the consumer data"
        return render(request, "sandbox/woocommerce_authorize.html", {**context, "problem": problem}, status=500)
    state.request_log(shop=shop, request=request, status=302)
    return HttpResponseRedirect(_with_query(return_url, success=1, user_id=fields["user_id"]))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request, site):
    """Fault switches, keys and test orders for one site (the sandbox's own endpoint).

    POST JSON, any of: fail_next_429, fault_retry_after, fail_next_500, slow_seconds (numbers);
    shipment_tracking (true/false: the Shipment Tracking extension is installed, on by default);
    issue_key ("read", "write" or "read_write": answers with the key pair); revoke_keys (true);
    create_orders (a count), skus (a list); country, currency (for a new site).
    """
    if not SITE.match(site):
        return _error(404, "rest_no_route", "No such site.")
    data = _body(request) if request.method == "POST" else {}
    defaults = {}
    if data.get("country"):
        defaults["country_code"] = str(data["country"]).upper()
    if data.get("currency"):
        defaults["currency"] = str(data["currency"]).upper()
    shop = shop_for(site, **defaults)
    answer = {"site": site}
    if request.method == "POST":
        switches = {
            k: data[k] for k in ("fail_next_429", "fault_retry_after", "fail_next_500", "slow_seconds") if k in data
        }
        state.faults_set(shop, **switches)
        if "shipment_tracking" in data:
            SandboxShop.objects.filter(pk=shop.pk).update(wc_shipment_tracking=bool(data["shipment_tracking"]))
        if data.get("revoke_keys"):
            SandboxApiKey.objects.filter(shop=shop).update(revoked=True)
        if data.get("issue_key"):
            key = key_issue(shop, permissions=str(data["issue_key"]))
            answer.update(consumer_key=key.consumer_key, consumer_secret=key.consumer_secret)
        if data.get("create_orders"):
            orders_create_random(
                shop, count=int(data["create_orders"]), site_url=_site_url(request, site), skus=data.get("skus")
            )
    shop.refresh_from_db()
    answer.update(
        orders=shop.orders.count(),
        fail_next_429=shop.fail_next_429,
        fail_next_500=shop.fail_next_500,
        slow_seconds=shop.slow_seconds,
        shipment_tracking=shop.wc_shipment_tracking,
    )
    return JsonResponse(answer)
