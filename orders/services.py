"""Writes on orders: the state machine, the ingestion of platform orders, re-evaluation
of orders waiting for a mapping, and the distributor's actions on orders.

Ingestion in one paragraph: a platform order is upserted by `(store, external_id)`
under a row lock (an IntegrityError from a concurrent insert means "someone else
created it": re-read it); an unchanged content hash is a no-op, so replays of a poll,
a webhook, an import or a retry change nothing. A new platform order that the rule in
`orders.rules` accepts becomes distribution orders, one per warehouse its lines map to,
or one order in "pending mapping" naming the SKUs that have no mapping yet. A later
change on the platform updates the orders that are still unpaid (address, lines,
cancellation) and only flags the ones already paid, for the distributor to decide.
"""

import hashlib
import json
import logging
import os
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Item, Warehouse
from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.money import DEFAULT_CURRENCY, quantize
from distribution.tenancy import ensure_can_act
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    NormalizedBuyer,
    NormalizedLine,
    NormalizedOrder,
    PayloadError,
)

from . import mapping_port, orderfile, rules
from .models import (
    ORDER_TRANSITIONS,
    Disposition,
    IngestionError,
    Logistics,
    Order,
    OrderEvent,
    OrderImport,
    OrderLine,
    OrderStatus,
    PlatformOrder,
)

logger = logging.getLogger(__name__)


class IllegalTransition(ApplicationError):
    pass


