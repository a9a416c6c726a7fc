"""Freight quotes (catalog.shipping): chargeable weight, zones, rate card versions, prices."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog import services, shipping
from catalog.models import Item, RateRow, RateZone, ShippingMethod
from catalog.services import RowSpec, ZoneSpec
from catalog.shipping import Destination, Parcel, Piece
from distribution.errors import ApplicationError
from distribution.money import Money
from tests.catalog.factories import ItemFactory, ProductFactory, ShippingMethodFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

# The first 500 g 5.00, each further 500 g (or part of it) 1.00, up to 30 kg.
STEPPED = (
    RowSpec(max_grams=30000, first_grams=500, first_price=Decimal("5.00"), step_grams=500, step_price=Decimal("1.00")),
)
US = Destination("US", "NY", "10001")


def _card(method, *, zones=None, rows=STEPPED, start=None, end=None, currency="USD", fuel="0", **extra):
    zones = zones or [ZoneSpec(name="US", country="US", rows=rows)]
    return services.rate_card_create(
        method=method,
        currency=currency,
        fuel_surcharge_percent=Decimal(fuel),
        effective_from=start or timezone.now() - timedelta(days=30),
        effective_to=end,
        zones=zones,
        **extra,
    )


def _item(warehouse, grams=500, dims=(None, None, None), product_dims=(None, None, None)) -> Item:
    length, width, height = dims
    p_length, p_width, p_height = product_dims
    product = ProductFactory(length_cm=p_length, width_cm=p_width, height_cm=p_height)
    return ItemFactory(
        product=product, warehouse=warehouse, weight_grams=grams, length_cm=length, width_cm=width, height_cm=height
    )


def _quote(method, pieces, destination=US, **kwargs):
    parcel = Parcel(method.warehouse_id, destination, pieces)
    return shipping.quote_for(shipping.quote_parcel(parcel, **kwargs), method.pk)


@pytest.fixture
def method():
    return ShippingMethodFactory(carrier="UPS", service="Ground", countries="US", volumetric_divisor=5000)


# --- chargeable weight ----------------------------------------------------------------------------


def test_quote_bills_the_volumetric_weight_when_it_is_greater(method):
    _card(method)
    # 30 × 20 × 10 cm = 6000 cm³ ÷ 5000 = 1.2 kg, more than the 500 g it weighs
    item = _item(method.warehouse, grams=500, dims=(Decimal(30), Decimal(20), Decimal(10)))
    quote = _quote(method, [Piece(item, 1)])
    assert (quote.weight.actual_grams, quote.weight.volumetric_grams) == (500, 1200)
    # 1200 g rounded up to the 500 g step: 1500 g = first 500 g + 2 steps
    assert quote.chargeable_grams == 1500
    assert quote.price == Money(Decimal("7.00"), "USD")


def test_quote_bills_the_actual_weight_when_it_is_greater(method):
    _card(method)
    item = _item(method.warehouse, grams=2000, dims=(Decimal(10), Decimal(10), Decimal(10)))  # 200 g volumetric
    quote = _quote(method, [Piece(item, 1)])
    assert (quote.weight.actual_grams, quote.weight.volumetric_grams, quote.chargeable_grams) == (2000, 200, 2000)
    assert quote.price.amount == Decimal("8.00")


@pytest.mark.parametrize(
    ("grams", "billed", "price"),
    [(1, 500, "5.00"), (500, 500, "5.00"), (501, 1000, "6.00"), (1000, 1000, "6.00"), (1001, 1500, "7.00")],
)
def test_quote_rounds_the_chargeable_weight_up_to_the_step(method, grams, billed, price):
    _card(method)
    quote = _quote(method, [Piece(_item(method.warehouse, grams=grams), 1)])
    assert (quote.chargeable_grams, quote.price.amount) == (billed, Decimal(price))


def test_quote_adds_up_the_pieces_of_the_parcel_weights_and_volumes(method):
    _card(method)
    # 3 × 400 g = 1200 g; 3 × (20 × 10 × 10 = 2000 cm³) = 6000 cm³ -> 1200 g; and 1 × 100 g, no dimensions
    boxed = _item(method.warehouse, grams=400, dims=(Decimal(20), Decimal(10), Decimal(10)))
    loose = _item(method.warehouse, grams=100)
    quote = _quote(method, [Piece(boxed, 3), Piece(loose, 1)])
    assert (quote.weight.actual_grams, quote.weight.volumetric_grams, quote.chargeable_grams) == (1300, 1200, 1500)


def test_item_dimensions_fall_back_to_the_product_and_are_all_or_none(method):
    own = _item(method.warehouse, dims=(Decimal(1), Decimal(2), Decimal(3)), product_dims=(Decimal(9),) * 3)
    inherited = _item(method.warehouse, product_dims=(Decimal(4), Decimal(5), Decimal(6)))
    unknown = _item(method.warehouse, product_dims=(Decimal(4), None, Decimal(6)))
    assert own.dimensions_cm == (Decimal(1), Decimal(2), Decimal(3))
    assert inherited.dimensions_cm == (Decimal(4), Decimal(5), Decimal(6))
    assert unknown.dimensions_cm is None
    own.height_cm = None
    with pytest.raises(ValidationError, match="length, width and height"):
        own.full_clean()


def test_volumetric_weight_uses_the_methods_divisor(method):
    # 6000 cm³: 1200 g at 5000, 1000 g at 6000, and 0.0001 g more rounds up to a whole gram
    assert shipping.volumetric_grams(Decimal(6000), 5000) == 1200
    assert shipping.volumetric_grams(Decimal(6000), 6000) == 1000
    assert shipping.volumetric_grams(Decimal("6000.1"), 6000) == 1001


# --- zones ----------------------------------------------------------------------------------------


def _zoned_card(method):
    flat = lambda price: (RowSpec(max_grams=30000, first_grams=30000, first_price=Decimal(price)),)  # noqa: E731
    return _card(
        method,
        zones=[
            ZoneSpec(name="Whole country", country="US", rows=flat("10.00")),
            ZoneSpec(name="West", country="US", regions="CA,NV", rows=flat("6.00")),
            ZoneSpec(name="Postcodes 9", country="US", postcode_prefixes="9", rows=flat("7.00")),
            ZoneSpec(name="Postcodes 967-968", country="US", postcode_prefixes="967,968", rows=flat("20.00")),
        ],
    )


@pytest.mark.parametrize(
    ("destination", "zone", "price"),
    [
        (Destination("US", "NY", "10001"), "Whole country", "10.00"),  # country only
        (Destination("us", "ca", "10001"), "West", "6.00"),  # region over country
        (Destination("US", "US-CA", ""), "West", "6.00"),  # region given with its country
        (Destination("US", "CA", "94105"), "Postcodes 9", "7.00"),  # postcode over region
        (Destination("US", "HI", "96101"), "Postcodes 9", "7.00"),
        (Destination("US", "HI", "96701"), "Postcodes 967-968", "20.00"),  # the longest prefix wins
        (Destination("US", "HI", "968-01"), "Postcodes 967-968", "20.00"),  # dashes do not count
    ],
)
def test_quote_takes_the_most_specific_zone(method, destination, zone, price):
    _zoned_card(method)
    quote = _quote(method, [Piece(_item(method.warehouse), 1)], destination)
    assert (quote.zone.name, quote.price.amount) == (zone, Decimal(price))


def test_quote_refuses_a_destination_no_zone_holds():
    method = ShippingMethodFactory(carrier="DHL", service="Paket", countries="DE,AT")
    _card(method, zones=[ZoneSpec(name="Germany", country="DE", rows=STEPPED)])
    quote = _quote(method, [Piece(_item(method.warehouse), 1)], Destination("AT", "", "1010"))
    assert not quote.ok
    assert quote.refusal == "The rate card of DHL Paket has no zone for AT 1010."


def test_rate_card_with_overlapping_zones_is_refused(method):
    zones = [
        ZoneSpec(name="A", country="US", regions="CA,NV", rows=STEPPED, number=2),
        ZoneSpec(name="B", country="US", regions="nv,OR", rows=STEPPED, number=5),
        ZoneSpec(name="C", country="US", postcode_prefixes="27", rows=STEPPED, number=7),
        ZoneSpec(name="D", country="US", postcode_prefixes="27498", rows=STEPPED, number=9),  # nested: fine
    ]
    errors = services.rate_card_check(currency="USD", zones=zones)
    assert errors == [(5, "The zones “A” and “B” both cover US-NV.")]
    with pytest.raises(ApplicationError, match="both cover US-NV"):
        _card(method, zones=zones)


def test_zone_cannot_narrow_by_regions_and_postcodes_at_once():
    zone = RateZone(name="X", country="US", regions="CA", postcode_prefixes="9")
    with pytest.raises(ValidationError, match="not both"):
        zone.full_clean(exclude=["card"])


# --- rate card versions ---------------------------------------------------------------------------


def test_quote_uses_the_card_in_force_at_the_moment_asked(method):
    now = timezone.now()
    old = _card(method, rows=STEPPED, start=now - timedelta(days=400), end=now - timedelta(days=10))
    cheaper = (
        RowSpec(
            max_grams=30000, first_grams=500, first_price=Decimal("4.00"), step_grams=500, step_price=Decimal("1.00")
        ),
    )
    new = _card(method, rows=cheaper, start=now - timedelta(days=10))
    item = _item(method.warehouse)
    then = _quote(method, [Piece(item, 1)], at=now - timedelta(days=20))
    today = _quote(method, [Piece(item, 1)])
    assert (then.card, then.price.amount) == (old, Decimal("5.00"))
    assert (today.card, today.price.amount) == (new, Decimal("4.00"))
    assert (old.version, new.version) == (1, 2)
    # before the first card, nothing was in force
    assert _quote(method, [Piece(item, 1)], at=now - timedelta(days=500)).refusal == (
        "UPS Ground has no rate card in force."
    )


def test_a_later_version_takes_over_at_its_start_without_ending_the_old_one(method):
    now = timezone.now()
    first = _card(method, start=now - timedelta(days=60))  # open-ended
    second = _card(method, start=now + timedelta(days=5), fuel="10")
    item = _item(method.warehouse)
    assert _quote(method, [Piece(item, 1)]).card == first
    assert _quote(method, [Piece(item, 1)], at=now + timedelta(days=6)).card == second


def test_quote_refuses_a_method_whose_card_has_ended(method):
    now = timezone.now()
    _card(method, start=now - timedelta(days=60), end=now - timedelta(days=1))
    quote = _quote(method, [Piece(_item(method.warehouse), 1)])
    assert (quote.ok, quote.refusal) == (False, "UPS Ground has no rate card in force.")


# --- price ----------------------------------------------------------------------------------------


def test_quote_charges_at_least_the_minimum(method):
    rows = (
        RowSpec(
            max_grams=5000,
            first_grams=500,
            first_price=Decimal("3.00"),
            step_grams=500,
            step_price=Decimal("0.50"),
            min_charge=Decimal("4.25"),
        ),
    )
    _card(method, rows=rows)
    light = _quote(method, [Piece(_item(method.warehouse, grams=400), 1)])
    heavy = _quote(method, [Piece(_item(method.warehouse, grams=2500), 1)])  # 3.00 + 4 × 0.50 = 5.00
    assert (light.price.amount, heavy.price.amount) == (Decimal("4.25"), Decimal("5.00"))


def test_quote_adds_the_fuel_surcharge_after_the_minimum(method):
    rows = (RowSpec(max_grams=5000, first_grams=5000, first_price=Decimal("3.00"), min_charge=Decimal("10.00")),)
    _card(method, rows=rows, fuel="16.25")
    quote = _quote(method, [Piece(_item(method.warehouse), 1)])
    assert quote.price.amount == Decimal("11.63")  # 10.00 × 1.1625 = 11.625, half up


@pytest.mark.parametrize(
    ("currency", "price", "fuel", "expected"),
    [
        ("USD", "0.10", "5", "0.11"),  # 0.105: half up, not to even
        ("USD", "10.01", "0.01", "10.01"),  # 10.011001
        ("JPY", "780", "15.5", "901"),  # 900.9: no minor unit
        ("JPY", "1000", "0.05", "1001"),  # 1000.5 half up
    ],
)
def test_quote_rounds_half_up_once_to_the_currencys_minor_unit(method, currency, price, fuel, expected):
    rows = (RowSpec(max_grams=5000, first_grams=5000, first_price=Decimal(price)),)
    _card(method, rows=rows, fuel=fuel, currency=currency)
    quote = _quote(method, [Piece(_item(method.warehouse), 1)])
    assert quote.price == Money(Decimal(expected), currency)
    assert str(quote.price.amount) == expected


def test_rate_row_prices_are_rounded_to_the_card_currency(method):
    rows = (RowSpec(max_grams=5000, first_grams=5000, first_price=Decimal("780.5")),)
    card = _card(method, rows=rows, currency="JPY")
    assert RateRow.objects.get(zone__card=card).first_price == Decimal("781")


def test_quote_refuses_a_parcel_over_the_heaviest_row(method):
    _card(
        method,
        rows=(RowSpec(max_grams=2000, first_grams=500, first_price=Decimal(5), step_grams=500, step_price=Decimal(1)),),
    )
    quote = _quote(method, [Piece(_item(method.warehouse, grams=700), 3)])
    assert quote.refusal == "2,100 g is over the heaviest weight row of UPS Ground (2,000 g)."


def test_rate_row_steps_must_end_at_its_upper_weight():
    with pytest.raises(ValidationError, match="whole number of 300 g steps"):
        RateRow(max_grams=1000, first_grams=500, first_price=1, step_grams=300, step_price=1).full_clean(
            exclude=["zone"]
        )
    with pytest.raises(ValidationError, match="Without an additional step"):
        RateRow(max_grams=1000, first_grams=500, first_price=1).full_clean(exclude=["zone"])


# --- which methods ------------------------------------------------------------------------------


def test_quote_refuses_a_country_or_region_the_method_does_not_serve(method):
    method.excluded_regions = "US-HI"
    method.save()
    _card(method)
    item = _item(method.warehouse)
    assert _quote(method, [Piece(item, 1)], Destination("JP", "13", "100-0001")).refusal == (
        "UPS Ground does not serve JP."
    )
    assert _quote(method, [Piece(item, 1)], Destination("US", "HI", "96813")).refusal == (
        "UPS Ground does not serve US-HI."
    )


def test_method_regions_not_served_must_be_in_its_countries():
    method = ShippingMethod(carrier="UPS", service="Ground", code="x", countries="us", excluded_regions="jp-47")
    with pytest.raises(ValidationError, match="JP-47: not in a country"):
        method.full_clean(exclude=["warehouse"])


def test_quote_refuses_a_card_in_another_currency_when_one_is_asked(method):
    _card(method, currency="JPY", rows=(RowSpec(max_grams=5000, first_grams=5000, first_price=Decimal(900)),))
    quote = _quote(method, [Piece(_item(method.warehouse), 1)], currency="USD")
    assert quote.refusal == "The rate card of UPS Ground is in JPY, not USD."


def test_quote_lists_every_active_method_cheapest_first_and_refusals_last():
    warehouse = WarehouseFactory(code="US-CA")
    ups = ShippingMethodFactory(warehouse=warehouse, carrier="UPS", service="Ground", excluded_regions="US-HI")
    usps = ShippingMethodFactory(warehouse=warehouse, carrier="USPS", service="Ground Advantage")
    fedex = ShippingMethodFactory(warehouse=warehouse, carrier="FedEx", service="Home Delivery")
    ShippingMethodFactory(warehouse=warehouse, carrier="Retired", service="Post", is_active=False)
    ShippingMethodFactory(carrier="Other", service="Warehouse")  # another warehouse's
    _card(ups, rows=(RowSpec(max_grams=5000, first_grams=5000, first_price=Decimal("9.85")),))
    _card(usps, rows=(RowSpec(max_grams=5000, first_grams=5000, first_price=Decimal("6.60")),))
    parcel = Parcel(warehouse.pk, US, [Piece(_item(warehouse), 1)])
    quotes = shipping.quote_parcel(parcel)
    assert [(q.method.name, q.price.amount if q.ok else q.refusal) for q in quotes] == [
        ("USPS Ground Advantage", Decimal("6.60")),
        ("UPS Ground", Decimal("9.85")),
        ("FedEx Home Delivery", "FedEx Home Delivery has no rate card in force."),
    ]
    assert shipping.cheapest(quotes).method == usps
    assert (quotes[0].eta_min_days, quotes[0].eta_max_days) == (1, 5)
    assert shipping.quote_for(quotes, fedex.pk).refusal
    hawaii = shipping.quote_parcel(Parcel(warehouse.pk, Destination("US", "HI", "96813"), parcel.pieces))
    assert shipping.cheapest(hawaii).method == usps


def test_cheapest_is_none_when_no_method_can_carry_the_parcel(method):
    quotes = shipping.quote_parcel(Parcel(method.warehouse_id, US, [Piece(_item(method.warehouse), 1)]))
    assert shipping.cheapest(quotes) is None and len(quotes) == 1


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_parcel_refuses_a_quantity_that_is_not_a_whole_number_above_zero(method, quantity):
    with pytest.raises(ApplicationError):
        Parcel(method.warehouse_id, US, [Piece(_item(method.warehouse), quantity)])
    with pytest.raises(ApplicationError):
        Parcel(method.warehouse_id, US, [])


# --- many orders at once --------------------------------------------------------------------------


def _batch(count: int, warehouses, items):
    return [
        Parcel(
            warehouses[n % len(warehouses)].pk,
            Destination("US", ["CA", "NY", "HI"][n % 3], f"{90000 + n}"),
            [Piece(items[n % len(items)], 1 + n % 3), Piece(items[(n + 1) % len(items)], 1)],
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [10, 50])
def test_quote_parcels_reads_the_same_four_queries_for_any_number_of_orders(django_assert_num_queries, count):
    warehouses = [WarehouseFactory(), WarehouseFactory()]
    for warehouse in warehouses:
        for n in range(3):
            method = ShippingMethodFactory(warehouse=warehouse, excluded_regions="US-HI" if n else "")
            _card(
                method,
                zones=[
                    ZoneSpec(name="US", country="US", rows=STEPPED),
                    ZoneSpec(name="West", country="US", regions="CA", rows=STEPPED),
                ],
            )
    for warehouse in warehouses:
        for n in range(4):
            _item(warehouse, grams=100 * (n + 1), dims=(Decimal(10), Decimal(10), Decimal(5 + n)))
    items = list(Item.objects.select_related("product"))
    parcels = _batch(count, warehouses, items)
    # methods, cards in force, their zones, the zones' rows
    with django_assert_num_queries(4):
        answers = shipping.quote_parcels(parcels)
    assert len(answers) == count
    assert all(len(quotes) == 3 for quotes in answers)
    assert all(quotes[0].ok for quotes in answers)


def test_quote_parcels_loads_the_items_products_once_when_they_are_not_loaded(django_assert_num_queries, method):
    _card(method)
    for _n in range(3):
        _item(method.warehouse, product_dims=(Decimal(30), Decimal(20), Decimal(10)))
    items = list(Item.objects.all())  # products not loaded
    parcels = [Parcel(method.warehouse_id, US, [Piece(item, 1)]) for item in items]
    with django_assert_num_queries(5):
        answers = shipping.quote_parcels(parcels)
    assert [quotes[0].weight.volumetric_grams for quotes in answers] == [1200, 1200, 1200]


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("100-0001", "1000001"),
        ("sw1a 1aa", "SW1A1AA"),
        (" 90210 ", "90210"),
        ("10001", "10001"),
        ("", ""),
        (None, ""),
        ("--", ""),
        ("a.b/c", "ABC"),
        ("〒100-0001", "1000001"),
    ],
)
def test_destination_compares_postcodes_without_blanks_dashes_or_case(written, key):
    assert Destination("US", "", written).postcode == key
