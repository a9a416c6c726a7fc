"""Every order fixture in tests/stores/fixtures parses into the right NormalizedOrder.

The fixtures are the project's own, written in the platforms' documented shapes (the
Shopify REST Order object and GraphQL `orders` query, WooCommerce REST v3 orders, the
Amazon SP-API Orders v0 and 2026-01-01 responses, the TikTok Shop 202309 order API)
with our own ids, people, addresses and amounts, and with the cases a parser meets in
practice: several lines, cancelled, refunded and partly shipped orders, optional fields
left out, non-ASCII names, Japanese addresses, and lines without a SKU that ship
nothing (gift wrap, shipping protection). The values pinned here were read off the
fixtures by hand.

The platforms' own published examples are checked separately, when they are at hand,
by test_platform_conformance.py.
"""

import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stores.platforms import amazon, shopify, tiktok, woocommerce
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    PayloadError,
    money,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EDT = timezone(timedelta(hours=-4))
JST = timezone(timedelta(hours=9))


def fixture(path: str):
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


# --- Shopify REST -----------------------------------------------------------------------


def _assert_shopify_order_5829104736(order, *, financial=FinancialStatus.PARTIALLY_REFUNDED):
    assert order.platform == "shopify"
    assert order.external_id == "5829104736"
    assert order.display_number == "#1047"
    assert order.created_at == datetime(2026, 3, 14, 9, 12, 45, tzinfo=EDT)
    assert order.created_at == datetime(2026, 3, 14, 13, 12, 45, tzinfo=UTC)
    assert order.currency == "USD"
    assert order.financial_status == financial
    assert order.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert order.cancel_status == CancelStatus.NONE
    assert order.shipping_address.name == "Mia Chen"
    assert order.shipping_address.address1 == "2150 Mission Street"
    assert order.shipping_address.address2 == "Apt 4B"
    assert order.shipping_address.city == "San Francisco"
    assert order.shipping_address.province_code == "CA"
    assert order.shipping_address.postal_code == "94110"
    assert isinstance(order.shipping_address.postal_code, str)
    assert order.shipping_address.country_code == "US"
    assert order.shipping_method == "Standard Shipping"
    # the shipping-protection line has no SKU and ships nothing; it is kept as the platform sent it
    assert [line.sku for line in order.lines] == ["LS-SERUM-30ML", "LS-TONER-150ML", ""]
    assert [line.external_line_id for line in order.lines] == ["14022871001", "14022871002", "14022871003"]
    assert [line.unit_price for line in order.lines] == [Decimal("38.00"), Decimal("24.50"), Decimal("2.95")]
    assert all(isinstance(line.unit_price, Decimal) for line in order.lines)
    assert order.lines[0].product_id == "8104417001"
    assert order.lines[0].variant_id == "44908231001"
    assert order.lines[0].title == "Snowtox Crystal Treatment Serum"
    assert order.lines[0].variant_title == "30 ml"
    assert order.lines[2].title == "Shipping Protection"


def test_shopify_parse_rest_2024_10_order_pins_the_fixture_order():
    order = shopify.parse_order(fixture("shopify/rest_2024-10_GET_order_single_response.json"))

    _assert_shopify_order_5829104736(order)
    assert order.buyer.email == "mia.chen@mail.example.net"
    assert order.buyer.name == "Mia Chen"
    assert order.buyer.external_id == "7302418851"
    assert order.buyer.phone == "+14155550143"  # the order has no phone: the customer's
    assert order.shipping_address.phone == "+1 415-555-0143"
    assert order.shipping_address.province == "California"
    assert order.total == Decimal("119.66")
    assert order.updated_at == datetime(2026, 3, 15, 14, 2, 11, tzinfo=UTC)
    assert order.platform_status == "partially_refunded / unfulfilled"
    # the refund took the toner: the serums and the protection are still wanted
    assert [line.quantity for line in order.lines] == [2, 0, 1]
    assert order.raw["id"] == 5829104736


def test_shopify_parse_rest_orders_list_and_webhook_body_give_the_same_order():
    listed = shopify.parse_document(fixture("shopify/rest_2024-10_GET_orders_status_any_response.json"))
    webhook = shopify.parse_document(fixture("shopify/webhook_orders_create_body.json"))
    single = shopify.parse_document(fixture("shopify/rest_2024-10_GET_order_single_response.json"))

    assert len(listed) == len(webhook) == len(single) == 1
    assert listed[0] == webhook[0] == single[0]


