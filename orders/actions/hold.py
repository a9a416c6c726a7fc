"""Step 7: hold and release. A held order keeps its status but is neither paid (pay
refuses it) nor pushed to the warehouse (fulfilment skips it) until it is released.

An order may be held while it is unpaid or paid and not yet at the warehouse; once the
warehouse has it, a cancel request is the way to stop it.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import events
from orders.models import Order, OrderStatus

from .common import BulkResult, acting, clean_reason, handover_started, own_locked


def holdable(order: Order) -> bool:
    """Whether `order` may be put on hold now: unpaid, or paid and not yet at the warehouse."""
    return order.is_unpaid or order.status in (OrderStatus.PAID, OrderStatus.PUSH_FAILED)


@transaction.atomic
def orders_hold(*, actor, orders, reason: str) -> BulkResult:
    """Put the orders on hold with a reason; each refused one says why."""
    acting(actor)
    why = clean_reason(reason, required=True)
    result = BulkResult()
    for order in own_locked(actor, orders):
        if order.is_held:
            result.refuse(order.number, _("it is on hold already"))
        elif order.status == OrderStatus.PAID and handover_started(order):
            result.refuse(
                order.number,
                _("it is being handed to the warehouse right now; ask to cancel it instead"),
            )
        elif not holdable(order):
            result.refuse(
                order.number,
                _("it is %(status)s; only orders not yet at the warehouse are held")
                % {"status": order.get_status_display().lower()},
            )
        else:
            order.held_at, order.hold_reason = timezone.now(), why
            order.save(update_fields=["held_at", "hold_reason", "updated_at"])
            events.note(order, _("Put on hold. Reason: %(reason)s") % {"reason": why}, actor=actor.user)
            result.done.append(order.number)
    return result


@transaction.atomic
def orders_release(*, actor, orders) -> BulkResult:
    """Release held orders: they may be paid and pushed again."""
    acting(actor)
    result = BulkResult()
    for order in own_locked(actor, orders):
        if not order.is_held:
            result.refuse(order.number, _("it is not on hold"))
            continue
        order.held_at, order.hold_reason = None, ""
        order.save(update_fields=["held_at", "hold_reason", "updated_at"])
        events.note(order, _("Released from hold."), actor=actor.user)
        result.done.append(order.number)
    return result
