"""Tracking back to the stores (fulfillment/tracking.py), end to end over real HTTP against
the sandbox stores (live_server), each result read back from the sandbox store's own
state: Shopify fulfillments, Amazon shipment confirmations, WooCommerce tracking items or
notes, TikTok Shop packages. Also: split and merged orders, passing and permanent
failures with their retries, the tracking file of a store without an API, the claim, the
query count of planning, and the carrier table."""

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest
import requests
from django.db import transaction
from django.utils import timezone

from fulfillment import tracking
from fulfillment.carriers import OTHER, carrier_for, platform_carrier, tracking_url
from fulfillment.models import Shipment, ShipmentLine, TrackingSync
from orders.models import OrderEvent, OrderLine, OrderStatus
from sandbox import shopify as sandbox_shopify
from sandbox import woocommerce as sandbox_woocommerce
from sandbox.models import SandboxFulfillment, SandboxFulfillmentOrder, SandboxOrder, SandboxRequest, SandboxShop
from stores.authorization import store_authorization_complete, store_authorization_start
from stores.models import Platform, Store
from stores.platforms.base import PlatformRequestRejected
from stores.services import store_client
from tests.distribution.factories import owner_of
from tests.orders.factories import OrderFactory, PlatformOrderFactory
from tests.sandbox_helpers import HIDDEN_INPUT, ShopifySandbox, recording_http
from tests.stores.factories import StoreFactory

db = pytest.mark.django_db(transaction=True)
S = TrackingSync.State

SHOP = "acme-tracking.myshopify.com"
SELLER = "A3TRACKINGSELLER"
WOO_SITE = "acme-tracking-woo"
CALLBACK = "http://testserver/stores/authorize/callback/"


# --- fixtures: authorized sandbox stores --------------------------------------------------


@pytest.fixture
def actor():
    return owner_of()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def shopify(live_server, settings, actor):
    settings.SHOPIFY_API_BASE = f"{live_server.url}/sandbox/shopify/{{shop}}"
    sandbox = ShopifySandbox(live_server.url)
    outcome = store_authorization_start(
        actor=actor,
        platform="shopify",
        form={"name": "Acme US", "site": "US", "currency": "USD", "shop_domain": SHOP},
        redirect_uri=CALLBACK,
    )
    store = store_authorization_complete(actor=actor, platform="shopify", params=sandbox.consent(outcome.redirect_url))
    sandbox.control(SHOP, bucket_size=10_000)
    return store, sandbox


@pytest.fixture
def amazon(live_server, settings, actor):
    base = f"{live_server.url}/sandbox/amazon"
    settings.AMAZON_SELLER_CENTRAL_BASE = base + "/{host}"
    settings.AMAZON_SP_API_BASE = base + "/{host}"
    settings.AMAZON_LWA_TOKEN_URL = base + "/api.amazon.com/auth/o2/token"
    form = {"name": "Acme Amazon US", "marketplace_id": "ATVPDKIKX0DER", "site": "US", "currency": "USD"}
    outcome = store_authorization_start(actor=actor, platform="amazon", form=form, redirect_uri=CALLBACK)
    page = requests.get(outcome.redirect_url, timeout=10)
    fields = dict(HIDDEN_INPUT.findall(page.text))
    answer = requests.post(
        outcome.redirect_url, data={**fields, "selling_partner_id": SELLER}, allow_redirects=False, timeout=10
    )
    params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    store = store_authorization_complete(actor=actor, params=params)

    def control(**switches):
        response = requests.post(f"{base}/_sandbox/{SELLER}/control", json=switches, timeout=30)
        response.raise_for_status()
        return response.json()

    return store, control


@pytest.fixture
def woocommerce(live_server, actor):
    site_url = f"{live_server.url}/sandbox/woocommerce/{WOO_SITE}"

    def control(**switches):
        response = requests.post(f"{site_url}/_sandbox/control", json=switches, timeout=30)
        response.raise_for_status()
        return response.json()

    keys = control(issue_key="read_write")
    outcome = store_authorization_start(
        actor=actor,
        platform="woocommerce",
        form={"name": "Acme Woo", "site": "US", "currency": "USD", "site_url": site_url + "/"},
        secrets_form={"consumer_key": keys["consumer_key"], "consumer_secret": keys["consumer_secret"]},
        redirect_uri="",
    )
    return outcome.store, control


