"""The `rest` backend: an overseas-warehouse REST API shaped after ShipBob's Orders API.

The API is described in docs/warehouses.md ("The rest API"); the sandbox emulates it from
that description. In short:

    POST {base}/order                         create; our order number is `reference_id`
    GET  {base}/order?ReferenceIds=...        look an order up by reference
    GET  {base}/order?LastUpdateStartDate=... orders changed since a time, by Page/Limit
    POST {base}/order/{id}/cancel             cancel

`base` is the backend row's base URL with the API version (…/2026-01). Every call carries
`Authorization: Bearer <token>` (a personal access token). Webhooks are signed by the
Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`).

Parsing is separate from HTTP: `parse_order` turns a documented order object into an
`OutboundOrder` and knows nothing of our models.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.utils.translation import gettext as _

from stores.platforms.base import (
    PayloadError,
    PlatformHttp,
    PlatformUnavailable,
    ident,
    iso_datetime,
    quantity,
    require_mapping,
    text,
)

from .base import (
    BackendConnection,
    CancelRefused,
    ChangesPage,
    OutboundBackend,
    OutboundNotFound,
    OutboundOrder,
    OutboundRequest,
    OutboundResponseLost,
    OutboundStatus,
    RejectedChange,
    Shipment,
    ShipmentLine,
    WarehouseAuthError,
    WarehouseRejected,
    WarehouseUnavailable,
    WebhookEvent,
    WebhookRejected,
)

KIND = "rest"

# The warehouse's order statuses. ShipBob's, plus the two self-pickup ones it has no need of.
ORDER_STATUS = {
    "ImportReview": OutboundStatus.RECEIVED,
    "Processing": OutboundStatus.PROCESSING,
    "PartiallyFulfilled": OutboundStatus.PARTIALLY_SHIPPED,
    "Fulfilled": OutboundStatus.SHIPPED,
    "Completed": OutboundStatus.SHIPPED,
    "Exception": OutboundStatus.EXCEPTION,
    "OnHold": OutboundStatus.EXCEPTION,
    "Cancelled": OutboundStatus.CANCELLED,
    "AwaitingPickup": OutboundStatus.READY_FOR_PICKUP,
    "PickedUp": OutboundStatus.PICKED_UP,
}
# A shipment with tracking in one of these states has left the warehouse.
SHIPPED_SHIPMENT_STATUSES = frozenset({"Completed", "LabeledCreated", "Delivered"})
PICKUP_TYPE = "Pickup"
PICKUP_TAG = "pickup_code"

# Standard Webhooks: a delivery older or newer than this is refused (replay protection).
WEBHOOK_TOLERANCE = timedelta(minutes=5)
WEBHOOK_MAX_BYTES = 1_000_000
SECRET_PREFIX = "whsec_"  # noqa: S105 (the scheme's prefix, not a secret)
# What of an answer is echoed into an error message.
ECHO_MAX = 300


# ---------------------------------------------------------------------------------------
# Parsing


def _shipment_lines(products) -> tuple[ShipmentLine, ...]:
    lines = []
    for product in products or []:
        items = product.get("inventory_items") or []
        count = sum(quantity(item.get("quantity")) for item in items) if items else quantity(product.get("quantity"))
        lines.append(
            ShipmentLine(item_id=text(product.get("reference_id")) or text(product.get("sku")), quantity=count)
        )
    return tuple(lines)


def parse_shipment(shipment: Mapping) -> Shipment | None:
    """A shipment that has left, with its tracking; None for one still in the warehouse."""
    shipment = require_mapping(shipment, "a shipment")
    tracking = shipment.get("tracking") or {}
    number = text(tracking.get("tracking_number"))
    if text(shipment.get("status")) not in SHIPPED_SHIPMENT_STATUSES or not number:
        return None
    return Shipment(
        warehouse_id=ident(shipment.get("id")),
        carrier=text(tracking.get("carrier")),
        service=text(tracking.get("carrier_service")) or text(shipment.get("ship_option")),
        tracking_number=number,
        tracking_url=text(tracking.get("tracking_url")),
        shipped_at=iso_datetime(tracking.get("shipping_date")) or iso_datetime(shipment.get("actual_fulfillment_date")),
        lines=_shipment_lines(shipment.get("products")),
    )


def _exception_message(shipments) -> str:
    details = [
        text(detail.get("description")) or text(detail.get("name"))
        for shipment in shipments
        for detail in shipment.get("status_details") or []
    ]
    return "; ".join(detail for detail in details if detail)


def _updated_at(order: Mapping, shipments) -> datetime | None:
    moments = [iso_datetime(s.get("last_update_at")) for s in shipments] + [iso_datetime(order.get("created_date"))]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def parse_order(order: Mapping) -> OutboundOrder:
    """An order object of the rest API -> OutboundOrder. Raises PayloadError on the wrong shape."""
    order = require_mapping(order, "an outbound order")
    if "id" not in order or not text(order.get("reference_id")):
        raise PayloadError("An outbound order has an `id` and a `reference_id`.")
    words = text(order.get("status"))
    status = ORDER_STATUS.get(words, OutboundStatus.EXCEPTION)
    shipments = [require_mapping(s, "a shipment") for s in order.get("shipments") or []]
    if words not in ORDER_STATUS:
        message = _("The warehouse reports a status we do not know: %(status)s.") % {"status": words or "—"}
    else:
        message = _exception_message(shipments) if status == OutboundStatus.EXCEPTION else ""
    shipped = (parse_shipment(shipment) for shipment in shipments)
    return OutboundOrder(
        warehouse_id=ident(order["id"]),
        reference=text(order["reference_id"]),
        status=status,
        warehouse_status=words,
        message=message,
        shipments=tuple(shipment for shipment in shipped if shipment is not None),
        created_at=iso_datetime(order.get("created_date")),
        updated_at=_updated_at(order, shipments),
        raw=dict(order),
    )


def order_body(request: OutboundRequest) -> dict:
    """The create body for an outbound request."""
    recipient = request.recipient
    body = {
        "reference_id": request.reference,
        "order_number": request.reference,
        "type": PICKUP_TYPE if request.self_pickup else "DTC",
        "shipping_method": PICKUP_TYPE if request.self_pickup else request.service_code,
        "recipient": {
            "name": recipient.name,
            "email": recipient.email,
            "phone_number": recipient.phone,
            "address": {
                "address1": recipient.address1,
                "address2": recipient.address2,
                "company_name": recipient.company,
                "city": recipient.city,
                "state": recipient.region,
                "country": recipient.country,
                "zip_code": recipient.postcode,
            },
        },
        "products": [
            {"reference_id": line.item_id, "name": line.name or line.item_id, "quantity": line.quantity}
            for line in request.lines
        ],
        "tags": [{"name": PICKUP_TAG, "value": request.pickup_code}] if request.pickup_code else [],
    }
    if request.placed_at is not None:
        body["purchase_date"] = request.placed_at.astimezone(UTC).isoformat()
    return body


# ---------------------------------------------------------------------------------------
# Standard Webhooks


def webhook_key(secret: str) -> bytes:
    """The signing key of a `whsec_<base64>` secret (the prefix is optional)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected(_("The warehouse's webhook secret is not a whsec_ secret.")) from None


