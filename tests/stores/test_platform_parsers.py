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
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

pytest.register_assert_rewrite("tests.stores.parser_expectations")

from stores.platforms import amazon, shopify, tiktok, woocommerce  # noqa: E402
from stores.platforms.base import (  # noqa: E402
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    money,
)
from tests.stores import parser_expectations as expect  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EDT = timezone(timedelta(hours=-4))
JST = timezone(timedelta(hours=9))


def fixture(path: str):
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


# --- Shopify REST -----------------------------------------------------------------------


def _assert_shopify_order_5829104736(order, *, financial=FinancialStatus.PARTIALLY_REFUNDED):
    expect.assert_shopify_order_shape(
        order,
        external_id="5829104736",
        display_number="#1047",
        created_at=datetime(2026, 3, 14, 9, 12, 45, tzinfo=EDT),
        created_at_utc=datetime(2026, 3, 14, 13, 12, 45, tzinfo=UTC),
        currency="USD",
        financial_status=financial,
        shipping_address={
            "name": "Mia Chen",
            "address1": "2150 Mission Street",
            "address2": "Apt 4B",
            "city": "San Francisco",
            "province_code": "CA",
            "postal_code": "94110",
            "country_code": "US",
        },
        shipping_method="Standard Shipping",
        # the shipping-protection line has no SKU and ships nothing; it is kept as the platform sent it
        skus=["LS-SERUM-30ML", "LS-TONER-150ML", ""],
        line_ids=["14022871001", "14022871002", "14022871003"],
        unit_prices=[Decimal("38.00"), Decimal("24.50"), Decimal("2.95")],
        first_line={
            "product_id": "8104417001",
            "variant_id": "44908231001",
            "title": "Snowtox Crystal Treatment Serum",
            "variant_title": "30 ml",
        },
    )
    assert order.lines[2].title == "Shipping Protection"


def test_shopify_parse_rest_2024_10_order_pins_the_fixture_order():
    order = shopify.parse_order(fixture("shopify/rest_2024-10_GET_order_single_response.json"))

    _assert_shopify_order_5829104736(order)
    # the refund took the toner: the serums and the protection are still wanted
    expect.assert_shopify_rest_order(
        order,
        buyer={
            "email": "mia.chen@mail.example.net",
            "name": "Mia Chen",
            "external_id": "7302418851",
            "phone": "+14155550143",  # the order has no phone: the customer's
        },
        shipping_phone="+1 415-555-0143",
        shipping_province="California",
        total=Decimal("119.66"),
        quantities=[2, 0, 1],
        raw_id=5829104736,
    )
    assert order.updated_at == datetime(2026, 3, 15, 14, 2, 11, tzinfo=UTC)
    assert order.platform_status == "partially_refunded / unfulfilled"


def test_shopify_parse_rest_orders_list_and_webhook_body_give_the_same_order():
    expect.assert_same_order_everywhere(
        listed=shopify.parse_document(fixture("shopify/rest_2024-10_GET_orders_status_any_response.json")),
        webhook=shopify.parse_document(fixture("shopify/webhook_orders_create_body.json")),
        single=shopify.parse_document(fixture("shopify/rest_2024-10_GET_order_single_response.json")),
    )


