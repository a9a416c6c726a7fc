"""Factories for fulfilment: warehouse backends and the manual queue."""

import factory

from fulfillment.models import BackendKind, ManualOutbound, WarehouseBackend
from tests.catalog.factories import WarehouseFactory


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


FACTORIES = {WarehouseBackend: WarehouseBackendFactory, ManualOutbound: ManualOutboundFactory}