@transaction.atomic
def order_transition(*, order: Order, to_status: str, actor=None, message: str = "", data: dict | None = None) -> Order:
    """Move `order` to `to_status` if ORDER_TRANSITIONS allows it; lock the row; record the event.

    The row is re-read under the lock, so two concurrent moves are serialised and the
    second one is judged against the status the first one left.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if to_status not in ORDER_TRANSITIONS.get(locked.status, frozenset()):
        raise IllegalTransition(
            _("Order %(number)s cannot go from %(from)s to %(to)s.")
            % {
                "number": locked.number,
                "from": OrderStatus(locked.status).label,
                "to": OrderStatus(to_status).label if to_status in OrderStatus.values else to_status,
            },
            extra={"from": locked.status, "to": to_status},
        )
    OrderEvent.objects.create(
        order=locked,
        from_status=locked.status,
        to_status=to_status,
        message=_clip(message, 500),
        data=data or {},
        actor=actor if getattr(actor, "pk", None) else None,
    )
    locked.status = to_status
    locked.save(update_fields=["status", "updated_at"])
    order.status = to_status
    return locked


# --- ingestion: what comes in -------------------------------------------------------------

NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
SKU_MAX = 100


def new_order_number() -> str:
    """DO + date + 8 random base-32 characters (40 bits): unique without a shared counter
    (which every worker would queue on); the unique index is the backstop."""
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    return "DO" + timezone.now().strftime("%y%m%d") + "".join(NUMBER_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))


@dataclass(frozen=True)
class OrderExtras:
    """What an order file says beyond the platform's own fields."""

    logistics: str = ""  # a Logistics value, or "" for the default
    remark: str = ""


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class IngestSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    orders_created: int = 0
    # The largest platform update time among the orders taken in (for the pull cursor).
    latest_update: object = None
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, *, orders_created: int = 0) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        self.orders_created += orders_created

    def merge(self, other: "IngestSummary") -> None:
        for name in ("created", "updated", "unchanged", "failed", "orders_created"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        if other.latest_update and (self.latest_update is None or other.latest_update > self.latest_update):
            self.latest_update = other.latest_update

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


def _clip(value, length: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= length else text[: length - 1] + "…"


def _validate(order: NormalizedOrder) -> None:
    """Refuse what cannot be an order of ours; the reason becomes an IngestionError."""
    if not order.external_id:
        raise PayloadError(_("The order has no id."))
    if len(order.external_id) > 100:
        raise PayloadError(_("The order id is longer than 100 characters."))
    for number, line in enumerate(order.lines, start=1):
        if not isinstance(line.quantity, int) or line.quantity < 0:
            raise PayloadError(_("Line %(n)d has an invalid quantity: %(q)r.") % {"n": number, "q": line.quantity})
        if line.quantity == 0:
            continue
        sku = mapping_port.normalise_sku(line.sku)
        if not sku:
            raise PayloadError(
                _("Line %(n)d (%(title)s) has no SKU, so it cannot be mapped to an item.")
                % {"n": number, "title": line.title or line.external_line_id or "?"}
            )
        if len(sku) > SKU_MAX:
            raise PayloadError(
                _("Line %(n)d has a SKU longer than %(max)d characters.") % {"n": number, "max": SKU_MAX}
            )
    if order.total is not None and not order.total.is_finite():
        raise PayloadError(_("The order total is not a number."))


def content_hash(order: NormalizedOrder, extras: OrderExtras) -> str:
    """A fingerprint of everything we take from the order (not the raw payload, whose
    incidental fields may change without the order changing for us)."""
    address = order.shipping_address
    buyer = order.buyer
    data = (
        order.external_id,
        order.display_number,
        order.created_at.isoformat() if order.created_at else "",
        order.updated_at.isoformat() if order.updated_at else "",
        order.currency,
        str(order.financial_status),
        str(order.fulfillment_status),
        str(order.cancel_status),
        order.platform_status,
        (buyer.external_id, buyer.name, buyer.email, buyer.phone),
        tuple(getattr(address, name) for name in ADDRESS_FIELDS),
        [
            (line.external_line_id, line.sku, line.quantity, str(line.unit_price), line.title, line.variant_title)
            for line in order.lines
        ],
        order.shipping_method,
        str(order.total),
        extras.logistics,
        extras.remark,
    )
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


ADDRESS_FIELDS = [f.name for f in fields(NormalizedAddress)]


def _raw_payload(order: NormalizedOrder):
    raw = order.raw
    if raw is None:
        return order.to_dict()
    try:
        json.dumps(raw)
    except (TypeError, ValueError):
        return order.to_dict()
    return raw


def _platform_fields(order: NormalizedOrder, *, source: str, extras: OrderExtras, digest: str) -> dict:
    address = order.shipping_address
    lines = [
        {
            "id": _clip(line.external_line_id, 100),
            "sku": mapping_port.normalise_sku(line.sku),
            "quantity": line.quantity,
            "unit_price": None if line.unit_price is None else str(line.unit_price),
            "title": _clip(" - ".join(t for t in (line.title, line.variant_title) if t), 300),
        }
        for line in order.lines
    ]
    return {
        "display_number": _clip(order.display_number, 100),
        "source": source,
        "currency": (order.currency or "")[:3],
        "financial_status": _clip(order.financial_status, 40),
        "fulfillment_status": _clip(order.fulfillment_status, 40),
        "is_cancelled": order.cancel_status == CancelStatus.CANCELLED,
        "platform_status": _clip(order.platform_status, 200),
        "buyer_name": _clip(order.buyer.name or address.name, 200),
        "buyer_email": _clip(order.buyer.email or address.email, 254),
        "shipping_address": {name: getattr(address, name) for name in ADDRESS_FIELDS},
        "lines": lines,
        "requested_shipping": _clip(order.shipping_method, 200),
        "requested_logistics": extras.logistics,
        "remark": _clip(extras.remark, 500),
        "placed_at": order.created_at,
        "platform_updated_at": order.updated_at,
        "total": order.total,
        "content_hash": digest,
        "raw": _raw_payload(order),
    }


# --- ingestion: routing through the mapping -----------------------------------------------


@dataclass
class _Line:
    platform_line_id: str
    sku: str
    title: str
    quantity: int
    item: Item | None


def _plan(po: PlatformOrder, resolved: Mapping[str, Item]) -> tuple[list[tuple[Warehouse | None, list[_Line]]], list]:
    """The orders this platform order should be: [(warehouse, lines)] and the missing SKUs.

    Any unmapped line parks the whole platform order in one "pending mapping" order
    (shipping part of a buyer's order and leaving the rest is the distributor's call,
    by a split, not ours); once everything maps, lines are grouped by warehouse.
    """
    lines = [
        _Line(line.get("id", ""), line["sku"], line.get("title", ""), int(line["quantity"]), resolved.get(line["sku"]))
        for line in po.lines
        if int(line.get("quantity") or 0) > 0
    ]
    missing = sorted({line.sku for line in lines if line.item is None})
    if missing:
        return [(None, lines)], missing
    groups: dict[int, tuple[Warehouse, list[_Line]]] = {}
    for line in lines:
        warehouse = line.item.warehouse
        groups.setdefault(warehouse.pk, (warehouse, []))[1].append(line)
    return sorted(groups.values(), key=lambda group: group[0].code), []


def _recipient(po: PlatformOrder) -> dict:
    address = po.shipping_address or {}
    second = ", ".join(part for part in (address.get("address2"), address.get("address3")) if part)
    return {
        "recipient_name": _clip(address.get("name") or po.buyer_name, 200),
        "recipient_company": _clip(address.get("company"), 200),
        "recipient_phone": _clip(address.get("phone"), 40),
        "recipient_email": _clip(address.get("email") or po.buyer_email, 254),
        "address1": _clip(address.get("address1"), 255),
        "address2": _clip(second, 255),
        "city": _clip(address.get("city"), 120),
        "province": _clip(address.get("province") or address.get("province_code"), 120),
        "postal_code": _clip(address.get("postal_code"), 20),
        "country": (address.get("country_code") or "")[:2].upper(),
    }


def _costs(warehouse: Warehouse | None, lines: list[_Line], missing: list) -> dict:
    """Goods at the items' distribution prices plus the warehouse's handling fee.

    Shipping is priced when the logistics are chosen (a later step), so it is zero here.
    An order waiting for a mapping has no price yet.
    """
    if missing or not lines or warehouse is None:
        zero = Decimal("0.00")
        return {
            "goods_amount": zero,
            "shipping_amount": zero,
            "handling_amount": zero,
            "total_amount": zero,
            "currency": DEFAULT_CURRENCY,
        }
    currency = lines[0].item.currency
    if any(line.item.currency != currency for line in lines):
        raise ApplicationError(_("The items of one order are priced in different currencies."))
    goods = quantize(sum((line.item.price * line.quantity for line in lines), Decimal(0)), currency)
    if warehouse.handling_fee_currency != currency:
        raise ApplicationError(
            _("The handling fee of %(warehouse)s is in %(fee)s but the items are priced in %(items)s.")
            % {"warehouse": warehouse.code, "fee": warehouse.handling_fee_currency, "items": currency}
        )
    handling = quantize(warehouse.handling_fee, currency)
    return {
        "goods_amount": goods,
        "shipping_amount": Decimal("0.00"),
        "handling_amount": handling,
        "total_amount": goods + handling,
        "currency": currency,
    }


def _order_lines(order: Order, lines: list[_Line]) -> list[OrderLine]:
    built = []
    for line in lines:
        item = line.item
        built.append(
            # ids rather than objects: the related-object descriptors cost more than the insert
            OrderLine(
                order_id=order.pk,
                platform_line_id=line.platform_line_id,
                store_sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                item_id=item.pk if item else None,
                item_code=item.item_id if item else "",
                product_name=_clip(item.product.name, 200) if item else "",
                warehouse_code=item.warehouse.code if item else "",
                unit_price=item.price if item else None,
                currency=item.currency if item else DEFAULT_CURRENCY,
            )
        )
    return built


LOGISTICS_VALUES = frozenset(Logistics.values)


def _logistics(po: PlatformOrder) -> str:
    return po.requested_logistics if po.requested_logistics in LOGISTICS_VALUES else Logistics.DROPSHIPPING


_SOURCE_LABELS = dict(PlatformOrder.Source.choices)


def _source_label(po: PlatformOrder) -> str:
    return str(_SOURCE_LABELS.get(po.source, po.source))


def _created_message(po: PlatformOrder, missing: list) -> str:
    message = _("Created from platform order %(number)s (%(source)s).") % {
        "number": po.display_number or po.external_id,
        "source": _source_label(po),
    }
    if missing:
        message += " " + _("Waiting for a mapping of: %(skus)s.") % {"skus": ", ".join(missing)}
    return message


def _build_orders(po: PlatformOrder, store, resolved: Mapping[str, Item]):
    """Unsaved orders, their lines and creation events for a platform order."""
    groups, missing = _plan(po, resolved)
    recipient = _recipient(po)
    built = []
    for warehouse, lines in groups:
        order = Order(
            distributor_id=store.distributor_id,
            store_id=store.pk,
            platform_order_id=po.pk,
            number=new_order_number(),
            status=OrderStatus.PENDING_MAPPING if missing else OrderStatus.AWAITING_PAYMENT,
            warehouse_id=warehouse.pk if warehouse else None,
            missing_skus=missing,
            logistics=_logistics(po),
            shipping_method=_clip(po.requested_shipping, 100),
            placed_at=po.placed_at,
            remark=po.remark,
            **recipient,
            **_costs(warehouse, lines, missing),
        )
        event = OrderEvent(to_status=order.status, message=_clip(_created_message(po, missing), 500))
        built.append((order, _order_lines(order, lines), event))
    return built


def _save_built(built) -> list[Order]:
    orders = [order for order, _lines, _event in built]
    Order.objects.bulk_create(orders)
    lines, events = [], []
    for order, order_lines, event in built:
        for line in order_lines:
            line.order_id = order.pk
        event.order_id = order.pk
        lines.extend(order_lines)
        events.append(event)
    OrderLine.objects.bulk_create(lines)
    OrderEvent.objects.bulk_create(events)
    return orders


# --- ingestion: changes on the platform ---------------------------------------------------

ADDRESS, LINES, CANCELLED, REVERSED, FULFILLED, CANCEL_REQUESTED = (
    "address",
    "lines",
    "cancelled",
    "reversed",
    "fulfilled",
    "cancel_requested",
)


def _snapshot(po: PlatformOrder) -> dict:
    return {
        "cancelled": po.is_cancelled,
        "financial": po.financial_status,
        "fulfillment": po.fulfillment_status,
        "address": dict(po.shipping_address or {}),
        "lines": sorted((line["sku"], int(line["quantity"])) for line in po.lines if int(line["quantity"] or 0) > 0),
        "logistics": po.requested_logistics,
        "remark": po.remark,
    }


def _changes(before: dict, after: dict, *, cancel_requested: bool) -> list[str]:
    changes = []
    if after["cancelled"] and not before["cancelled"]:
        changes.append(CANCELLED)
    if after["financial"] in rules.REVERSED and before["financial"] not in rules.REVERSED:
        changes.append(REVERSED)
    shipped = {FulfillmentStatus.FULFILLED, FulfillmentStatus.PARTIAL}
    if after["fulfillment"] in shipped and before["fulfillment"] not in shipped:
        changes.append(FULFILLED)
    if cancel_requested:
        changes.append(CANCEL_REQUESTED)
    if after["address"] != before["address"]:
        changes.append(ADDRESS)
    if after["lines"] != before["lines"] or after["logistics"] != before["logistics"]:
        changes.append(LINES)
    return changes


def _change_labels(changes: Iterable[str]) -> str:
    labels = {
        ADDRESS: _("shipping address changed"),
        LINES: _("items or quantities changed"),
        CANCELLED: _("cancelled"),
        REVERSED: _("refunded or voided"),
        FULFILLED: _("fulfilled outside this platform"),
        CANCEL_REQUESTED: _("the buyer asked to cancel"),
    }
    return "; ".join(str(labels[change]) for change in changes)


def _flag(order: Order, changes: list[str], *, paid: bool) -> None:
    what = _change_labels(changes)
    if paid:
        text = _("Changed on the platform after payment: %(what)s. Please check this order.") % {"what": what}
    else:
        text = _("Changed on the platform: %(what)s. Please check this order.") % {"what": what}
    order.platform_change_flag = _clip(text, 500)
    order.save(update_fields=["platform_change_flag", "updated_at"])
    OrderEvent.objects.create(order=order, message=order.platform_change_flag, data={"platform_changes": changes})


def _line_signature(lines) -> list:
    return sorted(
        (line.store_sku if isinstance(line, OrderLine) else line.sku, line.quantity, _item_pk(line)) for line in lines
    )


def _item_pk(line) -> int | None:
    return line.item_id if isinstance(line, OrderLine) else (line.item.pk if line.item else None)


def _rewrite(order: Order, po: PlatformOrder, warehouse, lines: list[_Line], missing: list, message: str) -> None:
    """Give an unpaid order new lines (and so maybe a new warehouse and status)."""
    wanted = OrderStatus.PENDING_MAPPING if missing else OrderStatus.AWAITING_PAYMENT
    if order.status != wanted:
        order_transition(order=order, to_status=wanted, message=message)
        message = ""
    current = list(order.lines.all())
    same_lines = _line_signature(current) == _line_signature(lines) and order.warehouse_id == (
        warehouse.pk if warehouse else None
    )
    if not same_lines:
        order.lines.all().delete()
        OrderLine.objects.bulk_create(_order_lines(order, lines))
    for name, value in {**_recipient(po), **_costs(warehouse, lines, missing)}.items():
        setattr(order, name, value)
    order.warehouse = warehouse
    order.missing_skus = missing
    order.logistics = _logistics(po)
    order.remark = po.remark
    order.save()
    if message and not same_lines:
        OrderEvent.objects.create(order=order, message=_clip(message, 500))


def _reroute(po: PlatformOrder, store, unpaid: list[Order], resolved: Mapping[str, Item], message: str) -> int:
    """Make the unpaid orders of `po` match its current lines and mapping; returns orders created."""
    groups, missing = _plan(po, resolved)
    remaining = list(unpaid)
    created = 0
    used: list[Order] = []
    for warehouse, lines in groups:
        key = warehouse.pk if warehouse else None
        target = next((o for o in remaining if o.warehouse_id == key), None) or (remaining[0] if remaining else None)
        if target is None:
            built = [
                (order, order_lines, event)
                for order, order_lines, event in _build_orders(po, store, resolved)
                if order.warehouse_id == key
            ]
            used.extend(_save_built(built))
            created += len(built)
            continue
        remaining.remove(target)
        _rewrite(target, po, warehouse, lines, missing, message)
        used.append(target)
    for leftover in remaining:
        order_transition(
            order=leftover,
            to_status=OrderStatus.SUPERSEDED,
            message=_("Re-routed: its lines are now in %(numbers)s.") % {"numbers": ", ".join(o.number for o in used)},
        )
    return created


def _apply_change(po: PlatformOrder, store, before: dict, verdict: rules.Verdict, order: NormalizedOrder, resolved):
    """The platform order changed: create, update or flag its distribution orders; returns orders created."""
    orders = list(Order.objects.select_for_update().filter(platform_order=po).order_by("pk"))
    if not orders:
        if verdict.convert:
            return len(_save_built(_build_orders(po, store, resolved)))
        return 0
    live = [o for o in orders if o.status not in (OrderStatus.SUPERSEDED, OrderStatus.CANCELLED)]
    if not live:
        return 0  # cancelled here already: nothing left to update
    changes = _changes(
        before,
        _snapshot(po),
        cancel_requested=order.cancel_status == CancelStatus.REQUESTED and before["cancelled"] is False,
    )
    if not changes:
        return 0
    paid = [o for o in live if not o.is_unpaid]
    unpaid = [o for o in live if o.is_unpaid]
    for o in paid:
        # Our own tracking sync marks the platform order fulfilled: that is no news.
        relevant = [c for c in changes if c != FULFILLED]
        if relevant:
            _flag(o, relevant, paid=True)
    if not unpaid:
        return 0
    if CANCELLED in changes or REVERSED in changes:
        for o in unpaid:
            order_transition(
                order=o,
                to_status=OrderStatus.CANCELLED,
                message=_("Cancelled because the platform order was %(what)s.")
                % {"what": _change_labels([c for c in changes if c in (CANCELLED, REVERSED)])},
            )
        return 0
    if FULFILLED in changes or CANCEL_REQUESTED in changes:
        for o in unpaid:
            _flag(o, changes, paid=False)
        return 0
    if LINES in changes and not paid:
        return _reroute(po, store, unpaid, resolved, _("Items or quantities changed on the platform."))
    if LINES in changes:
        for o in unpaid:
            _flag(o, [LINES], paid=False)
    if ADDRESS in changes:
        recipient = _recipient(po)
        for o in unpaid:
            for name, value in recipient.items():
                setattr(o, name, value)
            o.save(update_fields=[*recipient, "updated_at"])
            OrderEvent.objects.create(order=o, message=_("Shipping address updated from the platform."))
    return 0


# --- ingestion: the services --------------------------------------------------------------


def ingestion_error_record(*, store, source: str, external_id: str = "", reason: str, payload=None) -> IngestionError:
    """Keep a rejected order for staff; the same failure again only counts up."""
    reason = _clip(reason, 1000)
    fingerprint = hashlib.sha256(f"{external_id}\x00{reason}".encode()).hexdigest()
    try:
        json.dumps(payload)
    except (TypeError, ValueError):
        payload = {"unreadable": repr(payload)[:2000]}
    existing = IngestionError.objects.filter(store=store, fingerprint=fingerprint)
    if existing.update(occurrences=F("occurrences") + 1, last_seen_at=timezone.now()):
        return existing.get()
    try:
        with transaction.atomic():
            return IngestionError.objects.create(
                store=store,
                source=source,
                external_id=_clip(external_id, 100),
                reason=reason,
                fingerprint=fingerprint,
                payload=payload if payload is not None else {},
            )
    except IntegrityError:
        existing.update(occurrences=F("occurrences") + 1, last_seen_at=timezone.now())
        return existing.get()


def _ingest_one(*, store, order: NormalizedOrder, source: str, extras: OrderExtras, resolved) -> tuple[Outcome, int]:
    digest = content_hash(order, extras)
    fields = _platform_fields(order, source=source, extras=extras, digest=digest)
    po = PlatformOrder.objects.select_for_update().filter(store=store, external_id=order.external_id).first()
    created = False
    if po is None:
        try:
            with transaction.atomic():
                po = PlatformOrder.objects.create(store=store, external_id=order.external_id, **fields)
                created = True
        except IntegrityError:
            # Created meanwhile by another worker (a webhook beside a pull): take theirs.
            po = PlatformOrder.objects.select_for_update().get(store=store, external_id=order.external_id)
    if not created and po.content_hash == digest:
        return Outcome.UNCHANGED, 0
    before = _snapshot(po) if not created else None
    if not created:
        fields.pop("source")  # where we first saw it stays on the row
        for name, value in fields.items():
            setattr(po, name, value)
    verdict = rules.verdict(order, platform=store.platform)
    po.disposition, po.disposition_reason = verdict.disposition, _clip(verdict.reason, 300)
    if resolved is None:
        resolved = mapping_port.resolve(store=store, skus=[line["sku"] for line in po.lines])
    if created:
        po.save(update_fields=["disposition", "disposition_reason"])
        made = len(_save_built(_build_orders(po, store, resolved))) if verdict.convert else 0
        return Outcome.CREATED, made
    po.save()
    made = _apply_change(po, store, before, verdict, order, resolved)
    if made or po.orders.exclude(status__in=[OrderStatus.SUPERSEDED, OrderStatus.CANCELLED]).exists():
        PlatformOrder.objects.filter(pk=po.pk).update(disposition=Disposition.CONVERTED)
    return Outcome.UPDATED, made


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    orders_created: int = 0
    error: str = ""


def platform_order_ingest(
    *,
    store,
    order: NormalizedOrder,
    source: str,
    extras: OrderExtras | None = None,
    resolved=None,
    update_queue: bool = True,
) -> IngestResult:
    """Take in one platform order (poll, webhook, import): upsert, convert or update, never twice.

    A malformed order is recorded as an IngestionError and reported, never raised, so
    the caller's other orders proceed.
    """
    extras = extras or OrderExtras()
    try:
        _validate(order)
        with transaction.atomic():
            outcome, made = _ingest_one(store=store, order=order, source=source, extras=extras, resolved=resolved)
    except (ApplicationError, DatabaseError, InvalidOperation, ValueError, TypeError, KeyError) as exc:
        logger.info("order %s of store %s rejected: %s", order.external_id, store.pk, exc)
        ingestion_error_record(
            store=store,
            source=source,
            external_id=order.external_id or "",
            reason=str(exc),
            payload=_raw_payload(order),
        )
        return IngestResult(Outcome.FAILED, error=str(exc))
    if update_queue and outcome != Outcome.UNCHANGED:
        _feed_queue(store, [order])
    return IngestResult(outcome, made)


def platform_orders_ingest(
    *,
    store,
    orders: Sequence[NormalizedOrder],
    source: str,
    extras: Mapping[str, OrderExtras] | None = None,
    update_queue: bool = True,
) -> IngestSummary:
    """Take in a page of platform orders at once: the same rules as `platform_order_ingest`.

    New orders are written with a few bulk inserts (one SKU lookup, one insert each of
    platform orders, orders, lines and events per call) so a pull or a large import
    runs at thousands of orders a second; changed ones and any batch that meets a
    conflict (a concurrent webhook or worker) take the one-by-one path, which handles it.
    Cost: memory for one page of orders; callers pass pages of a few hundred.
    """
    extras = extras or {}
    summary = IngestSummary()
    valid: dict[str, NormalizedOrder] = {}
    for order in orders:
        try:
            _validate(order)
        except PayloadError as exc:
            ingestion_error_record(
                store=store,
                source=source,
                external_id=order.external_id or "",
                reason=str(exc),
                payload=_raw_payload(order),
            )
            summary.add(Outcome.FAILED)
            summary.errors.append(f"{order.external_id or '?'}: {exc}")
            continue
        valid[order.external_id] = order  # the last copy of a repeated order wins
        if order.updated_at and (summary.latest_update is None or order.updated_at > summary.latest_update):
            summary.latest_update = order.updated_at
    if not valid:
        return summary
    digests = {eid: content_hash(order, extras.get(eid, OrderExtras())) for eid, order in valid.items()}
    one_by_one: list[str] = []
    with transaction.atomic():
        known = dict(
            PlatformOrder.objects.filter(store=store, external_id__in=list(valid)).values_list(
                "external_id", "content_hash"
            )
        )
        fresh = [eid for eid in valid if eid not in known]
        one_by_one = [eid for eid in valid if eid in known and known[eid] != digests[eid]]
        summary.unchanged += sum(1 for eid in valid if known.get(eid) == digests[eid])
        skus = {mapping_port.normalise_sku(line.sku) for eid in fresh + one_by_one for line in valid[eid].lines}
        resolved = mapping_port.resolve(store=store, skus=skus)
        if fresh:
            try:
                with transaction.atomic():
                    made = _bulk_create(store, [valid[eid] for eid in fresh], source, extras, digests, resolved)
                summary.created += len(fresh)
                summary.orders_created += made
            except (IntegrityError, DatabaseError, ApplicationError, InvalidOperation, ValueError) as exc:
                logger.info("bulk ingest of %d orders fell back to one by one: %s", len(fresh), exc)
                one_by_one = fresh + one_by_one
    for eid in one_by_one:
        result = platform_order_ingest(
            store=store, order=valid[eid], source=source, extras=extras.get(eid), resolved=resolved, update_queue=False
        )
        summary.add(result.outcome, orders_created=result.orders_created)
        if result.error:
            summary.errors.append(f"{eid}: {result.error}")
    if update_queue:
        _feed_queue(store, valid.values())
    return summary


def _feed_queue(store, orders: Iterable[NormalizedOrder]) -> None:
    """Tell mapping's unmapped-SKU queue what arrived, and how many orders now wait on what."""
    skus = {}
    for order in orders:
        for line in order.lines:
            sku = mapping_port.normalise_sku(line.sku)
            if sku:
                skus.setdefault(sku, _clip(line.title, 255))
    mapping_port.record_seen(store=store, titles=skus)
    if Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING).exists() or skus:
        waiting_refresh(store=store)


def _bulk_create(store, orders: list[NormalizedOrder], source: str, extras, digests, resolved) -> int:
    platform_orders = []
    for order in orders:
        fields = _platform_fields(
            order, source=source, extras=extras.get(order.external_id, OrderExtras()), digest=digests[order.external_id]
        )
        verdict = rules.verdict(order, platform=store.platform)
        platform_orders.append(
            PlatformOrder(
                store_id=store.pk,
                external_id=order.external_id,
                disposition=verdict.disposition,
                disposition_reason=_clip(verdict.reason, 300),
                **fields,
            )
        )
    PlatformOrder.objects.bulk_create(platform_orders)
    built = []
    for po in platform_orders:
        if po.disposition == Disposition.CONVERTED:
            built.extend(_build_orders(po, store, resolved))
    if built:
        _save_built(built)
    return len(built)


# --- re-evaluation when mappings change ------------------------------------------------------


def waiting_refresh(*, store) -> dict[str, int]:
    """Tell mapping how many of the store's orders wait on each SKU (absolute numbers)."""
    counts: Counter = Counter()
    for missing in Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING).values_list(
        "missing_skus", flat=True
    ):
        counts.update(missing)
    mapping_port.record_waiting(store=store, waiting=dict(counts))
    return dict(counts)


