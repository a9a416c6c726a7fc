"""Step 5, routing: a platform order's lines through the mapping to one distribution
order per warehouse, each line a snapshot of the Item it was routed to.

Lines that are not ours are left out, kept on the platform order and named on the
distribution order and its timeline: a line that ships nothing (the platform says so:
gift wrapping, shipping protection), a line without a SKU, and a line whose SKU the
distributor marked "not supplied by this platform". A platform order with no line of
ours left becomes no order, skipped with that reason. Any unmapped line of ours parks
the whole platform order in one "pending mapping" order that names the missing SKUs;
once every line maps, lines are grouped by warehouse.
"""

import base64
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from django.utils.translation import gettext as _

from catalog.models import Item, Warehouse
from distribution.bulk import blueprint, bulk_insert
from distribution.money import DEFAULT_CURRENCY
from distribution.state import clip
from orders import events
from orders.mapping_port import NOT_SUPPLIED
from orders.models import (
    Disposition,
    LeftOutReason,
    Logistics,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PlatformOrder,
)
from orders.postcodes import PostcodeError, postcode_normalise
from orders.pricing import logistics_preselect, order_costs
from orders.rules import Verdict
from orders.state import ORDER_MACHINE

logger = logging.getLogger(__name__)


NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
# base64's base 32 alphabet (RFC 4648) letter for letter into Crockford's.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", NUMBER_ALPHABET.encode())
_day_prefix: tuple[int, str] = (-1, "")

LEFT_OUT_REASONS = dict(LeftOutReason.choices)


