"""Warehouse emulator: the overseas-warehouse REST API described in docs/warehouses.md
("The rest API"), which is shaped after ShipBob's Orders API.

Paths put the merchant's account in the URL, then the API version:
    https://api.warehouse.example/2026-01/order  ->  /sandbox/warehouse/{account}/2026-01/order

    POST order                create (a reference_id already held answers 200 with that order)
    GET  order                list: ReferenceIds, IDs, StartDate/EndDate, LastUpdateStartDate/
                              LastUpdateEndDate, SortOrder (Newest|Oldest), Page, Limit
    GET  order/{id}           one order
    POST order/{id}/cancel    cancel, refused (422) once a package has left

Calls carry `Authorization: Bearer <api token>`. Orders ship lazily: a package whose time
has come leaves when the next call (or `sandbox_trickle` tick) looks, gets a carrier and a
tracking number, and a webhook signed by the Standard Webhooks scheme is queued for the
account's webhook URL. No background thread.

The `_sandbox/control` endpoint is the sandbox's own: fault switches, shipping behaviour,
webhook switches, "ship now" and "picked up". Like the rest of the sandbox, this imports
none of the platform's apps.
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import wraps

import requests
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import state
from .models import (
    SandboxOutboundOrder,
    SandboxOutboundShipment,
    SandboxWarehouseAccount,
    SandboxWarehouseWebhook,
)

logger = logging.getLogger(__name__)

PLATFORM = "warehouse"
ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_LIMIT, DEFAULT_LIMIT = 250, 50
REFERENCE_MAX = 100
# 150 calls a minute per token, as a leaky bucket.
BUCKET_SIZE, LEAK_PER_SECOND = 150, 2.5
LOCATION = {"id": 1, "name": "Sandbox FC (Ontario, CA)"}
TRACKING_URLS = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
}
OUT_OF_STOCK = {"id": 303, "name": "OutOfStock", "description": "No stock on hand for a product of this order"}
# Shipment states in which a package is still inside the warehouse.
INSIDE = ("Processing", "Exception", "OnHold", "AwaitingPickup")
ACCOUNT_SWITCHES = {
    "api_token": str,
    "webhook_url": str,
    "webhook_secret": str,
    "webhook_previous_secret": str,
    "webhook_delay_seconds": float,
    "webhook_duplicates": int,
    "ship_after_seconds": float,
    "split_packages": bool,
    "second_package_lag_seconds": float,
    "carrier": str,
    "carrier_service": str,
    "timeout_next": int,
    "timeout_seconds": float,
    "lose_next_create": int,
    "exception_next": int,
}
SHOP_SWITCHES = (
    "fail_next_429",
    "fault_retry_after",
    "fail_next_500",
    "slow_seconds",
    "bucket_size",
    "leak_per_second",
)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _problem(status: int, title: str, errors: dict | None = None, **extra) -> JsonResponse:
    """An error answer: {"title", "status", "errors"} like the API's validation problems."""
    body = {"title": title, "status": status, **extra}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status)


def _body(request) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# --- accounts ---------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def account_get_or_create(name: str, **settings) -> SandboxWarehouseAccount:
    """The account of that name, made on first use (its token and secret random unless given)."""
    shop = state.shop_get_or_create(PLATFORM, name, bucket_size=BUCKET_SIZE, leak_per_second=LEAK_PER_SECOND)
    defaults = {"api_token": "pat_" + secrets.token_hex(20), "webhook_secret": new_secret(), **settings}
    try:
        account, _created = SandboxWarehouseAccount.objects.get_or_create(shop=shop, defaults=defaults)
    except IntegrityError:  # made by a concurrent call
        account = SandboxWarehouseAccount.objects.get(shop=shop)
    return account


def _account(name: str) -> SandboxWarehouseAccount | None:
    return (
        SandboxWarehouseAccount.objects.select_related("shop")
        .filter(shop__platform=PLATFORM, shop__domain=name)
        .first()
    )


def _take(account: SandboxWarehouseAccount, switch: str) -> bool:
    """Consume one of an account's scheduled faults; True if one was due. `account` is the
    row as this request read it: none scheduled then, none taken (no write)."""
    if getattr(account, switch, 0) <= 0:
        return False
    taken = SandboxWarehouseAccount.objects.filter(pk=account.pk, **{f"{switch}__gt": 0}).update(
        **{switch: F(switch) - 1}
    )
    return taken == 1


