"""Step 7: merge 2 to 20 unpaid orders going to one recipient into one order.

The orders must share the distributor, the store, the warehouse, the logistics, the
currency and the recipient (name, phone, address lines, city, postcode and country,
compared after normalisation: case, spacing and punctuation do not matter). A refusal
names the rule that failed and the orders it failed for. The merged order takes every
line (each keeps its platform line id) and is priced once (one handling fee); each
source becomes "split or merged" and points at it (`Order.merged_into`), so tracking
later reaches every source's platform order. All orders are locked in primary-key order,
so two merges of overlapping orders never deadlock: the second finds some sources merged
already and is refused.
"""

import re
import unicodedata

from django.db import transaction
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from orders.ingest.routing import new_order_number
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.pricing import logistics_reprice
from orders.state import ORDER_MACHINE, order_transition

from .common import acting, own_locked
from .split import KEPT_FIELDS, SPLITTABLE

MIN_ORDERS, MAX_ORDERS = 2, 20
RECIPIENT_FIELDS = ("recipient_name", "recipient_phone", "address1", "address2", "city", "postal_code", "country")
_NOT_WORD = re.compile(r"[\W_]+")


def _normal(value: str) -> str:
    """Compared as a person would: case, accents' forms, spacing and punctuation ignored."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", value or "").casefold())


def _recipient(order: Order) -> tuple:
    return tuple(_normal(getattr(order, name)) for name in RECIPIENT_FIELDS)


# (what must be the same, how to read it from an order)
RULES = (
    (_("the same store"), lambda order: order.store_id),
    (_("the same warehouse"), lambda order: order.warehouse_id),
    (_("the same logistics"), lambda order: (order.logistics, order.shipping_method)),
    (_("the same currency"), lambda order: order.currency),
    (_("the same recipient and address"), _recipient),
)


def merge_key(order: Order) -> tuple | None:
    """What `order` must share with every order it is merged with (RULES, read in turn),
    or None when it can be merged with none now (paid, waiting for a mapping, on hold).
    Orders with equal keys can be merged; reads only the order's own row, no query."""
    if order.status not in SPLITTABLE or order.is_held:
        return None
    return tuple(read(order) for _label, read in RULES)


def merge_refusal(orders: list[Order]) -> str | None:
    """Why these orders cannot be merged, naming the rule and the orders it fails for; or None."""
    if not MIN_ORDERS <= len(orders) <= MAX_ORDERS:
        return _("merge %(min)d to %(max)d orders at a time") % {"min": MIN_ORDERS, "max": MAX_ORDERS}
    unfit = [o for o in orders if merge_key(o) is None]
    if unfit:
        return _("only unpaid orders with every line mapped and not on hold are merged: %(numbers)s") % {
            "numbers": ", ".join(o.number for o in unfit)
        }
    first = orders[0]
    for label, read in RULES:
        odd = [o.number for o in orders[1:] if read(o) != read(first)]
        if odd:
            return _("the orders must have %(rule)s as %(first)s; these do not: %(numbers)s") % {
                "rule": label,
                "first": first.number,
                "numbers": ", ".join(odd),
            }
    return None


@transaction.atomic
def orders_merge(*, actor, orders) -> Order:
    """Merge `orders` into one new order (see the module doc); refused whole, changing nothing."""
    acting(actor)
    sources = own_locked(actor, orders)
    refusal = merge_refusal(sources)
    if refusal:
        raise ApplicationError(_("These orders cannot be merged: %(why)s.") % {"why": refusal})
    first = sources[0]
    merged = Order(
        number=new_order_number(),
        status=ORDER_MACHINE.initial_status(
            OrderStatus.OUTSIDE_AREA
            if any(o.status == OrderStatus.OUTSIDE_AREA for o in sources)
            else OrderStatus.AWAITING_PAYMENT
        ),
        **{name: getattr(first, name) for name in KEPT_FIELDS},
    )
    merged.left_out_lines = [line for o in sources for line in o.left_out_lines]
    merged.remark = " / ".join(dict.fromkeys(o.remark for o in sources if o.remark))[:500]
    merged.address_problem = next((o.address_problem for o in sources if o.address_problem), "")
    lines = list(OrderLine.objects.filter(order__in=sources).select_related("item__product").order_by("pk"))
    merged.warehouse = first.warehouse
    logistics_reprice(merged, lines)  # priced once: one parcel, one handling fee, one freight
    merged.save()
    copies = []
    platform_of = {o.pk: o.platform_order_id for o in sources}
    for line in lines:
        line.platform_order_id = line.platform_order_id or platform_of[line.order_id]
        line.pk = None
        line.order = merged
        copies.append(line)
    OrderLine.objects.bulk_create(copies)
    numbers = ", ".join(o.number for o in sources)
    OrderEvent.objects.create(
        order=merged,
        to_status=merged.status,
        actor=actor.user,
        message=_("Merged from %(numbers)s.") % {"numbers": numbers},
        data={"merged_from": [o.number for o in sources]},
    )
    Order.objects.filter(pk__in=[o.pk for o in sources]).update(merged_into=merged)
    for source in sources:
        order_transition(
            order=source,
            to_status=OrderStatus.SUPERSEDED,
            actor=actor.user,
            message=_("Merged into %(number)s.") % {"number": merged.number},
            data={"merged_into": merged.number},
        )
    return merged
