"""Honest order file previews (guide step 6): every order of the file counted, the ones
left out named with their rows and reason, the result said once, one content one row
count in xlsx and csv, and postcodes checked by their country."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from mapping.models import Mapping
from orders.imports.services import order_import_check, order_import_create
from orders.models import OrderImport, PlatformOrder
from stores.models import Platform
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import owner_of
from tests.orders.test_import import HEADER, apply, csv_bytes, row, upload, xlsx_bytes
from tests.stores.factories import StoreFactory


@pytest.fixture
def owner(db):
    return owner_of()


@pytest.fixture
def store(owner):
    store = StoreFactory(distributor=owner.distributor, platform=Platform.OTHER, name="Offline Shop", site="US")
    item = ItemFactory(warehouse=WarehouseFactory(code="US-CA", sites="US"), price=Decimal("10.00"))
    Mapping.objects.create(store=store, store_sku="SERUM", item=item)
    Mapping.objects.create(store=store, store_sku="MASK", item=ItemFactory(warehouse=item.warehouse))
    return store


@pytest.fixture
def jp_store(owner):
    store = StoreFactory(distributor=owner.distributor, platform=Platform.OTHER, name="JP Shop", site="JP")
    item = ItemFactory(warehouse=WarehouseFactory(code="JP-TK", sites="JP"), price=Decimal("1000"))
    Mapping.objects.create(store=store, store_sku="SERUM", item=item)
    return store


def upload_naming_stores(owner, content: bytes, name="orders.xlsx") -> OrderImport:
    """An upload with no store chosen on the form: each row names its store."""
    order_import = order_import_create(actor=owner, store=None, upload=SimpleUploadedFile(name, content))
    return order_import_check(order_import=order_import)


def five_orders() -> bytes:
    """A-1 imported before, A-2 and A-3 new, A-4 whose rows disagree, A-5 in an unknown store."""
    shop = "Offline Shop"
    return xlsx_bytes(
        [
            row("A-1", Store=shop),  # row 2
            row("A-2", Store=shop),  # row 3
            row("A-3", Store=shop),  # row 4
            row("A-4", Store=shop),  # row 5
            row("A-4", "MASK", Store=shop, Address_1="Somewhere else"),  # row 6
            row("A-5", Store="Nowhere Shop"),  # row 7
            row("A-3", "MASK", Store=shop),  # row 8
        ]
    )


@pytest.fixture
def already_imported(owner, store):
    apply(owner, upload(owner, store, xlsx_bytes([row("A-1")])))


# --- counts: every order of the file ------------------------------------------------------------


def test_preview_counts_every_order_including_those_left_out(owner, store, already_imported):
    order_import = upload_naming_stores(owner, five_orders())
    assert order_import.status == OrderImport.Status.READY
    assert (order_import.order_count, order_import.new_count, order_import.existing_count) == (5, 2, 1)
    assert order_import.message == ("Orders in the file: 5 — 3 to import (2 new, 1 already imported), 2 left out.")
    assert order_import.total_rows == 7 and order_import.error_count == 2


def test_preview_names_each_left_out_order_with_its_rows_and_reason(owner, store, already_imported):
    order_import = upload_naming_stores(owner, five_orders())
    left_out = {error["order"]: error["left_out"] for error in order_import.errors if "left_out" in error}
    assert set(left_out) == {"A-4", "A-5"}
    assert left_out["A-4"]["rows"] == [5, 6]  # the row that agrees is named too
    assert "Row 6, Address 1" in left_out["A-4"]["reason"] and "disagree" in left_out["A-4"]["reason"]
    assert left_out["A-5"]["rows"] == [7]
    assert "no store named “Nowhere Shop”" in left_out["A-5"]["reason"]
    # the row errors keep their shape, each naming its order
    assert [(e["row"], e["column"], e["order"]) for e in order_import.errors] == [
        (6, "Address 1", "A-4"),
        (7, "Store", "A-5"),
    ]


def test_an_order_in_an_unknown_store_counts_as_an_order_with_errors(owner, store):
    order_import = upload_naming_stores(owner, xlsx_bytes([row("U-1", Store="Nowhere Shop")]))
    assert order_import.status == OrderImport.Status.INVALID
    assert (order_import.order_count, order_import.new_count, order_import.existing_count) == (1, 0, 0)
    assert "1 left out" in order_import.message


def test_rows_without_an_order_no_are_errors_but_no_order(owner, store):
    order_import = upload(owner, store, xlsx_bytes([row("N-1"), row("")]))
    assert (order_import.order_count, order_import.error_count) == (1, 1)
    assert [(e["row"], e["column"], e["order"]) for e in order_import.errors] == [(3, "Order No", "")]
    assert not any("left_out" in error for error in order_import.errors)


def test_applying_keeps_the_files_order_count_and_says_how_many_were_left_out(owner, store, already_imported):
    order_import = apply(owner, upload_naming_stores(owner, five_orders()))
    assert order_import.status == OrderImport.Status.DONE
    assert (order_import.order_count, order_import.new_count, order_import.existing_count) == (5, 2, 1)
    assert order_import.message.endswith("2 order(s) left out.")
    assert set(PlatformOrder.objects.values_list("external_id", flat=True)) == {"A-1", "A-2", "A-3"}


# --- the import page ----------------------------------------------------------------------------


def test_import_page_shows_the_counts_and_the_left_out_orders(owner, store, already_imported, client):
    order_import = upload_naming_stores(owner, five_orders())
    client.force_login(owner.user)
    response = client.get(reverse("orders:import_detail", args=[order_import.pk]))
    page = response.content.decode()
    for testid, value in [
        ("import-order-count", "5"),
        ("import-to-import", "3"),
        ("import-new-count", "2"),
        ("import-existing-count", "1"),
        ("import-left-out-count", "2"),
    ]:
        assert f'data-testid="{testid}">{value}</dd>' in page, testid
    table = page[page.index('data-testid="import-left-out"') : page.index('data-testid="import-errors"')]
    assert "<td>A-4</td><td>5, 6</td>" in table
    assert "<td>A-5</td><td>7</td>" in table
    assert "A-1" not in table and "A-2" not in table


def test_import_page_shows_the_preview_message_once(owner, store, already_imported, client):
    order_import = upload_naming_stores(owner, five_orders())
    client.force_login(owner.user)
    page = client.get(reverse("orders:import_detail", args=[order_import.pk])).content.decode()
    assert page.count("2 left out.") == 1


def test_the_result_of_confirm_appears_once_on_the_page(owner, store, client):
    client.force_login(owner.user)
    client.post(
        reverse("orders:import"),
        {"store": store.pk, "file": SimpleUploadedFile("o.xlsx", xlsx_bytes([row("C-1"), row("C-2", quantity=0)]))},
    )
    order_import = OrderImport.objects.get()
    response = client.post(reverse("orders:import_confirm", args=[order_import.pk]), follow=True)
    page = response.content.decode()
    order_import.refresh_from_db()
    assert order_import.status == OrderImport.Status.DONE
    assert order_import.message.startswith("1 new order(s)")
    assert page.count(order_import.message) == 1
    assert order_import.message in page[page.index('class="messages"') :]  # as the flashed message
    # a later visit (nothing flashed any more) still shows it, once
    again = client.get(reverse("orders:import_detail", args=[order_import.pk])).content.decode()
    assert again.count(order_import.message) == 1


# --- one content, one row count -----------------------------------------------------------------


def _xlsx_with_blank_rows(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for values in rows:
        sheet.append(values if values else [None] * len(HEADER))
    sheet.append([""] * len(HEADER))  # a trailing row of empty strings
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv_with_blank_rows(rows) -> bytes:
    lines = [",".join(HEADER)]
    for values in rows:
        lines.append(",".join(str(value) for value in values) if values else "," * (len(HEADER) - 1))
    return ("\r\n".join(lines) + "\r\n\r\n").encode()  # a blank line, then the trailing newline


def test_same_content_gives_the_same_row_count_as_xlsx_and_csv(owner, store):
    content = [row("R-1"), [], row("R-2"), row("R-2", "MASK"), [], []]
    as_xlsx = upload(owner, store, _xlsx_with_blank_rows(content), "o.xlsx")
    as_csv = upload(owner, store, _csv_with_blank_rows(content), "o.csv")
    counts = ("total_rows", "order_count", "new_count", "error_count")
    assert [getattr(as_xlsx, name) for name in counts] == [3, 2, 2, 0]
    assert [getattr(as_csv, name) for name in counts] == [3, 2, 2, 0]
    assert as_xlsx.message == as_csv.message


def test_a_csv_ending_in_a_newline_counts_no_extra_row(owner, store):
    order_import = upload(owner, store, csv_bytes([row("T-1"), row("T-2")]), "o.csv")
    assert order_import.total_rows == 2


# --- postcodes in the order file ------------------------------------------------------------------


def test_a_postcode_that_is_not_the_countrys_is_a_row_error_and_never_stored(owner, store, jp_store):
    content = xlsx_bytes(
        [
            row("P-1", Store="Offline Shop", Postcode="2134-"),  # row 2: fine once read (02134)
            row("P-2", Store="Offline Shop", Postcode="213"),  # row 3
            row("P-3", Store="JP Shop", Country="JP", Postcode="10000011"),  # row 4
        ]
    )
    order_import = upload_naming_stores(owner, content)
    errors = {(e["row"], e["column"]): e["message"] for e in order_import.errors}
    assert set(errors) == {(3, "Postcode"), (4, "Postcode")}
    assert errors[(4, "Postcode")] == "“10000011” is not a Japanese postcode: 7 digits, written 100-0001."
    assert "US ZIP code" in errors[(3, "Postcode")]
    assert (order_import.order_count, order_import.new_count) == (3, 1)
    apply(owner, order_import)
    assert dict(PlatformOrder.objects.values_list("external_id", "shipping_address__postal_code")) == {"P-1": "02134"}


def test_postcodes_from_numeric_xlsx_cells_and_csv_text_are_written_the_countrys_way(owner, jp_store):
    rows = [
        row("J-1", Country="JP", Postcode=1000001),
        row("J-2", Country="JP", Postcode="〒１００－０００２"),
        row("J-3", Country="JP", Postcode=600001),
    ]
    apply(owner, upload(owner, jp_store, xlsx_bytes(rows)))
    csv_rows = [row("J-4", Country="JP", Postcode="1000004"), row("J-5", Country="JP", Postcode="100 0005")]
    apply(owner, upload(owner, jp_store, csv_bytes(csv_rows), "o.csv"))
    postcodes = dict(PlatformOrder.objects.values_list("external_id", "shipping_address__postal_code"))
    assert postcodes == {
        "J-1": "100-0001",
        "J-2": "100-0002",
        "J-3": "060-0001",
        "J-4": "100-0004",
        "J-5": "100-0005",
    }


def test_us_postcodes_that_lost_their_zero_in_xlsx_or_csv_get_it_back(owner, store):
    apply(owner, upload(owner, store, xlsx_bytes([row("Z-1", Postcode=2134), row("Z-2", Postcode=501)])))
    apply(
        owner,
        upload(owner, store, csv_bytes([row("Z-3", Postcode="2134"), row("Z-4", Postcode="02134-1234")]), "o.csv"),
    )
    postcodes = dict(PlatformOrder.objects.values_list("external_id", "shipping_address__postal_code"))
    assert postcodes == {"Z-1": "02134", "Z-2": "00501", "Z-3": "02134", "Z-4": "02134-1234"}


def test_rows_of_one_order_writing_one_postcode_two_ways_agree(owner, jp_store):
    content = xlsx_bytes(
        [row("W-1", Country="JP", Postcode="100-0001"), row("W-1", "SERUM", Country="JP", Postcode=1000001)]
    )
    order_import = upload(owner, jp_store, content)
    assert order_import.errors == []
    assert order_import.status == OrderImport.Status.READY


def test_a_left_out_order_of_many_rows_is_named_with_its_first_rows(owner, store, client):
    rows = [row("M-1", quantity=1) for _ in range(24)] + [row("M-1", quantity="lots")]
    order_import = upload(owner, store, xlsx_bytes(rows))
    [left_out] = [error["left_out"] for error in order_import.errors if "left_out" in error]
    assert (left_out["rows"], left_out["row_count"]) == (list(range(2, 22)), 25)
    assert left_out["reason"].startswith("Row 26, Quantity:")
    client.force_login(owner.user)
    page = client.get(reverse("orders:import_detail", args=[order_import.pk])).content.decode()
    assert "20, 21 … (25 rows)" in page
