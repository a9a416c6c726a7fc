"""Conformance: the platforms' own published examples parse into the right NormalizedOrder.

The parser tests (test_platform_parsers.py) run on the project's own fixtures; this
module adds the platforms' verbatim example payloads (Shopify's and WooCommerce's API
reference examples, Amazon's SP-API models, TikTok Shop's partner docs), kept outside
the repository because they are third-party files. The values pinned here were read off
those files by hand (their provenance is in SOURCES.md beside them).

Where the samples are: `PLATFORM_SAMPLES_DIR` (a relative path counts from the
repository root), by default the folder `platform-samples` in the `shared` folder next
to the repository. Without it the module is skipped, saying where it looked; under
`CI=true` a missing folder fails every test here instead, because CI has the samples and
a silent skip would hide a regression. See docs/testing.md.
"""

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.stores.parser_expectations")

from stores.platforms import amazon, shopify, tiktok, woocommerce  # noqa: E402
from stores.platforms.base import FinancialStatus, NormalizedAddress  # noqa: E402
from tests.stores import parser_expectations as expect  # noqa: E402

pytestmark = pytest.mark.conformance

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAMPLES = REPO_ROOT.parent / "shared" / "platform-samples"


def samples_dir() -> Path:
    """PLATFORM_SAMPLES_DIR if set (relative to the repository root), else the default."""
    configured = os.environ.get("PLATFORM_SAMPLES_DIR", "").strip()
    if not configured:
        return DEFAULT_SAMPLES
    path = Path(configured).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


SAMPLES = samples_dir()
EST = timezone(timedelta(hours=-5))
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
MISSING = (
    f"the platform samples folder {SAMPLES} is missing "
    f"({'PLATFORM_SAMPLES_DIR' if os.environ.get('PLATFORM_SAMPLES_DIR', '').strip() else 'the default'}; "
    "set PLATFORM_SAMPLES_DIR to the folder holding shopify/, woocommerce/, amazon/, tiktok/)"
)