# --- the gate ---------------------------------------------------------------------------


def warehouse_api(view):
    """Faults, token and rate limit for every API call; ships what is due before the view
    and sends the webhooks that are due after it; logs the call."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, account, version, *args, **kwargs):
        row = _account(account)
        if row is None:
            return _problem(404, "Not Found")
        if _take(row, "timeout_next"):
            # Logged first: after the sleep the client is long gone and nothing else happens.
            state.request_log(shop=row.shop, request=request, status=504)
            time.sleep(min(row.timeout_seconds, 60))
            return _problem(504, "Gateway Timeout")
        response = _gate(request, row)
        if response is None:
            advance(row)
            response = view(request, row, *args, **kwargs)
            deliver_due(row)
        state.request_log(shop=row.shop, request=request, status=response.status_code)
        return response

    return wrapper


def _gate(request, account: SandboxWarehouseAccount):
    shop = account.shop
    if shop.slow_seconds:
        time.sleep(min(shop.slow_seconds, 30))
    if state.fault_take(shop, "fail_next_500"):
        return _problem(500, "Internal Server Error")
    if state.fault_take(shop, "fail_next_429"):
        return _too_many(shop.fault_retry_after)
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[len("Bearer ") :], account.api_token):
        return _problem(401, "Unauthorized", {"Authorization": ["No valid personal access token."]})
    bucket = state.bucket_take(shop)
    if not bucket.allowed:
        return _too_many(max(bucket.retry_after, 0.1))
    return None


def _too_many(retry_after: float) -> JsonResponse:
    response = _problem(429, "Too Many Requests")
    response["Retry-After"] = f"{retry_after:.1f}"
    return response


# --- serving orders ---------------------------------------------------------------------


def shipment_view(shipment: SandboxOutboundShipment, order: SandboxOutboundOrder) -> dict:
    return {
        "id": shipment.external_id,
        "order_id": order.external_id,
        "reference_id": order.reference_id,
        "recipient": order.payload.get("recipient"),
        "created_date": _iso(shipment.created_at),
        "last_update_at": _iso(shipment.updated_at),
        "last_tracking_update_at": _iso(shipment.shipped_at),
        "actual_fulfillment_date": _iso(shipment.shipped_at),
        "status": shipment.status,
        "status_details": shipment.status_details,
        "location": LOCATION,
        "ship_option": order.payload.get("shipping_method"),
        "tracking": shipment.tracking,
        "is_tracking_uploaded": False,
        "products": [
            {
                "id": product["id"],
                "reference_id": product["reference_id"],
                "name": product["name"],
                "sku": product["reference_id"],
                "inventory_items": [
                    {"id": product["id"], "name": product["name"], "quantity": product["quantity"]},
                ],
            }
            for product in shipment.products
        ],
    }


def order_view(order: SandboxOutboundOrder) -> dict:
    shipments = order.shipments.order_by("pk")
    return {
        **order.payload,
        "status": order.status,
        "shipments": [shipment_view(shipment, order) for shipment in shipments],
    }


def _order_or_404(account, order_id: int):
    return SandboxOutboundOrder.objects.filter(account=account, external_id=order_id).first()


# --- create -----------------------------------------------------------------------------


def _problems(data: dict) -> dict:
    """What is wrong with a create body, by field, as the API documents its validation."""
    errors: dict[str, list[str]] = {}

    def need(field: str, value, message: str):
        if not (isinstance(value, str) and value.strip()):
            errors.setdefault(field, []).append(message)

    reference = data.get("reference_id")
    need("reference_id", reference, "The reference_id is required.")
    if isinstance(reference, str) and len(reference) > REFERENCE_MAX:
        errors.setdefault("reference_id", []).append(f"The reference_id has at most {REFERENCE_MAX} characters.")
    need("shipping_method", data.get("shipping_method"), "The shipping_method is required.")
    if data.get("type", "DTC") not in ("DTC", "Pickup"):
        errors.setdefault("type", []).append("The type is DTC or Pickup.")
    recipient = data.get("recipient") if isinstance(data.get("recipient"), dict) else {}
    address = recipient.get("address") if isinstance(recipient.get("address"), dict) else {}
    need("recipient.name", recipient.get("name"), "The recipient's name is required.")
    need("recipient.address.address1", address.get("address1"), "The address1 is required.")
    need("recipient.address.city", address.get("city"), "The city is required.")
    country = address.get("country")
    if not (isinstance(country, str) and len(country.strip()) == 2):
        errors.setdefault("recipient.address.country", []).append("The country is an ISO alpha-2 code.")
    products = data.get("products")
    if not isinstance(products, list) or not products:
        errors.setdefault("products", []).append("At least one product is required.")
    for index, product in enumerate(products if isinstance(products, list) else []):
        field = f"products[{index}]"
        if not isinstance(product, dict):
            errors.setdefault(field, []).append("A product is an object.")
            continue
        need(f"{field}.reference_id", product.get("reference_id"), "The product's reference_id is required.")
        amount = product.get("quantity")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            errors.setdefault(f"{field}.quantity", []).append("The quantity is a whole number of at least 1.")
    return errors


def _packages(products: list[dict], split: bool) -> list[list[dict]]:
    """The products of each package: all in one, or the units halved over two."""
    units = [product for product in products for _unit in range(product["quantity"])]
    if not split or len(units) < 2:
        return [products]
    halves = [units[: len(units) // 2], units[len(units) // 2 :]]
    packages = []
    for half in halves:
        counted: dict[str, dict] = {}
        for product in half:
            entry = counted.setdefault(product["reference_id"], {**product, "quantity": 0})
            entry["quantity"] += 1
        packages.append(list(counted.values()))
    return packages


def _order_payload(data: dict, external_id: int, now: datetime) -> dict:
    recipient = data["recipient"]
    address = recipient["address"]
    return {
        "id": external_id,
        "created_date": _iso(now),
        "purchase_date": data.get("purchase_date"),
        "reference_id": data["reference_id"].strip(),
        "order_number": str(data.get("order_number") or data["reference_id"]).strip(),
        "type": data.get("type", "DTC"),
        "channel": {"id": 1, "name": "Sandbox API channel"},
        "shipping_method": data["shipping_method"].strip(),
        "recipient": {
            "name": recipient["name"].strip(),
            "email": recipient.get("email") or None,
            "phone_number": recipient.get("phone_number") or None,
            "address": {
                "address1": address["address1"].strip(),
                "address2": address.get("address2") or None,
                "company_name": address.get("company_name") or None,
                "city": address["city"].strip(),
                "state": address.get("state") or None,
                "country": address["country"].strip().upper(),
                # Text, exactly as given: 02134 stays 02134.
                "zip_code": str(address.get("zip_code") or "") or None,
            },
        },
        "products": [
            {
                "id": state.new_id(),
                "reference_id": product["reference_id"].strip(),
                "name": str(product.get("name") or product["reference_id"]),
                "sku": product["reference_id"].strip(),
                "quantity": product["quantity"],
            }
            for product in data["products"]
        ],
        "tags": [tag for tag in data.get("tags") or [] if isinstance(tag, dict)],
        "financials": data.get("financials") or {"total_price": None},
    }


def order_create(account: SandboxWarehouseAccount, data: dict) -> tuple[SandboxOutboundOrder, bool]:
    """Store the order with its packages; (the order, created?). A reference_id the account
    already holds returns that order untouched."""
    reference = data["reference_id"].strip()
    existing = SandboxOutboundOrder.objects.filter(account=account, reference_id=reference).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    payload = _order_payload(data, state.new_id(), now)
    exception = _take(account, "exception_next")
    try:
        with transaction.atomic():
            order = SandboxOutboundOrder.objects.create(
                account=account,
                external_id=payload["id"],
                reference_id=reference,
                status="Exception" if exception else "Processing",
                payload=payload,
                created_at=now,
                updated_at=now,
            )
            ship_at = now + timedelta(seconds=account.ship_after_seconds)
            split = account.split_packages and not exception and payload["type"] != "Pickup"
            packages = _packages(payload["products"], split)
            for index, products in enumerate(packages):
                SandboxOutboundShipment.objects.create(
                    order=order,
                    external_id=state.new_id(),
                    status="Exception" if exception else "Processing",
                    status_details=[OUT_OF_STOCK] if exception else [],
                    products=products,
                    ship_at=ship_at + timedelta(seconds=account.second_package_lag_seconds * index),
                    created_at=now,
                    updated_at=now,
                )
    except IntegrityError:  # the same reference created by a concurrent call
        return SandboxOutboundOrder.objects.get(account=account, reference_id=reference), False
    if exception:
        webhook_queue(account, "order.shipment.exception", order)
    return order, True


@warehouse_api
def orders(request, account):
    if request.method == "POST":
        return _create(request, account)
    if request.method == "GET":
        return _list(request, account)
    return _problem(405, "Method Not Allowed")


def _create(request, account):
    data = _body(request)
    if data is None:
        return _problem(400, "The body is not a JSON object.")
    errors = _problems(data)
    if errors:
        return _problem(400, "One or more validation errors occurred.", errors)
    order, created = order_create(account, data)
    if created and _take(account, "lose_next_create"):
        # Stored, but the answer never reaches the client.
        return _problem(504, "Gateway Timeout")
    return JsonResponse(order_view(order), status=201 if created else 200)


def _time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


LIST_TIME_FILTERS = {
    "StartDate": "created_at__gte",
    "EndDate": "created_at__lte",
    "LastUpdateStartDate": "updated_at__gte",
    "LastUpdateEndDate": "updated_at__lte",
}


def _list(request, account):
    query = request.GET
    try:
        page = int(query.get("Page", 1))
        limit = int(query.get("Limit", DEFAULT_LIMIT))
    except ValueError:
        return _problem(400, "Page and Limit are whole numbers.")
    if page < 1 or not 1 <= limit <= MAX_LIMIT:
        return _problem(400, f"Page starts at 1; Limit is between 1 and {MAX_LIMIT}.")
    rows = SandboxOutboundOrder.objects.filter(account=account)
    if query.get("ReferenceIds"):
        rows = rows.filter(reference_id__in=[ref.strip() for ref in query["ReferenceIds"].split(",") if ref.strip()])
    if query.get("IDs"):
        rows = rows.filter(external_id__in=[int(i) for i in query["IDs"].split(",") if i.strip().isdigit()])
    for name, lookup in LIST_TIME_FILTERS.items():
        if query.get(name):
            moment = _time(query[name])
            if moment is None:
                return _problem(400, f"{name} is not a date and time.")
            rows = rows.filter(**{lookup: moment})
    oldest = query.get("SortOrder", "Newest") == "Oldest"
    rows = rows.order_by("updated_at", "external_id") if oldest else rows.order_by("-updated_at", "-external_id")
    total = rows.count()
    found = list(rows.prefetch_related("shipments")[(page - 1) * limit : page * limit])
    response = JsonResponse([order_view(order) for order in found], safe=False)
    response["total-count"] = str(total)
    response["total-pages"] = str(max(1, -(-total // limit)))
    response["page-number"] = str(page)
    return response


@warehouse_api
def order_detail(request, account, order_id):
    if request.method != "GET":
        return _problem(405, "Method Not Allowed")
    order = _order_or_404(account, order_id)
    return JsonResponse(order_view(order)) if order else _problem(404, "Not Found")


# --- cancel -----------------------------------------------------------------------------


@warehouse_api
def order_cancel(request, account, order_id):
    if request.method != "POST":
        return _problem(405, "Method Not Allowed")
    order = _order_or_404(account, order_id)
    if order is None:
        return _problem(404, "Not Found")
    with transaction.atomic():
        shipments = list(SandboxOutboundShipment.objects.select_for_update().filter(order=order))
        gone = [s for s in shipments if s.status not in (*INSIDE, "Cancelled")]
        if gone:
            results = [
                {
                    "shipment_id": s.external_id,
                    "action": "Cancel",
                    "is_success": False,
                    "reason": "The shipment has already left the warehouse.",
                }
                for s in gone
            ]
            return _problem(
                422,
                "The order cannot be cancelled: a package has already left the warehouse.",
                canceled_shipment_results=results,
            )
        now = timezone.now()
        open_ones = [s for s in shipments if s.status != "Cancelled"]
        SandboxOutboundShipment.objects.filter(pk__in=[s.pk for s in open_ones]).update(
            status="Cancelled", updated_at=now
        )
        SandboxOutboundOrder.objects.filter(pk=order.pk).update(status="Cancelled", updated_at=now)
    order.refresh_from_db()
    if open_ones:
        webhook_queue(account, "order.shipment.cancelled", order)
    results = [{"shipment_id": s.external_id, "action": "Cancel", "is_success": True, "reason": ""} for s in shipments]
    return JsonResponse({"order": order_view(order), "canceled_shipment_results": results})


# --- time passing: packages leave, collectors come -------------------------------------


def _tracking(account: SandboxWarehouseAccount, now: datetime) -> dict:
    number = "9400" + "".join(str(secrets.randbelow(10)) for _digit in range(18))
    template = TRACKING_URLS.get(account.carrier, "")
    return {
        "carrier": account.carrier,
        "carrier_service": account.carrier_service,
        "tracking_number": number,
        "tracking_url": template.format(number=number) if template else None,
        "shipping_date": _iso(now),
        "bol": None,
        "pro_number": None,
        "scac": None,
    }


def _settle(order: SandboxOutboundOrder, now: datetime) -> str:
    """The order's status from its packages' (ShipBob imputes it the same way)."""
    statuses = set(order.shipments.values_list("status", flat=True))
    if statuses == {"Completed"}:
        status = "Fulfilled"
    elif "Completed" in statuses:
        status = "PartiallyFulfilled"
    elif statuses == {"PickedUp"}:
        status = "PickedUp"
    elif statuses == {"AwaitingPickup"}:
        status = "AwaitingPickup"
    else:
        status = order.status
    SandboxOutboundOrder.objects.filter(pk=order.pk).update(status=status, updated_at=now)
    order.status, order.updated_at = status, now
    return status


def _ship(account: SandboxWarehouseAccount, shipment: SandboxOutboundShipment, now: datetime) -> bool:
    """One due package leaves (or, for a pickup order, waits at the counter); False if
    another call got there first."""
    pickup = shipment.order.payload.get("type") == "Pickup"
    changes = {"status": "AwaitingPickup", "updated_at": now}
    if not pickup:
        changes = {"status": "Completed", "tracking": _tracking(account, now), "shipped_at": now, "updated_at": now}
    claimed = SandboxOutboundShipment.objects.filter(pk=shipment.pk, status="Processing").update(**changes)
    if claimed != 1:
        return False
    order = shipment.order
    status = _settle(order, now)
    if pickup:
        if status == "AwaitingPickup":
            webhook_queue(account, "order.awaiting_pickup", order)
    else:
        webhook_queue(account, "order.shipped", order)
    return True


def advance(account: SandboxWarehouseAccount, now: datetime | None = None) -> int:
    """Every package whose time has come leaves; returns how many did."""
    now = now or timezone.now()
    due = (
        SandboxOutboundShipment.objects.select_related("order")
        .filter(order__account=account, status="Processing", ship_at__lte=now)
        .exclude(order__status__in=["Cancelled", "Exception"])
        .order_by("ship_at", "pk")
    )
    return sum(_ship(account, shipment, now) for shipment in due)


def ship_now(account: SandboxWarehouseAccount, reference: str) -> int:
    """Make an order's packages due at once, and let them leave."""
    now = timezone.now()
    SandboxOutboundShipment.objects.filter(
        order__account=account, order__reference_id=reference, status="Processing"
    ).update(ship_at=now)
    return advance(account, now)