def test_shopify_parse_legacy_orders_without_current_quantity():
    order = shopify.parse_order(fixture("shopify/rest_legacy_order_single.json"))
    _assert_shopify_order_5829104736(order, financial=FinancialStatus.AUTHORIZED)
    assert [line.quantity for line in order.lines] == [2, 1, 1]  # no current_quantity in old payloads
    assert order.total == Decimal("128.16")
    assert order.buyer.email == "mia.chen@oldmail.example.org"
    assert order.shipping_address.phone == "415-555-0199"

    (listed,) = shopify.parse_document(fixture("shopify/rest_legacy_orders_list_selected_fields.json"))
    assert listed.external_id == "5829104736"
    assert listed.lines == ()  # that listing carries no line_items
    assert listed.shipping_address.postal_code == "94110"
    assert listed.shipping_method == ""  # nor shipping_lines
    assert listed.buyer.phone == "+14155550188"  # the order's phone before the customer's


def test_shopify_parse_rest_edge_cases_cancelled_partial_japanese_and_bare():
    cancelled, partial, japan, bare = shopify.parse_document(
        fixture("shopify/rest_2024-10_GET_orders_edge_cases_response.json")
    )

    assert cancelled.external_id == "5829104801"
    assert cancelled.cancel_status == CancelStatus.CANCELLED
    assert cancelled.financial_status == FinancialStatus.REFUNDED
    assert cancelled.platform_status == "refunded / unfulfilled / cancelled (customer)"
    assert cancelled.shipping_address.postal_code == "02110"  # the leading zero stays
    assert cancelled.buyer.phone == ""
    assert [line.quantity for line in cancelled.lines] == [0]

    assert partial.fulfillment_status == FulfillmentStatus.PARTIAL
    assert partial.financial_status == FinancialStatus.PAID
    assert [(line.sku, line.quantity) for line in partial.lines] == [("LS-MASK-5PK", 1), ("LS-SERUM-30ML", 1)]

    assert japan.currency == "JPY"
    assert japan.total == Decimal("12800")
    assert japan.created_at == datetime(2026, 3, 20, 10, 30, tzinfo=JST)
    assert japan.shipping_address == NormalizedAddress(
        name="田中 美咲",
        phone="090-1234-5678",
        email="misaki.tanaka@example.jp",
        address1="神南1-2-3",
        address2="渋谷マンション101",
        city="渋谷区",
        province="Tokyo",
        province_code="JP-13",
        postal_code="150-0041",
        country_code="JP",
    )
    assert japan.buyer.name == "美咲 田中"  # first and last name, as the customer record has them
    assert japan.shipping_method == "ヤマト運輸 宅急便"
    serum, wrapping = japan.lines
    assert (serum.sku, serum.quantity, serum.unit_price) == ("LS-SERUM-30ML-JP", 2, Decimal("5500"))
    assert (wrapping.sku, wrapping.title, wrapping.product_id, wrapping.variant_id) == ("", "Gift wrapping", "", "")

    # no customer, no address, no shipping line, a null SKU: nothing breaks, nothing is invented
    assert bare.external_id == "5829104830"
    assert bare.financial_status == FinancialStatus.PENDING
    assert bare.buyer.external_id == bare.buyer.name == bare.buyer.email == ""
    assert bare.shipping_address.is_empty()
    assert bare.shipping_method == ""
    (line,) = bare.lines
    assert (line.sku, line.quantity, line.unit_price, line.variant_title) == ("", 1, Decimal("15.00"), "")