if not SAMPLES.is_dir() and not IN_CI:
    pytest.skip(f"Conformance suite skipped: {MISSING}.", allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def _samples_present():
    if not SAMPLES.is_dir():  # only reached under CI=true
        pytest.fail(f"CI=true and {MISSING}: CI must run the conformance suite.")


def sample(path: str):
    return json.loads((SAMPLES / path).read_text(encoding="utf-8"))


# --- Shopify REST -----------------------------------------------------------------------


def _assert_shopify_order_450789469(order, *, financial=FinancialStatus.PARTIALLY_REFUNDED):
    expect.assert_shopify_order_shape(
        order,
        external_id="450789469",
        display_number="#1001",
        created_at=datetime(2008, 1, 10, 11, 0, tzinfo=EST),
        created_at_utc=datetime(2008, 1, 10, 16, 0, tzinfo=UTC),
        currency="USD",
        financial_status=financial,
        shipping_address={
            "name": "Bob Norman",
            "address1": "Chestnut Street 92",
            "city": "Louisville",
            "province_code": "KY",
            "postal_code": "40202",
            "country_code": "US",
        },
        shipping_method="Free Shipping",
        skus=["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"],
        line_ids=["466157049", "518995019", "703073504"],
        unit_prices=[Decimal("199.00")] * 3,
        first_line={
            "product_id": "632910392",
            "variant_id": "39072856",
            "title": "IPod Nano - 8gb",
            "variant_title": "green",
        },
    )


def test_shopify_parse_rest_2024_10_order_pins_the_documented_order():
    order = shopify.parse_order(sample("shopify/rest_2024-10_GET_order_single_response.json"))

    _assert_shopify_order_450789469(order)
    assert order.display_number == "#1001"
    # refunds removed the green and black units: only the red one is still wanted
    expect.assert_shopify_rest_order(
        order,
        buyer={"email": "bob.norman@mail.example.com", "name": "Bob Norman", "external_id": "207119551"},
        shipping_phone="+1(502)-459-2181",
        shipping_province="Kentucky",
        total=Decimal("598.94"),
        quantities=[0, 1, 0],
        raw_id=450789469,
    )


def test_shopify_parse_rest_orders_list_and_webhook_body_give_the_same_order():
    expect.assert_same_order_everywhere(
        listed=shopify.parse_document(sample("shopify/rest_2024-10_GET_orders_status_any_response.json")),
        webhook=shopify.parse_document(
            sample("shopify/DERIVED_webhook_orders_create_body_from_rest_2024-10_order.json")
        ),
        single=shopify.parse_document(sample("shopify/rest_2024-10_GET_order_single_response.json")),
    )


def test_shopify_parse_python_api_fixtures_old_style_orders():
    order = shopify.parse_order(sample("shopify/rest_order_single_shopify_python_api_fixture.json"))
    _assert_shopify_order_450789469(order, financial=FinancialStatus.AUTHORIZED)
    expect.assert_shopify_legacy_order(
        order,
        quantities=[1, 1, 1],  # no current_quantity in old payloads
        total=Decimal("409.94"),
        buyer_email="bob.norman@hostmail.com",
        shipping_phone="555-625-1199",
    )

    (listed,) = shopify.parse_document(sample("shopify/rest_orders_list_shopify_python_api_fixture.json"))
    # that fixture carries no line_items; the order's phone before the customer's
    expect.assert_shopify_listing_without_lines(
        listed, external_id="450789469", postal_code="40202", buyer_phone="+557734881234"
    )


def test_shopify_parse_graphql_order_details_with_line_items():
    orders = shopify.parse_document(sample("shopify/graphql_orders_first5_details_lineItems_response.json"))

    expect.assert_shopify_graphql_details(
        orders,
        external_ids=["158040885", "199007853", "212949620", "294238686", "316002265"],
        display_numbers=["#2000", "#2006", "#2002", "#2009", "#2003"],
        first={
            "created_at": datetime(2024, 1, 1, tzinfo=UTC),
            "currency": "CAD",
            "total": Decimal("2000.0"),
        },
        first_buyer_email="bob@example.com",
        first_line={
            "sku": "draft-151",
            "quantity": 10,
            "title": "Draft - 151cm",
            "variant_id": "168923715",
            "variant_title": "151cm",
        },
    )


def test_shopify_parse_graphql_cursor_page_of_ids():
    orders = shopify.parse_document(sample("shopify/graphql_orders_first10_cursor_pageInfo_response.json"))

    expect.assert_shopify_cursor_page(
        orders, count=10, first_id="126216516", last_id="556527638", gid_order_id="450789469"
    )


def test_shopify_parse_refuses_a_payload_that_is_not_an_order():
    expect.assert_refused(
        shopify.parse_document, sample("shopify/rest_2024-10_GET_order_fulfillment_orders_response.json")
    )


# --- WooCommerce --------------------------------------------------------------------------


def test_woocommerce_parse_single_order_727():
    order = woocommerce.parse_order(sample("woocommerce/v3_GET_order_single_response.json"))

    assert order.display_number == "727"
    expect.assert_woocommerce_single_order(
        order,
        external_id="727",
        created_at=datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC),
        updated_at=datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC),
        currency="USD",
        total=Decimal("29.35"),
        buyer={"name": "John Doe", "email": "john.doe@example.com"},
        shipping_address=NormalizedAddress(
            name="John Doe",
            phone="(555) 555-5555",
            email="john.doe@example.com",
            address1="969 Market",
            city="San Francisco",
            province_code="CA",
            postal_code="94103",
            country_code="US",
        ),
        shipping_method="Flat Rate",
        first=("315", "", 2, Decimal("3")),
        first_ids=("93", ""),
        first_line_total=Decimal("6.00"),
        second=("316", "Bar3", 1, Decimal("12.00")),
        second_ids=("22", "23"),
        second_title="Ship Your Idea \u2013 Color: Black, Size: M Test",
    )


def test_woocommerce_parse_list_keeps_postcodes_as_text():
    orders = woocommerce.parse_document(sample("woocommerce/v3_GET_orders_list_response.json"))

    assert [order.external_id for order in orders] == ["727", "723"]
    expect.assert_woocommerce_completed_order(
        orders[1],
        shipping_address={
            "postal_code": "12345-000",
            "country_code": "BR",
            "province_code": "RJ",
            "name": "Jo\u00e3o Silva",
        },
        lines=[("311", 1, Decimal("9")), ("313", 1, Decimal("20"))],
    )


