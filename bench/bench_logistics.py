"""Choosing logistics for 1,000 selected orders, quotes included (orders.actions.
orders_logistics_choose: the orders locked, their lines and items read, every order quoted
by the warehouse's methods and rate cards, the chosen method applied, the orders written
with one bulk update and a timeline entry each): target ≤ 2 s on PostgreSQL.

The orders are one or two lines each, to addresses across the US (so zones by region and
postcode prefix matter), in a warehouse with three methods, each with a rate card of
several zones and weight rows. Measured twice: the cheapest method, and one named method.
"""

import json
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal

NAME = "logistics"
DESCRIPTION = "choose the shipping method of 1,000 selected orders, quotes included"

ORDERS = 1_000
MAX_SECONDS = 2.0
STATES = ["CA", "NY", "TX", "WA", "FL", "IL", "HI", "AK"]


def _fill(orders: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from catalog.models import Item, Product, RateCard, RateRow, RateZone, ShippingMethod, Warehouse
    from distribution.models import Distributor, Membership, Role
    from orders.ingest import new_order_number
    from orders.models import Order, OrderLine
    from stores.models import Platform, Store

    warehouse = Warehouse.objects.create(code="US-CA", name="US", country="US", sites="US")
    product = Product.objects.create(code="BL000000001", name="BENCH SERUM", length_cm=10, width_cm=5, height_cm=4)
    items = [
        Item.objects.create(
            item_id=f"BL000000001-01-{n:02d}",
            product=product,
            warehouse=warehouse,
            price="12.00",
            stock_on_hand=10**6,
            weight_grams=150 * n,
        )
        for n in (1, 2)
    ]
    methods = []
    for code, name, first in (("USPS_GA", "Ground Advantage", "4.10"), ("UPS_GND", "Ground", "6.20")):
        method = ShippingMethod.objects.create(
            warehouse=warehouse,
            carrier=name.split()[0],
            service=name,
            code=code,
            countries="US",
            excluded_regions="US-AK" if code == "UPS_GND" else "",
            eta_min_days=2,
            eta_max_days=5,
            volumetric_divisor=5000,
        )
        card = RateCard.objects.create(
            method=method,
            version=1,
            currency="USD",
            fuel_surcharge_percent="7.5",
            effective_from=timezone.now() - timedelta(days=1),
        )
        for zone_name, fields, surcharge in (
            ("Contiguous", {}, "0"),
            ("California", {"regions": "CA"}, "-0.50"),
            ("Hawaii", {"regions": "HI"}, "8.00"),
            ("NYC", {"postcode_prefixes": "100,101,102"}, "1.00"),
        ):
            zone = RateZone.objects.create(card=card, name=zone_name, country="US", **fields)
            for top in (1000, 5000, 30000):
                RateRow.objects.create(
                    zone=zone,
                    max_grams=top,
                    first_grams=500,
                    first_price=Decimal(first) + Decimal(surcharge) + top // 10000,
                    step_grams=500,
                    step_price=Decimal("0.85"),
                    min_charge=Decimal("3.00"),
                )
        methods.append(method)
    user = get_user_model().objects.create_user("bench-logistics@example.com", "bench-logistics@example.com", "x")
    distributor = Distributor.objects.create(
        company_name="Bench Logistics", contact_person="B", phone="1", country="US"
    )
    membership = Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    store = Store.objects.create(distributor=distributor, platform=Platform.OTHER, name="Bench", site="US")
    made = Order.objects.bulk_create(
        [
            Order(
                distributor=distributor,
                store=store,
                number=new_order_number(),
                warehouse=warehouse,
                country="US",
                province=STATES[n % len(STATES)],
                postal_code=f"{10001 + n * 37 % 89999:05d}",
                recipient_name="Bench Buyer",
                goods_amount=Decimal("24.00"),
                handling_amount=Decimal("1.50"),
                total_amount=Decimal("25.50"),
            )
            for n in range(orders)
        ]
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, store_sku=item.item_id, quantity=1 + n % 3, item=item, unit_price="12.00")
            for n, order in enumerate(made)
            for item in items[: 1 + n % 2]
        ]
    )
    return membership, made, methods


def worker(orders: int) -> dict:
    import django

    django.setup()
    from orders.actions import orders_logistics_choose
    from orders.models import Logistics, Order

    membership, made, methods = _fill(orders)
    timings = {}
    for label, method_id in (("cheapest", None), ("named", methods[1].pk)):
        begin = time.perf_counter()
        result = orders_logistics_choose(
            actor=membership, orders=made, logistics=Logistics.DROPSHIPPING, method_id=method_id
        )
        timings[label] = time.perf_counter() - begin
        timings[f"{label}_done"] = len(result.done)
        timings[f"{label}_refused"] = len(result.refused)
    priced = Order.objects.filter(chosen_method=methods[1]).exclude(shipping_amount=0).count()
    return {**timings, "priced": priced}


def run(ctx) -> list[dict]:
    if not ctx.is_postgres:
        ctx.log("skipped: the figure is on PostgreSQL (DATABASE_URL)")
        return []
    orders = ORDERS // 10 if ctx.quick else ORDERS
    with ctx.fresh_database() as url:
        data = ctx.run_worker(__file__, orders, env=ctx.env(database_url=url, LOG_LEVEL="WARNING"))
    ctx.log(
        f"{orders:,} orders: cheapest {data['cheapest']:.2f} s ({data['cheapest_done']} priced, "
        f"{data['cheapest_refused']} refused); named method {data['named']:.2f} s "
        f"({data['named_done']} priced, {data['named_refused']} refused: it does not reach Alaska)"
    )
    size = f"{orders:,} orders of 1-2 lines to 8 states, 2 methods × 4 zones × 3 weight rows"
    command = ctx.command(NAME)
    return [
        {
            "figure": f"choose logistics for {orders:,} orders: cheapest method, quotes included",
            "value": round(data["cheapest"], 3),
            "unit": "s",
            "target": f"≤ {MAX_SECONDS} s",
            "ok": data["cheapest"] <= MAX_SECONDS,
            "size": size,
            "command": command,
        },
        {
            "figure": f"choose logistics for {orders:,} orders: one named method, quotes included",
            "value": round(data["named"], 3),
            "unit": "s",
            "target": f"≤ {MAX_SECONDS} s",
            "ok": data["named"] <= MAX_SECONDS,
            "size": size,
            "command": command,
        },
    ]


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--worker":
    sys.path.insert(0, os.getcwd())
    print(json.dumps(worker(int(sys.argv[2]))))
