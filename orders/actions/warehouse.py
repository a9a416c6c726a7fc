"""Steps 9 and 10 as fulfilment reports them: what the warehouse did with a paid order.

Fulfilment (which stands on orders) calls these with the order locked, inside its own
transaction; the stock and money rules stay here, next to the order's other moves:

- pushed: the warehouse holds it (paid or push failed -> at the warehouse);
- push failed: the last try failed or the warehouse refused it (paid -> push failed);
- shipped / picked up: the reserved stock leaves the warehouse (consumed);
- cancel confirmed: the warehouse stopped it, or never had it: cancelled, stock
  released, what was paid refunded (the same refund key as a cancel in the portal, so
  the two can never both refund);
- cancel refused: the warehouse could not stop it; the order goes on.

Each is idempotent: an order already where the warehouse says it is stays there.
"""

from django.utils.translation import gettext as _

from catalog.services import items_stock_consume
from finance import services as finance
from orders import events
from orders.models import Order, OrderStatus
from orders.state import order_transition

from .cancel import line_quantities, order_refund_key, release_stock

_O = OrderStatus


def order_pushed(*, order: Order, message: str) -> bool:
    if order.status not in (_O.PAID, _O.PUSH_FAILED):
        return False
    order_transition(order=order, to_status=_O.AT_WAREHOUSE, message=message)
    return True


def order_push_failed(*, order: Order, message: str) -> bool:
    if order.status != _O.PAID:
        return False
    order_transition(order=order, to_status=_O.PUSH_FAILED, message=message)
    return True


def order_push_retry(*, order: Order, actor=None, message: str) -> bool:
    if order.status != _O.PUSH_FAILED:
        return False
    order_transition(order=order, to_status=_O.PAID, actor=actor, message=message)
    return True


def _leave_warehouse(order: Order, to_status: str, message: str) -> bool:
    if order.status == to_status:
        return False
    if order.status == _O.CANCELLED:
        # Cancelled (and refunded) while the warehouse was taking it in, and the warehouse
        # sent it all the same: nothing moves on its own; staff settle it with the distributor.
        if not order.events.filter(data__shipped_after_cancel=True).exists():
            events.note(
                order,
                _("The warehouse reports it left although it was cancelled and refunded: staff will settle it."),
                data={"shipped_after_cancel": True},
            )
        return False
    if order.status in (_O.PAID, _O.PUSH_FAILED):
        order_transition(order=order, to_status=_O.AT_WAREHOUSE, message=_("The warehouse has it."))
    order_transition(order=order, to_status=to_status, message=message)
    quantities = line_quantities(order)
    if quantities:
        items_stock_consume(quantities=quantities, reference=order.number)
    return True


def order_shipped(*, order: Order, message: str) -> bool:
    """Every piece has left the warehouse (or the warehouse says the order is shipped)."""
    return _leave_warehouse(order, _O.SHIPPED, message)


def order_picked_up(*, order: Order, message: str) -> bool:
    return _leave_warehouse(order, _O.PICKED_UP, message)


def order_cancel_confirmed(*, order: Order, message: str) -> bool:
    """Cancelled at (or never reached) the warehouse: cancelled, stock released, refunded."""
    if order.status not in (_O.PAID, _O.PUSH_FAILED, _O.AT_WAREHOUSE, _O.CANCEL_REQUESTED):
        return False
    order_transition(order=order, to_status=_O.CANCELLED, message=message)
    release_stock(order)
    if finance.refundable(distributor=order.distributor, reference=order.number) > 0:
        finance.refund_post(
            distributor=order.distributor,
            reference=order.number,
            idempotency_key=order_refund_key(order),
            reason=_("Order %(number)s cancelled") % {"number": order.number},
        )
    return True


def order_cancel_refused(*, order: Order, message: str) -> bool:
    """The warehouse could not stop it and it has not left yet: back at the warehouse."""
    if order.status != _O.CANCEL_REQUESTED:
        return False
    order_transition(order=order, to_status=_O.AT_WAREHOUSE, message=message)
    return True