def test_shopify_parse_legacy_orders_without_current_quantity():
    order = shopify.parse_order(fixture("shopify/rest_legacy_order_single.json"))
    _assert_shopify_order_5829104736(order, financial=FinancialStatus.AUTHORIZED)
    expect.assert_shopify_legacy_order(
        order,
        quantities=[2, 1, 1],  # no current_quantity in old payloads
        total=Decimal("128.16"),
        buyer_email="mia.chen@oldmail.example.org",
        shipping_phone="415-555-0199",
    )

    (listed,) = shopify.parse_document(fixture("shopify/rest_legacy_orders_list_selected_fields.json"))
    # that listing carries no line_items; the order's phone before the customer's
    expect.assert_shopify_listing_without_lines(
        listed, external_id="5829104736", postal_code="94110", buyer_phone="+14155550188"
    )
    assert listed.shipping_method == ""  # nor shipping_lines


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

    expect.assert_shopify_graphql_details(
        orders,
        external_ids=["6120044501", "6120044502", "6120044503", "6120044504"],
        display_numbers=["#3101", "#3102", "#3103", "#3104"],
        first={
            "created_at": datetime(2026, 2, 1, tzinfo=UTC),
            "currency": "GBP",
            "total": Decimal("1250.5"),
        },
        first_buyer_email="oliver.king@example.co.uk",
        first_line={
            "sku": "TOTE-LIN-NAT",
            "quantity": 4,
            "title": "Linen Tote - Natural",
            "variant_id": "48811002",
            "variant_title": "Natural",
        },
    )
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

    expect.assert_shopify_cursor_page(
        orders, count=6, first_id="6120044401", last_id="6120044437", gid_order_id="5829104736"
    )


def test_shopify_parse_refuses_a_payload_that_is_not_an_order():
    expect.assert_refused(
        shopify.parse_document, fixture("shopify/rest_2024-10_GET_order_fulfillment_orders_response.json")
    )


# --- WooCommerce --------------------------------------------------------------------------


def test_woocommerce_parse_single_order_1184():
    order = woocommerce.parse_order(fixture("woocommerce/v3_GET_order_single_response.json"))

    expect.assert_woocommerce_single_order(
        order,
        external_id="1184",
        created_at=datetime(2026, 4, 3, 4, 15, 9, tzinfo=UTC),
        updated_at=datetime(2026, 4, 3, 4, 15, 31, tzinfo=UTC),
        currency="USD",
        total=Decimal("41.80"),
        buyer={"name": "Ava Thompson", "email": "ava.thompson@example.com", "external_id": "57"},
        shipping_address=NormalizedAddress(
            name="Ava Thompson",
            phone="(503) 555-0172",  # the shipping phone is blank: the billing one
            email="ava.thompson@example.com",
            address1="818 SW Alder St",
            city="Portland",
            province_code="OR",
            postal_code="97205",
            country_code="US",
        ),
        shipping_method="Flat rate",
        first=("2301", "", 3, Decimal("2.5")),
        first_ids=("410", ""),
        first_line_total=Decimal("7.50"),
        second=("2302", "RNC-50-YUZU", 1, Decimal("26.00")),
        second_ids=("412", "415"),
        second_title="Rose Night Cream \u2013 Size: 50 ml, Scent: Yuzu",
    )


def test_woocommerce_parse_list_keeps_postcodes_as_text():
    orders = woocommerce.parse_document(fixture("woocommerce/v3_GET_orders_list_response.json"))

    assert [order.external_id for order in orders] == ["1184", "1179", "1175", "1171"]
    japan = orders[1]
    # the gift wrap is a fee line, not a line item: only the goods are lines
    expect.assert_woocommerce_completed_order(
        japan,
        shipping_address={
            "postal_code": "150-0002",
            "country_code": "JP",
            "province_code": "JP13",
            "name": "花子 山田",
            "address2": "渋谷ヒカリエ 8F",
        },
        lines=[("2290", 1, Decimal("1980")), ("2291", 2, Decimal("2500"))],
    )
    assert japan.currency == "JPY"
    assert japan.buyer.external_id == ""  # a guest: customer_id 0
    assert japan.shipping_method == "ヤマト運輸 & 宅急便"  # &amp; unescaped
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
    expect.assert_woocommerce_status_completed(
        order, external_id="1184", updated_at=datetime(2026, 4, 5, 8, 40, 12, tzinfo=UTC)
    )


def test_woocommerce_parse_refuses_an_order_note():
    expect.assert_refused(woocommerce.parse_order, fixture("woocommerce/v3_POST_order_note_response.json"))


# --- Amazon -----------------------------------------------------------------------------