def webhook_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, as Standard Webhooks signs."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = {key.lower(): value for key, value in headers.items()}
    return text(lowered.get(name))


def verify_webhook(headers: Mapping[str, str], body: bytes, *, secret: str, now: float) -> tuple[str, int]:
    """The delivery's (message id, timestamp) once its signature and age are proven.

    The signature header may list several space-separated signatures (the sender signs
    with old and new secrets while rotating): one matching v1 signature is enough. A
    timestamp more than WEBHOOK_TOLERANCE from `now`, either way, is refused even when
    correctly signed, so a captured delivery cannot be replayed later."""
    if not secret:
        raise WebhookRejected(_("No webhook secret is stored for this warehouse."))
    if len(body) > WEBHOOK_MAX_BYTES:
        raise WebhookRejected(_("The webhook body is too large."))
    message_id, timestamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    offered = _header(headers, "webhook-signature").split()
    if not message_id or not timestamp.isdigit() or not offered:
        raise WebhookRejected(_("The webhook lacks its webhook-id, webhook-timestamp or webhook-signature header."))
    expected = webhook_signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(candidate, expected) for candidate in offered):
        raise WebhookRejected(_("The webhook's signature does not match: it did not come from the warehouse."))
    if abs(now - int(timestamp)) > WEBHOOK_TOLERANCE.total_seconds():
        raise WebhookRejected(_("The webhook's timestamp is more than five minutes away from now."))
    return message_id, int(timestamp)


def event_payload_order(document: Mapping) -> OutboundOrder | None:
    data = document.get("data")
    return parse_order(data) if isinstance(data, Mapping) and data.get("reference_id") else None


