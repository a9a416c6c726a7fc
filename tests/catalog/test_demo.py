import io

import pytest

from catalog import demo
from catalog.models import Document, Item, Product, Warehouse


@pytest.mark.django_db
def test_catalog_demo_seed_holds_the_guide_example_and_is_idempotent():
    # when seeded twice
    demo.seed(io.StringIO())
    counts = (Warehouse.objects.count(), Product.objects.count(), Item.objects.count(), Document.objects.count())
    demo.seed(io.StringIO())
    # then nothing doubled
    assert (Warehouse.objects.count(), Product.objects.count(), Item.objects.count(), Document.objects.count()) == (
        counts
    )
    # the user guide's example, exactly
    us = Item.objects.select_related("product", "warehouse").get(item_id="LS228800001-01-01")
    jp = Item.objects.select_related("product", "warehouse").get(item_id="LS228800001-01-03")
    assert us.product == jp.product
    assert us.product.name == "SNOWTOX CRYSTAL TREATMENT SERUM"
    assert (us.warehouse.code, jp.warehouse.code) == ("US-CA", "JP-TYO")
    assert us.warehouse.serves("US") and jp.warehouse.serves("JP")
    assert Warehouse.objects.get(code="DE-FRA").serves("FR")
    # and a catalog to browse
    assert Product.objects.count() >= 51
    for code in ("US-CA", "JP-TYO", "DE-FRA"):
        assert Item.objects.filter(warehouse__code=code).count() >= 20
    assert us.product.documents.count() >= 2 and us.product.cloud_drive_url
    assert Document.objects.filter(file__endswith=".pdf").exists()


@pytest.mark.django_db
def test_catalog_demo_seed_is_deterministic():
    demo.seed(io.StringIO())
    first = list(Item.objects.order_by("item_id").values_list("item_id", "price", "stock_on_hand"))
    Item.objects.all().delete()
    Document.objects.all().delete()
    Product.objects.all().delete()
    demo.seed(io.StringIO())
    assert list(Item.objects.order_by("item_id").values_list("item_id", "price", "stock_on_hand")) == first