@pytest.fixture
def tiktok(live_server, settings, actor):
    settings.TIKTOK_BASE = f"{live_server.url}/sandbox/tiktok/{{host}}"
    settings.SANDBOX_APPS = {
        **settings.SANDBOX_APPS,
        "tiktok": {**settings.SANDBOX_APPS["tiktok"], "redirect_uri": CALLBACK},
    }
    outcome = store_authorization_start(
        actor=actor,
        platform="tiktok",
        form={"name": "Acme TikTok US", "site": "US", "currency": "USD"},
        redirect_uri="",
    )
    query = dict(parse_qsl(urlsplit(outcome.redirect_url).query))
    answer = requests.post(
        outcome.redirect_url.split("?")[0],
        data={**query, "region": "US", "shop_name": "Acme TT"},
        allow_redirects=False,
        timeout=10,
    )
    params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    store = store_authorization_complete(actor=actor, params=params)

    def control(**switches):
        url = f"{live_server.url}/sandbox/tiktok/_sandbox/{store.shop_id}/control"
        response = requests.post(url, json=switches, timeout=30)
        response.raise_for_status()
        return response.json()

    return store, control


# --- our side: store orders, orders, shipments --------------------------------------------


def store_order(store, external_id, number=""):
    return PlatformOrderFactory(store=store, external_id=str(external_id), display_number=number or f"#{external_id}")


def order_of(store, po, lines, *, status=OrderStatus.AT_WAREHOUSE, **fields):
    """An order of `po` with lines [(platform line id, quantity)] or [(id, quantity, own store order)]."""
    order = OrderFactory(distributor=store.distributor, store=store, platform_order=po, status=status, **fields)
    made = []
    for index, spec in enumerate(lines):
        line_id, quantity, own = (*spec, None) if len(spec) == 2 else spec
        made.append(
            OrderLine.objects.create(
                order=order,
                platform_line_id=str(line_id),
                store_sku=f"SKU-{index}",
                quantity=quantity,
                platform_order=own,
            )
        )
    return order, made


def ship(order, lines, *, carrier="USPS", number="9400111899223334445566", url="", service="Ground Advantage", pkg=""):
    """A package of `order` holding [(order line, quantity)]."""
    shipment = Shipment.objects.create(
        order=order,
        warehouse_shipment_id=pkg or f"PKG-{number}",
        carrier=carrier,
        service=service,
        tracking_number=number,
        tracking_url=url,
        shipped_at=timezone.now(),
    )
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line=line, quantity=q) for line, q in lines]
    )
    return shipment


def send(shipment, sleeps, platform, **policy):
    """Plan the shipment's syncs and send each once, with a client that records its waits."""
    syncs = tracking.tracking_syncs_plan(shipment)
    return [tracking.tracking_sync_one(sync.pk, http=recording_http(platform, sleeps, **policy)) for sync in syncs]


def shopify_order(min_lines=1):
    """A sandbox Shopify order with at least `min_lines` lines (the generator picks one or two)."""
    shop = SandboxShop.objects.get(platform="shopify", domain=SHOP)
    for seed in range(100):
        (row,) = sandbox_shopify.orders_create_random(shop, count=1, skus=["SERUM", "MASK"], seed=seed, notify=False)
        if len(row.payload["line_items"]) >= min_lines:
            return row
        row.delete()
    raise AssertionError("no seed gives that many lines")


def woo_order(live_server, min_lines=1):
    shop = SandboxShop.objects.get(platform="woocommerce", domain=WOO_SITE)
    site_url = f"{live_server.url}/sandbox/woocommerce/{WOO_SITE}"
    for seed in range(100):
        (row,) = sandbox_woocommerce.orders_create_random(shop, count=1, site_url=site_url, seed=seed, notify=False)
        if len(row.payload["line_items"]) >= min_lines:
            return row
        row.delete()
    raise AssertionError("no seed gives that many lines")


def lines_of(row):
    return [(str(line["id"]), line["quantity"]) for line in row.payload["line_items"]]


def fulfillments(row):
    return list(SandboxFulfillment.objects.filter(order=row).order_by("id"))


def timeline(order):
    return list(OrderEvent.objects.filter(order=order).order_by("id").values_list("message", flat=True))


# --- Shopify ------------------------------------------------------------------------------


