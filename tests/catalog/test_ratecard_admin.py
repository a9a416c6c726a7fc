"""The logistics admin: shipping methods, rate cards, zones and rows, and a card's xlsx
import (preview, row errors, confirm) and export."""

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from catalog import ratecard_xlsx, services
from catalog.models import RateCard, RateRow, RateZone
from catalog.services import RowSpec, ZoneSpec
from tests.catalog.factories import (
    RateCardFactory,
    RateRowFactory,
    RateZoneFactory,
    ShippingMethodFactory,
    WarehouseFactory,
)
from tests.distribution.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["Zone", "Country", "Regions", "Postcode prefixes", "Up to (g)", "First weight (g)", "First price"]
HEADER += ["Step (g)", "Step price", "Minimum charge"]
GOOD_ROWS = [
    ["West", "US", "CA,NV", "", 5000, 500, 9.85, 500, 0.85, 9.85],
    ["West", "", "", "", 68000, 5000, 17.5, 1000, 1.1, 0],
    ["Rest", "US", "", "", 5000, 500, 12.6, 500, 1.1, 12.6],
]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def method():
    return ShippingMethodFactory(
        warehouse=WarehouseFactory(code="US-CA"), carrier="UPS", service="Ground", code="UPS_GROUND"
    )


def _xlsx(rows, header=HEADER, title="Rates") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _form(method, content: bytes, name="rates.xlsx", **overrides) -> dict:
    start = timezone.localtime() + timedelta(days=30)
    return {
        "method": method.pk,
        "currency": "USD",
        "fuel_surcharge_percent": "16.25",
        "effective_from": start.strftime("%Y-%m-%d %H:%M"),
        "effective_to": "",
        "note": "2027 prices",
        "file": SimpleUploadedFile(name, content),
        **overrides,
    }


def _upload(client, method, content, **overrides):
    return client.post(reverse("admin:catalog_ratecard_import"), _form(method, content, **overrides))


