"""Factories for stores."""

import factory

from stores.models import Platform, Store
from tests.distribution.factories import DistributorFactory


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    distributor = factory.SubFactory(DistributorFactory)
    platform = Platform.SHOPIFY
    name = factory.Sequence(lambda n: f"Store {n}")
    site = "US"
    currency = "USD"
    shop_domain = factory.Sequence(lambda n: f"store-{n}.myshopify.com")
    external_key = factory.LazyAttribute(lambda o: o.shop_domain)
    status = Store.Status.AUTHORIZED

    @factory.post_generation
    def credentials(self, create, extracted, **kwargs):
        if extracted is not None:
            self.set_credentials(extracted)
            if create:
                self.save(update_fields=["credentials_encrypted"])


FACTORIES = {Store: StoreFactory}
