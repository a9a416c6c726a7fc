"""`manage.py sandbox_create_orders --file`: orders in each platform's own shape go into a
sandbox shop (an id the shop already has gets a new one), and the emulator serves them."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import state
from sandbox.models import SandboxOrder

pytestmark = pytest.mark.django_db

# The parser tests' fixtures: orders in the platforms' documented shapes.
FIXTURES = Path(__file__).resolve().parents[1] / "stores" / "fixtures"


def create(tmp_path, platform: str, shop: str, document) -> str:
    saved = tmp_path / "orders.json"
    saved.write_text(json.dumps(document))
    out = io.StringIO()
    call_command("sandbox_create_orders", "--platform", platform, "--shop", shop, "--file", str(saved), stdout=out)
    return out.getvalue()


def woo_order(order_id: int) -> dict:
    return {
        "id": order_id,
        "status": "processing",
        "currency": "USD",
        "date_created_gmt": "2026-01-02T03:04:05",
        "date_modified_gmt": "2026-01-02T03:04:05",
        "line_items": [{"id": 1, "sku": "WOO-SKU", "quantity": 2, "subtotal": "20.00", "price": 10}],
    }


def test_sandbox_create_orders_from_a_woocommerce_file(tmp_path):
    # given a GET /orders list; the second order's id is taken twice
    output = create(tmp_path, "woocommerce", "file-woo", [woo_order(727), woo_order(723), woo_order(727)])
    # then
    assert "Created 3 order(s) in woocommerce shop file-woo." in output
    rows = SandboxOrder.objects.filter(shop__platform="woocommerce", shop__domain="file-woo").order_by("pk")
    assert [row.external_id for row in rows] == [727, 723, 700]  # the repeat got the site's next number
    assert rows[2].payload["number"] == "700" and rows[0].payload["meta_data"] == []


def test_sandbox_create_orders_from_the_documented_woocommerce_list(tmp_path):
    document = json.loads((FIXTURES / "woocommerce/v3_GET_orders_list_response.json").read_text(encoding="utf-8"))
    create(tmp_path, "woocommerce", "docs-woo", document)
    assert set(SandboxOrder.objects.values_list("external_id", flat=True)) == {1184, 1179, 1175, 1171}


def test_sandbox_create_orders_from_an_amazon_file_needs_the_items(tmp_path):
    order = {
        "AmazonOrderId": "902-3159896-1390916",
        "PurchaseDate": "2026-01-02T03:04:05Z",
        "OrderStatus": "Unshipped",
        "MarketplaceId": "ATVPDKIKX0DER",
    }
    items = [{"OrderItemId": "1", "SellerSKU": "AMZ-SKU", "QuantityOrdered": 1, "ASIN": "B000000001"}]
    with pytest.raises(CommandError, match="OrderItems"):
        create(tmp_path, "amazon", "A3FILESELLER01", {"payload": {"Orders": [order]}})
    create(tmp_path, "amazon", "A3FILESELLER01", {"payload": {"Orders": [{**order, "OrderItems": items}]}})
    row = SandboxOrder.objects.get(shop__domain="A3FILESELLER01")
    assert row.external_id == 90231598961390916
    assert row.payload["AmazonOrderId"] == "902-3159896-1390916" and "OrderItems" not in row.payload
    assert row.extra == {"items": items}


def test_sandbox_create_orders_from_a_tiktok_file(tmp_path):
    shop = state.shop_get_or_create("tiktok", "7494049642642441621", cipher="ROW_file")
    order = {"id": "576461413038785752", "status": "AWAITING_SHIPMENT", "create_time": 1700000000, "line_items": []}
    create(tmp_path, "tiktok", shop.domain, {"code": 0, "data": {"orders": [order]}})
    row = SandboxOrder.objects.get(shop=shop)
    assert row.external_id == 576461413038785752 and row.state == "AWAITING_SHIPMENT"
    assert row.created_at.timestamp() == 1700000000


def test_sandbox_create_orders_refuses_a_file_without_orders(tmp_path):
    with pytest.raises(CommandError, match="holds no order"):
        create(tmp_path, "woocommerce", "file-woo", {"nothing": "here"})
