import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from openpyxl import load_workbook

from catalog.demo import pdf_bytes
from catalog.models import Document
from distribution.models import Role
from tests.catalog.factories import (
    CategoryFactory,
    DocumentFactory,
    ItemFactory,
    ProductFactory,
    ProductImageFactory,
    WarehouseFactory,
)
from tests.distribution.factories import MembershipFactory, owner_of

# Lazy: resolving at import (collection) time would load the URLconf before the test settings apply.
LIST_URL = reverse_lazy("catalog:product_list")
# Pinned: session, user, membership, warehouses, categories, count, page, its items, its images.
LIST_QUERIES = 9
# Pinned: session, user, membership, product, its items, documents, images.
DETAIL_QUERIES = 7


@pytest.fixture
def operator_client(client, db):
    member = MembershipFactory(distributor=owner_of().distributor, role=Role.OPERATOR)
    client.force_login(member.user)
    return client


@pytest.fixture
def world(db):
    """The guide's product in the US and JP warehouses, and a few others."""
    us = WarehouseFactory(code="US-CA", country="US", sites="US")
    jp = WarehouseFactory(code="JP-TYO", country="JP", sites="JP")
    de = WarehouseFactory(code="DE-FRA", country="DE", sites="DE,FR,IT")
    skin = CategoryFactory(name="Skin care")
    home = CategoryFactory(name="Home")
    serum = ProductFactory(code="LS228800001", name="SNOWTOX CRYSTAL TREATMENT SERUM", category=skin)
    ItemFactory(product=serum, warehouse=us, item_id="LS228800001-01-01", price=Decimal("12.80"), stock_on_hand=240)
    ItemFactory(product=serum, warehouse=jp, item_id="LS228800001-01-03", price=Decimal("13.10"), stock_on_hand=0)
    board = ProductFactory(code="VD100", name="BAMBOO CUTTING BOARD", brand="VERDANT", category=home)
    ItemFactory(product=board, warehouse=de, item_id="VD100-01-02", stock_on_hand=7)
    return {"us": us, "jp": jp, "de": de, "skin": skin, "home": home, "serum": serum, "board": board}


def _names(response) -> list[str]:
    return [product.name for product in response.context["products"]]


def test_catalog_list_shows_active_products_with_their_items(operator_client, world):
    ProductFactory(name="RETIRED PRODUCT", is_active=False)
    response = operator_client.get(LIST_URL)
    assert response.status_code == 200
    assert _names(response) == ["BAMBOO CUTTING BOARD", "SNOWTOX CRYSTAL TREATMENT SERUM"]
    html = response.content.decode()
    assert "LS228800001-01-01" in html and "LS228800001-01-03" in html
    # Operators see no prices (the Members page says so); tests/catalog/test_roles.py
    # checks that the roles who see money do see them.
    assert "12.80" not in html
    assert "RETIRED PRODUCT" not in html


def test_catalog_list_hides_inactive_items_and_items_of_inactive_warehouses(operator_client, world):
    world["jp"].is_active = False
    world["jp"].save()
    ItemFactory(product=world["serum"], warehouse=world["de"], item_id="LS228800001-01-02", is_active=False)
    html = operator_client.get(LIST_URL).content.decode()
    assert "LS228800001-01-01" in html
    assert "LS228800001-01-03" not in html and "LS228800001-01-02" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("snowtox crystal", ["SNOWTOX CRYSTAL TREATMENT SERUM"]),
        ("ls2288", ["SNOWTOX CRYSTAL TREATMENT SERUM"]),
        ("LS228800001-01-03", ["SNOWTOX CRYSTAL TREATMENT SERUM"]),
        ("vd100-01-02", ["BAMBOO CUTTING BOARD"]),
        ("verdant", ["BAMBOO CUTTING BOARD"]),
        ("nothing like this", []),
    ],
)
def test_catalog_list_search_matches_name_code_brand_and_item_id(operator_client, world, query, expected):
    assert _names(operator_client.get(LIST_URL, {"q": query})) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"warehouse": "JP-TYO"}, ["SNOWTOX CRYSTAL TREATMENT SERUM"]),
        ({"warehouse": "JP-TYO", "in_stock": "on"}, []),
        ({"site": "FR"}, ["BAMBOO CUTTING BOARD"]),
        ({"site": "US"}, ["SNOWTOX CRYSTAL TREATMENT SERUM"]),
        ({"in_stock": "on"}, ["BAMBOO CUTTING BOARD", "SNOWTOX CRYSTAL TREATMENT SERUM"]),
        ({"warehouse": "NO-SUCH"}, ["BAMBOO CUTTING BOARD", "SNOWTOX CRYSTAL TREATMENT SERUM"]),
    ],
)
def test_catalog_list_filters_by_warehouse_site_and_stock(operator_client, world, params, expected):
    assert _names(operator_client.get(LIST_URL, params)) == expected


