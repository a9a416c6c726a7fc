"""Factories for fulfilment: warehouse backends and the manual queue; pushes (Outbound),
shipments with their lines, and the tracking sent to the store orders."""

import factory
from django.utils import timezone

from fulfillment.models import (
    BackendKind,
    ManualOutbound,
    Outbound,
    Shipment,
    ShipmentLine,
    TrackingSync,
    WarehouseBackend,
)
from orders.models import OrderStatus
from tests.catalog.factories import WarehouseFactory
from tests.orders.factories import OrderFactory, OrderLineFactory, PlatformOrderFactory


class WarehouseBackendFactory(factory.django.DjangoModelFactory):
    """A backend row; `token` and `webhook_secret` are stored encrypted, as the admin stores them."""

    class Meta:
        model = WarehouseBackend
        skip_postgeneration_save = True

    warehouse = factory.SubFactory(WarehouseFactory)
    kind = BackendKind.MANUAL
    base_url = ""

    @factory.post_generation
    def token(self, create, extracted, **kwargs):
        if extracted is not None:
            self.set_credentials({"token": extracted})
            if create:
                self.save(update_fields=["credentials_encrypted"])

    @factory.post_generation
    def webhook_secret(self, create, extracted, **kwargs):
        if extracted is not None:
            self.set_webhook_secret(extracted)
            if create:
                self.save(update_fields=["webhook_secret_encrypted"])


class ManualOutboundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManualOutbound

    warehouse = factory.SubFactory(WarehouseFactory)
    reference = factory.Sequence(lambda n: f"DO{n:08d}")
    service_code = "STANDARD"
    recipient_name = "Ada Lovelace"
    address1 = "12 Analytical Ave"
    city = "New York"
    region = "NY"
    postcode = "02134"
    country = "US"
    lines = factory.LazyFunction(lambda: [{"item_id": "LS228800001-01-01", "quantity": 2, "name": "Serum"}])


class OutboundFactory(factory.django.DjangoModelFactory):
    """An order's push; the order is paid and at the warehouse the factory makes unless given."""

    class Meta:
        model = Outbound

    order = factory.SubFactory(OrderFactory, status=OrderStatus.PAID)
    warehouse = factory.LazyAttribute(lambda o: o.order.warehouse or WarehouseFactory())
    reference = factory.LazyAttribute(lambda o: o.order.number)


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory, status=OrderStatus.SHIPPED)
    warehouse_shipment_id = factory.Sequence(lambda n: f"PKG-{n}")
    carrier = "USPS"
    service = "Ground Advantage"
    tracking_number = factory.Sequence(lambda n: f"9400{n:018d}")
    tracking_url = factory.LazyAttribute(
        lambda o: f"https://tools.usps.com/go/TrackConfirmAction?tLabels={o.tracking_number}"
    )
    shipped_at = factory.LazyFunction(timezone.now)


class ShipmentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentLine

    shipment = factory.SubFactory(ShipmentFactory)
    order_line = factory.LazyAttribute(lambda o: OrderLineFactory(order=o.shipment.order))
    quantity = 1


class TrackingSyncFactory(factory.django.DjangoModelFactory):
    """One shipment's tracking to one store order (by default the shipment's order's own)."""

    class Meta:
        model = TrackingSync

    shipment = factory.SubFactory(ShipmentFactory)
    platform_order = factory.LazyAttribute(
        lambda o: o.shipment.order.platform_order or PlatformOrderFactory(store=o.shipment.order.store)
    )
    state = TrackingSync.State.PENDING


FACTORIES = {
    WarehouseBackend: WarehouseBackendFactory,
    ManualOutbound: ManualOutboundFactory,
    Outbound: OutboundFactory,
    Shipment: ShipmentFactory,
    ShipmentLine: ShipmentLineFactory,
    TrackingSync: TrackingSyncFactory,
}