def orders_reevaluate_pending(*, store, skus: Iterable[str] | None = None, batch_size: int = 200) -> int:
    """Re-route the store's orders waiting in "pending mapping" (those waiting on `skus`,
    or all); returns how many platform orders left pending mapping.

    Walks the waiting orders in primary-key batches of `batch_size`, each platform order
    in its own short transaction under its row lock, so a crash leaves every order
    either re-routed or still waiting, and a re-run continues. Cost: two queries plus
    one SKU lookup per waiting platform order.
    """
    wanted = {mapping_port.normalise_sku(sku) for sku in skus} if skus is not None else None
    released = 0
    last_pk = 0
    while True:
        batch = list(
            Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING, platform_order__isnull=False)
            .filter(platform_order_id__gt=last_pk)
            .order_by("platform_order_id")
            .values_list("platform_order_id", "missing_skus")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1][0]
        for po_id in sorted({po_id for po_id, missing in batch if wanted is None or wanted & set(missing)}):
            with transaction.atomic():
                po = PlatformOrder.objects.select_for_update().get(pk=po_id)
                orders = list(Order.objects.select_for_update().filter(platform_order=po).order_by("pk"))
                live = [o for o in orders if o.status not in (OrderStatus.SUPERSEDED, OrderStatus.CANCELLED)]
                if not any(o.status == OrderStatus.PENDING_MAPPING for o in live) or any(not o.is_unpaid for o in live):
                    continue
                resolved = mapping_port.resolve(store=store, skus=[line["sku"] for line in po.lines])
                _reroute(po, store, live, resolved, _("Mapped: the order is routed to its warehouse."))
                if not Order.objects.filter(platform_order=po, status=OrderStatus.PENDING_MAPPING).exists():
                    released += 1
    waiting_refresh(store=store)
    return released