@db
def test_shopify_shipment_becomes_a_fulfillment_with_the_company_number_and_lines(shopify, sleeps):
    store, _sandbox = shopify
    row = shopify_order()
    po = store_order(store, row.external_id, row.payload["name"])
    order, lines = order_of(store, po, lines_of(row))
    shipment = ship(order, [(line, line.quantity) for line in lines], carrier="FedEx Ground", number="7712345678")
    # when
    (sync,) = send(shipment, sleeps, "shopify")
    # then the shop holds one fulfillment: company as Shopify names it, our number, every line
    assert sync.state == S.SYNCED and sync.synced_at is not None
    (fulfillment,) = fulfillments(row)
    assert sync.platform_answer == str(fulfillment.external_id)
    assert fulfillment.payload["tracking_company"] == "FedEx"
    assert fulfillment.payload["tracking_number"] == "7712345678"
    assert fulfillment.payload["tracking_url"] == "https://www.fedex.com/fedextrack/?trknbr=7712345678"
    shipped = {str(item["id"]): item["quantity"] for item in fulfillment.payload["line_items"]}
    assert shipped == dict(lines_of(row))
    row.refresh_from_db()
    assert row.payload["fulfillment_status"] == "fulfilled"
    assert any("7712345678 (FedEx Ground) sent to store order" in message for message in timeline(order))
    # planning or sending again changes nothing
    assert tracking.tracking_syncs_plan(shipment) == [sync]
    assert tracking.tracking_sync_one(sync.pk).state == S.SYNCED
    assert len(fulfillments(row)) == 1


@db
def test_the_buyer_is_emailed_the_tracking_only_when_the_store_says_so(shopify, sleeps):
    store, _sandbox = shopify
    sent = []
    for notify in (False, True):
        Store.objects.filter(pk=store.pk).update(notify_buyer=notify)
        store.refresh_from_db()
        row = shopify_order()
        order, lines = order_of(store, store_order(store, row.external_id), lines_of(row))
        shipment = ship(order, [(line, line.quantity) for line in lines], number=f"NOTIFY-{notify}")
        (sync,) = send(shipment, sleeps, "shopify")
        assert sync.state == S.SYNCED
        sent.append(tracking.tracking_info(sync).notify_customer)
    assert sent == [False, True]


@db
def test_split_order_parts_send_partial_fulfilments_then_the_order_is_fulfilled(shopify, sleeps):
    store, _sandbox = shopify
    row = shopify_order(min_lines=2)
    (first_id, first_qty), (second_id, second_qty) = lines_of(row)
    po = store_order(store, row.external_id)
    parent, _lines = order_of(store, po, lines_of(row), status=OrderStatus.SUPERSEDED)
    part1, [line1] = order_of(store, po, [(first_id, first_qty)], parent=parent)
    part2, [line2] = order_of(store, po, [(second_id, second_qty)], parent=parent)
    # when the first part's package is sent
    first = ship(part1, [(line1, first_qty)], number="TRACK-PART-1")
    (sync1,) = tracking.tracking_syncs_plan(first)
    assert tracking.tracking_info(sync1).lines == [(first_id, first_qty)]
    assert tracking.tracking_info(sync1).complete is False
    assert tracking.tracking_sync_one(sync1.pk, http=recording_http("shopify", sleeps)).state == S.SYNCED
    # then Shopify has a fulfillment of that line only, and the order is partly fulfilled
    (fulfillment,) = fulfillments(row)
    assert [(str(i["id"]), i["quantity"]) for i in fulfillment.payload["line_items"]] == [(first_id, first_qty)]
    row.refresh_from_db()
    assert row.payload["fulfillment_status"] == "partial"
    # when the second part's package is sent, the order is fulfilled
    second = ship(part2, [(line2, second_qty)], number="TRACK-PART-2")
    (sync2,) = tracking.tracking_syncs_plan(second)
    assert tracking.tracking_info(sync2).complete is True
    assert tracking.tracking_sync_one(sync2.pk, http=recording_http("shopify", sleeps)).state == S.SYNCED
    first_f, second_f = fulfillments(row)
    assert second_f.payload["tracking_number"] == "TRACK-PART-2"
    assert [(str(i["id"]), i["quantity"]) for i in second_f.payload["line_items"]] == [(second_id, second_qty)]
    row.refresh_from_db()
    assert row.payload["fulfillment_status"] == "fulfilled"
    assert all(fo.payload["status"] == "closed" for fo in SandboxFulfillmentOrder.objects.filter(order=row))