def test_shopify_parse_graphql_order_details_with_line_items():
    orders = shopify.parse_document(fixture("shopify/graphql_orders_details_lineItems_response.json"))

    assert [order.external_id for order in orders] == ["6120044501", "6120044502", "6120044503", "6120044504"]
    assert [order.display_number for order in orders] == ["#3101", "#3102", "#3103", "#3104"]
    first = orders[0]
    assert first.created_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert first.currency == "GBP"
    assert first.total == Decimal("1250.5")
    assert first.financial_status == FinancialStatus.PAID
    assert first.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert first.buyer.email == "oliver.king@example.co.uk"
    assert first.shipping_address == NormalizedAddress()  # shippingAddress: null
    (line,) = first.lines
    assert line.sku == "TOTE-LIN-NAT"
    assert line.quantity == 4
    assert line.title == "Linen Tote - Natural"
    assert line.variant_id == "48811002"
    assert line.variant_title == "Natural"
    assert line.unit_price is None  # not queried
    assert orders[1].lines == ()
    assert orders[1].financial_status == FinancialStatus.PARTIALLY_REFUNDED
    assert orders[1].fulfillment_status == FulfillmentStatus.FULFILLED


def test_shopify_parse_graphql_nodes_variant_sku_and_cancelled_order():
    _, _, osaka, cancelled = shopify.parse_document(fixture("shopify/graphql_orders_details_lineItems_response.json"))

    assert osaka.currency == "JPY"
    assert osaka.fulfillment_status == FulfillmentStatus.PARTIAL
    assert osaka.shipping_address.country_code == "JP"  # countryCodeV2
    assert osaka.shipping_address.province_code == "JP-27"
    assert osaka.shipping_address.postal_code == "542-0076"
    assert osaka.shipping_address.name == "渡辺 健"
    (line,) = osaka.lines  # lineItems queried as nodes, not edges
    assert line.external_line_id == "15500110001"
    assert line.sku == "LS-TONER-150ML-JP"  # the line's sku is null: the variant's
    assert line.quantity == 2  # currentQuantity, not the 3 first ordered
    assert line.unit_price == Decimal("2800.0")

    assert cancelled.cancel_status == CancelStatus.CANCELLED
    assert cancelled.financial_status == FinancialStatus.REFUNDED
    assert cancelled.platform_status == "REFUNDED / UNFULFILLED / CANCELLED"


def test_shopify_parse_graphql_cursor_page_of_ids():
    orders = shopify.parse_document(fixture("shopify/graphql_orders_cursor_pageInfo_response.json"))

    assert len(orders) == 6
    assert orders[0].external_id == "6120044401"
    assert orders[-1].external_id == "6120044437"
    # the same order by REST id and by gid meets on one external id
    assert shopify.gid_to_id("gid://shopify/Order/5829104736") == "5829104736"


def test_shopify_parse_refuses_a_payload_that_is_not_an_order():
    with pytest.raises(PayloadError):
        shopify.parse_document(fixture("shopify/rest_2024-10_GET_order_fulfillment_orders_response.json"))


# --- WooCommerce --------------------------------------------------------------------------


def test_woocommerce_parse_single_order_1184():
    order = woocommerce.parse_order(fixture("woocommerce/v3_GET_order_single_response.json"))

    assert order.platform == "woocommerce"
    assert order.external_id == "1184"
    assert order.display_number == "1184"
    assert order.created_at == datetime(2026, 4, 3, 4, 15, 9, tzinfo=UTC)  # the _gmt field
    assert order.updated_at == datetime(2026, 4, 3, 4, 15, 31, tzinfo=UTC)
    assert order.currency == "USD"
    assert order.financial_status == FinancialStatus.PAID
    assert order.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert order.cancel_status == CancelStatus.NONE
    assert order.platform_status == "processing"
    assert order.total == Decimal("41.80")
    assert order.buyer.name == "Ava Thompson"
    assert order.buyer.email == "ava.thompson@example.com"
    assert order.buyer.external_id == "57"
    assert order.shipping_address == NormalizedAddress(
        name="Ava Thompson",
        phone="(503) 555-0172",  # the shipping phone is blank: the billing one
        email="ava.thompson@example.com",
        address1="818 SW Alder St",
        city="Portland",
        province_code="OR",
        postal_code="97205",
        country_code="US",
    )
    assert order.shipping_method == "Flat rate"
    first, second = order.lines
    assert (first.external_line_id, first.sku, first.quantity, first.unit_price) == ("2301", "", 3, Decimal("2.5"))
    assert first.product_id == "410" and first.variant_id == ""
    assert first.line_total == Decimal("7.50")
    assert (second.external_line_id, second.sku, second.quantity, second.unit_price) == (
        "2302",
        "RNC-50-YUZU",
        1,
        Decimal("26.00"),
    )
    assert second.product_id == "412" and second.variant_id == "415"
    assert second.title == "Rose Night Cream \u2013 Size: 50 ml, Scent: Yuzu"  # &ndash; unescaped