# --- the distributor's actions ----------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def orders_cancel(*, actor: Membership, orders: Iterable[Order]) -> BulkResult:
    """Cancel unpaid orders (a paid order's cancellation refunds: that is finance's service)."""
    ensure_can_act(actor, Section.ORDERS)
    result = BulkResult()
    waiting_stores = {}
    for order in orders:
        if order.distributor_id != actor.distributor_id:
            raise ApplicationError(_("Not found."))
        if not order.is_unpaid:
            result.refused.append(order.number)
            continue
        try:
            order_transition(
                order=order,
                to_status=OrderStatus.CANCELLED,
                actor=actor.user,
                message=_("Cancelled by %(email)s.") % {"email": actor.user.email},
            )
        except IllegalTransition:
            result.refused.append(order.number)
        else:
            result.done.append(order.number)
            if order.missing_skus:
                waiting_stores[order.store_id] = order.store
    for store in waiting_stores.values():
        waiting_refresh(store=store)  # a cancelled order no longer waits for a mapping
    return result


# --- order file import (guide step 6) ---------------------------------------------------------

# Files up to this size are checked and applied in the request; larger ones by a worker.
IMPORT_INLINE_BYTES = 256 * 1024
# Orders per ingestion batch when applying a file: a few hundred keep each transaction
# short (a second or less) and the progress bar moving; memory is one batch of orders.
IMPORT_BATCH = 1000
# Progress is written every this many rows while checking (one UPDATE each).
PROGRESS_EVERY = 2_000
# A running import whose row has not moved for this long lost its worker.
IMPORT_STALE_AFTER = timedelta(minutes=10)


