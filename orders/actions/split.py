"""Step 7: split an unpaid order into two or more orders by lines and quantities.

The distributor assigns each line's quantity to the parts; for every line the parts'
quantities add up to the parent's. The parts keep the platform order, the store, the
warehouse, the logistics and the recipient, are numbered from the parent (DO…-1,
DO…-2), and are priced again (goods, handling per order). The parent becomes "split or
merged" and points at them (`Order.children`). Only orders whose lines are all mapped
and that are not on hold are split; all of it happens under the parent's row lock, so a
payment racing the split either finds the parent paid (the split is refused) or split
(the payment is refused).
"""

from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.pricing import logistics_reprice
from orders.state import ORDER_MACHINE, order_transition

from .common import acting, own_locked

MAX_PARTS = 20
SPLITTABLE = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_FUNDS, OrderStatus.OUTSIDE_AREA})
# Copied from the parent to every part, as they are.
KEPT_FIELDS = (
    "distributor_id",
    "store_id",
    "platform_order_id",
    "warehouse_id",
    "logistics",
    "shipping_method",
    "chosen_method_id",
    "recipient_name",
    "recipient_company",
    "recipient_phone",
    "recipient_email",
    "address1",
    "address2",
    "city",
    "province",
    "postal_code",
    "country",
    "address_problem",
    "placed_at",
    "remark",
    "left_out_lines",
)


def split_refusal(order: Order) -> str | None:
    """Why `order` cannot be split now, or None."""
    if order.status not in SPLITTABLE:
        return _("it is %(status)s; only unpaid orders with every line mapped are split") % {
            "status": order.get_status_display().lower()
        }
    if order.is_held:
        return _("it is on hold")
    return None


def _check_parts(lines: Sequence[OrderLine], parts: Sequence[Mapping[int, int]]) -> list[dict[int, int]]:
    if not 2 <= len(parts) <= MAX_PARTS:
        raise ApplicationError(_("Split into 2 to %(max)d orders.") % {"max": MAX_PARTS})
    by_pk = {line.pk: line for line in lines}
    cleaned = []
    for number, part in enumerate(parts, start=1):
        kept = {}
        for line_pk, quantity in part.items():
            if line_pk not in by_pk:
                raise ApplicationError(_("Part %(n)d names a line that is not on this order.") % {"n": number})
            if not isinstance(quantity, int) or quantity < 0:
                raise ApplicationError(_("Part %(n)d has a quantity that is not a whole number.") % {"n": number})
            if quantity:
                kept[line_pk] = quantity
        if not kept:
            raise ApplicationError(_("Part %(n)d has nothing in it.") % {"n": number})
        cleaned.append(kept)
    for line in lines:
        given = sum(part.get(line.pk, 0) for part in cleaned)
        if given != line.quantity:
            raise ApplicationError(
                _("%(sku)s: the parts hold %(given)d but the order has %(quantity)d; they must add up.")
                % {"sku": line.item_code or line.store_sku, "given": given, "quantity": line.quantity}
            )
    return cleaned


def _part_lines(order: Order, lines: Sequence[OrderLine], part: Mapping[int, int]) -> list[OrderLine]:
    made = []
    for line in lines:
        if line.pk in part:
            copy = OrderLine(
                order=order,
                platform_line_id=line.platform_line_id,
                store_sku=line.store_sku,
                title=line.title,
                quantity=part[line.pk],
                item_id=line.item_id,
                item_code=line.item_code,
                product_name=line.product_name,
                warehouse_code=line.warehouse_code,
                unit_price=line.unit_price,
                currency=line.currency,
            )
            copy.item = line.item
            made.append(copy)
    return made


@transaction.atomic
def order_split(*, actor, order: Order, parts: Sequence[Mapping[int, int]]) -> list[Order]:
    """Split `order` into len(parts) orders: parts[i] = {line pk: quantity} (see the module doc)."""
    acting(actor)
    [parent] = own_locked(actor, [order])
    refusal = split_refusal(parent)
    if refusal:
        why = {"number": parent.number, "why": refusal}
        raise ApplicationError(_("Order %(number)s cannot be split: %(why)s.") % why)
    lines = list(parent.lines.select_related("item__product").order_by("pk"))
    cleaned = _check_parts(lines, parts)
    children = []
    for index, part in enumerate(cleaned, start=1):
        child = Order(
            number=f"{parent.number}-{index}",
            parent=parent,
            status=ORDER_MACHINE.initial_status(
                OrderStatus.AWAITING_PAYMENT if parent.status == OrderStatus.AWAITING_FUNDS else parent.status
            ),
            **{name: getattr(parent, name) for name in KEPT_FIELDS},
        )
        child_lines = _part_lines(child, lines, part)
        child.warehouse = parent.warehouse
        logistics_reprice(child, child_lines)  # each part is priced as its own parcel, with its own freight
        child.save()
        for line in child_lines:
            line.order = child
        OrderLine.objects.bulk_create(child_lines)
        OrderEvent.objects.create(
            order=child,
            to_status=child.status,
            actor=actor.user,
            message=_("Split from %(number)s (part %(n)d of %(count)d).")
            % {"number": parent.number, "n": index, "count": len(cleaned)},
        )
        children.append(child)
    order_transition(
        order=parent,
        to_status=OrderStatus.SUPERSEDED,
        actor=actor.user,
        message=_("Split into %(numbers)s.") % {"numbers": ", ".join(child.number for child in children)},
        data={"split_into": [child.number for child in children]},
    )
    return children
