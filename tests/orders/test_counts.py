"""The orders-per-status counts PostgreSQL keeps (orders/counts.py, migration 0013)."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count, Sum
from django.urls import reverse

from orders import counts
from orders.models import Order, OrderStatus, OrderStatusCount
from orders.state import order_transition
from tests.conftest import using_postgres
from tests.distribution.factories import owner_of
from tests.orders.factories import OrderFactory
from tests.stores.factories import StoreFactory

pytestmark = [
    pytest.mark.skipif(not using_postgres(), reason="the counts are kept by PostgreSQL triggers"),
    pytest.mark.postgres,
]


def _kept() -> dict[tuple[int, str], int]:
    rows = OrderStatusCount.objects.values_list("distributor_id", "order_status").annotate(total=Sum("n")).order_by()
    return {(distributor, status): n for distributor, status, n in rows if n}


def _real() -> dict[tuple[int, str], int]:
    rows = Order.objects.values_list("distributor_id", "status").annotate(n=Count("*")).order_by()
    return {(distributor, status): n for distributor, status, n in rows}


@pytest.mark.django_db
def test_every_way_orders_change_keeps_the_counts_equal_to_the_orders():
    store, other = StoreFactory(), StoreFactory()
    orders = [OrderFactory(distributor=store.distributor, store=store) for _ in range(5)]
    OrderFactory(distributor=other.distributor, store=other, status=OrderStatus.PENDING_MAPPING)
    assert _kept() == _real()

    order_transition(order=orders[0], to_status=OrderStatus.PAID)  # one order moves
    Order.objects.filter(pk__in=[o.pk for o in orders[1:3]]).update(status=OrderStatus.CANCELLED)  # several
    Order.objects.filter(pk=orders[3].pk).update(remark="no status change")  # none moves
    Order.objects.bulk_create(
        [Order(distributor=other.distributor, store=other, number=f"DOBULK{n}") for n in range(3)]
    )
    Order.objects.filter(pk=orders[4].pk).delete()
    assert _kept() == _real()
    assert counts.status_counts(store.distributor.pk) == {
        OrderStatus.PAID: 1,
        OrderStatus.CANCELLED: 2,
        OrderStatus.AWAITING_PAYMENT: 1,
    }


@pytest.mark.django_db
def test_folding_leaves_one_row_per_status_and_the_same_sums(monkeypatch):
    store = StoreFactory()
    for _ in range(6):
        order = OrderFactory(distributor=store.distributor, store=store)
        order_transition(order=order, to_status=OrderStatus.CANCELLED)
    quiet = StoreFactory()
    OrderFactory(distributor=quiet.distributor, store=quiet)
    before = _kept()
    monkeypatch.setattr(counts, "COMPACT_ABOVE", 3)
    assert counts.status_counts_compact() == 1  # the quiet distributor has one row: left alone
    assert _kept() == before == _real()
    assert OrderStatusCount.objects.filter(distributor=store.distributor).count() == 1  # all cancelled
    assert counts.status_counts_compact() == 0


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_distributor_do_not_wait_for_each_other():
    store = StoreFactory()
    OrderFactory(distributor=store.distributor, store=store)
    first_wrote, second_done = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():  # this thread's own connection
                OrderFactory(distributor=store.distributor, store=store)
                first_wrote.set()
                # Still open: the second writer must not need this transaction to end.
                if not second_done.wait(10):
                    errors.append("the second writer waited for the first")
        except Exception as error:  # noqa: BLE001 (reported by the test)
            errors.append(repr(error))
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_wrote.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '3s'")
    OrderFactory(distributor=store.distributor, store=store)
    second_done.set()
    thread.join(15)
    assert not errors
    assert counts.status_counts(store.distributor.pk) == {OrderStatus.AWAITING_PAYMENT: 3}


@pytest.mark.django_db
def test_the_list_tabs_and_the_home_page_read_the_kept_counts(client):
    store = StoreFactory()
    for _ in range(3):
        OrderFactory(distributor=store.distributor, store=store)
    OrderStatusCount.objects.create(distributor=store.distributor, order_status=OrderStatus.SHIPPED, n=7)
    client.force_login(owner_of(store.distributor).user)
    tabs = {status: n for status, _label, n in client.get(reverse("orders:order_list")).context["tabs"]}
    # The 7 exist only in the kept counts: the page read them, not the orders.
    assert tabs[OrderStatus.SHIPPED] == 7 and tabs[OrderStatus.AWAITING_PAYMENT] == 3
    filtered = client.get(reverse("orders:order_list"), {"store": store.pk}).context["tabs"]
    assert {status: n for status, _label, n in filtered}[OrderStatus.SHIPPED] == 0  # filters count the orders
    home = client.get(reverse("portal:home")).content.decode()
    assert f"{reverse('orders:order_list')}?status={OrderStatus.SHIPPED}" in home