# --- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["shippingmethod", "ratecard", "ratezone"])
def test_logistics_admin_changelist_add_and_change_pages_open_for_staff(staff_client, model):
    row = RateRowFactory()
    objects = {"shippingmethod": row.zone.card.method, "ratecard": row.zone.card, "ratezone": row.zone}
    for url in (
        reverse(f"admin:catalog_{model}_changelist"),
        reverse(f"admin:catalog_{model}_add"),
        reverse(f"admin:catalog_{model}_change", args=[objects[model].pk]),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_logistics_admin_import_template_and_export_pages_open(staff_client, method):
    card = RateRowFactory(zone__card__method=method).zone.card
    assert staff_client.get(reverse("admin:catalog_ratecard_import")).status_code == 200
    for url in (reverse("admin:catalog_ratecard_template"), reverse("admin:catalog_ratecard_export", args=[card.pk])):
        response = staff_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_warehouse_change_page_lists_its_shipping_methods(staff_client, method):
    html = staff_client.get(reverse("admin:catalog_warehouse_change", args=[method.warehouse.pk])).content.decode()
    assert "UPS_GROUND" in html and "self_pickup_fee" in html


def test_shipping_method_list_shows_the_card_in_force(staff_client, method):
    RateCardFactory(method=method, version=3)
    ShippingMethodFactory(code="NO_CARD")
    html = staff_client.get(reverse("admin:catalog_shippingmethod_changelist")).content.decode()
    assert "version 3" in html and "none" in html


def test_rate_card_added_in_the_admin_gets_the_next_version(staff_client, method):
    RateCardFactory(method=method, version=4)
    start = timezone.localtime() + timedelta(days=3)
    data = {
        "method": method.pk,
        "currency": "USD",
        "fuel_surcharge_percent": "10",
        "effective_from_0": start.strftime("%Y-%m-%d"),
        "effective_from_1": start.strftime("%H:%M:%S"),
        "note": "",
        "zones-TOTAL_FORMS": "2",
        "zones-INITIAL_FORMS": "0",
        "zones-0-name": "West",
        "zones-0-country": "us",
        "zones-0-regions": "ca, nv",
        "zones-1-name": "Rest",
        "zones-1-country": "US",
    }
    response = staff_client.post(reverse("admin:catalog_ratecard_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    card = RateCard.objects.get(method=method, version=5)
    assert sorted(card.zones.values_list("name", "regions")) == [("Rest", ""), ("West", "CA,NV")]


def test_rate_card_admin_refuses_overlapping_zones_and_a_start_in_the_past(staff_client, method):
    past = timezone.localtime() - timedelta(days=3)
    data = {
        "method": method.pk,
        "currency": "USD",
        "fuel_surcharge_percent": "0",
        "effective_from_0": past.strftime("%Y-%m-%d"),
        "effective_from_1": past.strftime("%H:%M:%S"),
        "zones-TOTAL_FORMS": "2",
        "zones-INITIAL_FORMS": "0",
        "zones-0-name": "A",
        "zones-0-country": "US",
        "zones-1-name": "B",
        "zones-1-country": "US",
    }
    html = staff_client.post(reverse("admin:catalog_ratecard_add"), data).content.decode()
    assert "cannot start in the past" in html
    assert "The zones “A” and “B” both cover US." in html
    assert not RateCard.objects.exists()


def test_rate_card_that_has_started_is_read_only_but_for_its_end(staff_client, method):
    row = RateRowFactory(zone__card__method=method)
    card = row.zone.card
    url = reverse("admin:catalog_ratecard_change", args=[card.pk])
    html = staff_client.get(url).content.decode()
    assert 'data-testid="ratecard-frozen"' in html
    assert 'name="currency"' not in html and 'name="zones-0-name"' not in html
    assert 'name="effective_to_0"' in html
    zone_html = staff_client.get(reverse("admin:catalog_ratezone_change", args=[row.zone.pk])).content.decode()
    assert 'name="rows-0-first_price"' not in zone_html
    # an attempt to change the prices through a forged POST changes nothing
    staff_client.post(
        reverse("admin:catalog_ratezone_change", args=[row.zone.pk]),
        {"rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "1", "rows-0-id": row.pk, "rows-0-first_price": "0.01"},
    )
    row.refresh_from_db()
    assert row.first_price == Decimal("5.00")


def test_upcoming_rate_card_zone_rows_are_edited_inline(staff_client, method):
    card = RateCardFactory(method=method, currency="JPY", effective_from=timezone.now() + timedelta(days=10))
    zone = RateZoneFactory(card=card, name="US", country="US")
    data = {
        "card": card.pk,
        "name": "US",
        "country": "US",
        "regions": "",
        "postcode_prefixes": "",
        "rows-TOTAL_FORMS": "1",
        "rows-INITIAL_FORMS": "0",
        "rows-0-max_grams": "2000",
        "rows-0-first_grams": "500",
        "rows-0-first_price": "780.50",
        "rows-0-step_grams": "500",
        "rows-0-step_price": "1",
        "rows-0-min_charge": "0",
    }
    response = staff_client.post(reverse("admin:catalog_ratezone_change", args=[zone.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert RateRow.objects.get(zone=zone).first_price == Decimal("781")  # yen have no minor unit: half up


# --- import ---------------------------------------------------------------------------------------


def test_rate_card_import_preview_lists_every_bad_row_and_saves_nothing(staff_client, method):
    rows = [
        *GOOD_ROWS,
        ["West", "JP", "", "", 90000, 5000, 20, 1000, 1, 0],  # another country than the zone's first row
        ["Rest", "US", "", "", 68000, 5000, "cheap", 1000, 1.1, 0],  # not an amount
        ["Rest", "US", "", "", 5000, 500, 1, 500, 1, 0],  # a second row up to 5000 g
        ["Far", "", "", "", 5000, 500, 1, 500, 1, 0],  # a new zone without its country
        ["Odd", "US", "", "12", 5000, 500, 1, 400, 1, 0],  # steps that do not end at 5000 g
    ]
    response = _upload(staff_client, method, _xlsx(rows))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="import-refused"' in html and "5 problems" in html
    assert "Country “JP” differs from row 2 of the zone “West”" in html
    assert "First price: “cheap” is not an amount." in html
    assert "has two rows up to 5000 g (rows 4 and 7)" in html
    assert "The first row of the zone “Far” needs its country." in html
    assert "whole number of 400 g steps" in html
    for number in (5, 6, 7, 8, 9):
        assert f"<td>{number}</td>" in html
    assert 'name="payload"' not in html
    assert not RateCard.objects.exists()


def test_rate_card_import_previews_then_saves_a_new_version_on_confirm(staff_client, method):
    RateCardFactory(method=method, version=1)
    response = _upload(staff_client, method, _xlsx(GOOD_ROWS))
    html = response.content.decode()
    assert 'data-testid="import-preview"' in html and "2 zones, 3 weight rows" in html
    assert RateCard.objects.count() == 1  # the preview saves nothing
    payload = response.context["payload"]
    confirmed = staff_client.post(reverse("admin:catalog_ratecard_import"), {"payload": payload})
    card = RateCard.objects.get(method=method, version=2)
    assert confirmed.status_code == 302 and confirmed["Location"].endswith(f"/{card.pk}/change/")
    assert (card.currency, card.fuel_surcharge_percent, card.note) == ("USD", Decimal("16.25"), "2027 prices")
    west = card.zones.get(name="West")
    assert west.regions == "CA,NV"
    assert list(west.rows.values_list("max_grams", "first_price")) == [
        (5000, Decimal("9.85")),
        (68000, Decimal("17.50")),
    ]


def test_rate_card_import_confirm_with_a_forged_or_stale_payload_saves_nothing(staff_client, method):
    forged = signing.dumps({"method": method.pk}, salt="something else")
    response = staff_client.post(reverse("admin:catalog_ratecard_import"), {"payload": forged}, follow=True)
    assert "The preview has expired" in response.content.decode()
    assert not RateCard.objects.exists()


def test_rate_card_import_refuses_a_start_in_the_past(staff_client, method):
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    html = _upload(staff_client, method, _xlsx(GOOD_ROWS), effective_from=past).content.decode()
    assert "cannot start in the past" in html


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rates.xlsx", b"", "The submitted file is empty."),
        ("rates.xlsx", b"\x00\x01garbage" * 100, "is not an Excel workbook"),
        ("rates.exe", b"MZ\x90\x00", "is not an Excel workbook"),
        ("rates.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "old .xls workbook"),
        ("rates.xlsx", _zip({"hello.txt": b"not a workbook"}), "has no workbook inside"),
        ("rates.xlsx", b"PK\x03\x04" + b"\xff" * 300, ""),
        ("rates.xlsx", _xlsx([], header=["Zone", "Something"]), "Columns missing: Country, Up to (g)"),
        ("rates.xlsx", _xlsx([]), "no rows to import"),
        ("rates.csv", "Zone;Country\n".encode("utf-16"), ""),
        ("rates.csv", b"\xef\xbb\xbf", "The file is empty"),
    ],
)
def test_rate_card_import_of_a_broken_file_is_a_message_not_an_error(staff_client, method, name, content, message):
    response = _upload(staff_client, method, content, name=name)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist' in html
    assert message in html
    assert not RateCard.objects.exists()


def test_rate_card_import_reads_a_csv_too(staff_client, method):
    lines = [",".join(HEADER)] + [",".join(str(cell) for cell in row) for row in GOOD_ROWS]
    content = "\n".join(lines).replace("CA,NV", '"CA,NV"').encode()
    response = _upload(staff_client, method, content, name="rates.csv")
    assert response.context["read"].ok, response.context["read"].errors


# --- export ---------------------------------------------------------------------------------------


def test_rate_card_export_round_trips_through_the_import(staff_client, method):
    # given a card with a leading-zero postcode prefix, JPY prices and flat and stepped rows
    card = services.rate_card_create(
        method=method,
        currency="JPY",
        fuel_surcharge_percent=Decimal("2.5"),
        effective_from=timezone.now() - timedelta(days=1),
        zones=[
            ZoneSpec(
                name="Hokkaido",
                country="JP",
                postcode_prefixes="00,04",
                rows=(
                    RowSpec(max_grams=2000, first_grams=2000, first_price=Decimal(1460)),
                    RowSpec(
                        max_grams=25000,
                        first_grams=5000,
                        first_price=Decimal(1900),
                        step_grams=5000,
                        step_price=Decimal(350),
                        min_charge=Decimal(1900),
                    ),
                ),
            ),
            ZoneSpec(
                name="Honshu", country="JP", rows=(RowSpec(max_grams=2000, first_grams=2000, first_price=Decimal(940)),)
            ),
        ],
    )
    # when exported
    response = staff_client.get(reverse("admin:catalog_ratecard_export", args=[card.pk]))
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == ["Rates", "Card"]
    assert [c.value for c in book["Rates"][1]] == HEADER
    assert book["Rates"]["D2"].value == "00,04" and book["Rates"]["D2"].data_type == "s"
    # then reading it back gives the same zones and rows
    read = ratecard_xlsx.read_rate_card(io.BytesIO(response.content), name="export.xlsx", currency="JPY")
    assert read.ok, read.errors

    def shape(zones):
        return [
            (
                z.name,
                z.country,
                z.regions,
                z.postcode_prefixes,
                [(r.max_grams, r.first_grams, r.first_price, r.step_grams, r.step_price, r.min_charge) for r in z.rows],
            )
            for z in zones
        ]

    saved = card.zones.order_by("id").prefetch_related("rows")
    assert shape(read.zones) == shape(
        [ZoneSpec(z.name, z.country, z.regions, z.postcode_prefixes, tuple(z.rows.all())) for z in saved]
    )
    # and imported as the next version it is the same card
    upload = _upload(staff_client, method, response.content, name="export.xlsx", currency="JPY")
    staff_client.post(reverse("admin:catalog_ratecard_import"), {"payload": upload.context["payload"]})
    copy = RateCard.objects.get(method=method, version=2)
    assert shape(
        [
            ZoneSpec(z.name, z.country, z.regions, z.postcode_prefixes, tuple(z.rows.all()))
            for z in copy.zones.order_by("id")
        ]
    ) == shape(read.zones)


def test_rate_card_template_has_the_columns_and_instructions(staff_client):
    book = load_workbook(io.BytesIO(staff_client.get(reverse("admin:catalog_ratecard_template")).content))
    assert [c.value for c in book["Rates"][1]] == HEADER
    assert "Instructions" in book.sheetnames


def test_rate_zone_added_alone_may_not_overlap_its_cards_zones(staff_client, method):
    card = RateCardFactory(method=method, effective_from=timezone.now() + timedelta(days=10))
    RateZoneFactory(card=card, name="West", country="US", regions="CA")
    data = {"card": card.pk, "name": "Coast", "country": "US", "regions": "ca,or", "postcode_prefixes": ""}
    data.update({"rows-TOTAL_FORMS": "0", "rows-INITIAL_FORMS": "0"})
    html = staff_client.post(reverse("admin:catalog_ratezone_add"), data).content.decode()
    assert "The zones “West” and “Coast” both cover US-CA." in html
    assert RateZone.objects.count() == 1
