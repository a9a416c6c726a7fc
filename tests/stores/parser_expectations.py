"""The checks a parsed NormalizedOrder is held to, written once.

test_platform_parsers.py runs them on the project's own fixtures and
test_platform_conformance.py on the platforms' verbatim samples: the same checks, each
module passing the values it read off its own files. Every function takes the parsed
order (or orders) and the values expected; a check both modules make with the same value
(a Shopify order's platform, an unpaid TikTok order's status) is written here.

The test modules register this module for pytest's assertion rewriting before importing
it, so a failing check still shows both sides.
"""

import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from stores.platforms import shopify
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    PayloadError,
)


def assert_fields(obj, **expected):
    """Each named attribute of obj equals its expected value."""
    for name, value in expected.items():
        assert getattr(obj, name) == value, name


def assert_refused(parse, payload, *, match=None, **kwargs):
    """parse(payload, **kwargs) refuses the payload with a PayloadError (saying `match`)."""
    with pytest.raises(PayloadError, match=match):
        parse(payload, **kwargs)


# --- Shopify ----------------------------------------------------------------------------


def assert_shopify_order_shape(
    order,
    *,
    external_id,
    display_number,
    created_at,
    created_at_utc,
    currency,
    financial_status,
    shipping_address: dict,
    shipping_method,
    skus,
    line_ids,
    unit_prices,
    first_line: dict,
    fulfillment_status=FulfillmentStatus.UNFULFILLED,
    cancel_status=CancelStatus.NONE,
):
    """A Shopify REST order as every payload shape of it (current, legacy) gives it."""
    assert order.platform == "shopify"
    assert order.external_id == external_id
    assert order.display_number == display_number
    assert order.created_at == created_at
    assert order.created_at == created_at_utc
    assert order.currency == currency
    assert order.financial_status == financial_status
    assert order.fulfillment_status == fulfillment_status
    assert order.cancel_status == cancel_status
    assert_fields(order.shipping_address, **shipping_address)
    assert isinstance(order.shipping_address.postal_code, str)
    assert order.shipping_method == shipping_method
    assert [line.sku for line in order.lines] == skus
    assert [line.external_line_id for line in order.lines] == line_ids
    assert [line.unit_price for line in order.lines] == unit_prices
    assert all(isinstance(line.unit_price, Decimal) for line in order.lines)
    assert_fields(order.lines[0], **first_line)


def assert_shopify_rest_order(order, *, buyer: dict, shipping_phone, shipping_province, total, quantities, raw_id):
    """What the REST 2024-10 single-order response adds to the shape: buyer, refunds, raw."""
    assert_fields(order.buyer, **buyer)
    assert order.shipping_address.phone == shipping_phone
    assert order.shipping_address.province == shipping_province
    assert order.total == total
    assert [line.quantity for line in order.lines] == quantities
    assert order.raw["id"] == raw_id


def assert_same_order_everywhere(listed, webhook, single):
    """The orders list, the orders/create webhook body and the single order agree."""
    assert len(listed) == len(webhook) == len(single) == 1
    assert listed[0] == webhook[0] == single[0]


def assert_shopify_legacy_order(order, *, quantities, total, buyer_email, shipping_phone):
    """An old-style order: no current_quantity, so the ordered quantities stand."""
    assert [line.quantity for line in order.lines] == quantities
    assert order.total == total
    assert order.buyer.email == buyer_email
    assert order.shipping_address.phone == shipping_phone


def assert_shopify_listing_without_lines(listed, *, external_id, postal_code, buyer_phone):
    """An orders listing of selected fields: no line_items; the order's phone comes first."""
    assert listed.external_id == external_id
    assert listed.lines == ()
    assert listed.shipping_address.postal_code == postal_code
    assert listed.buyer.phone == buyer_phone


def assert_shopify_graphql_details(
    orders, *, external_ids, display_numbers, first: dict, first_buyer_email, first_line: dict
):
    """The GraphQL orders query with line items: the first order paid, unshipped, no address."""
    assert [order.external_id for order in orders] == external_ids
    assert [order.display_number for order in orders] == display_numbers
    head = orders[0]
    assert_fields(head, **first)
    assert head.financial_status == FinancialStatus.PAID
    assert head.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert head.buyer.email == first_buyer_email
    assert head.shipping_address == NormalizedAddress()  # shippingAddress: null
    (line,) = head.lines
    assert_fields(line, **first_line)
    assert line.unit_price is None  # not queried
    assert orders[1].lines == ()


def assert_shopify_cursor_page(orders, *, count, first_id, last_id, gid_order_id):
    """A GraphQL cursor page of ids; a gid and the REST id meet on one external id."""
    assert len(orders) == count
    assert orders[0].external_id == first_id
    assert orders[-1].external_id == last_id
    assert shopify.gid_to_id(f"gid://shopify/Order/{gid_order_id}") == gid_order_id


# --- WooCommerce --------------------------------------------------------------------------


