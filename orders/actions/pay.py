"""Step 9: the distributor pays orders from the balance; auto-pay pays them as they come.

Paying one order or many is one ledger payment (finance decides nothing about orders:
it is told each order's number and cost), so a double submit or a retried request
with the form's idempotency key charges once. Under the orders' row locks:

1. each order must be payable (`pay_refusal`): awaiting payment (or funds), not
   waiting for a mapping, not held, its cost known, in USD, its address inside the
   warehouse's service area;
2. its stock is reserved (an order whose items are not available is left unpaid,
   with the reason, and the others go ahead);
3. the balance is charged once for all of them, or for none: too little balance
   refuses the whole payment with the shortfall, charging nothing and reserving nothing;
4. the orders move to "paid" (`order_status_changed` on commit: fulfilment picks them up),
   and each keeps the quote it was paid at (`Order.paid_quote`: goods, freight, handling,
   total, the method or self-pickup, the chargeable weight, the rate card and its version,
   the moment; see `orders.pricing.paid_quotes`). A dropshipping order's freight is quoted
   again by its method at that moment (the same few queries for a thousand orders): one
   whose method's card in force now prices it differently is left unpaid, with the reason.
   Nothing prices a paid order again.

Auto-pay (a distributor's preference, off by default) pays payable orders oldest first
while the balance covers them; those that do not fit wait as "awaiting funds" and are
paid when money arrives (`finance.signals.balance_credited`) or by the sweep.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.services import items_stock_reserve_many
from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.money import DEFAULT_CURRENCY
from distribution.tenancy import ensure_can_act
from finance import selectors as finance_selectors
from finance import services as finance
from finance.ledger import InsufficientFunds
from finance.models import Transaction

from ..models import PAYABLE_STATUSES, Logistics, Order, OrderLine, OrderStatus
from ..pricing import paid_quotes, requoted_at_payment
from ..state import ORDER_MACHINE

# The most orders one payment takes (one confirm page, one ledger transaction).
PAY_LIMIT = 1000


def warehouses_shipping(orders) -> set[int]:
    """The warehouses among the orders' that offer a shipping method (one query)."""
    from catalog.models import ShippingMethod

    ids = {order.warehouse_id for order in orders if order.warehouse_id}
    return set(
        ShippingMethod.objects.filter(warehouse_id__in=ids, is_active=True).values_list("warehouse_id", flat=True)
    )


def pay_refusal(order: Order, shipping: set[int] | None = None) -> str | None:
    """Why `order` cannot be paid now, or None. (`order.warehouse` should be loaded;
    `shipping` is `warehouses_shipping` of the orders at hand, read here when not given.)"""
    if order.status == OrderStatus.PENDING_MAPPING:
        return _("it waits for a mapping of %(skus)s") % {"skus": ", ".join(order.missing_skus) or "?"}
    if order.status == OrderStatus.OUTSIDE_AREA or (order.warehouse_id and not order.warehouse.serves(order.country)):
        return _("its address (%(country)s) is outside the service area of %(warehouse)s") % {
            "country": order.country or "?",
            "warehouse": order.warehouse.code if order.warehouse_id else "?",
        }
    if order.status not in PAYABLE_STATUSES:
        return _("it is %(status)s") % {"status": order.get_status_display().lower()}
    if getattr(order, "is_held", False):
        return _("it is on hold")
    if order.address_problem:
        return _("its address needs a fix: %(problem)s") % {"problem": order.address_problem}
    if order.warehouse_id is None:
        return _("it has no warehouse yet")
    if order.currency != DEFAULT_CURRENCY:
        return _("its cost is in %(currency)s; orders are paid in USD") % {"currency": order.currency}
    if order.total_amount <= 0:
        return _("its cost is not known yet")
    if order.logistics == Logistics.DROPSHIPPING and order.chosen_method_id is None:
        if shipping is None:
            shipping = warehouses_shipping([order])
        if order.warehouse_id in shipping:
            return _("no shipping method serves its address: correct the address or choose self-pickup")
    return None


@dataclass
class PayQuote:
    """What the pay page shows before confirming."""

    payable: list[Order] = field(default_factory=list)
    refused: list[tuple[Order, str]] = field(default_factory=list)
    total: Decimal = Decimal("0.00")
    balance: Decimal = Decimal("0.00")

    @property
    def balance_after(self) -> Decimal:
        return self.balance - self.total

    @property
    def shortfall(self) -> Decimal:
        return max(self.total - self.balance, Decimal("0.00"))


