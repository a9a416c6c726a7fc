import io
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import Workbook

from catalog import services
from catalog.demo import pdf_bytes, png_bytes
from catalog.models import Document, Item, Product, Warehouse, expiry_of
from catalog.validators import validate_document_file, validate_image_file
from distribution.errors import ApplicationError
from tests.catalog.factories import DocumentFactory, ItemFactory, ProductFactory, WarehouseFactory


def _item(**overrides) -> Item:
    product = overrides.pop("product", None) or ProductFactory(code="LS228800001")
    fields = {
        "item_id": "LS228800001-01-01",
        "product": product,
        "warehouse": overrides.pop("warehouse", None) or WarehouseFactory(code="US-CA"),
        "price": Decimal("12.80"),
        "weight_grams": 120,
        "stock_on_hand": 10,
    }
    fields.update(overrides)
    return Item(**fields)


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def _docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.django_db
def test_item_id_typed_in_lower_case_is_stored_upper_case():
    item = _item(item_id="  ls228800001-01-01 ")
    item.full_clean()
    item.save()
    assert Item.objects.get(item_id="LS228800001-01-01").pk == item.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_id",
    ["LS228800001-1-01", "LS228800001_01_01", "LS228800001-01", "LS228800001-01-01-01", "LS 228800001-01-01", ""],
)
def test_item_malformed_item_id_is_refused_with_the_rule(bad_id):
    with pytest.raises(ValidationError) as excinfo:
        _item(item_id=bad_id).full_clean()
    assert "item_id" in excinfo.value.message_dict


@pytest.mark.django_db
def test_item_duplicate_item_id_is_refused_whatever_the_case():
    first = _item()
    first.full_clean()
    first.save()
    duplicate = _item(product=first.product, warehouse=first.warehouse, item_id="ls228800001-01-01")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "item_id" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert Item.objects.count() == 1


@pytest.mark.django_db
def test_item_id_must_start_with_its_product_code():
    with pytest.raises(ValidationError) as excinfo:
        _item(item_id="XX228800001-01-01").full_clean()
    assert "must start with its product code" in str(excinfo.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", Decimal("-0.01"), "greater than or equal to 0"),
        ("stock_on_hand", -1, "greater than or equal to 0"),
        ("reserved", 11, "Reserved stock cannot exceed stock on hand"),
    ],
)
def test_item_negative_price_or_stock_is_refused_by_validation(field, value, message):
    with pytest.raises(ValidationError) as excinfo:
        _item(**{field: value}).full_clean()
    assert message in str(excinfo.value)
    assert not Item.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "update",
    [{"price": Decimal("-1")}, {"stock_on_hand": -1}, {"reserved": -1}, {"reserved": 101}],
)
def test_item_database_constraints_refuse_bad_rows_written_around_validation(update):
    item = ItemFactory(stock_on_hand=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(**update)
    item.refresh_from_db()
    assert (item.price, item.stock_on_hand, item.reserved) == (Decimal("10.00"), 100, 0)


@pytest.mark.django_db
def test_item_price_is_quantized_by_its_currency():
    item = _item(price=Decimal("1234.56"), currency="JPY")
    item.full_clean()
    assert item.price == Decimal("1235")


@pytest.mark.django_db
def test_warehouse_sites_are_normalised_and_answer_serves():
    warehouse = Warehouse(code="de-fra", name="Frankfurt", country="de", sites="de, fr;it  DE")
    warehouse.full_clean()
    warehouse.save()
    warehouse.refresh_from_db()
    assert (warehouse.code, warehouse.country, warehouse.sites) == ("DE-FRA", "DE", "DE,FR,IT")
    assert warehouse.serves("fr") and not warehouse.serves("US")


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "sites"), [("US-CA", "USA"), ("US-CA", ""), ("USCA", "US")])
def test_warehouse_bad_code_or_site_is_refused(code, sites):
    with pytest.raises(ValidationError):
        Warehouse(code=code, name="x", country="US", sites=sites).full_clean()


@pytest.mark.django_db
def test_product_access_code_needs_a_link_and_declared_value_is_not_negative():
    with pytest.raises(ValidationError) as excinfo:
        ProductFactory.build(code="AB123", cloud_drive_access_code="1234", declared_value=Decimal("-1")).full_clean()
    assert {"cloud_drive_url", "declared_value"} <= set(excinfo.value.message_dict)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cert.pdf", pdf_bytes(["x"])),
        ("photo.PNG", png_bytes((1, 2, 3), size=4)),
        ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 20),
        ("photo.webp", b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 8),
        ("manual.docx", _docx_bytes()),
        ("sheet.xlsx", _xlsx_bytes()),
    ],
)
def test_validate_document_file_accepts_the_allowed_types(name, content):
    validate_document_file(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00", "not allowed"),
        ("notes.txt", b"hello", "not allowed"),
        ("noextension", pdf_bytes(["x"]), "not allowed"),
        ("fake.pdf", b"MZ\x90\x00 not a pdf", "is not a PDF file"),
        ("fake.docx", _xlsx_bytes(), "is not a DOCX file"),
        ("fake.png", pdf_bytes(["x"]), "is not a PNG file"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_validate_document_file_refuses_bad_types_and_renamed_files(name, content, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_document_file(SimpleUploadedFile(name, content))
    assert message in " ".join(excinfo.value.messages)


def test_validate_document_file_refuses_a_file_over_the_size_setting(settings):
    settings.CATALOG_DOCUMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as excinfo:
        validate_document_file(SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 200))
    assert "the largest allowed is 100" in " ".join(excinfo.value.messages)


def test_validate_image_file_refuses_a_pdf():
    with pytest.raises(ValidationError):
        validate_image_file(SimpleUploadedFile("sheet.pdf", pdf_bytes(["x"])))


@pytest.mark.django_db
def test_document_create_with_a_bad_file_saves_nothing(settings):
    product = ProductFactory()
    with pytest.raises(ApplicationError) as excinfo:
        services.document_create(
            product=product, doc_type=Document.Type.MSDS, file=ContentFile(b"MZ\x90\x00", name="msds.pdf")
        )
    assert "is not a PDF file" in str(excinfo.value)
    assert not Document.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


@pytest.mark.django_db
def test_document_create_stores_a_valid_file_under_the_product():
    product = ProductFactory(code="LS228800001")
    document = services.document_create(
        product=product,
        doc_type=Document.Type.CERTIFICATE,
        file=ContentFile(pdf_bytes(["ok"]), name="Cert 2026.pdf"),
        valid_until=timezone.localdate() + timedelta(days=400),
    )
    assert document.file.name.startswith("catalog/LS228800001/documents/")
    assert document.filename == "Cert_2026.pdf"  # the storage's safe name, without the random prefix
    assert document.expiry == Document.Expiry.VALID


def test_expiry_of_flags_expired_and_expiring_within_30_days():
    today = timezone.localdate()
    assert expiry_of(None, today) == Document.Expiry.UNLIMITED
    assert expiry_of(today - timedelta(days=1), today) == Document.Expiry.EXPIRED
    assert expiry_of(today, today) == Document.Expiry.EXPIRING
    assert expiry_of(today + timedelta(days=30), today) == Document.Expiry.EXPIRING
    assert expiry_of(today + timedelta(days=31), today) == Document.Expiry.VALID


@pytest.mark.django_db
def test_catalog_models_are_shared_by_all_distributors():
    for model in (Warehouse, Product, Item, Document):
        assert model.tenant_path is None
    assert DocumentFactory().product.documents.count() == 1
