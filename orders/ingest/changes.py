"""Step 5, later: the platform changed an order we already have.

Unpaid orders follow the platform (address, lines, cancellation); paid ones, and unpaid
ones the distributor split or merged, are only flagged, for the distributor to decide.
Our own tracking sync marking the platform order fulfilled is no news.
"""

import logging
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

from catalog.models import Item
from distribution.state import clip
from orders import events, rules
from orders.ingest.routing import (
    RoutedLine,
    build_orders,
    left_out_text,
    logistics_of,
    nothing_ours_reason,
    order_lines,
    plan,
    recipient,
    save_built,
    unpaid_status,
)
from orders.models import (
    Disposition,
    Order,
    OrderLine,
    OrderStatus,
    PlatformOrder,
)
from orders.pricing import order_costs
from orders.state import order_transition
from stores.platforms.base import (
    CancelStatus,
    FulfillmentStatus,
    NormalizedOrder,
)

logger = logging.getLogger(__name__)


ADDRESS, LINES, CANCELLED, REVERSED, FULFILLED, CANCEL_REQUESTED = (
    "address",
    "lines",
    "cancelled",
    "reversed",
    "fulfilled",
    "cancel_requested",
)


def snapshot(po: PlatformOrder) -> dict:
    return {
        "cancelled": po.is_cancelled,
        "financial": po.financial_status,
        "fulfillment": po.fulfillment_status,
        "address": dict(po.shipping_address or {}),
        "lines": sorted((line["sku"], int(line["quantity"])) for line in po.lines if int(line["quantity"] or 0) > 0),
        "logistics": po.requested_logistics,
        "remark": po.remark,
    }


def diff(before: dict, after: dict, *, cancel_requested: bool) -> list[str]:
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


def change_labels(changes: Iterable[str]) -> str:
    labels = {
        ADDRESS: _("shipping address changed"),
        LINES: _("items or quantities changed"),
        CANCELLED: _("cancelled"),
        REVERSED: _("refunded or voided"),
        FULFILLED: _("fulfilled outside this platform"),
        CANCEL_REQUESTED: _("the buyer asked to cancel"),
    }
    return "; ".join(str(labels[change]) for change in changes)


def flag(order: Order, changes: list[str], *, paid: bool) -> None:
    what = change_labels(changes)
    if paid:
        text = _("Changed on the platform after payment: %(what)s. Please check this order.") % {"what": what}
    else:
        text = _("Changed on the platform: %(what)s. Please check this order.") % {"what": what}
    order.platform_change_flag = clip(text, 500)
    order.save(update_fields=["platform_change_flag", "updated_at"])
    events.platform_change_flagged(order, changes)


def _line_signature(lines) -> list:
    return sorted(
        (line.store_sku if isinstance(line, OrderLine) else line.sku, line.quantity, _item_pk(line)) for line in lines
    )


def _item_pk(line) -> int | None:
    return line.item_id if isinstance(line, OrderLine) else (line.item.pk if line.item else None)


def rewrite(
    order: Order, po: PlatformOrder, warehouse, lines: list[RoutedLine], missing: list, left_out: list, message: str
) -> None:
    """Give an unpaid order new lines (and so maybe a new warehouse and status)."""
    if left_out != order.left_out_lines:
        message = " ".join(part for part in (message, left_out_text(left_out)) if part)
    wanted = unpaid_status(missing, warehouse, recipient(po)["country"])
    if order.status == OrderStatus.AWAITING_FUNDS and wanted == OrderStatus.AWAITING_PAYMENT:
        wanted = order.status  # still waiting for funds: auto-pay takes it when money lands
    if order.status != wanted:
        order_transition(order=order, to_status=wanted, message=message)
        message = ""
    current = list(order.lines.all())
    same_lines = _line_signature(current) == _line_signature(lines) and order.warehouse_id == (
        warehouse.pk if warehouse else None
    )
    if not same_lines:
        order.lines.all().delete()
        OrderLine.objects.bulk_create(order_lines(order, lines))
    for name, value in {**recipient(po), **order_costs(warehouse, lines, missing)}.items():
        setattr(order, name, value)
    order.warehouse = warehouse
    order.missing_skus = missing
    order.left_out_lines = left_out
    order.logistics = logistics_of(po)
    order.remark = po.remark
    order.save()
    if message and not same_lines:
        events.lines_rewritten(order, message)