def orders_pay_quote(*, actor: Membership, orders: Sequence[Order]) -> PayQuote:
    """Each order's cost, the total, and the balance before and after: nothing is written.
    An order whose freight its method's card in force no longer gives is named with the
    reason, as paying would (`orders.pricing.paid_quotes`)."""
    quote = PayQuote(balance=finance_selectors.balance_available(distributor=actor.distributor))
    shipping = warehouses_shipping(orders)
    candidates = []
    for order in orders:
        if order.distributor_id != actor.distributor_id:
            raise ApplicationError(_("Not found."))
        refusal = pay_refusal(order, shipping)
        if refusal:
            quote.refused.append((order, refusal))
        else:
            candidates.append(order)
    lines = _lines(candidates) if candidates else {}
    checked = paid_quotes([(order, lines[order.pk]) for order in candidates], at=timezone.now())
    for order, (_paid, why) in zip(candidates, checked, strict=True):
        if why:
            quote.refused.append((order, why))
        else:
            quote.payable.append(order)
            quote.total += order.total_amount
    return quote


@dataclass
class PayResult:
    paid: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (number, why)
    charged: Decimal = Decimal("0.00")
    replayed: bool = False
    transaction_id: int | None = None


@dataclass(frozen=True)
class _Line:
    """A line as reserving stock and counting pieces read it (no item loaded)."""

    item_id: int
    quantity: int


def _lines(orders: list[Order]) -> dict[int, list]:
    """Each order's lines: what is reserved and counted as pieces, and for the orders whose
    freight is quoted again (`requoted_at_payment`) the lines with their items and products,
    which the quote weighs. One query when all the orders are of one kind, two when mixed."""
    grouped: dict[int, list] = {order.pk: [] for order in orders}
    requoted = [order.pk for order in orders if requoted_at_payment(order)]
    plain = [order.pk for order in orders if not requoted_at_payment(order)]
    if plain:
        rows = OrderLine.objects.filter(order_id__in=plain).values_list("order_id", "item_id", "quantity")
        for order_id, item_id, quantity in rows.order_by("pk"):
            grouped[order_id].append(_Line(item_id, quantity))
    if requoted:
        for line in OrderLine.objects.filter(order_id__in=requoted).select_related("item__product").order_by("pk"):
            grouped[line.order_id].append(line)
    return grouped


def _reserve(orders: list[Order], lines: dict[int, list]) -> dict[str, str]:
    wanted: dict[str, dict[int, int]] = {order.number: {} for order in orders}
    for order in orders:
        items = wanted[order.number]
        for line in lines[order.pk]:
            items[line.item_id] = items.get(line.item_id, 0) + line.quantity
    return items_stock_reserve_many(requests=wanted)


