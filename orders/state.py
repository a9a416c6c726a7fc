"""The orders app's statuses: the order's table of moves, and those of order imports
and pull runs. Every move goes through a `distribution.state.StateMachine`.

An order's move is written to its timeline (OrderEvent) and, once committed, sent as
`order_status_changed(sender=Order, instance, from_status, to_status, actor, message,
data)`: the hook finance and fulfilment subscribe to (fulfilment also sweeps paid,
unpushed orders, so a lost signal never loses an order).
"""

from django.dispatch import Signal
from django.utils.translation import gettext as _

from distribution.state import IllegalTransition, StateMachine

from . import events
from .models import Order, OrderImport, OrderStatus, PullRun

__all__ = ["IllegalTransition", "ORDER_MACHINE", "ORDER_TRANSITIONS", "order_status_changed", "order_transition"]

order_status_changed = Signal()

_O = OrderStatus
# The only moves an order's status may make. Split and merge (-> superseded) are for
# unpaid orders only; cancelling after payment refunds, and after the push first
# cancels at the warehouse (fulfilment does that before calling the transition).
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    _O.PENDING_MAPPING: frozenset({_O.AWAITING_PAYMENT, _O.OUTSIDE_AREA, _O.CANCELLED, _O.SUPERSEDED}),
    _O.AWAITING_PAYMENT: frozenset(
        {_O.PENDING_MAPPING, _O.AWAITING_FUNDS, _O.OUTSIDE_AREA, _O.PAID, _O.CANCELLED, _O.SUPERSEDED}
    ),
    _O.AWAITING_FUNDS: frozenset(
        {_O.AWAITING_PAYMENT, _O.PENDING_MAPPING, _O.OUTSIDE_AREA, _O.PAID, _O.CANCELLED, _O.SUPERSEDED}
    ),
    # Never paid from here: the address is corrected, or another warehouse chosen, first.
    _O.OUTSIDE_AREA: frozenset({_O.AWAITING_PAYMENT, _O.PENDING_MAPPING, _O.CANCELLED, _O.SUPERSEDED}),
    # Cancelled at once before fulfilment has started handing it over; a cancel request
    # once it has (the warehouse may be taking it in as the distributor cancels).
    _O.PAID: frozenset({_O.AT_WAREHOUSE, _O.PUSH_FAILED, _O.CANCELLED, _O.CANCEL_REQUESTED}),
    # Retried (back to paid), found at the warehouse after all, or cancelled: the
    # warehouse may hold it (a create whose answer was lost), so cancelling asks it first.
    _O.PUSH_FAILED: frozenset({_O.PAID, _O.AT_WAREHOUSE, _O.CANCEL_REQUESTED, _O.CANCELLED}),
    _O.AT_WAREHOUSE: frozenset({_O.SHIPPED, _O.PICKED_UP, _O.CANCEL_REQUESTED, _O.CANCELLED}),
    # Fulfilment's answer to a cancel request: cancelled (and refunded), or the warehouse
    # could not stop it.
    _O.CANCEL_REQUESTED: frozenset({_O.CANCELLED, _O.AT_WAREHOUSE, _O.SHIPPED, _O.PICKED_UP}),
    _O.SHIPPED: frozenset(),
    _O.PICKED_UP: frozenset(),
    _O.CANCELLED: frozenset(),
    _O.SUPERSEDED: frozenset(),
}

ORDER_MACHINE = StateMachine(
    model=Order,
    transitions=ORDER_TRANSITIONS,
    initial=frozenset({_O.PENDING_MAPPING, _O.AWAITING_PAYMENT, _O.OUTSIDE_AREA}),
    record=events.status_moved,
    signals=(order_status_changed,),
    describe=lambda order: _("Order %(number)s") % {"number": order.number},
)


def order_transition(*, order: Order, to_status: str, actor=None, message: str = "", data: dict | None = None) -> Order:
    """Move `order` to `to_status` if ORDER_TRANSITIONS allows it; lock the row; record the event.

    The row is re-read under the lock, so two concurrent moves are serialised and the
    second one is judged against the status the first one left.
    """
    return ORDER_MACHINE.move(order, to_status, actor=actor, message=message, data=data)


_I = OrderImport.Status
ORDER_IMPORT_MACHINE = StateMachine(
    model=OrderImport,
    transitions={
        # A re-delivered check finds the import still checking and starts it again.
        _I.CHECKING: frozenset({_I.CHECKING, _I.READY, _I.INVALID, _I.FAILED}),
        _I.READY: frozenset({_I.APPLYING, _I.FAILED}),
        # A confirm of an import whose worker was lost (stale) starts the apply again.
        _I.APPLYING: frozenset({_I.APPLYING, _I.DONE, _I.FAILED}),
        _I.INVALID: frozenset(),
        _I.DONE: frozenset(),
        _I.FAILED: frozenset(),
    },
    initial=frozenset({_I.CHECKING}),
    describe=lambda order_import: _("The import of %(name)s") % {"name": order_import.original_name},
)

_R = PullRun.Status
PULL_RUN_MACHINE = StateMachine(
    model=PullRun,
    transitions={
        _R.QUEUED: frozenset({_R.RUNNING, _R.SKIPPED, _R.FAILED}),
        # A re-delivered task finds its run still running and takes it up again.
        _R.RUNNING: frozenset({_R.RUNNING, _R.SUCCEEDED, _R.FAILED, _R.SKIPPED}),
        _R.SUCCEEDED: frozenset(),
        _R.FAILED: frozenset(),
        _R.SKIPPED: frozenset(),
    },
    initial=frozenset({_R.QUEUED}),
    describe=lambda run: _("The pull of store %(store)s") % {"store": run.store_id},
)
