"""Order file import (guide step 6): template, reading xlsx and csv, per-row errors,
preview then confirm, re-import creating nothing, text postcodes, background progress."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from mapping.models import Mapping
from orders.imports import format as orderfile
from orders.imports.services import (
    order_import_apply,
    order_import_check,
    order_import_create,
    order_import_start_apply,
)
from orders.models import Logistics, Order, OrderImport, OrderStatus, PlatformOrder
from stores.models import Platform
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import owner_of
from tests.stores.factories import StoreFactory

HEADER = orderfile.COLUMNS


def row(order_no="A-1001", sku="SERUM", quantity=1, **overrides):
    values = {
        "Store": "",
        "Order No": order_no,
        "Order Date": "2026-01-31",
        "SKU": sku,
        "Quantity": quantity,
        "Recipient": "Ada Lovelace",
        "Phone": "+1 212 555 0101",
        "Email": "ada@example.com",
        "Country": "US",
        "State/Province": "NY",
        "City": "New York",
        "Address 1": "12 Analytical Ave",
        "Address 2": "",
        "Postcode": "02134",
        "Logistics": "",
        "Remark": "",
    }
    values.update({key.replace("_", " "): value for key, value in overrides.items()})
    return [values[column] for column in HEADER]


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


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


def upload(owner, store, content: bytes, name="orders.xlsx") -> OrderImport:
    order_import = order_import_create(actor=owner, store=store, upload=SimpleUploadedFile(name, content))
    return order_import_check(order_import=order_import)


def apply(owner, order_import) -> OrderImport:
    order_import_start_apply(actor=owner, order_import=order_import)
    return order_import_apply(order_import=order_import)


# --- the template ------------------------------------------------------------------------------


def test_template_xlsx_has_exactly_the_guide_columns(owner, client):
    client.force_login(owner.user)
    response = client.get(reverse("orders:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == orderfile.XLSX_CONTENT_TYPE
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    rows = workbook.get_sheet_by_index(0).to_python()
    assert rows[0] == [
        "Store",
        "Order No",
        "Order Date",
        "SKU",
        "Quantity",
        "Recipient",
        "Phone",
        "Email",
        "Country",
        "State/Province",
        "City",
        "Address 1",
        "Address 2",
        "Postcode",
        "Logistics",
        "Remark",
    ]
    assert "02134" in rows[1] and "100-0001" in rows[3]  # the example postcodes stay text


def test_template_csv_has_the_same_columns(owner, client):
    client.force_login(owner.user)
    response = client.get(reverse("orders:import_template") + "?format=csv")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == orderfile.COLUMNS


def test_the_template_itself_imports_cleanly(owner, store):
    order_import = upload(owner, store, orderfile.template_xlsx())
    assert order_import.status == OrderImport.Status.READY, order_import.errors
    assert (order_import.order_count, order_import.error_count) == (2, 0)


# --- preview and confirm --------------------------------------------------------------------------


def test_rows_with_the_same_order_no_form_one_order(owner, store):
    content = xlsx_bytes([row("A-1", "SERUM", 2), row("A-1", "MASK", 1, Remark="gift"), row("A-2", "SERUM", 1)])
    order_import = upload(owner, store, content)
    assert (order_import.status, order_import.order_count, order_import.new_count) == ("ready", 2, 2)
    assert not Order.objects.exists()  # the preview writes nothing
    apply(owner, order_import)
    order = Order.objects.get(platform_order__external_id="A-1")
    assert sorted((line.store_sku, line.quantity) for line in order.lines.all()) == [("MASK", 1), ("SERUM", 2)]
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.remark == "gift"
    assert PlatformOrder.objects.get(external_id="A-1").source == PlatformOrder.Source.IMPORT
    assert Order.objects.count() == 2


def test_reimporting_the_same_file_creates_nothing_new(owner, store):
    content = xlsx_bytes([row("A-1"), row("A-2", "MASK", 3)])
    apply(owner, upload(owner, store, content))
    again = upload(owner, store, content)
    assert (again.new_count, again.existing_count) == (0, 2)
    again = apply(owner, again)
    assert again.status == OrderImport.Status.DONE
    assert again.new_count == 0
    assert PlatformOrder.objects.count() == 2
    assert Order.objects.count() == 2


def test_confirm_is_applied_once(owner, store):
    order_import = upload(owner, store, xlsx_bytes([row()]))
    apply(owner, order_import)
    with pytest.raises(Exception, match="imported already"):
        order_import_start_apply(actor=owner, order_import=order_import)


def test_per_row_errors_name_the_row_and_column_and_leave_that_order_out(owner, store):
    content = xlsx_bytes(
        [
            row("A-1"),
            row("A-2", quantity="two"),
            row("A-3", Country="Atlantis"),
            row("A-4", Order_Date="03/04/2026"),
            row("A-5", Recipient=""),
            row("A-6", Logistics="by drone"),
            row("A-7", Email="not-an-email"),
        ]
    )
    order_import = upload(owner, store, content)
    problems = {(e["row"], e["column"]) for e in order_import.errors}
    assert problems == {
        (3, "Quantity"),
        (4, "Country"),
        (5, "Order Date"),
        (6, "Recipient"),
        (7, "Logistics"),
        (8, "Email"),
    }
    assert order_import.status == OrderImport.Status.READY
    # every order of the file is counted; only A-1 is to be imported
    assert (order_import.order_count, order_import.new_count, order_import.existing_count) == (7, 1, 0)
    assert "YYYY-MM-DD" in next(e["message"] for e in order_import.errors if e["row"] == 5)
    apply(owner, order_import)
    assert list(PlatformOrder.objects.values_list("external_id", flat=True)) == ["A-1"]


def test_rows_of_one_order_that_disagree_on_the_address_are_an_error(owner, store):
    content = xlsx_bytes([row("A-1"), row("A-1", "MASK", Address_1="Somewhere else")])
    order_import = upload(owner, store, content)
    assert [(e["row"], e["column"]) for e in order_import.errors] == [(3, "Address 1")]
    assert order_import.status == OrderImport.Status.INVALID


def test_a_file_without_the_required_columns_is_refused_as_a_whole(owner, store):
    order_import = upload(owner, store, xlsx_bytes([["x", "y"]], header=["Order No", "Something"]))
    assert order_import.status == OrderImport.Status.FAILED
    assert "SKU" in order_import.message


def test_a_file_that_is_not_xlsx_or_csv_is_refused_on_upload(owner, store):
    with pytest.raises(orderfile.FileRejected):
        order_import_create(actor=owner, store=store, upload=SimpleUploadedFile("orders.pdf", b"%PDF-1.4"))


# --- values -------------------------------------------------------------------------------------


def test_postcodes_and_phones_survive_as_text(owner, store):
    jp_store = StoreFactory(distributor=owner.distributor, platform=Platform.OTHER, name="JP Shop", site="JP")
    content = xlsx_bytes(
        [
            # a US postcode a spreadsheet turned into the number 2134, and a phone as a number
            row("US-1", Postcode=2134, Phone=12125550101),
            row("US-2", Postcode="02134"),
            row("JP-1", Store="JP Shop", Country="Japan", Postcode="100-0001", Phone="+81 3-5555-0101"),
        ]
    )
    order_import = order_import_create(actor=owner, store=None, upload=SimpleUploadedFile("o.xlsx", content))
    order_import = order_import_check(order_import=order_import)
    # rows without a store name need a store chosen on the form
    assert {e["row"] for e in order_import.errors} == {2, 3}
    order_import = upload(owner, store, xlsx_bytes([row("US-1", Postcode=2134, Phone=12125550101), row("US-2")]))
    apply(owner, order_import)
    jp_import = upload(owner, jp_store, xlsx_bytes([row("JP-1", Country="Japan", Postcode="100-0001")]))
    apply(owner, jp_import)
    addresses = dict(PlatformOrder.objects.values_list("external_id", "shipping_address"))
    assert addresses["US-1"]["postal_code"] == "02134"
    assert addresses["US-1"]["phone"] == "12125550101"
    assert addresses["US-2"]["postal_code"] == "02134"
    assert (addresses["JP-1"]["postal_code"], addresses["JP-1"]["country_code"]) == ("100-0001", "JP")


def test_csv_reads_the_same_as_xlsx(owner, store):
    order_import = upload(owner, store, csv_bytes([row("C-1", Postcode="02134", Logistics="Self-pickup")]), "o.csv")
    apply(owner, order_import)
    order = Order.objects.get()
    assert order.postal_code == "02134"
    assert order.logistics == Logistics.SELF_PICKUP


def test_store_column_picks_among_the_distributors_stores(owner, store):
    other_tenant_store = StoreFactory(name="Not Yours")
    content = xlsx_bytes([row("S-1", Store="offline shop"), row("S-2", Store=other_tenant_store.name)])
    order_import = order_import_create(actor=owner, store=None, upload=SimpleUploadedFile("o.xlsx", content))
    order_import = order_import_check(order_import=order_import)
    assert [(e["row"], e["column"]) for e in order_import.errors] == [(3, "Store")]
    apply(owner, order_import)
    assert PlatformOrder.objects.get().store == store


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026/01/31 14:30", datetime(2026, 1, 31, 14, 30, tzinfo=UTC)),
        ("31.01.2026", datetime(2026, 1, 31, tzinfo=UTC)),
        ("Jan 31, 2026", datetime(2026, 1, 31, tzinfo=UTC)),
        ("31 January 2026", datetime(2026, 1, 31, tzinfo=UTC)),
        ("31/01/2026", datetime(2026, 1, 31, tzinfo=UTC)),
        ("01/31/2026", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T09:15:00+09:00", datetime(2026, 1, 31, 0, 15, tzinfo=UTC)),
        (date(2026, 1, 31), datetime(2026, 1, 31, tzinfo=UTC)),
        (46053.0, datetime(2026, 1, 31, tzinfo=UTC)),
        ("", None),
    ],
)
def test_order_dates_in_common_formats(value, expected):
    assert orderfile.parse_date(value) == expected


@pytest.mark.parametrize("value", ["03/04/2026", "yesterday", "2026-13-01"])
def test_ambiguous_or_unreadable_dates_are_refused(value):
    with pytest.raises(ValueError):
        orderfile.parse_date(value)


@pytest.mark.parametrize(
    ("value", "code"), [("JP", "JP"), ("jpn", "JP"), ("Japan", "JP"), ("United States of America", "US"), ("uk", "GB")]
)
def test_countries_by_iso_code_or_english_name(value, code):
    from orders.countries import country_code

    assert country_code(value) == code


# --- through the pages, and in the background -----------------------------------------------------


def test_import_pages_upload_preview_confirm(owner, store, client):
    client.force_login(owner.user)
    page = client.get(reverse("orders:import"))
    assert page.status_code == 200 and "Download the template" in page.content.decode()
    response = client.post(
        reverse("orders:import"),
        {
            "store": store.pk,
            "file": SimpleUploadedFile("orders.xlsx", xlsx_bytes([row("P-1"), row("P-2", quantity=0)])),
        },
    )
    order_import = OrderImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "orders:import_detail", args=[order_import.pk]
    )
    preview = client.get(response["Location"]).content.decode()
    assert "Confirm and import" in preview and "at least 1" in preview
    client.post(reverse("orders:import_confirm", args=[order_import.pk]))
    assert list(PlatformOrder.objects.values_list("external_id", flat=True)) == ["P-1"]
    assert client.get(reverse("orders:import_status", args=[order_import.pk])).json()["status"] == "done"


def test_large_files_run_in_the_background_with_progress_kept_on_the_row(
    owner, store, client, settings, django_capture_on_commit_callbacks
):
    settings.ORDER_IMPORT_INLINE_BYTES = 0  # every file counts as large
    client.force_login(owner.user)
    rows = [row(f"B-{n}", "SERUM" if n % 2 else "MASK", n % 3 + 1) for n in range(1, 301)]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            reverse("orders:import"), {"store": store.pk, "file": SimpleUploadedFile("big.xlsx", xlsx_bytes(rows))}
        )
    order_import = OrderImport.objects.get()
    assert order_import.status == OrderImport.Status.CHECKING
    page = client.get(reverse("orders:import_detail", args=[order_import.pk])).content.decode()
    assert "data-progress-url" in page  # a reload shows the bar where the row says it is
    for callback in queued:
        callback()  # the worker (eager in tests)
    order_import.refresh_from_db()
    assert (order_import.status, order_import.order_count, order_import.processed_rows) == ("ready", 300, 300)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:import_confirm", args=[order_import.pk]))
    order_import.refresh_from_db()
    assert order_import.status == OrderImport.Status.DONE
    assert order_import.progress_percent == 100
    assert Order.objects.count() == 300


def test_apply_uses_the_checked_orders_and_checks_again_if_they_are_gone(owner, store):
    order_import = upload(owner, store, xlsx_bytes([row("K-1"), row("K-2")]))
    assert order_import.checked_name
    order_import.file.storage.delete(order_import.checked_name)
    apply(owner, order_import)  # the kept result is gone: the file is read and checked again
    assert PlatformOrder.objects.count() == 2


def test_a_store_removed_between_check_and_apply_gets_nothing(owner, store):
    from stores.services import store_remove

    order_import = upload(owner, store, xlsx_bytes([row("R-1")]))
    store_remove(actor=owner, store=store)
    order_import = apply(owner, order_import)
    assert not PlatformOrder.objects.exists()
    assert order_import.status == OrderImport.Status.DONE
