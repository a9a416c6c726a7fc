"""Factories for platform orders, orders, imports, pulls and ingestion errors."""

import factory
from django.core.files.base import ContentFile

from orders.models import (
    IngestionError,
    Order,
    OrderEvent,
    OrderImport,
    OrderLine,
    OrderStatus,
    PlatformOrder,
    PullRun,
    StorePullState,
)
from tests.distribution.factories import owner_of
from tests.stores.factories import StoreFactory


class PlatformOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlatformOrder

    store = factory.SubFactory(StoreFactory)
    external_id = factory.Sequence(lambda n: f"{4500000000 + n}")
    display_number = factory.Sequence(lambda n: f"#{1000 + n}")
    source = PlatformOrder.Source.PULL
    currency = "USD"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    distributor = factory.LazyAttribute(lambda o: owner_of().distributor)
    store = factory.LazyAttribute(lambda o: StoreFactory(distributor=o.distributor))
    number = factory.Sequence(lambda n: f"DO{n:08d}")
    status = OrderStatus.AWAITING_PAYMENT
    recipient_name = "Jane Buyer"
    postal_code = "02134"
    country = "US"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    store_sku = factory.Sequence(lambda n: f"SKU-{n}")
    quantity = 1


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    message = "note"


class OrderImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderImport

    distributor = factory.LazyAttribute(lambda o: owner_of().distributor)
    file = factory.LazyFunction(lambda: ContentFile(b"Order No,SKU\n", name="orders.csv"))
    original_name = "orders.csv"
    sha256 = "0" * 64


class PullRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PullRun

    store = factory.SubFactory(StoreFactory)
    trigger = PullRun.Trigger.MANUAL


class StorePullStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StorePullState
        django_get_or_create = ("store",)

    store = factory.SubFactory(StoreFactory)


class IngestionErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IngestionError

    store = factory.SubFactory(StoreFactory)
    source = PlatformOrder.Source.PULL
    external_id = factory.Sequence(lambda n: f"bad-{n}")
    reason = "Line 1 has no SKU."
    fingerprint = factory.Sequence(lambda n: f"{n:064d}")


FACTORIES = {
    PlatformOrder: PlatformOrderFactory,
    Order: OrderFactory,
    OrderLine: OrderLineFactory,
    OrderEvent: OrderEventFactory,
    OrderImport: OrderImportFactory,
    PullRun: PullRunFactory,
    IngestionError: IngestionErrorFactory,
    StorePullState: StorePullStateFactory,
}
