"""Step 7: the distributor cancels orders.

- unpaid (pending mapping, awaiting payment or funds) -> cancelled;
- paid and not yet being handed to the warehouse -> cancelled, its stock released and what was
  paid for it refunded to the balance (a reversing ledger transaction against the
  payment; the refund's key is the order's, so a retry refunds once);
- at the warehouse, being handed to it (an attempt has started: it may be there already),
  or its push failed (the warehouse may hold it all the same) ->
  "cancel requested": fulfilment carries the request to the
  warehouse, and the order ends cancelled and refunded, or goes on if it could not be
  stopped (orders never call fulfilment: the request is a state fulfilment acts on);
- shipped, picked up, cancelled -> refused with the reason.

Each order is cancelled in its own database transaction, under its row lock, so one
refusal never undoes the others.
"""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.services import items_stock_release
from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.tenancy import ensure_can_act
from finance import services as finance
from orders.ingest.reevaluate import waiting_refresh
from orders.models import Order, OrderLine, OrderStatus
from orders.state import IllegalTransition, order_transition

from .common import BulkResult, handover_started

logger = logging.getLogger(__name__)


def cancellable(order: Order) -> bool:
    """Whether the portal may cancel `order` (or, at the warehouse, ask to): see the module doc."""
    return order.is_unpaid or order.status in (OrderStatus.PAID, OrderStatus.PUSH_FAILED, OrderStatus.AT_WAREHOUSE)


def line_quantities(order: Order) -> dict[int, int]:
    """Pieces of each Item in the order: what its stock reservation holds."""
    quantities: dict[int, int] = {}
    for item_id, quantity in OrderLine.objects.filter(order=order, item__isnull=False).values_list(
        "item_id", "quantity"
    ):
        quantities[item_id] = quantities.get(item_id, 0) + quantity
    return quantities


def release_stock(order: Order) -> None:
    quantities = line_quantities(order)
    if quantities:
        items_stock_release(quantities=quantities, reference=order.number)


def order_refund_key(order: Order) -> str:
    return f"refund:cancel:{order.number}"


def _cancel_message(what: str, why: str) -> str:
    # What happened and why; who did it is the event's actor, which the timeline shows.
    return f"{what} {_('Reason: %(reason)s') % {'reason': why}}" if why else what


def orders_cancel(*, actor: Membership, orders: Iterable[Order], reason: str = "") -> BulkResult:
    """Cancel each order its state allows (see the module docstring); report the others."""
    ensure_can_act(actor, Section.ORDERS)
    result = BulkResult()
    waiting_stores = {}
    why = " ".join(str(reason or "").split())
    for order in orders:
        if order.distributor_id != actor.distributor_id:
            raise ApplicationError(_("Not found."))
        try:
            with transaction.atomic():
                locked = Order.objects.select_for_update().get(pk=order.pk)
                if locked.status == OrderStatus.PAID and handover_started(locked):
                    message = _cancel_message(
                        _("Cancel requested: the warehouse is taking the order in and is asked to stop it."),
                        why,
                    )
                    order_transition(
                        order=locked, to_status=OrderStatus.CANCEL_REQUESTED, actor=actor.user, message=message
                    )
                elif locked.status == OrderStatus.PAID:
                    message = _cancel_message(_("Cancelled in the portal and refunded to the balance."), why)
                    order_transition(order=locked, to_status=OrderStatus.CANCELLED, actor=actor.user, message=message)
                    release_stock(locked)
                    finance.refund_post(
                        distributor=actor.distributor,
                        reference=locked.number,
                        idempotency_key=order_refund_key(locked),
                        actor=actor.user,
                        reason=_("Order %(number)s cancelled") % {"number": locked.number},
                    )
                    result.refunded.append(locked.number)
                elif locked.is_unpaid:
                    message = _cancel_message(_("Cancelled in the portal."), why)
                    order_transition(order=locked, to_status=OrderStatus.CANCELLED, actor=actor.user, message=message)
                elif locked.status in (OrderStatus.AT_WAREHOUSE, OrderStatus.PUSH_FAILED):
                    message = _cancel_message(
                        _("Cancel requested in the portal: the warehouse is asked to stop it."), why
                    )
                    order_transition(
                        order=locked, to_status=OrderStatus.CANCEL_REQUESTED, actor=actor.user, message=message
                    )
                else:
                    result.refuse(
                        locked.number,
                        _("it is %(status)s and cannot be cancelled any more")
                        % {"status": locked.get_status_display().lower()},
                    )
                    continue
        except (IllegalTransition, ApplicationError) as exc:
            result.refuse(order.number, str(exc))
            continue
        order.refresh_from_db(fields=["status", "updated_at"])
        result.done.append(order.number)
        if order.missing_skus:
            waiting_stores[order.store_id] = order.store
    for store in waiting_stores.values():
        waiting_refresh(store=store)  # a cancelled order no longer waits for a mapping
    return result
