"""Step 7: choose how orders leave the warehouse. Dropshipping by one of the warehouse's
shipping methods (priced by its rate card on the order's chargeable weight; the cheapest
that serves the address is preselected when an order is made), or self-pickup at the
warehouse (no freight; the warehouse's self-pickup fee). Unpaid orders only: paying
freezes the cost with the quote it was paid at.

Many orders are quoted at once (catalog.shipping.quote_parcels: the same few queries
for a thousand orders as for one) and written with one bulk update.
"""

from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from orders.models import Logistics, Order, OrderEvent, OrderLine
from orders.pricing import LOGISTICS_FIELDS, logistics_apply, logistics_quotes

from .common import BulkResult, acting, own_locked

MAX_ORDERS = 1_000


def lines_by_order(orders) -> dict[int, list[OrderLine]]:
    """Each order's lines with their items and products (one query)."""
    grouped: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=[o.pk for o in orders]).select_related("item__product"):
        grouped[line.order_id].append(line)
    return grouped


def logistics_text(order: Order) -> str:
    if order.logistics == Logistics.SELF_PICKUP:
        return _("Self-pickup at %(warehouse)s.") % {"warehouse": order.warehouse.code}
    return _("Dropshipping by %(method)s: freight %(amount)s %(currency)s.") % {
        "method": order.shipping_method,
        "amount": order.shipping_amount,
        "currency": order.currency,
    }


def logistics_refusal(order: Order) -> str:
    if not order.is_unpaid:
        return _("it is %(status)s; logistics are chosen before payment") % {
            "status": order.get_status_display().lower()
        }
    if order.missing_skus or order.warehouse_id is None:
        return _("it waits for a mapping")
    return ""


@transaction.atomic
def orders_logistics_choose(*, actor, orders, logistics: str, method_id=None) -> BulkResult:
    """Set `logistics` (and for dropshipping `method_id`, or the cheapest method) on each
    order; each refused one says why and is left as it was."""
    acting(actor)
    if logistics not in Logistics.values:
        raise ApplicationError(_("Choose dropshipping or self-pickup."))
    locked = own_locked(actor, orders)
    if len(locked) > MAX_ORDERS:
        raise ApplicationError(_("Choose logistics for at most %(n)d orders at a time.") % {"n": MAX_ORDERS})
    result = BulkResult()
    lines = lines_by_order(locked)
    candidates = [o for o in locked if not logistics_refusal(o)]
    quotes = {}
    if logistics == Logistics.DROPSHIPPING:  # self-pickup needs no quote
        quoted = logistics_quotes([(o, lines[o.pk]) for o in candidates])
        quotes = {o.pk: q for o, q in zip(candidates, quoted, strict=True)}
    changed, notes = [], []
    for order in locked:
        why = logistics_refusal(order) or logistics_apply(
            order, lines[order.pk], quotes.get(order.pk, []), logistics=logistics, method_id=method_id
        )
        if why:
            result.refuse(order.number, why)
            continue
        changed.append(order)
        notes.append(OrderEvent(order=order, message=logistics_text(order), actor=actor.user))
        result.done.append(order.number)
    Order.objects.bulk_update(changed, [*LOGISTICS_FIELDS, "updated_at"], batch_size=500)
    OrderEvent.objects.bulk_create(notes)
    return result
