"""Fulfilment over real HTTP: push 1,000 paid orders to the sandbox warehouse, then record
the warehouse's shipments and send their tracking to the Shopify sandbox store.

A fresh benchmark database gets a warehouse whose REST backend is the sandbox warehouse
(rate limit off), a distributor with a Shopify store whose 1,000 orders exist in the
sandbox shop (their fulfillment orders too), and 1,000 paid distribution orders of one or
two lines. gunicorn serves the sandbox. A worker process (this file with --worker) then:

1. pushes every order (`fulfillment.push.order_push`: claim under the order's lock, the
   create call, the order at the warehouse) from THREADS threads (each keeping its database
   connection, CONN_MAX_AGE 60 s as in production), as that many Celery
   worker processes would; the floor is the same number of bare create calls to the
   sandbox from the same number of threads (a fresh account, so nothing is a duplicate):
   what the warehouse side alone costs on this machine;
2. has the sandbox ship them all, then records the shipments (`changes.warehouse_poll`:
   pages of changes, each order's shipment and lines, its tracking syncs planned) and
   sends every tracking to the Shopify sandbox (`tracking.tracking_sync_one` from THREADS
   threads: the fulfillment orders read and a fulfillment created per store order); the
   floor is the same Shopify calls made bare from the same threads.

Targets: ≥ 200 orders/s for each.
"""

import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests

NAME = "fulfillment"
DESCRIPTION = "push 1,000 paid orders to the sandbox warehouse; record and sync their tracking to Shopify"

ORDERS = 1_000
THREADS = 8
MIN_RATE = 200  # orders/s
ACCOUNT, FLOOR_ACCOUNT = "bench-wh", "bench-wh-floor"
SHOP = "bench-ship.myshopify.com"
API_VERSION = "2026-01"


def _fill(count: int, base_url: str):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from catalog.models import Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from fulfillment.models import BackendKind, WarehouseBackend
    from fulfillment.services import warehouse_backend_set_secrets
    from orders.models import Order, OrderLine, OrderStatus, PlatformOrder
    from sandbox import shopify as sandbox_shopify
    from sandbox import state
    from sandbox import warehouse as sandbox_warehouse
    from stores.models import Platform, Store

    rng = random.Random(2026)
    accounts = {}
    for name in (ACCOUNT, FLOOR_ACCOUNT):
        accounts[name] = sandbox_warehouse.account_get_or_create(name, ship_after_seconds=3600)
        state.faults_set(accounts[name].shop, bucket_size=10**7, leak_per_second=10**7)
    warehouse = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
    backend = WarehouseBackend(
        warehouse=warehouse, kind=BackendKind.REST, base_url=f"{base_url}/sandbox/warehouse/{ACCOUNT}/{API_VERSION}"
    )
    warehouse_backend_set_secrets(
        backend=backend, token=accounts[ACCOUNT].api_token, webhook_secret=accounts[ACCOUNT].webhook_secret
    )
    items = []
    for number in range(2):
        product = Product.objects.create(code=f"BF{number:09d}", name=f"BENCH SHIP {number}")
        items.append(
            Item.objects.create(
                item_id=f"BF{number:09d}-01-01",
                product=product,
                warehouse=warehouse,
                price="9.90",
                weight_grams=100,
                stock_on_hand=10**6,
                reserved=10**5,
            )
        )
    user = get_user_model().objects.create_user("bench-ship@example.com", "bench-ship@example.com", "x-bench-2026")
    distributor = Distributor.objects.create(company_name="Bench Ship", contact_person="B", phone="1", country="US")
    Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    app = state.app_for("shopify", settings.SHOPIFY_CLIENT_ID)
    shop = state.shop_get_or_create("shopify", SHOP, bucket_size=10**7, leak_per_second=10**7)
    scopes = ",".join(settings.SHOPIFY_SCOPES)
    token = state.token_issue(shop=shop, app=app, scopes=scopes, expiring=False)
    store = Store(distributor=distributor, platform=Platform.SHOPIFY, name="Bench US", site="US", shop_domain=SHOP)
    store.external_key = SHOP
    store.set_credentials({"access_token": token.access_token, "scope": scopes})
    store.save()
    now = timezone.now()
    platform_orders, orders, line_specs = [], [], []
    for index in range(count):
        picks = items[: rng.randint(1, 2)]
        lines = [(item.item_id, item.product.name, "", Decimal("19.90"), rng.randint(1, 3)) for item in picks]
        payload = sandbox_shopify.build_order(shop, number=5001 + index, lines=lines, rng=rng, now=now)
        sandbox_shopify.order_store(shop, payload, notify=False)  # with its fulfillment order
        platform_orders.append(
            PlatformOrder(store=store, external_id=str(payload["id"]), display_number=payload["name"], source="pull")
        )
        orders.append(
            Order(
                distributor=distributor,
                store=store,
                number=f"DOBENCH{index:06d}",
                status=OrderStatus.PAID,
                warehouse=warehouse,
                recipient_name="Ada Lovelace",
                address1="12 Analytical Ave",
                city="Boston",
                province="MA",
                postal_code="02134",
                country="US",
                goods_amount=Decimal("19.80"),
                total_amount=Decimal("19.80"),
            )
        )
        pairs = zip(picks, payload["line_items"], strict=True)
        line_specs.append([(item, line["id"], line["quantity"]) for item, line in pairs])
    PlatformOrder.objects.bulk_create(platform_orders, batch_size=1000)
    for order, platform_order in zip(orders, platform_orders, strict=True):
        order.platform_order = platform_order
    Order.objects.bulk_create(orders, batch_size=1000)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                store_sku=item.item_id,
                quantity=quantity,
                item=item,
                item_code=item.item_id,
                product_name=item.product.name,
                unit_price=Decimal("9.90"),
                platform_line_id=str(line_id),
            )
            for order, specs in zip(orders, line_specs, strict=True)
            for item, line_id, quantity in specs
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return warehouse, store, accounts, token.access_token