@db
def test_a_merged_orders_shipment_reaches_both_source_store_orders(shopify, sleeps):
    store, _sandbox = shopify
    row_a, row_b = shopify_order(), shopify_order()
    po_a, po_b = store_order(store, row_a.external_id), store_order(store, row_b.external_id)
    # the two sources, superseded, and the merged order: each line keeps its own store order
    order_of(store, po_a, lines_of(row_a), status=OrderStatus.SUPERSEDED)
    order_of(store, po_b, lines_of(row_b), status=OrderStatus.SUPERSEDED)
    merged, lines = order_of(
        store, po_a, [(i, q, po_a) for i, q in lines_of(row_a)] + [(i, q, po_b) for i, q in lines_of(row_b)]
    )
    shipment = ship(merged, [(line, line.quantity) for line in lines], number="1Z999AA10123456784", carrier="UPS")
    # when
    syncs = send(shipment, sleeps, "shopify")
    # then one sync per store order, each with its own lines, both fulfilled in the shop
    assert sorted(sync.platform_order_id for sync in syncs) == sorted([po_a.pk, po_b.pk])
    assert {sync.state for sync in syncs} == {S.SYNCED}
    for row in (row_a, row_b):
        (fulfillment,) = fulfillments(row)
        assert fulfillment.payload["tracking_number"] == "1Z999AA10123456784"
        assert fulfillment.payload["tracking_company"] == "UPS"
        assert {str(i["id"]): i["quantity"] for i in fulfillment.payload["line_items"]} == dict(lines_of(row))
        row.refresh_from_db()
        assert row.payload["fulfillment_status"] == "fulfilled"
    assert sum("sent to store order" in message for message in timeline(merged)) == 2


# --- failures and retries -------------------------------------------------------------------


