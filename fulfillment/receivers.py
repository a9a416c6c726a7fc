"""What fulfilment does when orders tell it something: `order_status_changed` is sent
once the move has committed. Paid -> push it; cancel requested -> carry it to the
warehouse. Beat's sweeps (fulfillment/tasks.py) catch whatever a lost message misses."""

from orders.models import OrderStatus


def on_order_status_changed(sender, *, instance, to_status, batch=(), **kwargs):
    from .push import push_enqueue
    from .tasks import carry_cancel_request

    if to_status == OrderStatus.PAID:
        # Orders paid together (one payment of many) are queued together, in a few
        # messages, when the signal for the first of them arrives.
        batch = batch or (instance,)
        if instance is batch[0]:
            push_enqueue([order.pk for order in batch])
    elif to_status == OrderStatus.CANCEL_REQUESTED:
        carry_cancel_request.delay(instance.pk)


def connect() -> None:
    from orders.state import order_status_changed

    order_status_changed.connect(on_order_status_changed, dispatch_uid="fulfillment.order_status_changed")
