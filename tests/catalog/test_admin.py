import io
from datetime import timedelta
from decimal import Decimal

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from catalog import services
from catalog.demo import pdf_bytes
from catalog.models import Document, Item, Product
from catalog.resources import ItemResource, ProductResource
from tests.catalog.factories import DocumentFactory, ItemFactory, ProductFactory, WarehouseFactory
from tests.distribution.factories import UserFactory

ITEM_HEADERS = ["item_id", "product", "warehouse", "price", "currency", "weight_grams", "stock_on_hand", "is_active"]


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def serum(db):
    WarehouseFactory(code="US-CA")
    WarehouseFactory(code="JP-TYO", country="JP", sites="JP")
    return ProductFactory(code="LS228800001", name="SNOWTOX CRYSTAL TREATMENT SERUM")


def _xlsx(headers, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(client, model: str, content: bytes):
    upload = SimpleUploadedFile("items.xlsx", content)
    return client.post(
        reverse(f"admin:catalog_{model}_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )


@pytest.mark.parametrize(
    "url",
    [
        "admin:catalog_product_changelist",
        "admin:catalog_product_add",
        "admin:catalog_item_changelist",
        "admin:catalog_document_changelist",
        "admin:catalog_warehouse_changelist",
        "admin:catalog_warehouse_add",
        "admin:catalog_stockmovement_changelist",
        "admin:catalog_product_import",
        "admin:catalog_item_import",
        "admin:catalog_item_export",
    ],
)
def test_catalog_admin_pages_open_for_staff(staff_client, serum, url):
    ItemFactory(product=serum)
    DocumentFactory(product=serum)
    assert staff_client.get(reverse(url)).status_code == 200


def test_catalog_admin_product_change_page_has_item_and_document_inlines(staff_client, serum):
    ItemFactory(product=serum, item_id="LS228800001-01-01")
    html = staff_client.get(reverse("admin:catalog_product_change", args=[serum.pk])).content.decode()
    assert "LS228800001-01-01" in html
    assert 'name="documents-TOTAL_FORMS"' in html and 'name="items-TOTAL_FORMS"' in html


def test_catalog_admin_flags_expired_and_expiring_documents(staff_client, serum):
    today = timezone.localdate()
    DocumentFactory(product=serum, title="Old certificate", valid_until=today - timedelta(days=3))
    DocumentFactory(product=serum, title="Soon report", valid_until=today + timedelta(days=10))
    DocumentFactory(product=serum, title="Fresh manual", valid_until=today + timedelta(days=300))
    changelist = reverse("admin:catalog_document_changelist")
    expired = staff_client.get(changelist, {"expiry": "expired"}).content.decode()
    assert "Old certificate" in expired and "Soon report" not in expired
    expiring = staff_client.get(changelist, {"expiry": "expiring"}).content.decode()
    assert "Soon report" in expiring and "Fresh manual" not in expiring
    assert "Expires within 30 days" in expiring
    products = staff_client.get(reverse("admin:catalog_product_changelist"), {"documents": "attention"})
    assert "1 expired" in products.content.decode()


def _product_form(product: Product, document_file) -> dict:
    return {
        "code": product.code,
        "name": product.name,
        "brand": product.brand,
        "is_active": "on",
        "attributes": "{}",
        "declared_value": "5.00",
        "declared_value_currency": "USD",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-0-doc_type": "certificate",
        "documents-0-title": "Uploaded",
        "documents-0-file": document_file,
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
    }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00", "are not allowed"),
        ("renamed.pdf", b"MZ\x90\x00 pretending", "is not a PDF file"),
    ],
)
def test_catalog_admin_document_upload_of_a_bad_file_is_refused_and_nothing_saved(
    staff_client, serum, name, content, message
):
    url = reverse("admin:catalog_product_change", args=[serum.pk])
    response = staff_client.post(url, _product_form(serum, SimpleUploadedFile(name, content)))
    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_catalog_admin_document_upload_over_the_size_limit_is_refused(staff_client, serum, settings):
    settings.CATALOG_DOCUMENT_MAX_BYTES = 50
    url = reverse("admin:catalog_product_change", args=[serum.pk])
    upload = SimpleUploadedFile("big.pdf", pdf_bytes(["a document larger than fifty bytes"]))
    response = staff_client.post(url, _product_form(serum, upload))
    assert "the largest allowed is 50" in response.content.decode()
    assert not Document.objects.exists()


def test_catalog_admin_document_upload_of_a_pdf_is_saved(staff_client, serum):
    url = reverse("admin:catalog_product_change", args=[serum.pk])
    response = staff_client.post(url, _product_form(serum, SimpleUploadedFile("cert.pdf", pdf_bytes(["ok"]))))
    assert response.status_code == 302
    assert Document.objects.get().filename == "cert.pdf"


def test_catalog_admin_item_save_does_not_touch_reserved(staff_client, serum):
    item = ItemFactory(product=serum, item_id="LS228800001-01-01", stock_on_hand=10)
    services.item_stock_reserve(item_id=item.pk, quantity=4, reference="DO-1")
    data = {
        "item_id": item.item_id,
        "product": serum.pk,
        "warehouse": item.warehouse.pk,
        "variant_attributes": "{}",
        "price": "11.00",
        "currency": "USD",
        "weight_grams": "120",
        "stock_on_hand": "12",
        "reserved": "0",  # ignored: read-only
        "is_active": "on",
    }
    response = staff_client.post(reverse("admin:catalog_item_change", args=[item.pk]), data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.price, item.stock_on_hand, item.reserved) == (Decimal("11.00"), 12, 4)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["LS228800001-1-01", "LS228800001", "US-CA", 12.8, "USD", 120, 5, 1], "is not a valid Item ID"),
        (["LS228800001-01-01", "LS228800001", "US-CA", -1, "USD", 120, 5, 1], "greater than or equal to 0"),
        (["LS228800001-01-01", "LS228800001", "US-CA", 12.8, "USD", 120, -5, 1], "greater than or equal to 0"),
        (["LS228800001-01-01", "LS228800001", "XX-NOPE", 12.8, "USD", 120, 5, 1], "Unknown warehouse: XX-NOPE"),
        (["LS228800001-01-01", "NOPE", "US-CA", 12.8, "USD", 120, 5, 1], "Unknown product: NOPE"),
    ],
)
def test_catalog_admin_import_of_a_bad_item_row_is_refused_and_nothing_saved(staff_client, serum, row, message):
    good = ["LS228800001-01-03", "LS228800001", "JP-TYO", 13.1, "USD", 120, 5, 1]
    response = _import(staff_client, "item", _xlsx(ITEM_HEADERS, [good, row]))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'name="import_file_name"' not in html  # no confirm button
    assert not Item.objects.exists()


