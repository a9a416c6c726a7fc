"""Orders ready for fulfilment, as the push, the portal card and the console tests need them."""

from contextlib import contextmanager

from orders.ingest import new_order_number
from stores.models import Platform
from tests.orders.factories import OrderFactory, OrderLineFactory, PlatformOrderFactory
from tests.stores.factories import StoreFactory

RECIPIENT = {
    "recipient_name": "Ada Lovelace",
    "address1": "12 Analytical Ave",
    "city": "Boston",
    "province": "MA",
    "postal_code": "02134",
    "country": "US",
}


def make_order(owner, items, *, quantities=(2, 1), **fields):
    """An unpaid order of `items` (each in its quantity) to a Boston address, from a store
    without an API: its tracking goes in the tracking file, so no test calls a store
    (tests/fulfillment/test_tracking.py is the one that does)."""
    store = StoreFactory(distributor=owner.distributor, platform=Platform.OTHER)
    platform_order = PlatformOrderFactory(store=store)
    goods = sum(item.price * quantity for item, quantity in zip(items, quantities, strict=False))
    order = OrderFactory(
        distributor=owner.distributor,
        store=store,
        platform_order=platform_order,
        warehouse=items[0].warehouse,
        goods_amount=goods,
        total_amount=goods,
        **{"number": new_order_number(), **RECIPIENT, **fields},
    )
    for n, (item, quantity) in enumerate(zip(items, quantities, strict=False)):
        OrderLineFactory(
            order=order,
            item=item,
            item_code=item.item_id,
            product_name=item.product.name,
            quantity=quantity,
            unit_price=item.price,
            platform_line_id=f"{platform_order.external_id}{n}",
        )
    return order


@contextmanager
def messages_lost():
    """The receiver's messages go missing: nothing is pushed or carried but by the sweeps."""
    from fulfillment import receivers
    from orders.state import order_status_changed

    order_status_changed.disconnect(dispatch_uid="fulfillment.order_status_changed")
    try:
        yield
    finally:
        receivers.connect()