def test_amazon_parse_get_orders_with_get_order_items_combined():
    # getOrders' first order and getOrderItems are a matching pair (113-4829301-7730145)
    page = fixture("amazon/getOrders_response.json")
    items = fixture("amazon/getOrderItems_response.json")

    (order,) = amazon.parse_document({"payload": page["payload"]["Orders"][0]}, items=items)

    expect.assert_amazon_combined_order(
        order,
        external_id="113-4829301-7730145",
        created_at=datetime(2026, 5, 6, 14, 21, 9, tzinfo=UTC),
        currency="USD",
        total=Decimal("34.55"),
        shipping_method="Std US Dom_2",
        line={
            "external_line_id": "41820937455021",
            "sku": "LS-SERUM-30ML-US",
            "product_id": "B0C7QX2Z4M",
            "quantity": 2,
            "unit_price": Decimal("15.99"),
            "line_total": Decimal("31.98"),
            "title": "Snowtox Crystal Treatment Serum, 30 ml",
        },
    )


def test_amazon_parse_get_order_pending_has_address_and_no_prices():
    (order,) = amazon.parse_document(fixture("amazon/getOrder_pending_response.json"))

    expect.assert_amazon_pending_order(
        order,
        external_id="113-7016482-5528341",
        currency="USD",
        buyer={"name": "Jordan Alvarez", "email": "jordan.alvarez@example.com"},
        shipping_address={
            "name": "Receiving dock 3",
            "address1": "4400 W Cermak Rd",
            "city": "Chicago",
            "province_code": "IL",
            "postal_code": "60623",
            "country_code": "US",
            "company": "Alvarez Imports LLC",
        },
    )


