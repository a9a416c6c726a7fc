import io
from decimal import Decimal

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


@pytest.mark.django_db
def test_catalog_demo_seed_gives_the_warehouses_shipping_methods_with_priced_cards_once():
    from catalog import shipping
    from catalog.models import RateCard, RateRow, RateZone, ShippingMethod
    from catalog.shipping import Destination, Parcel, Piece

    # when seeded twice
    demo.seed(io.StringIO())
    counts = (
        ShippingMethod.objects.count(),
        RateCard.objects.count(),
        RateZone.objects.count(),
        RateRow.objects.count(),
    )
    demo.seed(io.StringIO())
    # then nothing doubled: each method has last year's card and this year's
    assert counts == (
        ShippingMethod.objects.count(),
        RateCard.objects.count(),
        RateZone.objects.count(),
        RateRow.objects.count(),
    )
    assert counts[1] == 2 * counts[0]
    codes = set(ShippingMethod.objects.values_list("warehouse__code", "code"))
    for expected in [("US-CA", "USPS_GROUND_ADVANTAGE"), ("US-CA", "UPS_GROUND"), ("JP-TYO", "YAMATO_TAQBIN")]:
        assert expected in codes
    assert ("DE-FRA", "DHL_PAKET") in codes
    assert Warehouse.objects.get(code="JP-TYO").self_pickup_fee > 0
    # the guide's items weigh and measure what a boxed 30 ml serum does
    us = Item.objects.select_related("product").get(item_id="LS228800001-01-01")
    jp = Item.objects.select_related("product").get(item_id="LS228800001-01-03")
    assert (us.weight_grams, jp.weight_grams) == (145, 150)
    assert us.dimensions_cm == (Decimal("5.0"), Decimal("5.0"), Decimal("13.0"))
    # and they can be quoted: two serums from Los Angeles to New York, one from Tokyo to Okinawa
    to_ny = shipping.quote_parcel(Parcel(us.warehouse_id, Destination("US", "NY", "10001"), [Piece(us, 2)]))
    assert [q.ok for q in to_ny] == [True, True, True]
    assert shipping.cheapest(to_ny).method.code == "USPS_GROUND_ADVANTAGE"
    to_naha = shipping.quote_parcel(Parcel(jp.warehouse_id, Destination("JP", "47", "900-0001"), [Piece(jp, 1)]))
    assert {q.zone.name for q in to_naha} == {"Okinawa"}
    to_hawaii = shipping.quote_parcel(Parcel(us.warehouse_id, Destination("US", "HI", "96813"), [Piece(us, 1)]))
    assert [q.method.code for q in to_hawaii if q.ok] == ["USPS_GROUND_ADVANTAGE"]
