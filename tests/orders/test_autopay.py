"""Auto-pay: off by default; when on, payable orders are paid oldest first while the
balance covers them, the rest wait as "awaiting funds" and are paid when money lands."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from finance import services as finance
from finance.models import BalancePreference
from orders.actions import orders_autopay
from orders.actions.pay import autopay_candidates
from orders.models import Order, OrderStatus
from orders.tasks import autopay_sweep
from tests.finance.factories import TopUpFactory
from tests.orders.test_pay import balance, fund, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)


@pytest.fixture
def item():
    from tests.catalog.factories import ItemFactory, WarehouseFactory

    return ItemFactory(warehouse=WarehouseFactory(code="US-CA", sites="US"), stock_on_hand=100)


@pytest.fixture
def owner():
    from tests.distribution.factories import owner_of

    return owner_of()


def auto_pay_on(owner):
    BalancePreference.objects.update_or_create(distributor=owner.distributor, defaults={"auto_pay": True})


def oldest_first(owner, item, count, total="15.00"):
    now = timezone.now()
    return [make_order(owner, item, total=total, placed_at=now - timedelta(hours=count - n)) for n in range(count)]


def statuses(orders):
    return [Order.objects.get(pk=order.pk).status for order in orders]


def test_autopay_is_off_by_default(owner, staff, item):
    fund(owner, staff, "100.00")
    orders = oldest_first(owner, item, 2)
    assert orders_autopay(distributor=owner.distributor).paid == []
    assert statuses(orders) == [OrderStatus.AWAITING_PAYMENT] * 2


def test_autopay_pays_oldest_first_and_the_rest_wait_for_funds(owner, staff, item):
    auto_pay_on(owner)
    fund(owner, staff, "40.00")
    orders = oldest_first(owner, item, 3)
    result = orders_autopay(distributor=owner.distributor)
    assert result.paid == [orders[0].number, orders[1].number]
    assert statuses(orders) == [OrderStatus.PAID, OrderStatus.PAID, OrderStatus.AWAITING_FUNDS]
    assert balance(owner) == Decimal("10.00")


def test_autopay_pays_orders_awaiting_funds_when_a_top_up_lands(owner, staff, item, django_capture_on_commit_callbacks):
    auto_pay_on(owner)
    orders = oldest_first(owner, item, 2)
    orders_autopay(distributor=owner.distributor)
    assert statuses(orders) == [OrderStatus.AWAITING_FUNDS] * 2
    top_up = TopUpFactory(distributor=owner.distributor, amount=Decimal("50.00"), quoted_usd=Decimal("50.00"))
    with django_capture_on_commit_callbacks(execute=True):
        finance.topup_approve(actor=staff, top_up=top_up)
    assert statuses(orders) == [OrderStatus.PAID] * 2
    assert balance(owner) == Decimal("20.00")


def test_autopay_sweep_finds_only_distributors_with_auto_pay_and_payable_orders(owner, staff, item):
    from tests.distribution.factories import owner_of

    other = owner_of()
    make_order(other, item)  # auto-pay off: never swept
    auto_pay_on(owner)
    fund(owner, staff, "100.00")
    orders = oldest_first(owner, item, 2)
    assert autopay_candidates() == [owner.distributor_id]
    assert autopay_sweep() == 1  # eager in tests: the sweep's task ran
    assert statuses(orders) == [OrderStatus.PAID] * 2
    assert autopay_candidates() == []


def test_autopay_twice_pays_once(owner, staff, item):
    auto_pay_on(owner)
    fund(owner, staff, "100.00")
    oldest_first(owner, item, 2)
    orders_autopay(distributor=owner.distributor)
    orders_autopay(distributor=owner.distributor)
    assert balance(owner) == Decimal("70.00")