def _keep_paid_quotes(orders: list[Order]) -> None:
    """Write each order's `paid_quote` in one statement. On PostgreSQL an UPDATE joined to the
    unnested ids and quotes (Django's bulk_update would build a CASE of one branch per order,
    which every row walks: ten times slower for a thousand orders); elsewhere bulk_update."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{Order._meta.db_table}" AS o SET "paid_quote" = q.quote '  # noqa: S608 (our own table name)
                "FROM unnest(%s::bigint[], %s::jsonb[]) AS q(id, quote) WHERE o.id = q.id",
                [[order.pk for order in orders], [json.dumps(order.paid_quote) for order in orders]],
            )
        return
    Order.objects.bulk_update(orders, ["paid_quote"], batch_size=500)


def _replay(distributor, idempotency_key: str) -> PayResult | None:
    posted = Transaction.objects.filter(idempotency_key=idempotency_key, kind=Transaction.Kind.PAYMENT).first()
    if posted is None:
        return None
    if posted.distributor_id != distributor.pk:
        raise ApplicationError(_("This payment was already made with other details; nothing was charged."))
    numbers = sorted(posted.entries.exclude(reference="").values_list("reference", flat=True))
    charged = -sum(posted.entries.filter(account__kind="balance").values_list("amount", flat=True), Decimal(0))
    return PayResult(paid=numbers, charged=charged, replayed=True, transaction_id=posted.pk)


def orders_pay(
    *, actor: Membership | None, distributor=None, orders: Iterable[Order], idempotency_key: str, automatic=False
) -> PayResult:
    """Pay `orders` in one ledger payment (see the module docstring). Refusals of single
    orders are reported in the result; too little balance raises InsufficientFunds."""
    if actor is not None:
        # Paying spends money: a role that acts on orders and sees money (owner, admin).
        ensure_can_act(actor, Section.ORDERS)
        ensure_can_act(actor, Section.FINANCE)
        distributor = actor.distributor
    ids = sorted({order.pk for order in orders})
    if not ids:
        raise ApplicationError(_("Select at least one order to pay."))
    if len(ids) > PAY_LIMIT:
        raise ApplicationError(_("Pay at most %(n)d orders at a time.") % {"n": PAY_LIMIT})
    replay = _replay(distributor, idempotency_key)
    if replay is not None:
        return replay
    with transaction.atomic():
        locked = list(
            Order.objects.select_for_update(of=("self",))
            .select_related("warehouse")
            .filter(pk__in=ids, distributor=distributor)
            .order_by("pk")
        )
        if len(locked) != len(ids):
            raise ApplicationError(_("Not found."))
        replay = _replay(distributor, idempotency_key)  # the same submit, finished while we waited
        if replay is not None:
            return replay
        result = PayResult()
        payable = []
        shipping = warehouses_shipping(locked)
        for order in locked:
            refusal = pay_refusal(order, shipping)
            if refusal:
                result.refused.append((order.number, refusal))
            else:
                payable.append(order)
        # The quote each order is paid at (its freight quoted again at this moment); an order
        # whose freight no card in force gives now is left unpaid, before anything is reserved.
        paid_at = timezone.now()
        lines = _lines(payable) if payable else {}
        quotes = {}
        for order, (quote, why) in zip(
            payable, paid_quotes([(order, lines[order.pk]) for order in payable], at=paid_at), strict=True
        ):
            if why:
                result.refused.append((order.number, why))
            else:
                quotes[order.pk] = quote
        payable = [order for order in payable if order.pk in quotes]
        refused_stock = _reserve(payable, lines) if payable else {}
        payable = [order for order in payable if order.number not in refused_stock]
        result.refused += [(number, reason) for number, reason in refused_stock.items()]
        if not payable:
            return result
        posted = finance.payment_post(
            distributor=distributor,
            idempotency_key=idempotency_key,
            charges=[finance.Charge(order.number, order.total_amount) for order in payable],
            actor=actor.user if actor is not None else None,
        )
        ORDER_MACHINE.move_many(
            payable,
            OrderStatus.PAID,
            actor=actor.user if actor is not None else None,
            message=lambda order: (
                (
                    _("Paid %(amount)s USD automatically from the balance.")
                    if automatic
                    else _("Paid %(amount)s USD from the balance.")
                )
                % {"amount": order.total_amount}
            ),
            data={"payment": posted.pk},
        )
        for order in payable:
            order.paid_quote = {**quotes[order.pk], "payment": posted.pk}
        _keep_paid_quotes(payable)
        result.paid = [order.number for order in payable]
        result.charged = sum((order.total_amount for order in payable), Decimal(0))
        result.transaction_id = posted.pk
        return result


# --- auto-pay ---------------------------------------------------------------------------------


def autopay_candidates(*, limit: int = 1000) -> list[int]:
    """Distributors with auto-pay on and orders waiting to be paid (one query)."""
    return list(
        Order.objects.filter(status__in=PAYABLE_STATUSES, distributor__balance_preference__auto_pay=True)
        .values_list("distributor_id", flat=True)
        .distinct()
        .order_by("distributor_id")[:limit]
    )


def orders_autopay(*, distributor) -> PayResult:
    """Pay the distributor's payable orders oldest first while the balance covers them
    (when auto-pay is on); those that do not fit wait as "awaiting funds"."""
    result = PayResult()
    if not finance_selectors.auto_pay_enabled(distributor):
        return result
    candidates = list(
        Order.objects.filter(distributor=distributor, status__in=PAYABLE_STATUSES)
        .select_related("warehouse")
        .order_by("placed_at", "created_at", "pk")[:PAY_LIMIT]
    )
    balance = finance_selectors.balance_available(distributor=distributor)
    fits, waits = [], []
    shipping = warehouses_shipping(candidates)
    for order in candidates:
        if pay_refusal(order, shipping):
            continue
        if order.total_amount <= balance:
            fits.append(order)
            balance -= order.total_amount
        else:
            waits.append(order)
    if fits:
        # The same set of orders auto-paid twice (a redelivered task) is one payment.
        key = "autopay:" + hashlib.sha256(",".join(str(order.pk) for order in fits).encode()).hexdigest()[:40]
        try:
            result = orders_pay(actor=None, distributor=distributor, orders=fits, idempotency_key=key, automatic=True)
        except InsufficientFunds:
            waits = fits + waits  # the balance moved meanwhile: the next credit or sweep retries
    waiting = [order for order in waits if order.status == OrderStatus.AWAITING_PAYMENT]
    if waiting:
        ORDER_MACHINE.move_many(
            waiting,
            OrderStatus.AWAITING_FUNDS,
            message=_("Auto-pay: the balance does not cover this order yet; it is paid when a top-up lands."),
        )
    return result
