"""Roles in the catalog, as the Members page states them: owners and admins see the
distribution prices and handling fees on the list, the product page and in the product
pack; operators see the catalog without any price; finance members do not open it."""

import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from distribution.models import Role
from tests.catalog.factories import ItemFactory, ProductFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of

ROLES = [Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.FINANCE]
# None: the role does not open the catalog (403).
SEES_PRICES = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: False, Role.FINANCE: None}


@pytest.fixture
def serum(db):
    warehouse = WarehouseFactory(code="US-CA", sites="US", handling_fee=Decimal("1.30"))
    product = ProductFactory(code="LS228800001", name="SNOWTOX CRYSTAL TREATMENT SERUM")
    ItemFactory(product=product, warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.80"))
    return product


def signed_in(client, role):
    owner = owner_of()
    member = owner if role == Role.OWNER else MembershipFactory(distributor=owner.distributor, role=role)
    client.force_login(member.user)


@pytest.mark.parametrize("role", ROLES)
def test_catalog_list_prices_by_role(client, serum, role):
    signed_in(client, role)
    response = client.get(reverse("catalog:product_list"))
    if SEES_PRICES[role] is None:
        assert response.status_code == 403
        return
    html = response.content.decode()
    assert response.status_code == 200 and "LS228800001-01-01" in html
    assert ("12.80 USD" in html) is SEES_PRICES[role]


@pytest.mark.parametrize("role", ROLES)
def test_product_page_prices_and_fees_by_role(client, serum, role):
    signed_in(client, role)
    response = client.get(reverse("catalog:product_detail", args=[serum.pk]))
    if SEES_PRICES[role] is None:
        assert response.status_code == 403
        return
    html = response.content.decode()
    assert response.status_code == 200 and "LS228800001-01-01" in html and "Download product pack" in html
    assert ("12.80 USD" in html) is SEES_PRICES[role]
    assert ("Distribution price" in html) is SEES_PRICES[role]
    assert ("Handling fee" in html) is SEES_PRICES[role]


@pytest.mark.parametrize("role", ROLES)
def test_product_pack_price_column_by_role(client, serum, role):
    signed_in(client, role)
    response = client.get(reverse("catalog:product_pack", args=[serum.pk]))
    if SEES_PRICES[role] is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sheet = load_workbook(io.BytesIO(archive.read("LS228800001/LS228800001-product-sheet.xlsx")))["Items"]
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert row[header.index("Item ID")] == "LS228800001-01-01"
    assert row[header.index("Available stock")] == 100
    assert ("Distribution price" in header) is SEES_PRICES[role]
    assert ("Currency" in header) is SEES_PRICES[role]
    assert (Decimal("12.80") in {Decimal(str(v)) for v in row if isinstance(v, int | float)}) is SEES_PRICES[role]