def test_woocommerce_parse_completed_order_is_fulfilled():
    order = woocommerce.parse_order(sample("woocommerce/v3_PUT_order_status_completed_response.json"))
    expect.assert_woocommerce_status_completed(
        order, external_id="727", updated_at=datetime(2017, 3, 22, 19, 30, 35, tzinfo=UTC)
    )


def test_woocommerce_parse_refuses_an_order_note():
    expect.assert_refused(woocommerce.parse_order, sample("woocommerce/v3_POST_order_note_response.json"))


# --- Amazon -----------------------------------------------------------------------------


def test_amazon_parse_get_orders_with_get_order_items_combined():
    # getOrders' first order and getOrderItems are the sandbox's matching pair (902-1845936-5435065)
    page = sample("amazon/getOrders_sandbox_TEST_CASE_200_response.json")
    items = sample("amazon/getOrderItems_sandbox_TEST_CASE_200_response.json")

    (order,) = amazon.parse_document({"payload": page["payload"]["Orders"][0]}, items=items)

    expect.assert_amazon_combined_order(
        order,
        external_id="902-1845936-5435065",
        created_at=datetime(1970, 1, 19, 3, 58, 30, tzinfo=UTC),
        currency="USD",
        total=Decimal("11.01"),
        shipping_method="Std US D2D Dom",
        line={
            "external_line_id": "05015851154158",
            "sku": "NABetaASINB00551Q3CS",
            "product_id": "B00551Q3CS",
            "quantity": 1,
            "unit_price": Decimal("10.00"),
            "title": "B00551Q3CS [Card Book]",
        },
    )


def test_amazon_parse_get_order_pending_has_address_and_no_prices():
    (order,) = amazon.parse_document(sample("amazon/getOrder_response_example.json"))

    expect.assert_amazon_pending_order(
        order,
        external_id="902-3159896-1390916",
        currency="USD",
        buyer={"name": "John Doe", "email": "user@example.com"},
        shipping_address={
            "name": "Michigan address",
            "address1": "1 Cross St.",
            "city": "Canton",
            "province_code": "MI",
            "postal_code": "48817",
            "country_code": "US",
            "company": "A Company Name",
        },
    )


def test_amazon_parse_get_order_items_divides_item_price_by_quantity():
    items = sample("amazon/getOrderItems_response_example.json")
    order = {"AmazonOrderId": "903-1671087-0812628", "OrderStatus": "Unshipped", "MarketplaceId": "A1VC38T7YXB528"}

    (parsed,) = amazon.parse_document(order, items=items)

    expect.assert_amazon_items_divided(
        parsed,
        currency="JPY",
        lines=[("68828574383266", "CBA_OTF_1", 1), ("79039765272157", "CBA_OTF_5", 2)],
        unit_prices=[Decimal("25.99"), Decimal("8.975")],
        second_line_total=Decimal("17.95"),
        first_product_id="BT0093TELA",
    )


def test_amazon_parse_refuses_items_of_another_order():
    expect.assert_refused(
        amazon.parse_document,
        sample("amazon/getOrder_response_example.json"),
        items=sample("amazon/getOrderItems_response_example.json"),
        match="903-1671087-0812628",
    )


def test_amazon_parse_get_orders_example_page():
    (order,) = amazon.parse_document(sample("amazon/getOrders_response_example.json"))
    assert order.external_id == "902-3159896-1390916"
    assert order.lines == ()


def test_amazon_parse_search_orders_2026_embeds_items():
    (order,) = amazon.parse_document(sample("amazon/orders_2026-01-01_searchOrders_response_example.json"))

    expect.assert_amazon_search_order(
        order,
        external_id="123-4567890-1234567",
        created_at=datetime(2024, 12, 25, 10, 30, tzinfo=UTC),
        total=Decimal("154.99"),
        address2="Suite 456",
        postal_code="98101",
        lines=[("ECHO-DOT-4-CHARCOAL", 2, Decimal("49.99")), ("FIRE-TV-4K-2021", 1, Decimal("49.99"))],
    )


# --- TikTok Shop ------------------------------------------------------------------------


