"""Handling per order and per extra piece (issue 14): an order's handling is the warehouse's
fee per order plus its fee per extra piece for every piece after the first (pieces: the
lines' quantities added up); self-pickup adds the self-pickup fee on top; a split or a
merge prices each resulting order again by the same rule (orders/pricing.py)."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from mapping.models import Mapping
from orders.actions import order_split, orders_logistics_choose, orders_merge
from orders.actions.merge import merge_preview
from orders.ingest import platform_order_ingest
from orders.models import Logistics, Order, PlatformOrder
from orders.pricing import handling_of, logistics_apply, order_costs
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import owner_of
from tests.orders.test_left_out_lines import line, order
from tests.orders.test_operations import make_order
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Line:
    item: object
    quantity: int
    unit_price: Decimal | None = None


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US")


@pytest.fixture
def warehouse():
    # the demo's US-CA: 1.20 per order, 0.30 per extra piece, self-pickup 2.00
    return WarehouseFactory(
        code="US-CA",
        sites="US",
        handling_fee=Decimal("1.20"),
        handling_fee_per_extra_piece=Decimal("0.30"),
        self_pickup_fee=Decimal("2.00"),
    )


@pytest.fixture
def serum(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), stock_on_hand=100)


@pytest.fixture
def mask(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), stock_on_hand=100)


@pytest.mark.parametrize(
    ("quantities", "goods", "handling"),
    [
        ((1,), "12.00", "1.20"),  # one piece: the fee per order alone
        ((2,), "24.00", "1.50"),  # one extra piece
        ((5,), "60.00", "2.40"),  # four extra pieces: 1.20 + 4 × 0.30
        ((2, 3), "60.00", "2.40"),  # pieces count across lines, not lines
    ],
)
def test_handling_is_per_order_plus_per_extra_piece(warehouse, serum, quantities, goods, handling):
    costs = order_costs(warehouse, [Line(serum, quantity) for quantity in quantities], [])

    assert (costs["goods_amount"], costs["handling_amount"], costs["total_amount"]) == (
        Decimal(goods),
        Decimal(handling),
        Decimal(goods) + Decimal(handling),
    )


def test_without_a_fee_per_extra_piece_handling_stays_per_order(serum, warehouse):
    warehouse.handling_fee_per_extra_piece = Decimal("0")
    assert order_costs(warehouse, [Line(serum, 5)], [])["handling_amount"] == Decimal("1.20")


def test_handling_is_rounded_half_up_once_in_the_currency(db):
    yen = WarehouseFactory(
        code="JP-TYO",
        country="JP",
        sites="JP",
        handling_fee=Decimal("150"),
        handling_fee_currency="JPY",
        handling_fee_per_extra_piece=Decimal("30.50"),
    )
    # 150 + 30.50 = 180.50 yen: 181, half up, once at the end (no cents in yen)
    assert handling_of(yen, 2, "JPY") == Decimal("181")
    # 150 + 3 × 30.50 = 241.50: 242 (not 3 × 31 = 93 added to 150)
    assert handling_of(yen, 4, "JPY") == Decimal("242")


def test_self_pickup_adds_its_fee_to_the_same_handling(owner, store, warehouse, serum):
    made = make_order(owner, store, warehouse, [(serum, 5)])

    orders_logistics_choose(actor=owner, orders=[made], logistics=Logistics.SELF_PICKUP)

    made.refresh_from_db()
    # 1.20 per order + 4 × 0.30 per extra piece + 2.00 self-pickup; no freight
    assert (made.shipping_amount, made.handling_amount, made.total_amount) == (
        Decimal("0.00"),
        Decimal("4.40"),
        Decimal("64.40"),
    )


def test_a_new_order_from_the_store_is_priced_with_its_extra_pieces(owner, store, serum):
    Mapping.objects.create(store=store, store_sku="SERUM", item=serum)

    platform_order_ingest(store=store, order=order("7001", line("SERUM", 3)), source=PlatformOrder.Source.PULL)

    made = Order.objects.get()
    assert (made.handling_amount, made.total_amount) == (Decimal("1.80"), Decimal("37.80"))


def test_each_split_part_pays_the_fee_per_order_and_its_own_extra_pieces(owner, store, warehouse, serum, mask):
    parent = make_order(owner, store, warehouse, [(serum, 4), (mask, 1)])
    serum_line, mask_line = parent.lines.order_by("pk")

    first, second = order_split(
        actor=owner, order=parent, parts=[{serum_line.pk: 1}, {serum_line.pk: 3, mask_line.pk: 1}]
    )

    assert first.handling_amount == Decimal("1.20")  # one piece
    assert second.handling_amount == Decimal("2.10")  # four pieces: 1.20 + 3 × 0.30
    assert second.total_amount == Decimal("36.00") + Decimal("5.00") + Decimal("2.10")


def test_a_merge_of_two_one_piece_orders_pays_the_fee_per_order_once_and_one_extra_piece(
    owner, store, warehouse, serum, mask
):
    first = make_order(owner, store, warehouse, [(serum, 1)])
    second = make_order(owner, store, warehouse, [(mask, 1)])
    assert first.handling_amount + second.handling_amount == Decimal("2.40")

    merged = orders_merge(actor=owner, orders=[first, second])

    assert (merged.goods_amount, merged.handling_amount, merged.total_amount) == (
        Decimal("17.00"),
        Decimal("1.50"),  # 1.20 once + 0.30 for the second piece
        Decimal("18.50"),
    )


def test_the_merge_preview_prices_the_handling_as_the_merge_does(owner, store, warehouse, serum, mask):
    orders = [make_order(owner, store, warehouse, [(serum, 2)]), make_order(owner, store, warehouse, [(mask, 3)])]

    preview = merge_preview(actor=owner, orders=orders)
    merged = orders_merge(actor=owner, orders=orders)

    # five pieces: 1.20 + 4 × 0.30
    assert preview.merged.handling_amount == merged.handling_amount == Decimal("2.40")
    assert preview.merged.total_amount == merged.total_amount


def test_logistics_apply_keeps_the_extra_pieces_when_the_method_changes(owner, store, warehouse, serum):
    made = make_order(owner, store, warehouse, [(serum, 3)])
    lines = list(made.lines.select_related("item__product"))

    assert logistics_apply(made, lines, [], logistics=Logistics.SELF_PICKUP) == ""
    assert made.handling_amount == Decimal("1.20") + 2 * Decimal("0.30") + Decimal("2.00")