def test_catalog_list_filters_by_category(operator_client, world):
    assert _names(operator_client.get(LIST_URL, {"category": world["home"].pk})) == ["BAMBOO CUTTING BOARD"]


def test_catalog_list_warehouse_filter_shows_only_that_warehouses_items(operator_client, world):
    html = operator_client.get(LIST_URL, {"warehouse": "JP-TYO"}).content.decode()
    assert "LS228800001-01-03" in html and "LS228800001-01-01" not in html


def test_catalog_list_reserved_stock_is_not_in_stock(operator_client, world):
    item = world["board"].items.get()
    item.reserved = 7
    item.save()
    assert _names(operator_client.get(LIST_URL, {"in_stock": "on"})) == ["SNOWTOX CRYSTAL TREATMENT SERUM"]


def test_catalog_list_paginates_and_keeps_the_filters(operator_client, settings, db):
    settings.PORTAL_PAGE_SIZE = 5
    warehouse = WarehouseFactory(code="US-CA")
    for n in range(12):
        ItemFactory(product=ProductFactory(name=f"ITEM {n:02d}"), warehouse=warehouse)
    first = operator_client.get(LIST_URL, {"q": "item"})
    assert _names(first) == [f"ITEM {n:02d}" for n in range(5)]
    assert "?q=item&amp;page=2" in first.content.decode()
    assert _names(operator_client.get(LIST_URL, {"q": "item", "page": 3})) == ["ITEM 10", "ITEM 11"]
    # a page past the end shows the last one rather than failing
    assert _names(operator_client.get(LIST_URL, {"q": "item", "page": 99})) == ["ITEM 10", "ITEM 11"]


def _fill(n_products: int, warehouses) -> None:
    for _ in range(n_products):
        product = ProductFactory()
        ProductImageFactory(product=product)
        for warehouse in warehouses:
            ItemFactory(product=product, warehouse=warehouse)


def test_catalog_list_query_count_is_pinned_and_does_not_grow_with_rows(
    operator_client, world, django_assert_max_num_queries
):
    _fill(3, [world["us"]])
    with django_assert_max_num_queries(LIST_QUERIES):
        operator_client.get(LIST_URL)
    _fill(30, [world["us"], world["jp"], world["de"]])
    with django_assert_max_num_queries(LIST_QUERIES):
        response = operator_client.get(LIST_URL, {"q": "", "in_stock": "on", "site": "US"})
    assert len(response.context["products"]) > 30