@db
def test_a_server_error_waits_with_backoff_then_the_sweep_sends_it(shopify, sleeps):
    store, sandbox = shopify
    row = shopify_order()
    order, lines = order_of(store, store_order(store, row.external_id), lines_of(row))
    shipment = ship(order, [(line, line.quantity) for line in lines])
    sandbox.control(SHOP, fail_next_500=1)
    # when the first attempt meets a 500 (no in-process retry here)
    before = timezone.now()
    (sync,) = send(shipment, sleeps, "shopify", max_attempts=1)
    # then it waits about a minute (±25 %), with the platform's answer shown
    assert (sync.state, sync.attempts) == (S.PENDING, 1)
    assert "500" in sync.platform_answer
    assert before + timedelta(seconds=44) <= sync.next_attempt_at <= timezone.now() + timedelta(seconds=76)
    assert fulfillments(row) == []
    assert tracking.tracking_sync_sweep() == 0  # not due yet
    # when the minute has passed, the sweep sends it
    TrackingSync.objects.filter(pk=sync.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tracking.tracking_sync_sweep() == 1
    sync.refresh_from_db()
    assert (sync.state, sync.attempts) == (S.SYNCED, 2)
    assert len(fulfillments(row)) == 1


@db
def test_a_rate_limit_waits_at_least_the_platforms_retry_after(shopify, sleeps):
    store, sandbox = shopify
    row = shopify_order()
    order, lines = order_of(store, store_order(store, row.external_id), lines_of(row))
    shipment = ship(order, [(line, line.quantity) for line in lines])
    # a Retry-After longer than the client waits in-process
    sandbox.control(SHOP, fail_next_429=1, fault_retry_after=600)
    before = timezone.now()
    (sync,) = send(shipment, sleeps, "shopify")
    assert sync.state == S.PENDING and "429" in sync.platform_answer
    assert sync.next_attempt_at >= before + timedelta(seconds=600)
    assert sleeps == []
    TrackingSync.objects.filter(pk=sync.pk).update(next_attempt_at=timezone.now())
    assert tracking.tracking_sync_one(sync.pk, http=recording_http("shopify", sleeps)).state == S.SYNCED


@db
def test_the_last_attempt_fails_for_good_with_the_platforms_answer(shopify, sleeps):
    store, sandbox = shopify
    row = shopify_order()
    order, lines = order_of(store, store_order(store, row.external_id), lines_of(row))
    shipment = ship(order, [(line, line.quantity) for line in lines])
    (sync,) = tracking.tracking_syncs_plan(shipment)
    TrackingSync.objects.filter(pk=sync.pk).update(attempts=tracking.MAX_ATTEMPTS - 1)
    sandbox.control(SHOP, fail_next_500=1)
    sync = tracking.tracking_sync_one(sync.pk, http=recording_http("shopify", sleeps, max_attempts=1))
    assert (sync.state, sync.attempts) == (S.FAILED, tracking.MAX_ATTEMPTS)
    assert "answered 500" in sync.platform_answer
    assert any("could not be sent" in message and "500" in message for message in timeline(order))


@db
def test_a_refusal_fails_at_once_and_a_retry_after_the_fix_sends_it(tiktok, sleeps, actor):
    store, control = tiktok
    control(create_orders=1)
    row = SandboxOrder.objects.get(shop__platform="tiktok")
    order, lines = order_of(
        store, store_order(store, row.external_id), [(i["id"], 1) for i in row.payload["line_items"]]
    )
    shipment = ship(order, [(line, 1) for line in lines], carrier="Pigeon Post", number="PP-1")
    # when TikTok Shop offers no such carrier for the order
    (sync,) = send(shipment, sleeps, "tiktok")
    # then the sync fails at once, the platform's answer kept and on the order's timeline
    assert (sync.state, sync.attempts) == (S.FAILED, 1)
    assert "offers no carrier named Pigeon Post" in sync.platform_answer and "USPS" in sync.platform_answer
    assert any("PP-1 could not be sent" in message and "Pigeon Post" in message for message in timeline(order))
    # when staff correct the carrier and retry
    Shipment.objects.filter(pk=shipment.pk).update(carrier="USPS")
    assert tracking.tracking_sync_retry([sync], actor=actor.user) == 1
    assert tracking.tracking_sync_retry(TrackingSync.objects.filter(pk=sync.pk)) == 0  # pending now, not failed
    sync.refresh_from_db()
    assert (sync.state, sync.attempts) == (S.PENDING, 0)
    assert OrderEvent.objects.filter(order=order, actor=actor.user, message__contains="will be sent again").exists()
    assert tracking.tracking_sync_one(sync.pk, http=recording_http("tiktok", sleeps)).state == S.SYNCED
    row.refresh_from_db()
    assert row.payload["tracking_number"] == "PP-1" and row.payload["shipping_provider"] == "USPS"


@db
def test_a_sync_claimed_by_another_worker_is_left_alone():
    store = StoreFactory()
    po = store_order(store, "450789469")
    order, [line] = order_of(store, po, [("1", 1)])
    (sync,) = tracking.tracking_syncs_plan(ship(order, [(line, 1)]))
    # another worker claimed it a moment ago
    assert tracking._claim(sync.pk, timezone.now()) is True
    assert tracking._claim(sync.pk, timezone.now()) is False
    requests_before = SandboxRequest.objects.count()
    left = tracking.tracking_sync_one(sync.pk)
    assert (left.state, left.attempts) == (S.PENDING, 1)
    assert SandboxRequest.objects.count() == requests_before  # nothing was sent


# --- Amazon, WooCommerce, TikTok Shop ----------------------------------------------------------


@db
def test_amazon_shipment_is_confirmed_with_the_carrier_code_and_the_items(amazon, sleeps):
    store, control = amazon
    control(create_orders=1)
    row = SandboxOrder.objects.get(shop__platform="amazon")
    items = [(item["OrderItemId"], item["QuantityOrdered"]) for item in row.extra["items"]]
    order, lines = order_of(store, store_order(store, row.payload["AmazonOrderId"]), items)
    shipment = ship(order, [(line, line.quantity) for line in lines], carrier="fedex ground", number="112345678")
    (sync,) = send(shipment, sleeps, "amazon")
    assert sync.state == S.SYNCED
    row.refresh_from_db()
    (package,) = row.extra["packages"]
    assert package["carrierCode"] == "FedEx" and "carrierName" not in package
    assert package["trackingNumber"] == "112345678" and package["shippingMethod"] == "Ground Advantage"
    assert [(i["orderItemId"], i["quantity"]) for i in package["orderItems"]] == items
    assert sync.platform_answer == package["packageReferenceId"]
    assert row.payload["OrderStatus"] == "Shipped"


@db
def test_amazon_carrier_off_its_list_goes_as_other_with_its_name(amazon, sleeps):
    store, control = amazon
    control(create_orders=1)
    row = SandboxOrder.objects.get(shop__platform="amazon")
    items = [(item["OrderItemId"], item["QuantityOrdered"]) for item in row.extra["items"]]
    order, lines = order_of(store, store_order(store, row.payload["AmazonOrderId"]), items)
    (sync,) = send(ship(order, [(line, line.quantity) for line in lines], carrier="Evri"), sleeps, "amazon")
    assert sync.state == S.SYNCED
    row.refresh_from_db()
    assert (row.extra["packages"][0]["carrierCode"], row.extra["packages"][0]["carrierName"]) == (OTHER, "Evri")


@db
def test_woocommerce_with_the_tracking_extension_gets_a_tracking_item_and_completes(woocommerce, sleeps):
    store, control = woocommerce
    control(create_orders=1)
    row = SandboxOrder.objects.get(shop__platform="woocommerce")
    order, lines = order_of(store, store_order(store, row.external_id), lines_of(row))
    (sync,) = send(
        ship(order, [(line, line.quantity) for line in lines], carrier="united parcel service"), sleeps, "woocommerce"
    )
    assert sync.state == S.SYNCED
    row.refresh_from_db()
    (item,) = row.extra["shipment_trackings"]
    assert (item["tracking_provider"], item["tracking_number"]) == ("UPS", "9400111899223334445566")
    assert item["tracking_link"].startswith("https://www.ups.com/track?")
    assert sync.platform_answer == item["tracking_id"]
    assert "notes" not in row.extra
    assert row.payload["status"] == "completed"


@db
def test_woocommerce_without_the_extension_notes_each_package_and_completes_when_all_shipped(
    woocommerce, live_server, sleeps
):
    store, control = woocommerce
    control(shipment_tracking=False)
    row = woo_order(live_server, min_lines=2)
    (first_id, first_qty), (second_id, second_qty) = lines_of(row)
    order, (first, second) = order_of(store, store_order(store, row.external_id), lines_of(row))
    # a first package with the first line: a note, the order stays open
    (sync1,) = send(ship(order, [(first, first_qty)], carrier="Yamato", number="1111-2222-3333"), sleeps, "woocommerce")
    assert sync1.state == S.SYNCED
    row.refresh_from_db()
    (note,) = row.extra["notes"]
    assert "Shipped via Yamato Transport, tracking number 1111-2222-3333" in note["note"]
    assert "https://toi.kuronekoyamato.co.jp/" in note["note"] and f"{first_id} x {first_qty}" in note["note"]
    assert row.payload["status"] == "processing"
    # the rest: a second note, and the order is completed
    rest = [(second, second_qty)]
    (sync2,) = send(ship(order, rest, carrier="USPS", number="9400100000000000000009"), sleeps, "woocommerce")
    assert sync2.state == S.SYNCED
    row.refresh_from_db()
    assert len(row.extra["notes"]) == 2 and f"{second_id} x {second_qty}" in row.extra["notes"][1]["note"]
    assert row.payload["status"] == "completed"
    meta = {m["key"]: m["value"] for m in row.payload["meta_data"]}
    assert meta["_tracking_number"] == "9400100000000000000009" and meta["_tracking_provider"] == "USPS"


@db
def test_tiktok_package_is_marked_shipped_with_the_provider_id(tiktok, sleeps):
    store, control = tiktok
    control(create_orders=1)
    row = SandboxOrder.objects.get(shop__platform="tiktok")
    units = [(item["id"], 1) for item in row.payload["line_items"]]
    order, lines = order_of(store, store_order(store, row.external_id), units)
    (sync,) = send(ship(order, [(line, 1) for line in lines], carrier="U.S. Postal Service"), sleeps, "tiktok")
    assert sync.state == S.SYNCED
    row.refresh_from_db()
    assert row.payload["shipping_provider_id"] == "7117858858072016686"
    assert row.payload["tracking_number"] == "9400111899223334445566"
    assert row.payload["status"] == "IN_TRANSIT"
    assert {item["package_id"] for item in row.payload["line_items"]} == {sync.platform_answer}


def tiktok_order_of_two_units(control):
    """A sandbox TikTok order of at least two line items (one per unit, as TikTok lists them)."""
    control(create_orders=1)
    row = SandboxOrder.objects.get(shop__platform="tiktok")
    lines = row.payload["line_items"]
    if len(lines) < 2:  # one unit bought: give it a second
        lines.append({**lines[0], "id": str(int(lines[0]["id"]) + 1)})
        row.save(update_fields=["payload"])
    return row


@db
def test_a_split_tiktok_order_ships_in_two_packages_then_is_in_transit(tiktok, sleeps):
    store, control = tiktok
    row = tiktok_order_of_two_units(control)
    units = [(item["id"], 1) for item in row.payload["line_items"]]
    po = store_order(store, row.external_id)
    parent, _lines = order_of(store, po, units, status=OrderStatus.SUPERSEDED)
    part1, [line1] = order_of(store, po, units[:1], parent=parent)
    part2, lines2 = order_of(store, po, units[1:], parent=parent)
    # when the first part's package is sent
    (sync1,) = send(ship(part1, [(line1, 1)], carrier="U.S. Postal Service", number="TT-PART-1"), sleeps, "tiktok")
    assert sync1.state == S.SYNCED
    row.refresh_from_db()
    assert row.payload["status"] == "PARTIALLY_SHIPPING"
    # and then the second part's
    second = ship(part2, [(line, 1) for line in lines2], carrier="U.S. Postal Service", number="TT-PART-2")
    (sync2,) = send(second, sleeps, "tiktok")
    assert sync2.state == S.SYNCED, sync2.platform_answer
    # then TikTok holds two packages, each line in its own with its own tracking, and the order is in transit
    row.refresh_from_db()
    assert row.payload["status"] == "IN_TRANSIT"
    by_line = {item["id"]: (item["package_id"], item["tracking_number"]) for item in row.payload["line_items"]}
    assert by_line[units[0][0]] == (sync1.platform_answer, "TT-PART-1")
    assert {by_line[line_id] for line_id, _ in units[1:]} == {(sync2.platform_answer, "TT-PART-2")}
    assert sync1.platform_answer != sync2.platform_answer


@db
def test_the_tiktok_sandbox_refuses_a_line_already_shipped(tiktok):
    store, control = tiktok
    row = tiktok_order_of_two_units(control)
    client = store_client(store=store)
    line_id = row.payload["line_items"][0]["id"]
    body = {"tracking_number": "TT-1", "shipping_provider_id": "7117858858072016686", "order_line_item_ids": [line_id]}
    client._call("POST", f"/fulfillment/202309/orders/{row.external_id}/packages", body=body)
    with pytest.raises(PlatformRequestRejected, match="already in a shipped package"):
        client._call("POST", f"/fulfillment/202309/orders/{row.external_id}/packages", body=body)


# --- a store without an API: the tracking file ----------------------------------------------


@db
def test_a_store_without_an_api_gets_its_tracking_in_the_tracking_file():
    store = StoreFactory(platform=Platform.OTHER, shop_domain="", external_key="", name="Market stall")
    po = store_order(store, "MS-1001", "MS-1001")
    order, [line] = order_of(store, po, [("", 2)])
    shipment = ship(order, [(line, 2)], carrier="Hermes/Evri", number="H0123456789", service="")
    (sync,) = tracking.tracking_syncs_plan(shipment)
    assert sync.state == S.FILE and sync.next_attempt_at is None
    assert tracking.tracking_sync_sweep() == 0  # nothing is sent to a store without an API
    (row,) = tracking.tracking_file_rows(store)
    assert (row.store_order, row.order_number, row.carrier, row.tracking_number) == (
        "MS-1001",
        order.number,
        "Evri",
        "H0123456789",
    )
    assert row.tracking_url == "https://www.evri.com/track/parcel/H0123456789" and row.new
    # the CSV a person pastes from, without marking
    content = tracking.tracking_file(store, kind="csv", mark=False).decode("utf-8-sig")
    header, cells = list(csv.reader(io.StringIO(content)))
    assert header == ["Store order", "Our order", "Carrier", "Tracking number", "Tracking URL", "Shipped at", "New"]
    assert cells[:5] == ["MS-1001", order.number, "Evri", "H0123456789", row.tracking_url] and cells[6] == "yes"
    # the xlsx download marks the rows handed over: the next file shows them as not new
    sheet = openpyxl.load_workbook(io.BytesIO(tracking.tracking_file(store))).active
    assert [cell.value for cell in sheet[2]][:4] == ["MS-1001", order.number, "Evri", "H0123456789"]
    assert sheet["G2"].value == "yes"
    assert tracking.tracking_file_rows(store, only_new=True) == []
    again = openpyxl.load_workbook(io.BytesIO(tracking.tracking_file(store))).active
    assert again["G2"].value is None and again["D2"].value == "H0123456789"


# --- planning: one sync per store order, no query per line ------------------------------------


@db
def test_planning_makes_one_sync_per_store_order_without_a_query_per_line(django_assert_max_num_queries):
    store = StoreFactory()
    po_a, po_b = store_order(store, "1001"), store_order(store, "1002")
    no_api = StoreFactory(platform=Platform.OTHER, shop_domain="", external_key="", distributor=store.distributor)
    po_c = store_order(no_api, "C-1")
    specs = [(f"A{i}", 1, po_a) for i in range(20)] + [(f"B{i}", 1, po_b) for i in range(20)]
    specs += [(f"C{i}", 1, po_c) for i in range(5)]
    # an order of no store order of its own: its line without one gets no sync
    merged, lines = order_of(store, None, specs)
    orphan = OrderLine.objects.create(order=merged, store_sku="X", quantity=1)
    shipment = ship(merged, [(line, 1) for line in [*lines, orphan]])
    # planned inside the transaction that records the shipment, as fulfillment/changes.py does
    with transaction.atomic(), django_assert_max_num_queries(4):
        syncs = tracking.tracking_syncs_plan(shipment)
    assert sorted((s.platform_order_id, s.state) for s in syncs) == sorted(
        [(po_a.pk, S.PENDING), (po_b.pk, S.PENDING), (po_c.pk, S.FILE)]
    )
    assert all(s.next_attempt_at is not None for s in syncs if s.state == S.PENDING)
    with transaction.atomic(), django_assert_max_num_queries(4):
        assert tracking.tracking_syncs_plan(shipment) == syncs
    assert TrackingSync.objects.count() == 3


@db
def test_a_line_without_a_store_order_line_id_cannot_be_sent():
    store = StoreFactory()
    order, [line] = order_of(store, store_order(store, "77"), [("", 1)])
    (sync,) = tracking.tracking_syncs_plan(ship(order, [(line, 1)]))
    sync = tracking.tracking_sync_one(sync.pk)
    assert sync.state == S.FAILED and "no line id on the platform" in sync.platform_answer


# --- the carrier table ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("USPS", "usps"),
        ("usps", "usps"),
        ("United States Postal Service", "usps"),
        ("UPS", "ups"),
        ("FedEx Ground", "fedex"),
        ("DHL", "dhl_express"),
        ("DHL Express", "dhl_express"),
        ("DHL Paket", "dhl_paket"),
        ("dhl-paket", "dhl_paket"),
        ("Yamato", "yamato"),
        ("Yamato Transport", "yamato"),
        ("ヤマト運輸", "yamato"),
        ("Japan Post", "japan_post"),
        ("日本郵便", "japan_post"),
        ("Sagawa", "sagawa"),
        ("Royal Mail", "royal_mail"),
        ("Canada Post", "canada_post"),
        ("Australia Post", "australia_post"),
        ("DPD", "dpd"),
        ("GLS", "gls"),
        ("Hermes/Evri", "evri"),
        ("EVRI", "evri"),
        ("Hermes Germany", "hermes_de"),
    ],
)
def test_warehouse_carrier_names_find_their_carrier(given, key):
    assert carrier_for(given).key == key


