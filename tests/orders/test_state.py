"""The order state machine: one transition function, an explicit table, a locked row, an event."""

import threading

import pytest
from django.db import connection

from orders.models import Order, OrderEvent, OrderStatus
from orders.state import ORDER_TRANSITIONS, IllegalTransition, order_transition
from tests.conftest import using_postgres
from tests.orders.factories import OrderFactory


def test_every_status_has_a_row_in_the_transition_table():
    assert set(ORDER_TRANSITIONS) == set(OrderStatus.values)
    for targets in ORDER_TRANSITIONS.values():
        assert targets <= set(OrderStatus.values)


def test_terminal_statuses_go_nowhere():
    for status in (OrderStatus.SHIPPED, OrderStatus.PICKED_UP, OrderStatus.CANCELLED, OrderStatus.SUPERSEDED):
        assert ORDER_TRANSITIONS[status] == frozenset()


def test_split_and_merge_only_before_payment():
    superseding = {s for s, targets in ORDER_TRANSITIONS.items() if OrderStatus.SUPERSEDED in targets}
    assert superseding == {
        OrderStatus.PENDING_MAPPING,
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.AWAITING_FUNDS,
        OrderStatus.OUTSIDE_AREA,
    }


@pytest.mark.django_db
def test_order_transition_moves_and_records_the_event():
    # given
    order = OrderFactory(status=OrderStatus.AWAITING_PAYMENT)
    # when
    order_transition(order=order, to_status=OrderStatus.PAID, actor=order.distributor.memberships.first().user)
    # then
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status) == (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID)
    assert event.actor is not None


@pytest.mark.django_db
def test_illegal_transition_is_refused_and_changes_nothing():
    order = OrderFactory(status=OrderStatus.SHIPPED)
    with pytest.raises(IllegalTransition, match="cannot go from Shipped to Paid"):
        order_transition(order=order, to_status=OrderStatus.PAID)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_transition_is_judged_against_the_stored_status_not_a_stale_copy():
    order = OrderFactory(status=OrderStatus.AWAITING_PAYMENT)
    stale = Order.objects.get(pk=order.pk)
    order_transition(order=order, to_status=OrderStatus.CANCELLED)
    with pytest.raises(IllegalTransition):
        order_transition(order=stale, to_status=OrderStatus.PAID)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


@pytest.mark.skipif(not using_postgres(), reason="row locks need PostgreSQL (SQLite serialises writers anyway)")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payments_of_one_order_move_it_once():
    order = OrderFactory(status=OrderStatus.AWAITING_PAYMENT)
    barrier = threading.Barrier(2)
    outcomes = []

    def pay():
        try:
            barrier.wait()
            order_transition(order=Order.objects.get(pk=order.pk), to_status=OrderStatus.PAID)
            outcomes.append("paid")
        except IllegalTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["paid", "refused"]
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
