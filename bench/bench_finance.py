"""Paying orders from the balance, and payments on one hot account.

1. One payment of 1,000 orders (orders.actions.orders_pay: the orders locked, their
   stock reserved in one batch, one ledger payment of 1,001 entries, the orders moved to
   paid with their events): target ≤ 1 s.
2. Single-order payments (finance.services.payment_post: lock, idempotency, a
   transaction and its two entries through the database's guard triggers, the cached
   balance) from 8 concurrent client processes on ONE distributor's account, for a fixed
   time: target ≥ 300 payments/s and ≥ 0.7 of the floor.
   The floor is measured in the same run, on the same database server: 8 processes doing
   the least a correct payment needs, in raw SQL on two plain tables without triggers
   (BEGIN; SELECT ... FOR UPDATE; INSERT two entries; UPDATE the balance; COMMIT).
   The floor and ours take turns (ROUNDS rounds each, floor first), so a slower disk or a
   busier machine for part of the run weighs on both alike; each figure is its total
   over its rounds.

PostgreSQL only (the guards, row locks and concurrency are the point).
"""

import json
import multiprocessing
import os
import sys
import time
from decimal import Decimal

NAME = "finance"
DESCRIPTION = "pay 1,000 orders in one payment; single-order payments on one hot account, with the raw-SQL floor"

BATCH = 1_000
CLIENTS = 8
SECONDS = 10.0  # per kind, over its rounds
ROUNDS = 3
MAX_BATCH_SECONDS = 1.0
MIN_RATE = 300
MIN_RATIO = 0.7


def _fill(orders: int):
    from django.contrib.auth import get_user_model

    from catalog.models import Item, Product, Warehouse
    from distribution.models import Distributor, Membership, Role
    from finance import services
    from orders.ingest import new_order_number
    from orders.models import Order, OrderLine
    from stores.models import Platform, Store

    warehouse = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
    product = Product.objects.create(code="BF000000001", name="BENCH SERUM")
    item = Item.objects.create(
        item_id="BF000000001-01-01",
        product=product,
        warehouse=warehouse,
        price="12.00",
        stock_on_hand=10**6,
        weight_grams=150,
    )
    user = get_user_model().objects.create_user("bench-finance@example.com", "bench-finance@example.com", "x")
    staff = get_user_model().objects.create_user("bench-staff", "bench-staff@example.com", "x", is_staff=True)
    distributor = Distributor.objects.create(company_name="Bench Finance", contact_person="B", phone="1", country="US")
    membership = Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    store = Store.objects.create(distributor=distributor, platform=Platform.OTHER, name="Bench", site="US")
    services.adjustment_post(
        actor=staff, distributor=distributor, amount="10000000.00", reason="bench", idempotency_key="bench-fund"
    )
    made = Order.objects.bulk_create(
        [
            Order(
                distributor=distributor,
                store=store,
                number=new_order_number(),
                warehouse=warehouse,
                country="US",
                recipient_name="Bench Buyer",
                goods_amount=Decimal("24.00"),
                handling_amount=Decimal("1.50"),
                total_amount=Decimal("25.50"),
            )
            for _ in range(orders)
        ]
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, store_sku="SERUM", quantity=2, item=item, item_code=item.item_id, unit_price="12.00")
            for order in made
        ]
    )
    return membership, made


def _batch(orders: int) -> dict:
    from orders.actions import orders_pay
    from orders.models import Order, OrderStatus

    membership, made = _fill(orders)
    begin = time.perf_counter()
    result = orders_pay(actor=membership, orders=made, idempotency_key="bench-batch")
    seconds = time.perf_counter() - begin
    paid = Order.objects.filter(status=OrderStatus.PAID).count()
    if len(result.paid) != orders or paid != orders:
        raise RuntimeError(f"{len(result.paid)} paid of {orders}")
    return {"seconds": seconds, "distributor_id": membership.distributor_id}


def _client(kind: str, index: int, distributor_id: int, start_at: float, seconds: float, queue, turn: int) -> None:
    """One client process: payments until the time is up; reports how many."""
    import django

    django.setup()
    from django.db import connection

    if kind == "floor":
        account_id = int(os.environ["FLOOR_ACCOUNT"])
        count = 0
        with connection.cursor() as cursor:
            while time.time() < start_at:
                time.sleep(0.001)
            deadline = time.time() + seconds
            while time.time() < deadline:
                cursor.execute("BEGIN")
                cursor.execute("SELECT balance FROM bench_floor_account WHERE id = %s FOR UPDATE", [account_id])
                cursor.execute(
                    "INSERT INTO bench_floor_entry (account_id, amount, reference) VALUES (%s, -1, %s), (0, 1, %s)",
                    [account_id, f"c{index}-{count}", f"c{index}-{count}"],
                )
                cursor.execute("UPDATE bench_floor_account SET balance = balance - 1 WHERE id = %s", [account_id])
                cursor.execute("COMMIT")
                count += 1
        queue.put(count)
        return

    from distribution.models import Distributor
    from finance import services

    distributor = Distributor.objects.get(pk=distributor_id)
    charge = Decimal("1.00")
    count = 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.time() + seconds
    while time.time() < deadline:
        posted = services.payment_post(
            distributor=distributor,
            idempotency_key=f"hot-{turn}-{index}-{count}",
            charges=[services.Charge(f"HOT-{turn}-{index}-{count}", charge)],
        )
        if posted.replayed:
            raise RuntimeError("a benchmark payment was a replay: it would count a payment never made")
        count += 1
    queue.put(count)