def test_tiktok_parse_order_detail():
    (order,) = tiktok.parse_document(sample("tiktok/order_detail_202507_response.json"))

    expect.assert_tiktok_unpaid_order(
        order,
        external_id="576461413038785752",
        create_time=1619611561,
        update_time=1619621355,
        currency="IDR",
        total=Decimal("5000"),
        buyer={"external_id": "7021436810468230477", "email": "v2b2V5@chat.seller.tiktok.com"},
        shipping_address={
            "name": "David Kong",
            "phone": "(+1)213-***-1234",
            "address1": "TikTok 5800 bristol Pkwy",
            "address2": "Suite 100",
            "postal_code": "95110",
            "country_code": "US",
            "city": "Ribbleton",  # no city level in district_info: the post town
        },
        shipping_method="Express shipping",
        line={
            "external_line_id": "577086512123755123",
            "sku": "red_iphone_256",
            "quantity": 1,
            "unit_price": Decimal("0.01"),
            "product_id": "1729582718312380123",
            "variant_id": "2729382476852921560",
            "title": "Women's Winter Crochet Clothes",
        },
    )


def test_tiktok_parse_order_search_page():
    (order,) = tiktok.parse_document(sample("tiktok/order_search_202309_response.json"))
    expect.assert_tiktok_search_order(order, external_id="576461413038785752", shipping_method="Standard Shipping")


# --- NormalizedOrder and the command ----------------------------------------------------


def test_normalized_order_to_dict_prints_money_as_text():
    order = woocommerce.parse_order(sample("woocommerce/v3_GET_order_single_response.json"))
    expect.assert_to_dict_prints_money_as_text(
        order, total="29.35", second_unit_price="12.00", created_at="2017-03-22T19:28:02+00:00"
    )


def test_parse_platform_order_command_prints_the_normalized_order(capsys):
    expect.assert_command_prints_the_order(
        capsys,
        SAMPLES / "shopify/rest_2024-10_GET_order_single_response.json",
        external_id="450789469",
        second_sku="IPOD2008RED",
        second_unit_price="199.00",
        postal_code="40202",
    )


def test_parse_platform_order_command_combines_amazon_items(tmp_path):
    # given a getOrder response saved for the order the sandbox items belong to
    expect.assert_command_combines_amazon_items(
        tmp_path,
        sample("amazon/getOrders_sandbox_TEST_CASE_200_response.json")["payload"]["Orders"][0],
        SAMPLES / "amazon/getOrderItems_sandbox_TEST_CASE_200_response.json",
        external_id="902-1845936-5435065",
        sku="NABetaASINB00551Q3CS",
        unit_price="10.00",
    )


def test_parse_platform_order_command_refuses_amazon_items_of_another_order():
    expect.assert_command_refuses_amazon_items_of_another_order(
        SAMPLES / "amazon/getOrder_response_example.json", SAMPLES / "amazon/getOrderItems_response_example.json"
    )


def test_parse_platform_order_command_lists_every_order_of_a_page():
    expect.assert_command_lists_every_order(SAMPLES / "woocommerce/v3_GET_orders_list_response.json", ["727", "723"])


# --- Every sample, classified --------------------------------------------------------------
# Each order example goes through `manage.py parse_platform_order` and yields these orders
# (their fields are pinned one by one by the tests above); every other file is named with
# why it is not an order and what the command says. A sample added to the folder later fails
# test_every_sample_is_classified until it is put in one of these lists.

