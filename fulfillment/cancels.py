"""A cancel request carried to the warehouse (orders put the order in "cancel requested";
fulfilment acts on it): the receiver of `order_status_changed` queues it at once, and
`cancel_sweep` (beat, every minute) takes any request a lost message left.

The warehouse cancels it -> cancelled, stock released, refunded. It never had it (a push
that failed without reaching it) -> the same. It already shipped or was collected -> the
order follows the warehouse (shipped, picked up), saying the cancel came too late. It
refuses for another reason -> back at the warehouse, with the warehouse's words. It
cannot be reached -> the request waits for the next sweep.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.state import clip
from orders import events
from orders.actions import warehouse as order_moves
from orders.models import Order, OrderStatus

from .changes import outbound_apply
from .models import Outbound
from .warehouses import BackendNotConfigured, backend_for
from .warehouses.base import CancelRefused, OutboundNotFound, WarehouseError

logger = logging.getLogger(__name__)


def _confirm_never_there(order_id: int, message: str) -> None:
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        order_moves.order_cancel_confirmed(order=order, message=message)
        Outbound.objects.filter(order=order).update(state=Outbound.State.CANCELLED, cancel_state="")


def outbound_cancel(*, outbound: Outbound, http=None) -> str:
    """Ask the warehouse to cancel the order; returns "cancelled", "too late", "refused"
    or "later" (the warehouse could not be reached)."""
    warehouse = outbound.warehouse
    Outbound.objects.filter(pk=outbound.pk).update(cancel_state="requested", updated_at=timezone.now())
    try:
        backend = backend_for(warehouse, http=http)
        remote = backend.cancel_outbound(outbound.reference)
    except OutboundNotFound:
        _confirm_never_there(
            outbound.order_id, _("The warehouse never had this order: cancelled and refunded to the balance.")
        )
        return "cancelled"
    except CancelRefused as exc:
        try:
            remote = backend.find_outbound(outbound.reference)
        except WarehouseError:
            remote = None
        if remote is not None:
            outbound_apply(outbound=outbound, remote=remote)
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).get(pk=outbound.order_id)
            if order.status in (OrderStatus.SHIPPED, OrderStatus.PICKED_UP):
                return "too late"
            Outbound.objects.filter(pk=outbound.pk).update(cancel_state="refused", cancel_message=clip(str(exc), 500))
            if order.status == OrderStatus.CANCELLED:
                events.note(
                    order,
                    _("Cancelled and refunded, but the warehouse will not stop it (%(why)s): staff will settle it.")
                    % {"why": str(exc)},
                )
                return "refused"
            order_moves.order_cancel_refused(
                order=order, message=_("The warehouse could not stop it: %(why)s") % {"why": str(exc)}
            )
        return "refused"
    except (WarehouseError, BackendNotConfigured) as exc:
        Outbound.objects.filter(pk=outbound.pk).update(cancel_message=clip(str(exc), 500), updated_at=timezone.now())
        return "later"
    outbound_apply(outbound=outbound, remote=remote)
    return "cancelled"


def _cancelled_but_held_there():
    """Orders cancelled (and refunded) while the warehouse was taking them in, which the
    warehouse still holds: each is cancelled there, until it is, or refuses."""
    return Order.objects.filter(status=OrderStatus.CANCELLED, outbound__state=Outbound.State.PUSHED).exclude(
        outbound__cancel_state="refused"
    )


def cancel_request_carry(order_id: int, *, http=None) -> str:
    """Carry one order's cancel request to its warehouse (see the module docstring); for
    an order cancelled while the warehouse was taking it in, cancel it there too."""
    held_there = _cancelled_but_held_there().filter(pk=order_id).first()
    if held_there is not None:
        return outbound_cancel(outbound=Outbound.objects.select_related("warehouse").get(order=held_there), http=http)
    order = Order.objects.filter(pk=order_id, status=OrderStatus.CANCEL_REQUESTED).first()
    if order is None:
        return "gone"
    outbound = Outbound.objects.select_related("warehouse").filter(order=order).first()
    if outbound is None:
        _confirm_never_there(order.pk, _("It never reached the warehouse: cancelled and refunded to the balance."))
        return "cancelled"
    return outbound_cancel(outbound=outbound, http=http)


def cancel_sweep(*, limit: int = 500) -> int:
    """Beat, every minute: queue every cancel request still open."""
    from .tasks import carry_cancel_request

    ids = list(
        Order.objects.filter(status=OrderStatus.CANCEL_REQUESTED).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    ids += list(_cancelled_but_held_there().order_by("pk").values_list("pk", flat=True)[: max(limit - len(ids), 0)])
    for order_id in ids:
        carry_cancel_request.delay(order_id)
    return len(ids)