def parse_event(message_id: str, timestamp: int, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    try:
        document = require_mapping(json.loads(body), "a webhook body")
        order = event_payload_order(document)
    except (ValueError, PayloadError, KeyError, TypeError, AttributeError) as exc:
        raise WebhookRejected(
            _("The webhook body cannot be read: %(problem)s") % {"problem": str(exc)[:ECHO_MAX]}
        ) from exc
    return WebhookEvent(
        id=message_id,
        type=text(document.get("type")) or _header(headers, "x-webhook-topic"),
        occurred_at=iso_datetime(document.get("timestamp")) or datetime.fromtimestamp(timestamp, tz=UTC),
        payload=document,
        order=order,
    )


# ---------------------------------------------------------------------------------------
# The client


def _error_text(response: requests.Response) -> str:
    """The warehouse's own words about a refusal, cut short."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:ECHO_MAX]
    if not isinstance(data, Mapping):
        return text(data)[:ECHO_MAX]
    parts = [text(data.get("title")) or text(data.get("message"))]
    errors = data.get("errors")
    if isinstance(errors, Mapping):
        parts += [
            f"{name}: {'; '.join(map(text, problems)) if isinstance(problems, list) else text(problems)}"
            for name, problems in errors.items()
        ]
    elif errors:
        parts.append(text(errors))
    return " ".join(part for part in parts if part)[:ECHO_MAX]


class RestBackend(OutboundBackend):
    kind = KIND
    page_size = 250

    def __init__(
        self,
        connection: BackendConnection,
        *,
        http: PlatformHttp | None = None,
        page_size: int = 0,
        now: Callable[[], float] = time.time,
    ):
        self.connection = connection
        self.http = http or PlatformHttp(platform=f"warehouse {connection.warehouse_code}")
        self.now = now
        if page_size:
            self.page_size = page_size

    # --- plumbing -----------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return self.connection.base_url.rstrip("/") + "/" + path

    def _headers(self) -> dict:
        return {
            "Authorization": f"Bearer {self.connection.credentials.get('token', '')}",
            "Accept": "application/json",
        }

    def _send(self, method: str, path: str, *, retry_unsafe: bool = False, **kwargs) -> requests.Response:
        """One call through the retrying HTTP helper; transient failures become WarehouseUnavailable."""
        try:
            return self.http.request(
                method, self._url(path), headers=self._headers(), retry_unsafe=retry_unsafe, **kwargs
            )
        except PlatformUnavailable as exc:
            raise WarehouseUnavailable(
                _("Warehouse %(code)s could not be reached: %(problem)s")
                % {"code": self.connection.warehouse_code, "problem": exc},
                status_code=exc.status_code,
                retry_after=exc.extra.get("retry_after"),
            ) from exc

    def _checked(self, response: requests.Response, what: str) -> requests.Response:
        """The response if it succeeded; otherwise the error its status stands for."""
        status = response.status_code
        if status < 400:
            return response
        words = {"code": self.connection.warehouse_code, "what": what, "status": status, "why": _error_text(response)}
        if status in (401, 403):
            raise WarehouseAuthError(
                _("Warehouse %(code)s refuses our credentials (%(status)s: %(why)s).") % words, status_code=status
            )
        if status == 429 or status >= 500:
            raise WarehouseUnavailable(
                _("Warehouse %(code)s answered %(status)s to %(what)s.") % words, status_code=status
            )
        raise WarehouseRejected(
            _("Warehouse %(code)s refused %(what)s (%(status)s: %(why)s).") % words, status_code=status
        )

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise WarehouseUnavailable(
                _("Warehouse %(code)s answered %(what)s with something that is not JSON.")
                % {"code": self.connection.warehouse_code, "what": what},
                status_code=response.status_code,
            ) from None

    def _order(self, data: Any) -> OutboundOrder:
        try:
            return parse_order(data)
        except (PayloadError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise WarehouseUnavailable(
                _("Warehouse %(code)s answered with an order we cannot read: %(problem)s")
                % {"code": self.connection.warehouse_code, "problem": str(exc)[:ECHO_MAX]}
            ) from exc

    def _lost(self, request: OutboundRequest, why: str, *, status_code: int | None = None) -> OutboundResponseLost:
        return OutboundResponseLost(
            _("Warehouse %(code)s may or may not have taken order %(reference)s (%(why)s): look it up before retrying.")
            % {"code": self.connection.warehouse_code, "reference": request.reference, "why": why},
            extra={"reference": request.reference},
            status_code=status_code,
        )

    # --- operations ---------------------------------------------------------------------
    def create_outbound(self, request: OutboundRequest) -> OutboundOrder:
        """POST the order. Only a 429 is repeated here (the warehouse did nothing); any
        answer lost after the request left is OutboundResponseLost. A 422 (ShipBob's answer
        to a reference it already holds) is answered with the order held under it."""
        try:
            response = self._send("POST", "order", json=order_body(request))
        except WarehouseUnavailable as exc:
            if exc.status_code == 429:
                raise
            raise self._lost(request, str(exc.__cause__ or exc)) from exc
        if response.status_code >= 500:
            raise self._lost(request, f"HTTP {response.status_code}", status_code=response.status_code)
        if response.status_code == 422:
            held = self.find_outbound(request.reference)
            if held is not None:
                return held
        self._checked(response, _("order %(reference)s") % {"reference": request.reference})
        try:
            return parse_order(response.json())
        except (ValueError, PayloadError, KeyError, TypeError, AttributeError) as exc:
            raise self._lost(request, _("an answer we cannot read"), status_code=response.status_code) from exc

    def find_outbound(self, reference: str) -> OutboundOrder | None:
        response = self._checked(self._send("GET", "order", params={"ReferenceIds": reference}), _("a lookup"))
        found = self._json(response, _("a lookup"))
        if not isinstance(found, list):
            raise WarehouseUnavailable(
                _("Warehouse %(code)s answered a lookup with something other than a list.")
                % {"code": self.connection.warehouse_code}
            )
        # The reference is ours and exact: a warehouse matching loosely must not hand us another order.
        matches = [self._order(order) for order in found if isinstance(order, Mapping)]
        return next((order for order in matches if order.reference == reference), None)

    def cancel_outbound(self, reference: str) -> OutboundOrder:
        held = self.find_outbound(reference)
        if held is None:
            raise OutboundNotFound(
                _("Warehouse %(code)s holds no order %(reference)s.")
                % {"code": self.connection.warehouse_code, "reference": reference}
            )
        if held.status == OutboundStatus.CANCELLED:
            return held
        # Cancelling twice is harmless, so the helper may repeat it after a lost answer.
        response = self._send("POST", f"order/{held.warehouse_id}/cancel", retry_unsafe=True)
        if response.status_code == 422:
            raise CancelRefused(
                _("Warehouse %(code)s will not cancel order %(reference)s: %(why)s")
                % {"code": self.connection.warehouse_code, "reference": reference, "why": _error_text(response)},
                status_code=422,
            )
        data = self._json(self._checked(response, _("a cancel")), _("a cancel"))
        cancelled = self._order(data.get("order") if isinstance(data, Mapping) else None)
        if cancelled.status != OutboundStatus.CANCELLED:
            raise CancelRefused(
                _("Warehouse %(code)s did not cancel order %(reference)s; it is %(status)s.")
                % {"code": self.connection.warehouse_code, "reference": reference, "status": cancelled.status.label}
            )
        return cancelled

    def changes_since(self, since: datetime, *, cursor: str | None = None) -> ChangesPage:
        """Orders changed at or after `since`, oldest change first, a page of `page_size`.
        A full page means there may be more: the cursor is the next page's number."""
        page = int(cursor or 1)
        params = {
            "LastUpdateStartDate": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "SortOrder": "Oldest",
            "Page": page,
            "Limit": self.page_size,
        }
        response = self._checked(self._send("GET", "order", params=params), _("a changes poll"))
        found = self._json(response, _("a changes poll"))
        if not isinstance(found, list):
            raise WarehouseUnavailable(
                _("Warehouse %(code)s answered a changes poll with something other than a list.")
                % {"code": self.connection.warehouse_code}
            )
        orders, rejected = [], []
        for payload in found:
            try:
                orders.append(parse_order(payload))
            except (PayloadError, KeyError, TypeError, AttributeError, ValueError) as exc:
                reference = text(payload.get("reference_id")) if isinstance(payload, Mapping) else ""
                rejected.append(RejectedChange(reference=reference, reason=str(exc)[:ECHO_MAX], payload=payload))
        more = len(found) >= self.page_size
        return ChangesPage(orders=tuple(orders), next_cursor=str(page + 1) if more else None, rejected=tuple(rejected))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        message_id, timestamp = verify_webhook(headers, body, secret=self.connection.webhook_secret, now=self.now())
        return parse_event(message_id, timestamp, body, headers)

    def event_order(self, payload: Mapping) -> OutboundOrder | None:
        return event_payload_order(payload)