def test_product_page_shows_items_per_warehouse_documents_and_cloud_drive(operator_client, world):
    serum = world["serum"]
    serum.cloud_drive_url = "https://drive.example.com/s/serum"
    serum.cloud_drive_access_code = "SN28"
    serum.save()
    DocumentFactory(product=serum, title="Safety certificate", valid_until=timezone.localdate() - timedelta(days=1))
    response = operator_client.get(reverse("catalog:product_detail", args=[serum.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("LS228800001-01-01", "US-CA", "240", "LS228800001-01-03", "JP-TYO", "out of stock"):
        assert text in html
    assert "12.80" not in html  # operators see no prices (tests/catalog/test_roles.py)
    assert "Safety certificate" in html and "Expired" in html
    assert "https://drive.example.com/s/serum" in html and "SN28" in html
    assert "Download product pack" in html
    assert reverse("catalog:product_pack", args=[serum.pk]) in html


def test_product_page_query_count_is_pinned(operator_client, world, django_assert_max_num_queries):
    serum = world["serum"]
    url = reverse("catalog:product_detail", args=[serum.pk])
    with django_assert_max_num_queries(DETAIL_QUERIES):
        operator_client.get(url)
    for n in range(10):
        DocumentFactory(product=serum)
        ProductImageFactory(product=serum)
        ItemFactory(product=serum, warehouse=WarehouseFactory(code=f"FR-P{n:02d}", sites="FR"))
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = operator_client.get(url)
    assert len(response.context["product"].visible_items) == 12


def test_product_page_of_an_inactive_product_answers_404(operator_client, world):
    serum = world["serum"]
    serum.is_active = False
    serum.save()
    assert operator_client.get(reverse("catalog:product_detail", args=[serum.pk])).status_code == 404
    assert operator_client.get(reverse("catalog:product_pack", args=[serum.pk])).status_code == 404
    assert operator_client.get(reverse("catalog:product_detail", args=[999999])).status_code == 404


def test_document_download_sends_the_file_as_attachment(operator_client, world):
    content = pdf_bytes(["Heavy metals test report"])
    document = DocumentFactory(
        product=world["serum"], doc_type=Document.Type.TEST_REPORT, file=ContentFile(content, name="report.pdf")
    )
    response = operator_client.get(reverse("catalog:document_download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == 'attachment; filename="LS228800001-test_report-report.pdf"'


def test_document_download_of_an_inactive_product_answers_404(operator_client, world):
    document = DocumentFactory(product=ProductFactory(is_active=False))
    assert operator_client.get(reverse("catalog:document_download", args=[document.pk])).status_code == 404


def test_product_image_is_served_inline(operator_client, world):
    image = ProductImageFactory(product=world["serum"])
    response = operator_client.get(reverse("catalog:product_image", args=[image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_product_pack_is_a_streamed_zip_with_sheet_images_and_documents(operator_client, world):
    serum = world["serum"]
    DocumentFactory(product=serum, doc_type=Document.Type.MSDS, title="MSDS")
    DocumentFactory(product=serum, doc_type=Document.Type.CERTIFICATE, title="Certificate")
    ProductImageFactory(product=serum)
    # when
    response = operator_client.get(reverse("catalog:product_pack", args=[serum.pk]))
    # then
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert 'filename="LS228800001-product-pack.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[0] == "LS228800001/LS228800001-product-sheet.xlsx"
    assert "LS228800001/images/01-photo.png" in names
    assert {"LS228800001/documents/msds-certificate.pdf", "LS228800001/documents/certificate-certificate.pdf"} <= set(
        names
    )
    assert archive.read("LS228800001/documents/msds-certificate.pdf").startswith(b"%PDF-")
    workbook = load_workbook(io.BytesIO(archive.read(names[0])))
    product_rows = {row[0]: row[1] for row in workbook["Product"].iter_rows(values_only=True)}
    assert product_rows["Product code"] == "LS228800001"
    assert product_rows["Name"] == "SNOWTOX CRYSTAL TREATMENT SERUM"
    item_ids = [row[0] for row in workbook["Items"].iter_rows(min_row=2, values_only=True)]
    assert item_ids == ["LS228800001-01-03", "LS228800001-01-01"]  # JP-TYO before US-CA, by warehouse code
    documents = [row[3] for row in workbook["Documents"].iter_rows(min_row=2, values_only=True)]
    assert sorted(documents) == ["documents/certificate-certificate.pdf", "documents/msds-certificate.pdf"]


@pytest.mark.parametrize("url_name", ["catalog:product_list", "catalog:product_detail", "catalog:product_pack"])
def test_catalog_finance_member_gets_403(client, world, url_name):
    member = MembershipFactory(distributor=owner_of().distributor, role=Role.FINANCE)
    client.force_login(member.user)
    args = [] if url_name == "catalog:product_list" else [world["serum"].pk]
    assert client.get(reverse(url_name, args=args)).status_code == 403


def test_catalog_finance_member_cannot_download_documents(client, world):
    member = MembershipFactory(distributor=owner_of().distributor, role=Role.FINANCE)
    client.force_login(member.user)
    document = DocumentFactory(product=world["serum"])
    assert client.get(reverse("catalog:document_download", args=[document.pk])).status_code == 403


def test_catalog_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("catalog:product_detail", args=[world["serum"].pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_catalog_list_is_readable_on_a_phone(operator_client, world):
    html = operator_client.get(LIST_URL).content.decode()
    assert 'class="table-responsive"' in html
    assert 'placeholder="Name, product code or Item ID"' in html
