"""Step 7: merge 2 to 20 unpaid orders going to one recipient into one order.

The orders must share the distributor, the store, the warehouse, the logistics, the
currency and the recipient (name, phone, address lines, city, postcode and country,
compared after normalisation: case, spacing and punctuation do not matter). A refusal
names the rule that failed and the orders it failed for. The merged order takes every
line (each keeps its platform line id) and is priced once (one parcel: one handling fee
per order and the extra pieces, one freight); each
source becomes "split or merged" and points at it (`Order.merged_into`), so tracking
later reaches every source's platform order. All orders are locked in primary-key order,
so two merges of overlapping orders never deadlock: the second finds some sources merged
already and is refused.

`merge_preview` shows what a merge would make before it is confirmed (the portal's merge
page): the rule check, the merged order's recipient, lines and cost beside the sources'
costs added up, priced by the same code as the merge itself and never saved.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# (what must be the same, how to read it from an order); lazy, so each request reads the
# label in its own language.
RULES = (
    (gettext_lazy("the same store"), lambda order: order.store_id),
    (gettext_lazy("the same warehouse"), lambda order: order.warehouse_id),
    (gettext_lazy("the same logistics"), lambda order: (order.logistics, order.shipping_method)),
    (gettext_lazy("the same currency"), lambda order: order.currency),
    (gettext_lazy("the same recipient and address"), _recipient),
)


def merge_key(order: Order) -> tuple | None:
    """What `order` must share with every order it is merged with (RULES, read in turn),
    or None when it can be merged with none now (paid, waiting for a mapping, on hold).
    Orders with equal keys can be merged; reads only the order's own row, no query."""
    if order.status not in SPLITTABLE or order.is_held:
        return None
    return tuple(read(order) for _label, read in RULES)


@dataclass(frozen=True)
class MergeRefusal:
    """The rule a merge fails, and the orders it fails for (none named: the count)."""

    rule: str
    numbers: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return self.text


def merge_check(orders: list[Order]) -> MergeRefusal | None:
    """The first rule these orders fail (the count, their state, then RULES in turn, each
    against the first order), or None when they can be merged. Reads the orders' own rows."""
    if not MIN_ORDERS <= len(orders) <= MAX_ORDERS:
        text = _("merge %(min)d to %(max)d orders at a time") % {"min": MIN_ORDERS, "max": MAX_ORDERS}
        return MergeRefusal(rule=text, numbers=(), text=text)
    unfit = tuple(o.number for o in orders if merge_key(o) is None)
    if unfit:
        return MergeRefusal(
            rule=_("unpaid, every line mapped, not on hold"),
            numbers=unfit,
            text=_("only unpaid orders with every line mapped and not on hold are merged: %(numbers)s")
            % {"numbers": ", ".join(unfit)},
        )
    first = orders[0]
    for label, read in RULES:
        odd = tuple(o.number for o in orders[1:] if read(o) != read(first))
        if odd:
            return MergeRefusal(
                rule=str(label),
                numbers=odd,
                text=_("the orders must have %(rule)s as %(first)s; these do not: %(numbers)s")
                % {"rule": label, "first": first.number, "numbers": ", ".join(odd)},
            )
    return None


def merge_refusal(orders: list[Order]) -> str | None:
    """Why these orders cannot be merged, naming the rule and the orders it fails for; or None."""
    check = merge_check(orders)
    return check.text if check is not None else None


def _merged(sources: list[Order], lines: list[OrderLine], *, number: str) -> Order:
    """The merged order of `sources` (in primary-key order), priced as one parcel with every
    line: one handling fee per order, the extra pieces, one freight. Not saved."""
    first = sources[0]
    merged = Order(
        number=number,
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
    merged.warehouse = first.warehouse
    logistics_reprice(merged, lines)  # priced once: one parcel, one handling fee, one freight
    return merged


def _source_lines(sources: list[Order]) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order__in=sources).select_related("item__product").order_by("pk"))


COST_FIELDS = ("goods_amount", "shipping_amount", "handling_amount", "total_amount")


@dataclass
class MergePreview:
    """What merging `sources` would make: the rule check, and when it passes the merged
    order (unsaved: no number yet), its lines (the sources' lines, each with its `source`
    number) and the sources' costs added up (`separately`) for comparison."""

    sources: list[Order]
    refusal: MergeRefusal | None
    merged: Order | None = None
    lines: list[OrderLine] = field(default_factory=list)
    separately: dict[str, Decimal] = field(default_factory=dict)

    @property
    def difference(self) -> Decimal | None:
        """What merging saves (positive) or costs more (negative) in total."""
        if self.merged is None:
            return None
        return self.separately["total_amount"] - self.merged.total_amount

    @property
    def difference_amount(self) -> Decimal | None:
        """The difference without its sign (the page says which way it goes)."""
        difference = self.difference
        return abs(difference) if difference is not None else None

    @property
    def failed(self) -> frozenset[str]:
        return frozenset(self.refusal.numbers) if self.refusal is not None else frozenset()


def merge_preview(*, actor, orders) -> MergePreview:
    """What `orders_merge` would make of `orders` (the member's own; in primary-key order,
    as the merge takes them), priced by the same code and written nowhere: one query for
    the lines and one freight quote (four queries) whatever the number of orders, none
    when a rule fails."""
    sources = sorted(orders, key=lambda o: o.pk)
    if any(o.distributor_id != actor.distributor_id for o in sources):
        raise ApplicationError(_("Not found."))
    refusal = merge_check(sources)
    if refusal is not None:
        return MergePreview(sources=sources, refusal=refusal)
    lines = _source_lines(sources)
    numbers = {o.pk: o.number for o in sources}
    for line in lines:
        line.source = numbers[line.order_id]
    try:
        merged = _merged(sources, lines, number="")
    except ApplicationError as exc:
        text = str(exc).rstrip(".")
        return MergePreview(sources=sources, refusal=MergeRefusal(rule=text, numbers=(), text=text))
    separately = {name: sum((getattr(o, name) for o in sources), Decimal("0.00")) for name in COST_FIELDS}
    return MergePreview(sources=sources, refusal=None, merged=merged, lines=lines, separately=separately)


@transaction.atomic
def orders_merge(*, actor, orders) -> Order:
    """Merge `orders` into one new order (see the module doc); refused whole, changing nothing."""
    acting(actor)
    sources = own_locked(actor, orders)
    refusal = merge_refusal(sources)
    if refusal:
        raise ApplicationError(_("These orders cannot be merged: %(why)s.") % {"why": refusal})
    lines = _source_lines(sources)
    merged = _merged(sources, lines, number=new_order_number())
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