def test_catalog_admin_import_with_a_duplicate_item_id_is_refused(staff_client, serum):
    rows = [
        ["LS228800001-01-01", "LS228800001", "US-CA", 12.8, "USD", 120, 5, 1],
        ["ls228800001-01-01", "LS228800001", "US-CA", 12.9, "USD", 120, 6, 1],
    ]
    response = _import(staff_client, "item", _xlsx(ITEM_HEADERS, rows))
    assert "Item ID LS228800001-01-01 appears twice (rows 2 and 3)" in response.content.decode()
    assert not Item.objects.exists()


def test_catalog_admin_import_of_good_items_reaches_the_confirm_step(staff_client, serum):
    rows = [["ls228800001-01-01", "LS228800001", "US-CA", 12.8, "USD", 120, 5, 1]]
    response = _import(staff_client, "item", _xlsx(ITEM_HEADERS, rows))
    assert 'name="import_file_name"' in response.content.decode()
    assert not Item.objects.exists()  # the first step is a dry run


def test_item_resource_import_creates_and_updates_items_without_touching_reserved(serum):
    item = ItemFactory(product=serum, item_id="LS228800001-01-01", stock_on_hand=10)
    services.item_stock_reserve(item_id=item.pk, quantity=3, reference="DO-1")
    dataset = tablib.Dataset(headers=[*ITEM_HEADERS, "reserved"])
    dataset.append(["LS228800001-01-01", "LS228800001", "US-CA", "12.80", "USD", 120, 20, 1, 0])
    dataset.append(["ls228800001-01-03", "ls228800001", "jp-tyo", "13.10", "USD", 120, 7, 1, 0])
    result = ItemResource().import_data(dataset, dry_run=False, raise_errors=True)
    assert not result.has_validation_errors()
    item.refresh_from_db()
    assert (item.stock_on_hand, item.reserved, item.price) == (20, 3, Decimal("12.80"))
    assert Item.objects.get(item_id="LS228800001-01-03").warehouse.code == "JP-TYO"