def test_each_platform_gets_its_own_name_for_the_carrier():
    yamato, dhl_paket, evri = carrier_for("Yamato Transport"), carrier_for("DHL Paket"), carrier_for("Hermes/Evri")
    assert platform_carrier(yamato, Platform.SHOPIFY).name == "Yamato (EN)"
    assert platform_carrier(yamato, Platform.SHOPIFY, site="jp").name == "Yamato (JA)"
    assert platform_carrier(yamato, Platform.AMAZON).code == "Yamato Transport"
    assert platform_carrier(yamato, Platform.WOOCOMMERCE).code == ""  # a custom provider there
    assert platform_carrier(dhl_paket, Platform.WOOCOMMERCE).code == "DHL Intraship (DE)"
    assert platform_carrier(dhl_paket, Platform.AMAZON).code == "DHL"
    assert platform_carrier(evri, Platform.AMAZON) == platform_carrier(carrier_for("Evri"), Platform.AMAZON)
    assert platform_carrier(evri, Platform.AMAZON).code == OTHER
    assert platform_carrier(carrier_for("USPS"), Platform.TIKTOK).code == "7117858858072016686"


def test_an_unknown_carrier_keeps_its_name_and_the_warehouses_url():
    pigeon = carrier_for("  Pigeon Post ")
    assert (pigeon.key, pigeon.name) == ("", "Pigeon Post")
    assert platform_carrier(pigeon, Platform.SHOPIFY).name == "Pigeon Post"
    assert (platform_carrier(pigeon, Platform.AMAZON).code, platform_carrier(pigeon, Platform.AMAZON).name) == (
        OTHER,
        "Pigeon Post",
    )
    assert tracking_url(pigeon, "P1") == ""
    assert tracking_url(pigeon, "P1", "https://pigeon.example/P1") == "https://pigeon.example/P1"
    assert tracking_url(carrier_for("UPS"), "1Z 9/9") == "https://www.ups.com/track?tracknum=1Z%209%2F9"


def test_backoff_doubles_from_a_minute_to_an_hour_and_honours_retry_after():
    class Middle:
        @staticmethod
        def uniform(low, high):
            return (low + high) / 2

    waits = [tracking.backoff(attempt, rng=Middle) for attempt in range(1, 10)]
    assert [w.total_seconds() for w in waits] == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert tracking.backoff(1, retry_after=900, rng=Middle) == timedelta(seconds=900)