def assert_woocommerce_single_order(
    order,
    *,
    external_id,
    created_at,
    updated_at,
    currency,
    total,
    buyer: dict,
    shipping_address: NormalizedAddress,
    shipping_method,
    first: tuple,
    first_ids: tuple,
    first_line_total,
    second: tuple,
    second_ids: tuple,
    second_title,
):
    """A processing WooCommerce order; each line as (id, sku, quantity, unit price)."""
    assert order.platform == "woocommerce"
    assert order.external_id == external_id
    assert order.display_number == external_id
    assert order.created_at == created_at  # the _gmt field
    assert order.updated_at == updated_at
    assert order.currency == currency
    assert order.financial_status == FinancialStatus.PAID
    assert order.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert order.cancel_status == CancelStatus.NONE
    assert order.platform_status == "processing"
    assert order.total == total
    assert_fields(order.buyer, **buyer)
    assert order.shipping_address == shipping_address
    assert order.shipping_method == shipping_method
    line_one, line_two = order.lines
    assert (line_one.external_line_id, line_one.sku, line_one.quantity, line_one.unit_price) == first
    assert (line_one.product_id, line_one.variant_id) == first_ids
    assert line_one.line_total == first_line_total
    assert (line_two.external_line_id, line_two.sku, line_two.quantity, line_two.unit_price) == second
    assert (line_two.product_id, line_two.variant_id) == second_ids
    assert line_two.title == second_title  # &ndash; unescaped


def assert_woocommerce_completed_order(order, *, shipping_address: dict, lines: list):
    """A completed order of a list page: fulfilled, postcodes as text; lines as (id, qty, price)."""
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    assert order.platform_status == "completed"
    assert_fields(order.shipping_address, **shipping_address)
    assert [(line.external_line_id, line.quantity, line.unit_price) for line in order.lines] == lines


def assert_woocommerce_status_completed(order, *, external_id, updated_at):
    """The response to PUT status=completed: the order fulfilled, updated then."""
    assert order.external_id == external_id
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    assert order.updated_at == updated_at


# --- Amazon -----------------------------------------------------------------------------


def assert_amazon_combined_order(order, *, external_id, created_at, currency, total, shipping_method, line: dict):
    """getOrders' order with its getOrderItems: paid, unshipped, its buyer asking to cancel."""
    assert order.platform == "amazon"
    assert order.external_id == external_id
    assert order.created_at == created_at
    assert order.currency == currency
    assert order.total == total
    assert order.financial_status == FinancialStatus.PAID
    assert order.fulfillment_status == FulfillmentStatus.UNFULFILLED
    assert order.cancel_status == CancelStatus.REQUESTED  # the item says IsBuyerRequestedCancel "true"
    assert order.platform_status == "Unshipped"
    assert order.shipping_method == shipping_method
    (only,) = order.lines
    assert_fields(only, **line)


def assert_amazon_pending_order(order, *, external_id, currency, buyer: dict, shipping_address: dict):
    """A Pending getOrder: an address and a buyer but no OrderTotal."""
    assert order.external_id == external_id
    assert order.financial_status == FinancialStatus.PENDING
    assert order.currency == currency  # no OrderTotal on a Pending order: the marketplace's currency
    assert order.total is None
    assert_fields(order.buyer, **buyer)
    assert_fields(order.shipping_address, **shipping_address)


def assert_amazon_items_divided(
    parsed, *, currency, lines: list, unit_prices: list, second_line_total, first_product_id
):
    """getOrderItems' ItemPrice is the whole line: the unit price is it over the quantity.

    lines as (id, sku, quantity)."""
    assert parsed.currency == currency
    assert [(line.external_line_id, line.sku, line.quantity) for line in parsed.lines] == lines
    assert parsed.lines[0].unit_price == unit_prices[0]
    assert parsed.lines[1].line_total == second_line_total  # ItemPrice is the whole line
    assert parsed.lines[1].unit_price == unit_prices[1]
    assert parsed.lines[0].product_id == first_product_id


def assert_amazon_search_order(order, *, external_id, created_at, total, address2, postal_code, lines: list):
    """A shipped order of the 2026-01-01 searchOrders response; lines as (sku, qty, price)."""
    assert order.external_id == external_id
    assert order.created_at == created_at
    assert order.total == total
    assert order.fulfillment_status == FulfillmentStatus.FULFILLED
    assert order.shipping_address.address2 == address2
    assert order.shipping_address.postal_code == postal_code
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == lines


# --- TikTok Shop ------------------------------------------------------------------------