def test_woocommerce_parse_list_keeps_postcodes_as_text():
    orders = woocommerce.parse_document(fixture("woocommerce/v3_GET_orders_list_response.json"))

    assert [order.external_id for order in orders] == ["1184", "1179", "1175", "1171"]
    japan = orders[1]
    assert japan.fulfillment_status == FulfillmentStatus.FULFILLED
    assert japan.platform_status == "completed"
    assert japan.currency == "JPY"
    assert japan.shipping_address.postal_code == "150-0002"
    assert japan.shipping_address.country_code == "JP"
    assert japan.shipping_address.province_code == "JP13"
    assert japan.shipping_address.name == "花子 山田"
    assert japan.shipping_address.address2 == "渋谷ヒカリエ 8F"
    assert japan.buyer.external_id == ""  # a guest: customer_id 0
    assert japan.shipping_method == "ヤマト運輸 & 宅急便"  # &amp; unescaped
    # the gift wrap is a fee line, not a line item: only the goods are lines
    assert [(line.external_line_id, line.quantity, line.unit_price) for line in japan.lines] == [
        ("2290", 1, Decimal("1980")),
        ("2291", 2, Decimal("2500")),
    ]
    uk = orders[3]
    assert uk.shipping_address.postal_code == "SW1A 2AA"
    assert uk.shipping_address.phone == ""  # neither shipping nor billing phone given
    assert uk.shipping_address.company == uk.shipping_address.address2 == ""


def test_woocommerce_parse_cancelled_and_partly_refunded_orders():
    _, _, cancelled, refunded = woocommerce.parse_document(fixture("woocommerce/v3_GET_orders_list_response.json"))

    assert cancelled.cancel_status == CancelStatus.CANCELLED
    assert cancelled.financial_status == FinancialStatus.PENDING  # never paid
    assert cancelled.buyer.name == "Liam O'Connor"

    assert refunded.financial_status == FinancialStatus.PARTIALLY_REFUNDED
    assert refunded.platform_status == "processing"
    assert refunded.currency == "GBP"
    assert [line.sku for line in refunded.lines] == ["LS-MASK-1", "RNC-50-YUZU", "LS-TONER-150ML"]
    assert refunded.lines[1].unit_price == Decimal("22.80")


def test_woocommerce_parse_completed_order_is_fulfilled():
    order = woocommerce.parse_order(fixture("woocommerce/v3_PUT_order_status_completed_response.json"))
    assert order.external_id == "1184"
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    assert order.updated_at == datetime(2026, 4, 5, 8, 40, 12, tzinfo=UTC)


def test_woocommerce_parse_refuses_an_order_note():
    with pytest.raises(PayloadError):
        woocommerce.parse_order(fixture("woocommerce/v3_POST_order_note_response.json"))


# --- Amazon -----------------------------------------------------------------------------


def test_amazon_parse_get_orders_with_get_order_items_combined():
    # getOrders' first order and getOrderItems are a matching pair (113-4829301-7730145)
    page = fixture("amazon/getOrders_response.json")
    items = fixture("amazon/getOrderItems_response.json")

    (order,) = amazon.parse_document({"payload": page["payload"]["Orders"][0]}, items=items)

    assert order.platform == "amazon"
    assert order.external_id == "113-4829301-7730145"
    assert order.created_at == datetime(2026, 5, 6, 14, 21, 9, tzinfo=UTC)
    assert order.currency == "USD"
    assert order.total == Decimal("34.55")
    assert order.financial_status == FinancialStatus.PAID
    assert order.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert order.cancel_status == CancelStatus.REQUESTED  # the item says IsBuyerRequestedCancel "true"
    assert order.platform_status == "Unshipped"
    assert order.shipping_method == "Std US Dom_2"
    (line,) = order.lines
    assert line.external_line_id == "41820937455021"
    assert line.sku == "LS-SERUM-30ML-US"
    assert line.product_id == "B0C7QX2Z4M"
    assert line.quantity == 2
    assert line.unit_price == Decimal("15.99")
    assert line.line_total == Decimal("31.98")
    assert line.title == "Snowtox Crystal Treatment Serum, 30 ml"


