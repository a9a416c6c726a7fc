"""What every order action shares: who may act, the order's row lock, the per-order report."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.tenancy import ensure_can_act
from orders.models import Order


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    # (number, why) for each refused order.
    reasons: list[tuple[str, str]] = field(default_factory=list)
    refunded: list[str] = field(default_factory=list)

    def refuse(self, number: str, why: str) -> None:
        self.refused.append(number)
        self.reasons.append((number, why))


def acting(actor: Membership) -> Membership:
    """The member, once they may act on orders (owner, admin, operator; not finance, not suspended)."""
    ensure_can_act(actor, Section.ORDERS)
    return actor


def own_locked(actor: Membership, orders: Iterable[Order]) -> list[Order]:
    """The orders re-read under their row locks, in primary-key order (so two actions on
    overlapping orders never wait on each other in a cycle); another distributor's order
    is not found."""
    pks = sorted({order.pk for order in orders})
    locked = list(
        Order.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(pk__in=pks, distributor_id=actor.distributor_id)
        .order_by("pk")
    )
    if len(locked) != len(pks):
        raise ApplicationError(_("Not found."))
    return locked


def clean_reason(reason: str, *, required: bool = False) -> str:
    why = " ".join(str(reason or "").split())[:200]
    if required and not why:
        raise ApplicationError(_("Please give a reason."))
    return why


def handover_started(order: Order) -> bool:
    """Whether fulfilment has started handing this paid order to its warehouse (an attempt
    claimed it: the warehouse may hold it even before we know). Read from fulfilment's row
    through the order's reverse relation, so orders never imports fulfilment; the claim is
    made under the order's row lock, so a caller holding that lock sees it or its absence."""
    return Order.objects.filter(pk=order.pk, outbound__attempts__gt=0).exists()