def assert_tiktok_unpaid_order(
    order,
    *,
    external_id,
    create_time,
    update_time,
    currency,
    total,
    buyer: dict,
    shipping_address: dict,
    shipping_method,
    line: dict,
):
    """An UNPAID order of the order detail response (times as the epoch seconds sent)."""
    assert order.platform == "tiktok"
    assert order.external_id == external_id
    assert order.created_at == datetime.fromtimestamp(create_time, tz=UTC)
    assert order.updated_at == datetime.fromtimestamp(update_time, tz=UTC)
    assert order.currency == currency
    assert order.total == total
    assert order.financial_status == FinancialStatus.PENDING  # UNPAID
    assert order.platform_status == "UNPAID"
    assert_fields(order.buyer, **buyer)
    assert_fields(order.shipping_address, **shipping_address)
    assert order.shipping_method == shipping_method
    (only,) = order.lines
    assert_fields(only, **line)


def assert_tiktok_search_order(order, *, external_id, shipping_method):
    """An order of the order search page: blank address lines " " are dropped."""
    assert order.external_id == external_id
    assert order.shipping_address.address3 == ""  # blank lines " " are dropped
    assert order.shipping_method == shipping_method


# --- NormalizedOrder and the parse_platform_order command ----------------------------------


def assert_to_dict_prints_money_as_text(order, *, total, second_unit_price, created_at):
    data = order.to_dict()
    assert data["total"] == total
    assert data["lines"][1]["unit_price"] == second_unit_price
    assert data["created_at"] == created_at
    assert "raw" not in data


def parse_with_the_command(folder: Path, path: str):
    """`parse_platform_order` on folder/path (platform: its first folder), as a list of orders."""
    out = io.StringIO()
    call_command("parse_platform_order", "--platform", path.split("/", 1)[0], str(folder / path), stdout=out)
    printed = json.loads(out.getvalue())
    return printed if isinstance(printed, list) else [printed]


def assert_command_prints_the_order(capsys, file: Path, *, external_id, second_sku, second_unit_price, postal_code):
    """The command prints a Shopify order to stdout as JSON, money as text."""
    call_command("parse_platform_order", "--platform", "shopify", str(file))
    printed = json.loads(capsys.readouterr().out)
    assert printed["external_id"] == external_id
    assert printed["lines"][1]["sku"] == second_sku
    assert printed["lines"][1]["unit_price"] == second_unit_price
    assert printed["shipping_address"]["postal_code"] == postal_code


def assert_command_combines_amazon_items(tmp_path, order: dict, items: Path, *, external_id, sku, unit_price):
    """Given a getOrder response saved for `order`, `--items` adds the lines of its getOrderItems."""
    saved = tmp_path / "getOrder.json"
    saved.write_text(json.dumps({"payload": order}))
    out = io.StringIO()
    call_command("parse_platform_order", "--platform", "amazon", str(saved), "--items", str(items), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["external_id"] == external_id
    assert printed["lines"][0]["sku"] == sku
    assert printed["lines"][0]["unit_price"] == unit_price


def assert_command_refuses_amazon_items_of_another_order(order: Path, items: Path):
    with pytest.raises(CommandError, match="belong to order"):
        call_command(
            "parse_platform_order", "--platform", "amazon", str(order), "--items", str(items), stdout=io.StringIO()
        )


def assert_command_lists_every_order(file: Path, external_ids):
    """A WooCommerce list page prints as a JSON list of its orders."""
    out = io.StringIO()
    call_command("parse_platform_order", "--platform", "woocommerce", str(file), stdout=out)
    assert [order["external_id"] for order in json.loads(out.getvalue())] == external_ids


def json_files(folder: Path, *, except_platforms=()):
    """The JSON files below folder as relative POSIX paths, but those of except_platforms."""
    relative = (path.relative_to(folder) for path in folder.rglob("*.json"))
    return {path.as_posix() for path in relative if path.parts[0] not in except_platforms}


def assert_every_file_is_classified(folder: Path, orders: dict, parts: dict, not_orders: dict, *, except_platforms=()):
    assert json_files(folder, except_platforms=except_platforms) == set(orders) | set(parts) | set(not_orders)


def assert_command_turns_into_orders(folder: Path, path: str, external_ids):
    """The command turns an order file into exactly these orders, with text money and int quantities."""
    orders = parse_with_the_command(folder, path)
    assert [order["external_id"] for order in orders] == external_ids
    platform = path.split("/", 1)[0]
    for order in orders:
        assert order["platform"] == platform
        # the GraphQL cursor page selects ids only, so its orders carry no currency
        assert len(order["currency"]) == (0 if "cursor_pageInfo" in path else 3)
        for line in order["lines"]:
            assert isinstance(line["quantity"], int)
            assert line["unit_price"] is None or isinstance(line["unit_price"], str)  # exact text, never a float


def assert_command_asks_for_the_order(folder: Path, path: str, part: str):
    """An order part (getOrderItems, getOrderAddress) is refused until combined with its order."""
    with pytest.raises(CommandError, match=f"This is a {part}; combine it with its getOrder response"):
        parse_with_the_command(folder, path)


def assert_command_refuses(folder: Path, path: str, message: str):
    """A file that is not an order is refused, saying `message` (matched literally)."""
    with pytest.raises(CommandError, match=re.escape(message)):
        parse_with_the_command(folder, path)
