"""Fixtures shared by the mapping tests (test_mapping_*.py import them): the user
guide's serum in a US and a JP warehouse, and one distributor with a US and a JP store.

No tests here."""

import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from distribution.models import Role
from stores.models import Platform
from tests.catalog.factories import ItemFactory, ProductFactory, WarehouseFactory
from tests.distribution.factories import DistributorFactory, MembershipFactory, owner_of
from tests.stores.factories import StoreFactory

HEADERS = ["Store", "Store SKU", "Item ID", "Platform product ID", "Platform variant ID"]


@pytest.fixture(name="world")
def world_fixture(db):
    us = WarehouseFactory(code="US-CA", country="US", sites="US")
    jp = WarehouseFactory(code="JP-TYO", country="JP", sites="JP")
    de = WarehouseFactory(code="DE-FRA", country="DE", sites="DE,FR")
    serum = ProductFactory(code="LS228800001", name="SNOWTOX CRYSTAL TREATMENT SERUM")
    serum_us = ItemFactory(product=serum, warehouse=us, item_id="LS228800001-01-01", barcode="8800122880000010")
    serum_jp = ItemFactory(product=serum, warehouse=jp, item_id="LS228800001-01-03", barcode="8800322880000010")
    board = ProductFactory(code="VD100", name="BAMBOO CUTTING BOARD")
    board_us = ItemFactory(product=board, warehouse=us, item_id="VD100-01-01", barcode="6900000000017")
    board_de = ItemFactory(product=board, warehouse=de, item_id="VD100-01-02")
    owner = owner_of(DistributorFactory(company_name="Acme Distribution"))
    distributor = owner.distributor
    us_store = StoreFactory(distributor=distributor, name="Acme US", site="US", platform=Platform.SHOPIFY)
    jp_store = StoreFactory(
        distributor=distributor, name="Acme JP", site="JP", platform=Platform.AMAZON, currency="JPY", shop_domain=""
    )
    return SimpleNamespace(
        us=us,
        jp=jp,
        de=de,
        serum=serum,
        serum_us=serum_us,
        serum_jp=serum_jp,
        board=board,
        board_us=board_us,
        board_de=board_de,
        owner=owner,
        operator=MembershipFactory(distributor=distributor, role=Role.OPERATOR),
        distributor=distributor,
        us_store=us_store,
        jp_store=jp_store,
    )


def xlsx_bytes(rows, headers=HEADERS, sheet_title=None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title or "Mappings")
    if headers:
        sheet.append(headers)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(rows, *, name="mappings.xlsx", headers=HEADERS) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows, headers=headers))