def import_inline_bytes() -> int:
    return int(getattr(settings, "ORDER_IMPORT_INLINE_BYTES", IMPORT_INLINE_BYTES))


def order_import_create(*, actor: Membership, store, upload) -> OrderImport:
    """Keep an uploaded order file (refusing what cannot be one) for checking."""
    ensure_can_act(actor, Section.ORDERS)
    if store is not None and (store.distributor_id != actor.distributor_id or store.removed_at is not None):
        raise ApplicationError(_("Not found."))
    name = os.path.basename(upload.name or "orders")
    if upload.size > orderfile.MAX_FILE_BYTES:
        raise orderfile.FileRejected(
            _("The file is larger than %(mb)d MB; split it.") % {"mb": orderfile.MAX_FILE_BYTES // (1024 * 1024)}
        )
    head = upload.read(8)
    upload.seek(0)
    orderfile.kind_of(name, head)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return OrderImport.objects.create(
        distributor=actor.distributor,
        store=store,
        uploaded_by=actor.user,
        file=File(upload, name=name),
        original_name=name[:255],
        sha256=digest.hexdigest(),
    )


@dataclass
class ParsedFile:
    total_rows: int = 0
    orders: dict = field(default_factory=dict)  # (store id, order no) -> FileOrder
    errors: list = field(default_factory=list)
    error_rows: set = field(default_factory=set)
    stores: dict = field(default_factory=dict)  # store id -> Store

    def valid_orders(self):
        return [order for order in self.orders.values() if not order.errors]


def _store_resolver(order_import: OrderImport):
    from stores.models import Store

    stores = list(Store.objects.present().filter(distributor_id=order_import.distributor_id))
    by_name = {}
    for store in stores:
        by_name.setdefault(store.name.strip().lower(), store)
    chosen = order_import.store

    def resolve(name: str):
        if not name:
            if chosen is None:
                return None, _("Name the store, or choose the store before uploading.")
            return chosen, ""
        store = by_name.get(name.strip().lower())
        if store is None:
            return None, _("You have no store named “%(name)s”.") % {"name": name}
        if chosen is not None and store.pk != chosen.pk:
            return None, _("This file is imported into “%(chosen)s”, but the row names “%(name)s”.") % {
                "chosen": chosen.name,
                "name": name,
            }
        return store, ""

    return resolve


ORDER_VALUES = (*orderfile.ORDER_LEVEL, orderfile.EMAIL, orderfile.ORDER_DATE, orderfile.LOGISTICS, orderfile.REMARK)


def _parse_import(order_import: OrderImport, *, on_progress=None) -> ParsedFile:
    from mapping.skus import clean_sku as clean

    known_skus: dict = {}

    def clean_sku(value):
        # A file names a few hundred SKUs over many rows: clean each once.
        key = (type(value), value)
        if key not in known_skus:
            try:
                known_skus[key] = (clean(value), None)
            except ApplicationError as exc:
                known_skus[key] = (None, exc)
        sku, error = known_skus[key]
        if error is not None:
            raise error
        return sku

    parsed = ParsedFile()
    kind = orderfile.kind_of(order_import.original_name, _file_head(order_import))
    total, rows = orderfile.open_rows(order_import.file.path, kind)
    parsed.total_rows = max(total - 1, 0)
    resolve_store = _store_resolver(order_import)
    col = orderfile  # the column names read better qualified

    def fail(row: int, column: str, message) -> None:
        parsed.error_rows.add(row)
        if len(parsed.errors) < OrderImport.ERRORS_KEPT:
            parsed.errors.append(orderfile.RowError(row, column, str(message)).as_dict())

    seen = 0
    for row in rows:
        seen += 1
        cleaned, errors = orderfile.check_row(row, clean_sku)
        store, problem = resolve_store(cleaned[col.STORE])
        if problem:
            errors.append(orderfile.RowError(row.number, col.STORE, str(problem)))
        for error in errors:
            fail(error.row, error.column, error.message)
        order_no = cleaned[col.ORDER_NO]
        if store is None or not order_no:
            continue
        parsed.stores[store.pk] = store
        key = (store.pk, order_no)
        order = parsed.orders.get(key)
        if order is None:
            order = orderfile.FileOrder(
                store_key=cleaned[col.STORE],
                order_no=order_no,
                first_row=row.number,
                values={name: cleaned.get(name) for name in ORDER_VALUES},
            )
            parsed.orders[key] = order
        else:
            for column in col.ORDER_LEVEL:
                if cleaned[column] and order.values[column] and cleaned[column] != order.values[column]:
                    errors.append(orderfile.RowError(row.number, column, ""))
                    fail(
                        row.number,
                        column,
                        _("Rows of order %(no)s disagree: row %(first)d says “%(was)s”.")
                        % {"no": order_no, "first": order.first_row, "was": order.values[column]},
                    )
                elif cleaned[column] and not order.values[column]:
                    order.values[column] = cleaned[column]
            if cleaned[col.REMARK] and cleaned[col.REMARK] not in order.values[col.REMARK]:
                order.values[col.REMARK] = "; ".join(v for v in (order.values[col.REMARK], cleaned[col.REMARK]) if v)
        order.rows.append(row.number)
        if errors:
            order.errors = True
            continue
        for line in order.lines:
            if line.sku == cleaned[col.SKU]:
                line.quantity += cleaned[col.QUANTITY]
                break
        else:
            order.lines.append(orderfile.FileLine(row.number, cleaned[col.SKU], cleaned[col.QUANTITY]))
        if on_progress is not None and seen % PROGRESS_EVERY == 0:
            on_progress(seen, parsed.total_rows)
    parsed.total_rows = max(parsed.total_rows, seen)
    return parsed


def _file_head(order_import: OrderImport) -> bytes:
    with order_import.file.open("rb") as handle:
        return handle.read(8)


def _file_order_normalized(order: "orderfile.FileOrder", store) -> tuple[NormalizedOrder, OrderExtras]:
    col = orderfile
    values = order.values
    address = NormalizedAddress(
        name=values[col.RECIPIENT],
        phone=values[col.PHONE],
        email=values[col.EMAIL],
        address1=values[col.ADDRESS1],
        address2=values[col.ADDRESS2],
        city=values[col.CITY],
        province=values[col.PROVINCE],
        postal_code=values[col.POSTCODE],
        country_code=values[col.COUNTRY],
    )
    normalized = NormalizedOrder(
        platform=store.platform,
        external_id=order.order_no,
        display_number=order.order_no,
        created_at=values[col.ORDER_DATE],
        updated_at=None,
        currency=store.currency,
        financial_status=FinancialStatus.PAID,
        fulfillment_status=FulfillmentStatus.UNFULFILLED,
        cancel_status=CancelStatus.NONE,
        platform_status="imported",
        buyer=NormalizedBuyer(name=values[col.RECIPIENT], email=values[col.EMAIL], phone=values[col.PHONE]),
        shipping_address=address,
        lines=tuple(
            NormalizedLine(external_line_id=line.sku, sku=line.sku, quantity=line.quantity, unit_price=None)
            for line in order.lines
        ),
        raw={"rows": order.rows},
    )
    return normalized, OrderExtras(logistics=values[col.LOGISTICS], remark=values[col.REMARK])


def _import_progress(order_import: OrderImport, done: int, total: int) -> None:
    OrderImport.objects.filter(pk=order_import.pk).update(
        processed_rows=done, total_rows=max(total, done), updated_at=timezone.now()
    )


def order_import_fail(*, order_import: OrderImport, message: str) -> OrderImport:
    """Record why an import stopped, where the distributor (and staff) can see it."""
    return _import_fail(order_import, message)


def _import_fail(order_import: OrderImport, message: str) -> OrderImport:
    order_import.status = OrderImport.Status.FAILED
    order_import.message = _clip(message, 500)
    order_import.finished_at = timezone.now()
    order_import.save(update_fields=["status", "message", "finished_at", "updated_at"])
    return order_import


def order_import_check(*, order_import: OrderImport) -> OrderImport:
    """Read and check every row (nothing is written but the verdict): the preview.

    Counts the orders the file holds, how many of them are new and how many were
    imported before, and keeps the first errors with their row numbers.
    """
    try:
        parsed = _parse_import(
            order_import, on_progress=lambda done, total: _import_progress(order_import, done, total)
        )
    except orderfile.FileRejected as exc:
        return _import_fail(order_import, exc.message)
    valid = parsed.valid_orders()
    existing = 0
    by_store: dict[int, list[str]] = {}
    for (store_id, order_no), order in parsed.orders.items():
        if not order.errors:
            by_store.setdefault(store_id, []).append(order_no)
    for store_id, numbers in by_store.items():
        for start in range(0, len(numbers), 1000):
            existing += PlatformOrder.objects.filter(
                store_id=store_id, external_id__in=numbers[start : start + 1000]
            ).count()
    order_import.total_rows = parsed.total_rows
    order_import.processed_rows = parsed.total_rows
    order_import.order_count = len(valid)
    order_import.existing_count = existing
    order_import.new_count = len(valid) - existing
    order_import.error_count = len(parsed.error_rows)
    order_import.errors = parsed.errors
    invalid = sum(1 for order in parsed.orders.values() if order.errors)
    order_import.message = (
        _("%(n)d order(s) have errors and will be left out.") % {"n": invalid} if invalid and valid else ""
    )
    order_import.status = OrderImport.Status.READY if valid else OrderImport.Status.INVALID
    if not valid and not parsed.errors:
        order_import.message = _("The file holds no order.")
    if valid:
        order_import.checked_name = _save_checked(order_import, parsed)
    order_import.save()
    return order_import


def _save_checked(order_import: OrderImport, parsed: ParsedFile) -> str:
    """Keep the checked orders beside the file, so applying does not read and check every
    row again (half the work of a large file). The upload itself never changes."""
    orders = []
    for (store_id, _number), order in parsed.orders.items():
        if order.errors:
            continue
        values = dict(order.values)
        if values.get(orderfile.ORDER_DATE) is not None:
            values[orderfile.ORDER_DATE] = values[orderfile.ORDER_DATE].isoformat()
        orders.append(
            [store_id, order.order_no, order.first_row, order.rows, values, [[x.sku, x.quantity] for x in order.lines]]
        )
    content = json.dumps({"sha256": order_import.sha256, "total_rows": parsed.total_rows, "orders": orders})
    storage = order_import.file.storage
    return storage.save(f"{order_import.file.name}.checked.json", ContentFile(content.encode()))


def _load_checked(order_import: OrderImport) -> ParsedFile | None:
    from stores.models import Store

    storage = order_import.file.storage
    if not order_import.checked_name or not storage.exists(order_import.checked_name):
        return None
    with storage.open(order_import.checked_name, "rb") as handle:
        data = json.load(handle)
    if data.get("sha256") != order_import.sha256:
        return None
    parsed = ParsedFile(total_rows=data["total_rows"])
    store_ids = {entry[0] for entry in data["orders"]}
    # A store removed since the check is no longer imported into.
    parsed.stores = Store.objects.present().filter(distributor_id=order_import.distributor_id).in_bulk(store_ids)
    for store_id, order_no, first_row, rows, values, lines in data["orders"]:
        if values.get(orderfile.ORDER_DATE):
            values[orderfile.ORDER_DATE] = datetime.fromisoformat(values[orderfile.ORDER_DATE])
        order = orderfile.FileOrder(
            store_key="",
            order_no=order_no,
            first_row=first_row,
            values=values,
            rows=rows,
            errors=store_id not in parsed.stores,
        )
        order.lines = [orderfile.FileLine(first_row, sku, quantity) for sku, quantity in lines]
        parsed.orders[(store_id, order_no)] = order
    return parsed


def order_import_start_apply(*, actor: Membership, order_import: OrderImport) -> OrderImport:
    """[Confirm]: mark the import as being applied; only one confirm wins."""
    ensure_can_act(actor, Section.ORDERS)
    stale = timezone.now() - IMPORT_STALE_AFTER
    won = (
        OrderImport.objects.filter(pk=order_import.pk)
        .filter(Q(status=OrderImport.Status.READY) | Q(status=OrderImport.Status.APPLYING, updated_at__lt=stale))
        .update(status=OrderImport.Status.APPLYING, processed_rows=0, message="", updated_at=timezone.now())
    )
    order_import.refresh_from_db()
    if not won:
        if order_import.status == OrderImport.Status.DONE:
            raise ApplicationError(_("This file was imported already."))
        if order_import.status == OrderImport.Status.APPLYING:
            raise ApplicationError(_("This file is being imported."))
        raise ApplicationError(
            _("This file cannot be imported: %(status)s.") % {"status": order_import.get_status_display()}
        )
    return order_import


def order_import_apply(*, order_import: OrderImport) -> OrderImport:
    """Create the file's orders (those without errors) in batches, idempotently.

    Applies the orders the check kept (or checks the file again if they are gone); each
    order goes through `platform_orders_ingest` by `(store, Order No)`, so a second
    apply, or a second import of the same file, finds every order unchanged and creates
    nothing.
    """
    try:
        parsed = _load_checked(order_import) or _parse_import(order_import)
    except orderfile.FileRejected as exc:
        return _import_fail(order_import, exc.message)
    summary = IngestSummary()
    done_rows = 0
    valid = parsed.valid_orders()
    by_store: dict[int, list] = {}
    for (store_id, _number), order in parsed.orders.items():
        if not order.errors:
            by_store.setdefault(store_id, []).append(order)
    for store_id, orders in by_store.items():
        store = parsed.stores[store_id]
        for start in range(0, len(orders), IMPORT_BATCH):
            batch = orders[start : start + IMPORT_BATCH]
            normalized, extras = [], {}
            for order in batch:
                order_normalized, order_extras = _file_order_normalized(order, store)
                normalized.append(order_normalized)
                extras[order.order_no] = order_extras
            summary.merge(
                platform_orders_ingest(
                    store=store, orders=normalized, source=PlatformOrder.Source.IMPORT, extras=extras
                )
            )
            done_rows += sum(len(order.rows) for order in batch)
            _import_progress(order_import, done_rows, parsed.total_rows)
    order_import.refresh_from_db()
    order_import.status = OrderImport.Status.DONE
    order_import.processed_rows = order_import.total_rows
    order_import.order_count = len(valid)
    order_import.new_count = summary.created
    order_import.existing_count = summary.unchanged + summary.updated
    order_import.message = _clip(
        _(
            "%(created)d new order(s), %(orders)d distribution order(s) made, "
            "%(same)d already imported, %(failed)d failed."
        )
        % {
            "created": summary.created,
            "orders": summary.orders_created,
            "same": summary.unchanged + summary.updated,
            "failed": summary.failed,
        },
        500,
    )
    order_import.finished_at = timezone.now()
    order_import.save()
    return order_import