def test_amazon_parse_get_order_pending_has_address_and_no_prices():
    (order,) = amazon.parse_document(fixture("amazon/getOrder_pending_response.json"))

    assert order.external_id == "113-7016482-5528341"
    assert order.financial_status == FinancialStatus.PENDING
    assert order.currency == "USD"  # no OrderTotal on a Pending order: the marketplace's currency
    assert order.total is None
    assert order.buyer.name == "Jordan Alvarez"
    assert order.buyer.email == "jordan.alvarez@example.com"
    assert order.shipping_address.name == "Receiving dock 3"
    assert order.shipping_address.address1 == "4400 W Cermak Rd"
    assert order.shipping_address.city == "Chicago"
    assert order.shipping_address.province_code == "IL"
    assert order.shipping_address.postal_code == "60623"
    assert order.shipping_address.country_code == "US"
    assert order.shipping_address.company == "Alvarez Imports LLC"


def test_amazon_parse_get_order_items_divides_item_price_by_quantity():
    items = fixture("amazon/getOrderItems_jp_response.json")
    order = {"AmazonOrderId": "250-3318265-0061902", "OrderStatus": "Unshipped", "MarketplaceId": "A1VC38T7YXB528"}

    (parsed,) = amazon.parse_document(order, items=items)

    assert parsed.currency == "JPY"  # no OrderTotal here: the items' currency
    assert [(line.external_line_id, line.sku, line.quantity) for line in parsed.lines] == [
        ("60917325118402", "LS-SERUM-30ML-JP", 1),
        ("60917325118403", "LS-TONER-150ML-JP", 2),
    ]
    assert parsed.lines[0].unit_price == Decimal("4980")
    assert parsed.lines[1].line_total == Decimal("5980")  # ItemPrice is the whole line
    assert parsed.lines[1].unit_price == Decimal("2990")
    assert parsed.lines[0].product_id == "B0D1JPSR30"
    assert parsed.lines[0].title == "スノートックス クリスタル トリートメント セラム 30ml"


def test_amazon_parse_japanese_order_keeps_the_prefecture_as_a_name():
    (order,) = amazon.parse_document(
        fixture("amazon/getOrder_jp_response.json"), items=fixture("amazon/getOrderItems_jp_response.json")
    )

    assert order.currency == "JPY"
    assert order.total == Decimal("10960")
    assert order.shipping_method == "Std JP Kanto8"
    address = order.shipping_address
    assert address.name == "佐藤 健"
    assert address.address1 == "港区六本木6-10-1"
    assert address.address2 == "六本木ヒルズ森タワー 12F"
    assert address.city == "港区"
    assert address.province == "東京都"
    assert address.province_code == ""  # a name, not a code
    assert address.postal_code == "106-6112"
    assert address.country_code == "JP"
    assert [line.quantity for line in order.lines] == [1, 2]


def test_amazon_parse_refuses_items_of_another_order():
    with pytest.raises(PayloadError, match="250-3318265-0061902"):
        amazon.parse_document(
            fixture("amazon/getOrder_pending_response.json"), items=fixture("amazon/getOrderItems_jp_response.json")
        )


def test_amazon_parse_get_orders_page_has_no_items():
    unshipped, canceled, shipped = amazon.parse_document(fixture("amazon/getOrders_response.json"))

    assert unshipped.external_id == "113-4829301-7730145"
    assert unshipped.lines == canceled.lines == shipped.lines == ()  # items come from getOrderItems
    assert unshipped.shipping_address.postal_code == "98109-5210"
    assert unshipped.shipping_address.name == ""  # no PII without a Restricted Data Token
    assert canceled.cancel_status == CancelStatus.CANCELLED
    assert canceled.financial_status == FinancialStatus.VOIDED
    assert shipped.fulfillment_status == FulfillmentStatus.FULFILLED