def test_item_resource_import_with_one_bad_row_rolls_back_the_file(serum):
    dataset = tablib.Dataset(headers=ITEM_HEADERS)
    dataset.append(["LS228800001-01-01", "LS228800001", "US-CA", "12.80", "USD", 120, 5, 1])
    dataset.append(["LS228800001-01-03", "LS228800001", "JP-TYO", "-1", "USD", 120, 5, 1])
    result = ItemResource().import_data(dataset, dry_run=False, rollback_on_validation_errors=True)
    assert result.has_validation_errors()
    assert not Item.objects.exists()


def test_product_resource_round_trips_through_xlsx(serum):
    serum.attributes = {"volume": "30 ml"}
    serum.save()
    exported = ProductResource().export()
    sheet = load_workbook(io.BytesIO(exported.export("xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("code", "name")
    assert rows[1][:2] == ("LS228800001", "SNOWTOX CRYSTAL TREATMENT SERUM")
    # an edited sheet comes back as an update
    dataset = tablib.Dataset().load(exported.export("xlsx"), format="xlsx")
    dataset.append(["NEW0001", "NEW THING", "BRAND", "Gadgets", "", '{"colour": "red"}', "", "3.00", "USD"] + [""] * 7)
    result = ProductResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), [
        (e.error, e.traceback) for row in result.rows for e in row.errors
    ]
    new = Product.objects.get(code="NEW0001")
    assert (new.category.name, new.attributes) == ("Gadgets", {"colour": "red"})


def test_item_resource_export_has_available_stock(serum):
    item = ItemFactory(product=serum, item_id="LS228800001-01-01", warehouse__code="US-CA", stock_on_hand=10)
    services.item_stock_reserve(item_id=item.pk, quantity=4, reference="DO-1")
    dataset = ItemResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert (row["item_id"], row["product"], row["warehouse"], row["available"]) == (
        "LS228800001-01-01",
        "LS228800001",
        "US-CA",
        "6",
    )


@pytest.mark.parametrize(
    ("item_id", "price", "message"),
    [
        ("NEW0001-1-01", "5.00", "is not a valid Item ID"),
        ("OTHER01-01-01", "5.00", "must start with its product code"),
        ("NEW0001-01-01", "-5.00", "greater than or equal to 0"),
    ],
)
def test_catalog_admin_product_added_with_a_bad_item_saves_nothing(staff_client, serum, item_id, price, message):
    warehouse = WarehouseFactory(code="US-CA")
    data = {
        "code": "new0001",
        "name": "NEW PRODUCT",
        "is_active": "on",
        "attributes": "{}",
        "declared_value": "1.00",
        "declared_value_currency": "USD",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-item_id": item_id,
        "items-0-warehouse": warehouse.pk,
        "items-0-variant_attributes": "{}",
        "items-0-price": price,
        "items-0-currency": "USD",
        "items-0-weight_grams": "100",
        "items-0-stock_on_hand": "5",
        "items-0-is_active": "on",
        "documents-TOTAL_FORMS": "0",
        "documents-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
    }
    response = staff_client.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Product.objects.filter(code="NEW0001").exists() and not Item.objects.exists()
    # and with a good Item ID, typed in lower case, both are saved
    data.update({"items-0-item_id": "new0001-01-01", "items-0-price": "5.00"})
    assert staff_client.post(reverse("admin:catalog_product_add"), data).status_code == 302
    assert Item.objects.get().item_id == "NEW0001-01-01"