def _race(kind: str, distributor_id: int, seconds: float, turn: int = 0) -> float:
    from django.db import connection

    connection.close()  # the children open their own
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 3.0  # every client connected and set up before the clock starts
    children = [
        context.Process(target=_client, args=(kind, index, distributor_id, start_at, seconds, queue, turn))
        for index in range(CLIENTS)
    ]
    for child in children:
        child.start()
    counts = [queue.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join(timeout=30)
    return sum(counts) / seconds


def worker(orders: int, seconds: float) -> dict:
    import django

    django.setup()
    from django.db import connection

    from finance.audit import ledger_audit

    batch = _batch(orders)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_floor_account (id bigserial PRIMARY KEY, balance numeric(19,4) NOT NULL)")
        cursor.execute(
            "CREATE TABLE bench_floor_entry (id bigserial PRIMARY KEY, account_id bigint NOT NULL, "
            "amount numeric(19,4) NOT NULL, reference varchar(120) NOT NULL)"
        )
        cursor.execute("INSERT INTO bench_floor_account (balance) VALUES (10000000) RETURNING id")
        os.environ["FLOOR_ACCOUNT"] = str(cursor.fetchone()[0])
        cursor.execute("ANALYZE")
    floor = ours = 0.0
    for turn in range(ROUNDS):
        floor += _race("floor", batch["distributor_id"], seconds / ROUNDS, turn) / ROUNDS
        ours += _race("ours", batch["distributor_id"], seconds / ROUNDS, turn) / ROUNDS
    audit = ledger_audit()
    if not audit.ok:
        raise RuntimeError(f"the ledger is wrong after the benchmark: {audit.problems[:5]}")
    return {"batch_seconds": batch["seconds"], "floor_rate": floor, "rate": ours, "entries": audit.entries}


def run(ctx) -> list[dict]:
    if not ctx.is_postgres:
        ctx.log("skipped: needs PostgreSQL (DATABASE_URL)")
        return []
    orders = BATCH // 10 if ctx.quick else BATCH
    seconds = 2.0 if ctx.quick else SECONDS
    with ctx.fresh_database() as url:
        data = ctx.run_worker(__file__, orders, seconds, env=ctx.env(database_url=url, LOG_LEVEL="WARNING"))
    ctx.log(
        f"batch of {orders:,} paid in {data['batch_seconds']:.2f} s; hot account {data['rate']:.0f}/s "
        f"vs floor {data['floor_rate']:.0f}/s; check_ledger clean over {data['entries']:,} entries"
    )
    ratio = data["rate"] / data["floor_rate"]
    hot = f"{CLIENTS} client processes × {seconds:.0f} s in {ROUNDS} turns with the floor, one distributor account"
    command = ctx.command(NAME)
    return [
        {
            "figure": f"pay {orders:,} orders in one payment",
            "value": round(data["batch_seconds"], 3),
            "unit": "s",
            "target": f"≤ {MAX_BATCH_SECONDS} s",
            "ok": data["batch_seconds"] <= MAX_BATCH_SECONDS,
            "size": f"{orders:,} orders of one line; stock reserved, one ledger payment, orders marked paid",
            "command": command,
        },
        {
            "figure": "hot account: single-order payments/s",
            "value": round(data["rate"], 1),
            "unit": "payments/s",
            "target": f"≥ {MIN_RATE}/s",
            "ok": data["rate"] >= MIN_RATE,
            "size": hot,
            "command": command,
        },
        {
            "figure": "hot account: floor (raw SQL lock + two entries + balance update)",
            "value": round(data["floor_rate"], 1),
            "unit": "payments/s",
            "target": "",
            "ok": None,
            "size": hot,
            "command": command,
        },
        {
            "figure": "hot account: ratio to the floor",
            "value": round(ratio, 2),
            "unit": "×",
            "target": f"≥ {MIN_RATIO}",
            "ok": ratio >= MIN_RATIO,
            "size": hot,
            "command": command,
        },
    ]


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]), float(sys.argv[3]))))