def test_amazon_parse_search_orders_2026_embeds_items():
    order, asked_to_cancel = amazon.parse_document(fixture("amazon/orders_2026-01-01_searchOrders_response.json"))

    assert order.external_id == "701-2241730-5519046"
    assert order.created_at == datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    assert order.total == Decimal("87.47")
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    assert order.shipping_address.address2 == "Unit 12"
    assert order.shipping_address.postal_code == "78701"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("LS-SERUM-30ML-US", 1, Decimal("38.99")),
        ("LS-MASK-5PK", 2, Decimal("19.99")),
    ]
    assert order.lines[1].line_total == Decimal("39.98")

    assert asked_to_cancel.cancel_status == CancelStatus.REQUESTED  # a request nobody executed yet
    assert asked_to_cancel.currency == "JPY"  # no grandTotal: the marketplace's currency
    assert asked_to_cancel.total is None
    assert asked_to_cancel.shipping_address.province == "大阪府"
    assert asked_to_cancel.shipping_address.province_code == ""


def test_amazon_marketplaces_us_and_jp():
    assert amazon.marketplace_site("ATVPDKIKX0DER") == "US"
    assert amazon.marketplace_site("A1VC38T7YXB528") == "JP"
    assert amazon.marketplace_currency("A1VC38T7YXB528") == "JPY"


# --- TikTok Shop ------------------------------------------------------------------------


def test_tiktok_parse_order_detail():
    (order,) = tiktok.parse_document(fixture("tiktok/order_detail_202309_response.json"))

    assert order.platform == "tiktok"
    assert order.external_id == "579214006318273201"
    assert order.created_at == datetime.fromtimestamp(1772096400, tz=UTC)
    assert order.updated_at == datetime.fromtimestamp(1772096700, tz=UTC)
    assert order.currency == "GBP"
    assert order.total == Decimal("27.98")
    assert order.financial_status == FinancialStatus.PENDING  # UNPAID
    assert order.platform_status == "UNPAID"
    assert order.buyer.external_id == "7494011223344556677"
    assert order.buyer.email == "q7Xk2Pw9@scs.tiktokw.eu"
    address = order.shipping_address
    assert address.name == "Amelia Clarke"
    assert address.phone == "(+44)7700-***-123"
    assert address.address1 == "18 Piccadilly"
    assert address.address2 == "Flat 3"
    assert address.postal_code == "M1 1AE"
    assert address.country_code == "GB"
    assert address.city == "Manchester"  # no city level in district_info: the post town
    assert address.province == "Greater Manchester"  # the L1 level
    assert order.shipping_method == "Standard shipping"
    (line,) = order.lines
    assert line.external_line_id == "579214006318339001"
    assert line.sku == "LS-SERUM-30ML-UK"
    assert line.quantity == 1
    assert line.unit_price == Decimal("24.99")
    assert line.product_id == "1731499999999999001"
    assert line.variant_id == "1731500000000000101"
    assert line.title == "Snowtox Crystal Treatment Serum"
    assert line.variant_title == "30 ml"


def test_tiktok_parse_order_search_page():
    awaiting, cancelled, japan = tiktok.parse_document(fixture("tiktok/order_search_202309_response.json"))

    assert awaiting.external_id == "579214006318290044"
    assert awaiting.shipping_address.address3 == ""  # blank lines " " are dropped
    assert awaiting.shipping_method == "Standard Shipping"
    assert awaiting.financial_status == FinancialStatus.PAID
    assert awaiting.shipping_address.city == "Mountain View"  # the City level of district_info
    # one line item per unit: two serums are two lines of one each
    assert [(line.sku, line.quantity) for line in awaiting.lines] == [
        ("LS-SERUM-30ML-US", 1),
        ("LS-SERUM-30ML-US", 1),
        ("LS-MASK-5PK", 1),
    ]

    assert cancelled.cancel_status == CancelStatus.CANCELLED
    assert cancelled.financial_status == FinancialStatus.REFUNDED  # it had been paid

    assert japan.fulfillment_status == FulfillmentStatus.PARTIAL
    assert japan.cancel_status == CancelStatus.REQUESTED
    assert japan.currency == "JPY"
    assert japan.shipping_address.address1 == "道玄坂1-2-3 渋谷フクラス 5F"  # address_detail when line1 is empty
    assert japan.shipping_address.city == "渋谷区"
    assert japan.shipping_address.province == "東京都"
    assert japan.buyer.email == ""


def test_tiktok_parse_refuses_an_error_envelope():
    with pytest.raises(PayloadError, match="36009004"):
        tiktok.parse_document({"code": 36009004, "message": "Invalid access token", "data": {}})


# --- shared helpers and the command -----------------------------------------------------


