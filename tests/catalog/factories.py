"""Factories for the catalog."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog.demo import pdf_bytes, png_bytes
from catalog.models import (
    Category,
    Document,
    Item,
    Product,
    ProductImage,
    RateCard,
    RateRow,
    RateZone,
    ShippingMethod,
    Warehouse,
)


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"US-W{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    country = "US"
    sites = "US"
    address = "1 Test Street, Testville"
    opening_hours = "Mon–Fri 09:00–17:00"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"TP{n:09d}")
    name = factory.Sequence(lambda n: f"TEST PRODUCT {n}")
    brand = "TESTBRAND"
    category = factory.SubFactory(CategoryFactory)
    hs_code = "330499"
    declared_value = Decimal("5.00")
    weight_grams = 150


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    product = factory.SubFactory(ProductFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    item_id = factory.Sequence(lambda n: f"PLACEHOLDER-{n}")
    price = Decimal("10.00")
    currency = "USD"
    weight_grams = 150
    stock_on_hand = 100
    reserved = 0

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The Item ID starts with its product's code; build it unless the test gave one.
        if str(kwargs.get("item_id", "")).startswith("PLACEHOLDER-"):
            n = int(kwargs["item_id"].rsplit("-", 1)[1])
            kwargs["item_id"] = f"{kwargs['product'].code}-{n // 100 % 100:02d}-{n % 100:02d}"
        return super()._create(model_class, *args, **kwargs)


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    product = factory.SubFactory(ProductFactory)
    doc_type = Document.Type.CERTIFICATE
    title = "Certificate of conformity"
    file = factory.LazyAttribute(lambda o: ContentFile(pdf_bytes([o.title]), name="certificate.pdf"))


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    file = factory.LazyFunction(lambda: ContentFile(png_bytes((200, 80, 40), size=8), name="photo.png"))
    alt_text = "Photo"


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    warehouse = factory.SubFactory(WarehouseFactory)
    carrier = "UPS"
    service = factory.Sequence(lambda n: f"Ground {n}")
    code = factory.Sequence(lambda n: f"SERVICE_{n}")
    countries = "US"
    eta_min_days = 1
    eta_max_days = 5
    volumetric_divisor = 5000


class RateCardFactory(factory.django.DjangoModelFactory):
    """A card in force since a month ago, open-ended."""

    class Meta:
        model = RateCard

    method = factory.SubFactory(ShippingMethodFactory)
    version = factory.Sequence(lambda n: n + 1)
    currency = "USD"
    effective_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))


class RateZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateZone

    card = factory.SubFactory(RateCardFactory)
    name = factory.Sequence(lambda n: f"Zone {n}")
    country = "US"


class RateRowFactory(factory.django.DjangoModelFactory):
    """Up to 30 kg: the first 500 g 5.00, each further 500 g 1.00."""

    class Meta:
        model = RateRow

    zone = factory.SubFactory(RateZoneFactory)
    max_grams = 30000
    first_grams = 500
    first_price = Decimal("5.00")
    step_grams = 500
    step_price = Decimal("1.00")


FACTORIES = {
    Warehouse: WarehouseFactory,
    Category: CategoryFactory,
    Product: ProductFactory,
    Item: ItemFactory,
    Document: DocumentFactory,
    ProductImage: ProductImageFactory,
    ShippingMethod: ShippingMethodFactory,
    RateCard: RateCardFactory,
    RateZone: RateZoneFactory,
    RateRow: RateRowFactory,
}