def reroute(po: PlatformOrder, store, unpaid: list[Order], resolved: Mapping[str, Item], message: str) -> int:
    """Make the unpaid orders of `po` match its current lines and mapping; returns orders created.

    When no line of ours is left (all shipping-free, without SKU or not supplied), the
    unpaid orders are cancelled with that reason."""
    routed = plan(po, resolved)
    if routed.nothing_ours:
        reason = nothing_ours_reason(routed.left_out)
        for order in unpaid:
            order_transition(order=order, to_status=OrderStatus.CANCELLED, message=reason)
        skipped = {"disposition": Disposition.SKIPPED, "disposition_reason": clip(reason, 300)}
        PlatformOrder.objects.filter(pk=po.pk).update(**skipped)
        return 0
    remaining = list(unpaid)
    created = 0
    used: list[Order] = []
    for warehouse, lines in routed.groups:
        key = warehouse.pk if warehouse else None
        target = next((o for o in remaining if o.warehouse_id == key), None) or (remaining[0] if remaining else None)
        if target is None:
            built = [
                (order, order_lines, event)
                for order, order_lines, event in build_orders(po, store, resolved)
                if order.warehouse_id == key
            ]
            used.extend(save_built(built))
            created += len(built)
            continue
        remaining.remove(target)
        rewrite(target, po, warehouse, lines, routed.missing, routed.left_out, message)
        used.append(target)
    for leftover in remaining:
        order_transition(
            order=leftover,
            to_status=OrderStatus.SUPERSEDED,
            message=_("Re-routed: its lines are now in %(numbers)s.") % {"numbers": ", ".join(o.number for o in used)},
        )
    return created


def apply_change(po: PlatformOrder, store, before: dict, verdict: rules.Verdict, order: NormalizedOrder, resolved):
    """The platform order changed: create, update or flag its distribution orders; returns orders created."""
    orders = list(Order.objects.select_for_update().filter(platform_order=po).order_by("pk"))
    if not orders:
        if verdict.convert:
            return len(save_built(build_orders(po, store, resolved)))
        return 0
    # A merge puts several platform orders' lines in one order (which names only the first).
    merged_ids = {o.merged_into_id for o in orders if o.merged_into_id} - {o.pk for o in orders}
    if merged_ids:
        orders += list(Order.objects.select_for_update().filter(pk__in=merged_ids).order_by("pk"))
    live = [o for o in orders if o.status not in (OrderStatus.SUPERSEDED, OrderStatus.CANCELLED)]
    if not live:
        return 0  # cancelled here already: nothing left to update
    changes = diff(
        before,
        snapshot(po),
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
            flag(o, relevant, paid=True)
    if not unpaid:
        return 0
    merge_made = merged_ids | set(Order.objects.filter(merged_into__in=unpaid).values_list("merged_into_id", flat=True))
    if any(o.parent_id or o.pk in merge_made for o in unpaid):
        # Split or merged by the distributor: their shape is theirs, so changes are only flagged.
        for o in unpaid:
            flag(o, [c for c in changes if c != FULFILLED] or changes, paid=False)
        return 0
    if CANCELLED in changes or REVERSED in changes:
        for o in unpaid:
            order_transition(
                order=o,
                to_status=OrderStatus.CANCELLED,
                message=_("Cancelled because the platform order was %(what)s.")
                % {"what": change_labels([c for c in changes if c in (CANCELLED, REVERSED)])},
            )
        return 0
    if FULFILLED in changes or CANCEL_REQUESTED in changes:
        for o in unpaid:
            flag(o, changes, paid=False)
        return 0
    if LINES in changes and not paid:
        return reroute(po, store, unpaid, resolved, _("Items or quantities changed on the platform."))
    if LINES in changes:
        for o in unpaid:
            flag(o, [LINES], paid=False)
    if ADDRESS in changes:
        to = recipient(po)
        for o in unpaid:
            for name, value in to.items():
                setattr(o, name, value)
            o.save(update_fields=[*to, "updated_at"])
            events.address_updated(o)
            area_recheck(o)
    return 0


def area_recheck(order: Order, *, actor=None) -> None:
    """After an address change: an unpaid order moves into or out of "address outside
    service area" as its warehouse serves the new country or not."""
    if order.status == OrderStatus.PENDING_MAPPING or order.warehouse_id is None:
        return
    serves = order.warehouse.serves(order.country)
    if not serves and order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_FUNDS):
        order_transition(
            order=order,
            to_status=OrderStatus.OUTSIDE_AREA,
            actor=actor,
            message=_("The address (%(country)s) is outside the service area of %(warehouse)s (it serves %(sites)s).")
            % {"country": order.country or "?", "warehouse": order.warehouse.code, "sites": order.warehouse.sites},
        )
    elif serves and order.status == OrderStatus.OUTSIDE_AREA:
        order_transition(
            order=order,
            to_status=OrderStatus.AWAITING_PAYMENT,
            actor=actor,
            message=_("The address is inside the service area of %(warehouse)s now.")
            % {"warehouse": order.warehouse.code},
        )