ORDER_EXAMPLES = {
    "shopify/rest_2024-10_GET_orders_status_any_response.json": ["450789469"],
    "shopify/rest_2024-10_GET_order_single_response.json": ["450789469"],
    "shopify/DERIVED_webhook_orders_create_body_from_rest_2024-10_order.json": ["450789469"],
    "shopify/rest_order_single_shopify_python_api_fixture.json": ["450789469"],
    "shopify/rest_orders_list_shopify_python_api_fixture.json": ["450789469"],
    "shopify/graphql_orders_first5_details_lineItems_response.json": [
        "158040885",
        "199007853",
        "212949620",
        "294238686",
        "316002265",
    ],
    "shopify/graphql_orders_first10_cursor_pageInfo_response.json": [
        "126216516",
        "148977776",
        "235240302",
        "357944854",
        "404481575",
        "409214363",
        "471861129",
        "480796189",
        "527229289",
        "556527638",
    ],
    "woocommerce/v3_GET_order_single_response.json": ["727"],
    "woocommerce/v3_GET_orders_list_response.json": ["727", "723"],
    "woocommerce/v3_PUT_order_status_completed_response.json": ["727"],
    "amazon/getOrder_response_example.json": ["902-3159896-1390916"],
    "amazon/getOrders_response_example.json": ["902-3159896-1390916"],
    "amazon/getOrders_sandbox_TEST_CASE_200_response.json": ["902-1845936-5435065", "902-8745147-1934268"],
    "amazon/orders_2026-01-01_searchOrders_response_example.json": ["123-4567890-1234567"],
    "tiktok/order_detail_202507_response.json": ["576461413038785752"],
    "tiktok/order_search_202309_response.json": ["576461413038785752"],
}
# Order parts: parsed together with their order (`--items`), see the Amazon tests above.
ORDER_PARTS = {
    "amazon/getOrderItems_sandbox_TEST_CASE_200_response.json": "getOrderItems response",
    "amazon/getOrderItems_response_example.json": "getOrderItems response",
    "amazon/getOrderAddress_response_example.json": "getOrderAddress response",
}
NOT_ORDERS = {
    # notifications name an order; the order itself is fetched
    "amazon/ORDER_CHANGE_notification_example.json": "ORDER_CHANGE notification for order 903-8868176-2219830",
    "tiktok/webhook_order_status_change_type1.json": "webhook (type 1) for order 576486316948490001",
    # what push_tracking sends and receives, and the other calls around it
    "amazon/confirmShipment_request_sandbox_example.json": "Not an Amazon order",
    "shopify/rest_2024-10_GET_order_fulfillment_orders_response.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_request.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_response.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_update_tracking_request.json": "A Shopify order has an `id`",
    "shopify/rest_2024-10_POST_fulfillments_update_tracking_response.json": "A Shopify order has an `id`",
    "shopify/rest_fulfillment_legacy_shopify_python_api_fixture.json": "A Shopify order has an `id`",
    "woocommerce/v3_GET_order_notes_list_response.json": "Not a WooCommerce order",
    "woocommerce/v3_POST_order_note_response.json": "Not a WooCommerce order",
    "tiktok/get_authorized_shops_202309_response.json": "A TikTok Shop order has an `id`",
    "tiktok/get_shipping_providers_202309_response.json": "A TikTok Shop order has an `id`",
    "tiktok/mark_package_as_shipped_202309_request.json": "A TikTok Shop order has an `id`",
    "tiktok/mark_package_as_shipped_202309_response.json": "A TikTok Shop order has an `id`",
    "tiktok/order_search_202309_request.json": "A TikTok Shop order has an `id`",
    "tiktok/update_shipping_info_202309_request.json": "A TikTok Shop order has an `id`",
    "tiktok/update_shipping_info_202309_response.json": "A TikTok Shop order has an `id`",
}
# Platforms outside issue 4's five (Shopify, WooCommerce, Amazon, TikTok Shop, no API):
# their samples are kept for a later platform and have no parser yet.
OTHER_PLATFORMS = {"walmart", "ebay"}


def test_every_sample_is_classified():
    expect.assert_every_file_is_classified(
        SAMPLES, ORDER_EXAMPLES, ORDER_PARTS, NOT_ORDERS, except_platforms=OTHER_PLATFORMS
    )


@pytest.mark.parametrize("path", sorted(ORDER_EXAMPLES))
def test_parse_platform_order_turns_every_order_example_into_normalized_orders(path):
    expect.assert_command_turns_into_orders(SAMPLES, path, ORDER_EXAMPLES[path])


@pytest.mark.parametrize("path", sorted(ORDER_PARTS))
def test_parse_platform_order_asks_for_the_order_an_order_part_belongs_to(path):
    expect.assert_command_asks_for_the_order(SAMPLES, path, ORDER_PARTS[path])


@pytest.mark.parametrize("path", sorted(NOT_ORDERS))
def test_parse_platform_order_refuses_what_is_not_an_order(path):
    expect.assert_command_refuses(SAMPLES, path, NOT_ORDERS[path])
