"""Factories for mappings and mapping imports."""

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from mapping.models import Mapping, MappingImport, SeenSku
from tests.catalog.factories import ItemFactory
from tests.distribution.factories import DistributorFactory
from tests.stores.factories import StoreFactory


class MappingFactory(factory.django.DjangoModelFactory):
    """A US-site store's SKU mapped to an item of a US warehouse (the defaults agree on the site)."""

    class Meta:
        model = Mapping

    store = factory.SubFactory(StoreFactory)
    store_sku = factory.Sequence(lambda n: f"STORE-SKU-{n}")
    item = factory.SubFactory(ItemFactory)


class SeenSkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SeenSku

    store = factory.SubFactory(StoreFactory)
    sku = factory.Sequence(lambda n: f"SEEN-SKU-{n}")
    title = "Seen in an order"
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
    waiting_orders = 1


def _import_file_bytes() -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Store", "Store SKU", "Item ID"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class MappingImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MappingImport

    distributor = factory.SubFactory(DistributorFactory)
    original_name = "mappings.xlsx"
    file = factory.LazyFunction(lambda: ContentFile(_import_file_bytes(), name="mappings.xlsx"))
    status = MappingImport.Status.PREVIEWED
    total_rows = 1
    processed_rows = 1
    new_count = 1


FACTORIES = {Mapping: MappingFactory, SeenSku: SeenSkuFactory, MappingImport: MappingImportFactory}