def _threads(work, ids) -> float:
    from django.db import close_old_connections

    def one(value):
        # As a Celery worker does after each task: the connection is kept while it is
        # younger than CONN_MAX_AGE (60 s here, as in production), not opened per order.
        try:
            return work(value)
        finally:
            close_old_connections()

    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one, ids))
    return time.perf_counter() - begin


def worker(count: int, base_url: str) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from fulfillment import changes, push, tracking
    from fulfillment.models import Outbound, Shipment, TrackingSync
    from fulfillment.warehouses.rest import order_body
    from orders.models import Order, OrderStatus
    from sandbox.models import SandboxOutboundOrder, SandboxOutboundShipment

    started = time.perf_counter()
    warehouse, store, accounts, shop_token = _fill(count, base_url)
    fill_seconds = time.perf_counter() - started
    order_ids = list(Order.objects.filter(store=store).order_by("pk").values_list("pk", flat=True))

    # The floor of the push: the same creates, bare, to an account of their own.
    bodies = [order_body(push.outbound_request(order)) for order in Order.objects.filter(pk__in=order_ids)]
    floor_url = f"{base_url}/sandbox/warehouse/{FLOOR_ACCOUNT}/{API_VERSION}/order"
    floor_headers = {"Authorization": f"Bearer {accounts[FLOOR_ACCOUNT].api_token}"}
    sessions = {}

    def bare_create(body):
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        session.post(floor_url, json={**body, "reference_id": "F" + body["reference_id"]}, headers=floor_headers)

    push_floor = _threads(bare_create, bodies)
    push_seconds = _threads(push.order_push, order_ids)
    at_warehouse = Order.objects.filter(store=store, status=OrderStatus.AT_WAREHOUSE).count()
    held = SandboxOutboundOrder.objects.filter(account=accounts[ACCOUNT]).count()
    if (at_warehouse, held, Outbound.objects.count()) != (count, count, count):
        raise RuntimeError(f"pushed {at_warehouse} orders, the warehouse holds {held}")

    # Ship them all at the warehouse (the sandbox's own work, not timed), then record and sync.
    SandboxOutboundShipment.objects.filter(order__account=accounts[ACCOUNT]).update(ship_at=timezone.now())
    requests.post(f"{base_url}/sandbox/warehouse/{ACCOUNT}/_sandbox/control", json={"advance": True}, timeout=600)
    begin = time.perf_counter()
    changes.warehouse_poll(warehouse=warehouse)
    record_seconds = time.perf_counter() - begin
    shipped = Order.objects.filter(store=store, status=OrderStatus.SHIPPED).count()
    sync_ids = list(TrackingSync.objects.filter(state=TrackingSync.State.PENDING).values_list("pk", flat=True))
    if shipped != count or len(sync_ids) != count or Shipment.objects.count() != count:
        raise RuntimeError(f"{shipped} shipped, {len(sync_ids)} syncs for {count} orders")
    sync_seconds = _threads(tracking.tracking_sync_one, sync_ids)
    synced = TrackingSync.objects.filter(state=TrackingSync.State.SYNCED).count()
    if synced != count:
        failed = TrackingSync.objects.exclude(state=TrackingSync.State.SYNCED).values_list("platform_answer", flat=True)
        raise RuntimeError(f"{synced} of {count} synced: {list(failed[:3])}")

    # The floor of the sync: the same Shopify calls, bare (another shop's orders are not needed:
    # the fulfillment orders are read again and a fulfillment posted for each, which the shop refuses).
    shop_url = f"{base_url}/sandbox/shopify/{SHOP}/admin/api/{settings.SHOPIFY_API_VERSION}"
    shop_headers = {"X-Shopify-Access-Token": shop_token}
    external_ids = list(store.platform_orders.values_list("external_id", flat=True))

    def bare_sync(external_id):
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        found = session.get(f"{shop_url}/orders/{external_id}/fulfillment_orders.json", headers=shop_headers)
        first = (found.json().get("fulfillment_orders") or [{"id": 0}])[0]
        session.post(
            f"{shop_url}/fulfillments.json",
            json={"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": first["id"]}]}},
            headers=shop_headers,
        )

    sync_floor = _threads(bare_sync, external_ids)
    return {
        "fill_seconds": fill_seconds,
        "push_seconds": push_seconds,
        "push_floor_seconds": push_floor,
        "record_seconds": record_seconds,
        "sync_seconds": sync_seconds,
        "sync_floor_seconds": sync_floor,
    }