def pick_up(account: SandboxWarehouseAccount, reference: str) -> bool:
    """The collector came for a pickup order waiting at the counter."""
    order = SandboxOutboundOrder.objects.filter(account=account, reference_id=reference).first()
    if order is None:
        return False
    now = timezone.now()
    collected = SandboxOutboundShipment.objects.filter(order=order, status="AwaitingPickup").update(
        status="PickedUp", updated_at=now
    )
    if collected:
        _settle(order, now)
        webhook_queue(account, "order.picked_up", order)
    return bool(collected)


def advance_all() -> int:
    """`advance` and `deliver_due` for every account (the trickle's tick)."""
    moved = 0
    for account in SandboxWarehouseAccount.objects.select_related("shop"):
        moved += advance(account)
        deliver_due(account)
    return moved


# --- webhooks (Standard Webhooks) -------------------------------------------------------


def sign(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """v1,<base64 HMAC-SHA256 of "id.timestamp.body">, keyed by the secret after whsec_."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_queue(account: SandboxWarehouseAccount, topic: str, order: SandboxOutboundOrder) -> None:
    """Owe the account a webhook about the order as it stands now (nothing without a URL)."""
    if not account.webhook_url:
        return
    now = timezone.now()
    body = json.dumps({"type": topic, "timestamp": _iso(now), "data": order_view(order)})
    SandboxWarehouseWebhook.objects.create(
        account=account,
        message_id="msg_" + secrets.token_urlsafe(18),
        topic=topic,
        body=body,
        due_at=now + timedelta(seconds=account.webhook_delay_seconds),
    )


def _deliver(account: SandboxWarehouseAccount, webhook: SandboxWarehouseWebhook) -> str:
    body = webhook.body.encode()
    timestamp = str(int(time.time()))
    signatures = [
        sign(s, webhook.message_id, timestamp, body)
        for s in (account.webhook_secret, account.webhook_previous_secret)
        if s
    ]
    headers = {
        "Content-Type": "application/json",
        "webhook-id": webhook.message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": " ".join(signatures),
        "x-webhook-topic": webhook.topic,
    }
    try:
        answer = requests.post(account.webhook_url, data=body, headers=headers, timeout=5)
    except requests.RequestException as exc:
        logger.warning("sandbox warehouse webhook %s to %s failed: %s", webhook.topic, account.webhook_url, exc)
        return f"failed: {exc.__class__.__name__}"
    return f"HTTP {answer.status_code}"


def deliver_due(account: SandboxWarehouseAccount, now: datetime | None = None) -> int:
    """Send every webhook that is due, each (1 + webhook_duplicates) times with the same id."""
    now = now or timezone.now()
    sent = 0
    for webhook in SandboxWarehouseWebhook.objects.filter(account=account, sent_at__isnull=True, due_at__lte=now):
        if SandboxWarehouseWebhook.objects.filter(pk=webhook.pk, sent_at__isnull=True).update(sent_at=now) != 1:
            continue  # another call is sending it
        results = [_deliver(account, webhook) for _copy in range(1 + account.webhook_duplicates)]
        SandboxWarehouseWebhook.objects.filter(pk=webhook.pk).update(
            deliveries=len(results), last_result=results[-1][:200]
        )
        sent += 1
    return sent


# --- the sandbox's own control panel ----------------------------------------------------


def _switches(data: dict) -> dict:
    try:
        return {name: cast(data[name]) for name, cast in ACCOUNT_SWITCHES.items() if name in data}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a switch has the wrong type: {exc}") from None


def describe(account: SandboxWarehouseAccount) -> dict:
    account.refresh_from_db()
    shop = account.shop
    shop.refresh_from_db()
    return {
        "account": shop.domain,
        "orders": account.orders.count(),
        **{name: getattr(account, name) for name in ACCOUNT_SWITCHES},
        **{name: getattr(shop, name) for name in SHOP_SWITCHES},
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
def control(request, account):
    """Switches and actions for one account (the sandbox's own endpoint, not the API's).

    POST JSON, any of: the shop switches fail_next_429, fault_retry_after, fail_next_500,
    slow_seconds, bucket_size, leak_per_second; the account switches in ACCOUNT_SWITCHES;
    and the actions advance (true), ship_now (a reference_id), pick_up (a reference_id).
    The account is made on first use; the answer describes it, token and secret included.
    """
    if not ACCOUNT_NAME.match(account):
        return _problem(404, "Not Found")
    row = account_get_or_create(account)
    if request.method == "POST":
        data = _body(request)
        if data is None:
            return _problem(400, "The body is not a JSON object.")
        try:
            state.faults_set(row.shop, **{name: data[name] for name in SHOP_SWITCHES if name in data})
            switches = _switches(data)
        except ValueError as exc:
            return _problem(400, str(exc))
        if switches:
            SandboxWarehouseAccount.objects.filter(pk=row.pk).update(**switches)
            row.refresh_from_db()
        if data.get("ship_now"):
            ship_now(row, str(data["ship_now"]))
        if data.get("pick_up"):
            pick_up(row, str(data["pick_up"]))
        if data.get("advance"):
            advance(row)
        deliver_due(row)
    return JsonResponse(describe(row))
