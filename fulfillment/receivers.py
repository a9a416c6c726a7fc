"""What fulfilment does when orders tell it something: `order_status_changed` is sent
once the move has committed. Paid -> push it; cancel requested -> carry it to the
warehouse. Beat's sweeps (fulfillment/tasks.py) catch whatever a lost message misses."""

from orders.models import OrderStatus


def on_order_status_changed(sender, *, instance, to_status, **kwargs):
    from .tasks import carry_cancel_request, push_order

    if to_status == OrderStatus.PAID:
        push_order.delay(instance.pk)
    elif to_status == OrderStatus.CANCEL_REQUESTED:
        carry_cancel_request.delay(instance.pk)


def connect() -> None:
    from orders.state import order_status_changed

    order_status_changed.connect(on_order_status_changed, dispatch_uid="fulfillment.order_status_changed")