def _rows(ctx, count: int, figure: str, seconds: float, floor_seconds: float, floor: str, size: str) -> list[dict]:
    rate, floor_rate = count / seconds, count / floor_seconds
    return [
        {
            "figure": figure,
            "value": round(rate, 1),
            "unit": "orders/s",
            "target": f"≥ {MIN_RATE} orders/s",
            "ok": rate >= MIN_RATE,
            "size": size,
            "command": ctx.command(NAME),
        },
        {
            "figure": f"{figure}: floor ({floor})",
            "value": round(floor_rate, 1),
            "unit": "orders/s",
            "target": f"ratio {rate / floor_rate:.2f}",
            "ok": None,
            "size": size,
            "command": ctx.command(NAME),
        },
    ]


def run(ctx) -> list[dict]:
    # The sandbox is served as the pull benchmark serves it (its module, beside this one).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_orders_pull import _serve

    count = ORDERS // 10 if ctx.quick else ORDERS
    with ctx.fresh_database() as url:
        base_env = ctx.env(database_url=url, SANDBOX_ENABLED="true", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="60")
        process, base_url = _serve(ctx, base_env)
        try:
            env = {
                **base_env,
                "SHOPIFY_API_BASE": f"{base_url}/sandbox/shopify/{{shop}}",
                "SANDBOX_BASE_URL": f"{base_url}/sandbox",
            }
            data = ctx.run_worker(__file__, count, base_url, env=env)
        finally:
            process.terminate()
            process.wait(timeout=20)
    ctx.log(
        f"filled in {data['fill_seconds']:.1f} s; pushed {count:,} in {data['push_seconds']:.2f} s "
        f"(floor {data['push_floor_seconds']:.2f} s); recorded in {data['record_seconds']:.2f} s, "
        f"synced in {data['sync_seconds']:.2f} s (floor {data['sync_floor_seconds']:.2f} s)"
    )
    size = f"{count:,} paid orders of 1-2 lines, {THREADS} threads, sandbox on gunicorn (2 workers × 2 threads)"
    track_seconds = data["record_seconds"] + data["sync_seconds"]
    return [
        *_rows(
            ctx,
            count,
            "fulfilment: push paid orders to the warehouse, HTTP included",
            data["push_seconds"],
            data["push_floor_seconds"],
            "the same creates, bare HTTP",
            size,
        ),
        *_rows(
            ctx,
            count,
            "fulfilment: record shipments and sync tracking to Shopify, HTTP included",
            track_seconds,
            data["sync_floor_seconds"],
            "the same Shopify calls, bare HTTP",
            size,
        ),
    ]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]), sys.argv[3])))