def test_money_never_goes_through_binary_float():
    assert money("0.10") + money("0.20") == Decimal("0.30")
    assert money(12.1) == Decimal("12.1")
    assert money(None) is None


def test_normalized_order_to_dict_prints_money_as_text():
    order = woocommerce.parse_order(fixture("woocommerce/v3_GET_order_single_response.json"))
    data = order.to_dict()
    assert data["total"] == "41.80"
    assert data["lines"][1]["unit_price"] == "26.00"
    assert data["created_at"] == "2026-04-03T04:15:09+00:00"
    assert "raw" not in data


def test_parse_platform_order_command_prints_the_normalized_order(capsys):
    call_command(
        "parse_platform_order",
        "--platform",
        "shopify",
        str(FIXTURES / "shopify/rest_2024-10_GET_order_single_response.json"),
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["external_id"] == "5829104736"
    assert printed["lines"][1]["sku"] == "LS-TONER-150ML"
    assert printed["lines"][1]["unit_price"] == "24.50"
    assert printed["shipping_address"]["postal_code"] == "94110"


def test_parse_platform_order_command_prints_non_ascii_as_is():
    out = io.StringIO()
    call_command(
        "parse_platform_order", "--platform", "amazon", str(FIXTURES / "amazon/getOrder_jp_response.json"), stdout=out
    )
    assert '"province": "東京都"' in out.getvalue()


def test_parse_platform_order_command_combines_amazon_items(tmp_path):
    # given a getOrder response saved for the order the items belong to
    order = fixture("amazon/getOrders_response.json")["payload"]["Orders"][0]
    saved = tmp_path / "getOrder.json"
    saved.write_text(json.dumps({"payload": order}))
    out = io.StringIO()
    # when
    call_command(
        "parse_platform_order",
        "--platform",
        "amazon",
        str(saved),
        "--items",
        str(FIXTURES / "amazon/getOrderItems_response.json"),
        stdout=out,
    )
    # then
    printed = json.loads(out.getvalue())
    assert printed["external_id"] == "113-4829301-7730145"
    assert printed["lines"][0]["sku"] == "LS-SERUM-30ML-US"
    assert printed["lines"][0]["unit_price"] == "15.99"


def test_parse_platform_order_command_refuses_amazon_items_of_another_order():
    with pytest.raises(CommandError, match="belong to order"):
        call_command(
            "parse_platform_order",
            "--platform",
            "amazon",
            str(FIXTURES / "amazon/getOrder_pending_response.json"),
            "--items",
            str(FIXTURES / "amazon/getOrderItems_jp_response.json"),
            stdout=io.StringIO(),
        )


def test_parse_platform_order_command_lists_every_order_of_a_page():
    out = io.StringIO()
    call_command(
        "parse_platform_order",
        "--platform",
        "woocommerce",
        str(FIXTURES / "woocommerce/v3_GET_orders_list_response.json"),
        stdout=out,
    )
    assert [order["external_id"] for order in json.loads(out.getvalue())] == ["1184", "1179", "1175", "1171"]


# --- Every fixture, classified -------------------------------------------------------------
# Each order fixture goes through `manage.py parse_platform_order` and yields these orders
# (their fields are pinned one by one by the tests above); every other file is named with
# why it is not an order and what the command says. A fixture added to the folder later
# fails test_every_fixture_is_classified until it is put in one of these lists.

ORDER_FIXTURES = {
    "shopify/rest_2024-10_GET_orders_status_any_response.json": ["5829104736"],
    "shopify/rest_2024-10_GET_order_single_response.json": ["5829104736"],
    "shopify/webhook_orders_create_body.json": ["5829104736"],
    "shopify/rest_legacy_order_single.json": ["5829104736"],
    "shopify/rest_legacy_orders_list_selected_fields.json": ["5829104736"],
    "shopify/rest_2024-10_GET_orders_edge_cases_response.json": [
        "5829104801",
        "5829104815",
        "5829104822",
        "5829104830",
    ],
    "shopify/graphql_orders_details_lineItems_response.json": [
        "6120044501",
        "6120044502",
        "6120044503",
        "6120044504",
    ],
    "shopify/graphql_orders_cursor_pageInfo_response.json": [
        "6120044401",
        "6120044408",
        "6120044415",
        "6120044423",
        "6120044430",
        "6120044437",
    ],
    "woocommerce/v3_GET_order_single_response.json": ["1184"],
    "woocommerce/v3_GET_orders_list_response.json": ["1184", "1179", "1175", "1171"],
    "woocommerce/v3_PUT_order_status_completed_response.json": ["1184"],
    "amazon/getOrder_pending_response.json": ["113-7016482-5528341"],
    "amazon/getOrder_jp_response.json": ["250-3318265-0061902"],
    "amazon/getOrders_response.json": ["113-4829301-7730145", "113-4829301-7730210", "114-0551238-9920377"],
    "amazon/orders_2026-01-01_searchOrders_response.json": ["701-2241730-5519046", "701-2241730-5519111"],
    "tiktok/order_detail_202309_response.json": ["579214006318273201"],
    "tiktok/order_search_202309_response.json": ["579214006318290044", "579214006318301177", "579214006318312288"],
}
# Order parts: parsed together with their order (`--items`), see the Amazon tests above.
ORDER_PARTS = {
    "amazon/getOrderItems_response.json": "getOrderItems response",
    "amazon/getOrderItems_jp_response.json": "getOrderItems response",
    "amazon/getOrderAddress_response.json": "getOrderAddress response",
}
NOT_ORDERS = {
    # notifications name an order; the order itself is fetched
    "amazon/ORDER_CHANGE_notification.json": "ORDER_CHANGE notification for order 113-4829301-7730145",
    "tiktok/webhook_order_status_change_type1.json": "webhook (type 1) for order 579214006318290044",
    # what push_tracking sends and receives, and the other calls around it
    "amazon/confirmShipment_request.json": "Not an Amazon order",
    "shopify/rest_2024-10_GET_order_fulfillment_orders_response.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_request.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_response.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_update_tracking_request.json": "A Shopify order has an `id`",
    "woocommerce/v3_GET_order_notes_list_response.json": "Not a WooCommerce order",
    "woocommerce/v3_POST_order_note_response.json": "Not a WooCommerce order",
    "tiktok/get_authorized_shops_202309_response.json": "A TikTok Shop order has an `id`",
    "tiktok/mark_package_as_shipped_202309_request.json": "A TikTok Shop order has an `id`",
    "tiktok/mark_package_as_shipped_202309_response.json": "A TikTok Shop order has an `id`",
    "tiktok/order_search_202309_request.json": "A TikTok Shop order has an `id`",
}


def _parse_with_the_command(path: str):
    out = io.StringIO()
    call_command("parse_platform_order", "--platform", path.split("/", 1)[0], str(FIXTURES / path), stdout=out)
    printed = json.loads(out.getvalue())
    return printed if isinstance(printed, list) else [printed]


def test_every_fixture_is_classified():
    on_disk = {path.relative_to(FIXTURES).as_posix() for path in FIXTURES.rglob("*.json")}
    assert on_disk == set(ORDER_FIXTURES) | set(ORDER_PARTS) | set(NOT_ORDERS)


@pytest.mark.parametrize("path", sorted(ORDER_FIXTURES))
def test_parse_platform_order_turns_every_order_fixture_into_normalized_orders(path):
    orders = _parse_with_the_command(path)
    assert [order["external_id"] for order in orders] == ORDER_FIXTURES[path]
    platform = path.split("/", 1)[0]
    for order in orders:
        assert order["platform"] == platform
        # the GraphQL cursor page selects ids only, so its orders carry no currency
        assert len(order["currency"]) == (0 if "cursor_pageInfo" in path else 3)
        for line in order["lines"]:
            assert isinstance(line["quantity"], int)
            assert line["unit_price"] is None or isinstance(line["unit_price"], str)  # exact text, never a float


@pytest.mark.parametrize("path", sorted(ORDER_PARTS))
def test_parse_platform_order_asks_for_the_order_an_order_part_belongs_to(path):
    with pytest.raises(CommandError, match=f"This is a {ORDER_PARTS[path]}; combine it with its getOrder response"):
        _parse_with_the_command(path)


@pytest.mark.parametrize("path", sorted(NOT_ORDERS))
def test_parse_platform_order_refuses_what_is_not_an_order(path):
    with pytest.raises(CommandError, match=re.escape(NOT_ORDERS[path])):
        _parse_with_the_command(path)
