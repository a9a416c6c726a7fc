"""factory_boy factories. The cross-tenant test finds a factory for each model a
portal URL names, by the model (FACTORIES_BY_MODEL), so each new tenant-owned model
gets a factory here and is covered at once."""

import factory
from django.contrib.auth import get_user_model

from distribution.models import Distributor, Invitation, Membership, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.django.Password("pass-word-2026")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class DistributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Distributor

    company_name = factory.Sequence(lambda n: f"Company {n}")
    contact_person = "Contact Person"
    phone = "+1 212 555 0100"
    country = "US"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    distributor = factory.SubFactory(DistributorFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    distributor = factory.SubFactory(DistributorFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.OPERATOR


def owner_of(distributor: Distributor | None = None, **user_kwargs) -> Membership:
    distributor = distributor or DistributorFactory()
    return MembershipFactory(distributor=distributor, role=Role.OWNER, user=UserFactory(**user_kwargs))


FACTORIES_BY_MODEL = {
    Membership: MembershipFactory,
    Invitation: InvitationFactory,
    Distributor: DistributorFactory,
}


# --- stores (appended by the stores app)
from stores.models import Platform, Store  # noqa: E402


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


FACTORIES_BY_MODEL[Store] = StoreFactory


# --- catalog (appended by the catalog app)
from decimal import Decimal  # noqa: E402

from django.core.files.base import ContentFile  # noqa: E402

from catalog.demo import pdf_bytes, png_bytes  # noqa: E402
from catalog.models import Category, Document, Item, Product, ProductImage, Warehouse  # noqa: E402


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


FACTORIES_BY_MODEL.update(
    {
        Warehouse: WarehouseFactory,
        Category: CategoryFactory,
        Product: ProductFactory,
        Item: ItemFactory,
        Document: DocumentFactory,
        ProductImage: ProductImageFactory,
    }
)


# --- orders (appended by the orders app)
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PlatformOrder  # noqa: E402


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


FACTORIES_BY_MODEL.update(
    {
        PlatformOrder: PlatformOrderFactory,
        Order: OrderFactory,
        OrderLine: OrderLineFactory,
        OrderEvent: OrderEventFactory,
    }
)


# --- mapping (appended by the mapping app)
from django.utils import timezone  # noqa: E402

from mapping.models import Mapping, MappingImport, SeenSku  # noqa: E402


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


FACTORIES_BY_MODEL.update({Mapping: MappingFactory, SeenSku: SeenSkuFactory, MappingImport: MappingImportFactory})


# --- orders: imports, pulls, ingestion errors (appended by the orders app)
from orders.models import IngestionError, OrderImport, PullRun  # noqa: E402


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


class IngestionErrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IngestionError

    store = factory.SubFactory(StoreFactory)
    source = PlatformOrder.Source.PULL
    external_id = factory.Sequence(lambda n: f"bad-{n}")
    reason = "Line 1 has no SKU."
    fingerprint = factory.Sequence(lambda n: f"{n:064d}")


FACTORIES_BY_MODEL.update(
    {OrderImport: OrderImportFactory, PullRun: PullRunFactory, IngestionError: IngestionErrorFactory}
)