def new_order_number() -> str:
    """DO + date (UTC) + 8 random base-32 characters (40 bits from the OS's generator):
    unique without a shared counter (which every worker would queue on); the unique index
    is the backstop. A page of new orders makes thousands: the date is formatted once a
    day and the random characters are base64's base 32 translated."""
    global _day_prefix
    day = int(time.time() // 86400)
    if _day_prefix[0] != day:
        _day_prefix = (day, "DO" + datetime.fromtimestamp(day * 86400, UTC).strftime("%y%m%d"))
    return _day_prefix[1] + base64.b32encode(os.urandom(5)).translate(_TO_CROCKFORD).decode()


@dataclass
class RoutedLine:
    platform_line_id: str
    sku: str
    title: str
    quantity: int
    item: Item | None


@dataclass
class Plan:
    """What a platform order should be: [(warehouse, lines)] (one group with no warehouse
    while SKUs are missing), the missing SKUs, and the lines left out (with the reason)."""

    groups: list[tuple[Warehouse | None, list[RoutedLine]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    left_out: list[dict] = field(default_factory=list)

    @property
    def nothing_ours(self) -> bool:
        """True when every wanted line was left out: the platform order becomes no order."""
        return not self.groups and bool(self.left_out)


def _left_out_reason(line: Mapping, target) -> str:
    if line.get("ships") is False:
        return LeftOutReason.NO_SHIPPING
    if not line["sku"]:
        return LeftOutReason.NO_SKU
    if target is NOT_SUPPLIED:
        return LeftOutReason.NOT_SUPPLIED
    return ""


def plan(po: PlatformOrder, resolved: Mapping) -> Plan:
    """Route the platform order's wanted lines (quantity above 0), see the module doc.

    Any unmapped line parks the whole platform order in one "pending mapping" order
    (shipping part of a buyer's order and leaving the rest is the distributor's call,
    by a split, not ours); once everything maps, lines are grouped by warehouse.
    """
    ours, left_out = [], []
    for line in po.lines:
        quantity = int(line.get("quantity") or 0)
        if quantity <= 0:
            continue
        target = resolved.get(line["sku"]) if line["sku"] else None
        reason = _left_out_reason(line, target)
        if reason:
            title = line.get("title", "")
            left_out.append({"sku": line["sku"], "title": title, "quantity": quantity, "reason": reason})
            continue
        ours.append(RoutedLine(line.get("id", ""), line["sku"], line.get("title", ""), quantity, target))
    if not ours:
        return Plan(left_out=left_out)
    missing = sorted({line.sku for line in ours if line.item is None})
    if missing:
        return Plan([(None, ours)], missing, left_out)
    groups: dict[int, tuple[Warehouse, list[RoutedLine]]] = {}
    for line in ours:
        warehouse = line.item.warehouse
        groups.setdefault(warehouse.pk, (warehouse, []))[1].append(line)
    return Plan(sorted(groups.values(), key=lambda group: group[0].code), [], left_out)


def left_out_text(left_out: list[dict]) -> str:
    """ "Left out: Shipping Protection × 1 (needs no shipping); …", or "" when nothing was."""
    if not left_out:
        return ""
    parts = [
        f"{line['title'] or line['sku'] or '?'} × {line['quantity']} ({LEFT_OUT_REASONS[line['reason']]})"
        for line in left_out
    ]
    return _("Left out: %(lines)s.") % {"lines": "; ".join(parts)}


def nothing_ours_reason(left_out: list[dict]) -> str:
    return _("No line of this order is supplied by this platform. %(left_out)s") % {"left_out": left_out_text(left_out)}


def verdict_for_lines(verdict: Verdict, po: PlatformOrder, resolved: Mapping) -> Verdict:
    """A platform order the rules would convert is skipped when no line of it is ours."""
    if verdict.convert:
        routed = plan(po, resolved)
        if routed.nothing_ours:
            return Verdict(Disposition.SKIPPED, nothing_ours_reason(routed.left_out))
    return verdict


def recipient(po: PlatformOrder) -> dict:
    """The order's recipient from the platform's address; a postcode that is not one of its
    country (orders/postcodes.py) is kept as given and named in `address_problem`, which
    keeps the order from being paid until the address is fixed."""
    address = po.shipping_address or {}
    second = ", ".join(part for part in (address.get("address2"), address.get("address3")) if part)
    country = (address.get("country_code") or "")[:2].upper()
    postcode, problem = clip(address.get("postal_code"), 20), ""
    if postcode:
        try:
            postcode = postcode_normalise(country, postcode)
        except PostcodeError as exc:
            problem = clip(str(exc), 300)
    return {
        "recipient_name": clip(address.get("name") or po.buyer_name, 200),
        "recipient_company": clip(address.get("company"), 200),
        "recipient_phone": clip(address.get("phone"), 40),
        "recipient_email": clip(address.get("email") or po.buyer_email, 254),
        "address1": clip(address.get("address1"), 255),
        "address2": clip(second, 255),
        "city": clip(address.get("city"), 120),
        "province": clip(address.get("province") or address.get("province_code"), 120),
        "postal_code": postcode,
        "country": country,
        "address_problem": problem,
    }


def order_lines(order: Order, lines: list[RoutedLine]) -> list[OrderLine]:
    built = []
    for line in lines:
        item = line.item
        built.append(
            # ids rather than objects: the related-object descriptors cost more than the insert
            blueprint(OrderLine).new(
                order_id=order.pk,
                platform_line_id=line.platform_line_id,
                store_sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                item_id=item.pk if item else None,
                item_code=item.item_id if item else "",
                product_name=clip(item.product.name, 200) if item else "",
                warehouse_code=item.warehouse.code if item else "",
                unit_price=item.price if item else None,
                currency=item.currency if item else DEFAULT_CURRENCY,
            )
        )
    return built


LOGISTICS_VALUES = frozenset(Logistics.values)


def logistics_of(po: PlatformOrder) -> str:
    return po.requested_logistics if po.requested_logistics in LOGISTICS_VALUES else Logistics.DROPSHIPPING


def unpaid_status(missing, warehouse, country: str) -> str:
    """Where an unpaid order stands: waiting for a mapping, outside the service area of the
    warehouse its items ship from (products ship locally, guide step 4), or payable."""
    if missing:
        return OrderStatus.PENDING_MAPPING
    if warehouse is not None and not warehouse.serves(country):
        return OrderStatus.OUTSIDE_AREA
    return OrderStatus.AWAITING_PAYMENT


def build_orders(po: PlatformOrder, store, resolved: Mapping, *, language: str | None = None):
    """Unsaved orders, their lines and creation events for a platform order (`language`:
    the active one, when the caller builds many)."""
    routed = plan(po, resolved)
    to = recipient(po)
    built = []
    for warehouse, lines in routed.groups:
        order = blueprint(Order).new(
            distributor_id=store.distributor_id,
            store_id=store.pk,
            platform_order_id=po.pk,
            number=new_order_number(),
            status=ORDER_MACHINE.initial_status(unpaid_status(routed.missing, warehouse, to["country"])),
            warehouse_id=warehouse.pk if warehouse else None,
            missing_skus=routed.missing,
            left_out_lines=routed.left_out,
            logistics=logistics_of(po),
            shipping_method=clip(po.requested_shipping, 100),
            placed_at=po.placed_at,
            remark=po.remark,
            **to,
            **order_costs(warehouse, lines, routed.missing),
        )
        event = events.created(order, po, routed.missing, left_out_text(routed.left_out), language=language)
        built.append((order, order_lines(order, lines), event))
    return built


class _PricedLine(NamedTuple):
    """An order line as pricing reads it (the unsaved OrderLine carries only the item's id);
    a tuple, made thousands of times a page, costs a third of a frozen dataclass."""

    item: Item
    quantity: int
    unit_price: object


def _logistics_preselected(built) -> None:
    """Give the new orders their cheapest shipping method (or the self-pickup fee), all of
    a batch in a few queries: the items and warehouses once, then one quote of them all."""
    item_ids = {line.item_id for _order, lines, _event in built for line in lines if line.item_id}
    if not item_ids:
        return
    items = Item.objects.select_related("product").in_bulk(item_ids)
    warehouses = Warehouse.objects.in_bulk({order.warehouse_id for order, _lines, _event in built})
    pairs = []
    for order, lines, _event in built:
        if order.warehouse_id and not order.missing_skus:
            order.warehouse = warehouses[order.warehouse_id]
            pairs.append((order, [_PricedLine(items[x.item_id], x.quantity, x.unit_price) for x in lines if x.item_id]))
    logistics_preselect(pairs)


def save_built(built) -> list[Order]:
    _logistics_preselected(built)
    orders = [order for order, _lines, _event in built]
    bulk_insert(Order, orders)
    lines, events = [], []
    for order, order_lines, event in built:
        for line in order_lines:
            line.order_id = order.pk
        event.order_id = order.pk
        lines.extend(order_lines)
        events.append(event)
    bulk_insert(OrderLine, lines)
    bulk_insert(OrderEvent, events)
    return orders
