"""Orders demo: the example order file imports into the no-API store."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import demo as catalog_demo
from distribution import demo as distribution_demo
from distribution.models import Role
from mapping.models import Mapping
from orders import demo
from orders.imports.services import (
    order_import_apply,
    order_import_check,
    order_import_create,
    order_import_start_apply,
)
from orders.models import Order, OrderStatus
from stores import demo as stores_demo
from stores.models import Platform, Store


def _seed():
    out = io.StringIO()
    for module in (distribution_demo, catalog_demo, stores_demo, demo):
        module.seed(out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_example_file_imports_into_the_no_api_store(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    output = _seed()
    xlsx_path, csv_path = demo.example_file_paths()
    assert str(xlsx_path) in output and xlsx_path.exists() and csv_path.exists()
    owner = distribution_demo.demo_distributor().memberships.get(role=Role.OWNER)
    offline = Store.objects.get(distributor=owner.distributor, platform=Platform.OTHER)
    Mapping.objects.get_or_create(
        store=offline,
        store_sku=demo.GUIDE_SKU,
        defaults={"item": catalog_demo.Item.objects.get(item_id="LS228800001-01-03")},
    )
    order_import = order_import_create(
        actor=owner, store=None, upload=SimpleUploadedFile(xlsx_path.name, xlsx_path.read_bytes())
    )
    order_import = order_import_check(order_import=order_import)
    assert (order_import.status, order_import.order_count, order_import.errors) == ("ready", 3, [])
    order_import_start_apply(actor=owner, order_import=order_import)
    order_import_apply(order_import=order_import)
    statuses = dict(Order.objects.values_list("platform_order__external_id", "status"))
    assert statuses == {
        "DM-0001": OrderStatus.AWAITING_PAYMENT,
        "DM-0002": OrderStatus.PENDING_MAPPING,
        "DM-0003": OrderStatus.AWAITING_PAYMENT,
    }
    jp = Order.objects.get(platform_order__external_id="DM-0001")
    assert (jp.postal_code, jp.country, jp.warehouse.code) == ("100-0001", "JP", "JP-TYO")
    _seed()  # idempotent
    assert Store.objects.filter(platform=Platform.OTHER).count() == 1