def test_amazon_parse_get_order_items_divides_item_price_by_quantity():
    items = fixture("amazon/getOrderItems_jp_response.json")
    order = {"AmazonOrderId": "250-3318265-0061902", "OrderStatus": "Unshipped", "MarketplaceId": "A1VC38T7YXB528"}

    (parsed,) = amazon.parse_document(order, items=items)

    expect.assert_amazon_items_divided(
        parsed,
        currency="JPY",  # no OrderTotal here: the items' currency
        lines=[("60917325118402", "LS-SERUM-30ML-JP", 1), ("60917325118403", "LS-TONER-150ML-JP", 2)],
        unit_prices=[Decimal("4980"), Decimal("2990")],
        second_line_total=Decimal("5980"),
        first_product_id="B0D1JPSR30",
    )
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
    expect.assert_refused(
        amazon.parse_document,
        fixture("amazon/getOrder_pending_response.json"),
        items=fixture("amazon/getOrderItems_jp_response.json"),
        match="250-3318265-0061902",
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

    expect.assert_amazon_search_order(
        order,
        external_id="701-2241730-5519046",
        created_at=datetime(2026, 6, 1, 8, 30, tzinfo=UTC),
        total=Decimal("87.47"),
        address2="Unit 12",
        postal_code="78701",
        lines=[("LS-SERUM-30ML-US", 1, Decimal("38.99")), ("LS-MASK-5PK", 2, Decimal("19.99"))],
    )
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

    expect.assert_tiktok_unpaid_order(
        order,
        external_id="579214006318273201",
        create_time=1772096400,
        update_time=1772096700,
        currency="GBP",
        total=Decimal("27.98"),
        buyer={"external_id": "7494011223344556677", "email": "q7Xk2Pw9@scs.tiktokw.eu"},
        shipping_address={
            "name": "Amelia Clarke",
            "phone": "(+44)7700-***-123",
            "address1": "18 Piccadilly",
            "address2": "Flat 3",
            "postal_code": "M1 1AE",
            "country_code": "GB",
            "city": "Manchester",  # no city level in district_info: the post town
            "province": "Greater Manchester",  # the L1 level
        },
        shipping_method="Standard shipping",
        line={
            "external_line_id": "579214006318339001",
            "sku": "LS-SERUM-30ML-UK",
            "quantity": 1,
            "unit_price": Decimal("24.99"),
            "product_id": "1731499999999999001",
            "variant_id": "1731500000000000101",
            "title": "Snowtox Crystal Treatment Serum",
            "variant_title": "30 ml",
        },
    )


def test_tiktok_parse_order_search_page():
    awaiting, cancelled, japan = tiktok.parse_document(fixture("tiktok/order_search_202309_response.json"))

    expect.assert_tiktok_search_order(awaiting, external_id="579214006318290044", shipping_method="Standard Shipping")
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
    expect.assert_refused(
        tiktok.parse_document, {"code": 36009004, "message": "Invalid access token", "data": {}}, match="36009004"
    )


# --- shared helpers and the command -----------------------------------------------------


def test_money_never_goes_through_binary_float():
    assert money("0.10") + money("0.20") == Decimal("0.30")
    assert money(12.1) == Decimal("12.1")
    assert money(None) is None


def test_normalized_order_to_dict_prints_money_as_text():
    order = woocommerce.parse_order(fixture("woocommerce/v3_GET_order_single_response.json"))
    expect.assert_to_dict_prints_money_as_text(
        order, total="41.80", second_unit_price="26.00", created_at="2026-04-03T04:15:09+00:00"
    )


def test_parse_platform_order_command_prints_the_normalized_order(capsys):
    expect.assert_command_prints_the_order(
        capsys,
        FIXTURES / "shopify/rest_2024-10_GET_order_single_response.json",
        external_id="5829104736",
        second_sku="LS-TONER-150ML",
        second_unit_price="24.50",
        postal_code="94110",
    )


def test_parse_platform_order_command_prints_non_ascii_as_is():
    out = io.StringIO()
    call_command(
        "parse_platform_order", "--platform", "amazon", str(FIXTURES / "amazon/getOrder_jp_response.json"), stdout=out
    )
    assert '"province": "東京都"' in out.getvalue()


def test_parse_platform_order_command_combines_amazon_items(tmp_path):
    # given a getOrder response saved for the order the items belong to
    expect.assert_command_combines_amazon_items(
        tmp_path,
        fixture("amazon/getOrders_response.json")["payload"]["Orders"][0],
        FIXTURES / "amazon/getOrderItems_response.json",
        external_id="113-4829301-7730145",
        sku="LS-SERUM-30ML-US",
        unit_price="15.99",
    )


def test_parse_platform_order_command_refuses_amazon_items_of_another_order():
    expect.assert_command_refuses_amazon_items_of_another_order(
        FIXTURES / "amazon/getOrder_pending_response.json", FIXTURES / "amazon/getOrderItems_jp_response.json"
    )


def test_parse_platform_order_command_lists_every_order_of_a_page():
    expect.assert_command_lists_every_order(
        FIXTURES / "woocommerce/v3_GET_orders_list_response.json", ["1184", "1179", "1175", "1171"]
    )


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


def test_every_fixture_is_classified():
    expect.assert_every_file_is_classified(FIXTURES, ORDER_FIXTURES, ORDER_PARTS, NOT_ORDERS)


@pytest.mark.parametrize("path", sorted(ORDER_FIXTURES))
def test_parse_platform_order_turns_every_order_fixture_into_normalized_orders(path):
    expect.assert_command_turns_into_orders(FIXTURES, path, ORDER_FIXTURES[path])


@pytest.mark.parametrize("path", sorted(ORDER_PARTS))
def test_parse_platform_order_asks_for_the_order_an_order_part_belongs_to(path):
    expect.assert_command_asks_for_the_order(FIXTURES, path, ORDER_PARTS[path])


@pytest.mark.parametrize("path", sorted(NOT_ORDERS))
def test_parse_platform_order_refuses_what_is_not_an_order(path):
    expect.assert_command_refuses(FIXTURES, path, NOT_ORDERS[path])
