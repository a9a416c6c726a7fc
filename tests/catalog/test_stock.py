import threading

import pytest
from django.db import connection

from catalog import services
from catalog.models import Item, StockMovement
from distribution.errors import ApplicationError
from tests.catalog.factories import ItemFactory
from tests.conftest import using_postgres


def _stock(item: Item) -> tuple[int, int]:
    item.refresh_from_db()
    return item.stock_on_hand, item.reserved


@pytest.mark.django_db
def test_item_stock_reserve_release_consume_move_stock_and_log_it():
    item = ItemFactory(stock_on_hand=10)
    # when an order is paid, another is cancelled, the first ships
    services.item_stock_reserve(item_id=item.pk, quantity=4, reference="DO-1")
    services.item_stock_reserve(item_id=item.pk, quantity=3, reference="DO-2")
    services.item_stock_release(item_id=item.pk, quantity=3, reference="DO-2")
    services.item_stock_consume(item_id=item.pk, quantity=4, reference="DO-1")
    # then
    assert _stock(item) == (6, 0)
    kinds = list(StockMovement.objects.filter(item=item).order_by("id").values_list("kind", "quantity", "reference"))
    assert kinds == [("reserve", 4, "DO-1"), ("reserve", 3, "DO-2"), ("release", 3, "DO-2"), ("consume", 4, "DO-1")]


@pytest.mark.django_db
def test_item_stock_reserve_refuses_more_than_available_and_changes_nothing():
    item = ItemFactory(stock_on_hand=5)
    services.item_stock_reserve(item_id=item.pk, quantity=3, reference="DO-1")
    with pytest.raises(ApplicationError) as excinfo:
        services.item_stock_reserve(item_id=item.pk, quantity=3, reference="DO-2")
    assert f"Only 2 of {item.item_id} available; 3 requested." == str(excinfo.value)
    assert _stock(item) == (5, 3)
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("service", [services.item_stock_release, services.item_stock_consume])
def test_item_stock_release_and_consume_refuse_more_than_reserved(service):
    item = ItemFactory(stock_on_hand=5)
    services.item_stock_reserve(item_id=item.pk, quantity=2, reference="DO-1")
    with pytest.raises(ApplicationError) as excinfo:
        service(item_id=item.pk, quantity=3, reference="DO-9")
    assert "only 2 reserved" in str(excinfo.value)
    assert _stock(item) == (5, 2)


@pytest.mark.django_db
def test_item_stock_reserve_replayed_with_the_same_reference_moves_stock_once():
    item = ItemFactory(stock_on_hand=5)
    services.item_stock_reserve(item_id=item.pk, quantity=2, reference="DO-1")
    services.item_stock_reserve(item_id=item.pk, quantity=2, reference="DO-1")
    assert _stock(item) == (5, 2)
    with pytest.raises(ApplicationError, match="different quantity"):
        services.item_stock_reserve(item_id=item.pk, quantity=3, reference="DO-1")


@pytest.mark.django_db
def test_items_stock_reserve_is_all_or_nothing():
    plenty, scarce = ItemFactory(stock_on_hand=10), ItemFactory(stock_on_hand=1)
    with pytest.raises(ApplicationError, match=scarce.item_id):
        services.items_stock_reserve(quantities={plenty.pk: 2, scarce.pk: 2}, reference="DO-1")
    assert _stock(plenty) == (10, 0) and _stock(scarce) == (1, 0)
    services.items_stock_reserve(quantities={scarce.pk: 1, plenty.pk: 2}, reference="DO-1")
    assert _stock(plenty) == (10, 2) and _stock(scarce) == (1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(("quantity", "reference"), [(0, "DO-1"), (-1, "DO-1"), (True, "DO-1"), (1, " ")])
def test_item_stock_reserve_refuses_bad_quantities_and_blank_references(quantity, reference):
    item = ItemFactory(stock_on_hand=5)
    with pytest.raises(ApplicationError):
        services.item_stock_reserve(item_id=item.pk, quantity=quantity, reference=reference)
    assert _stock(item) == (5, 0)


@pytest.mark.django_db
def test_item_stock_reserve_of_an_unknown_item_is_refused():
    with pytest.raises(ApplicationError, match="Unknown item"):
        services.item_stock_reserve(item_id=999999, quantity=1, reference="DO-1")


@pytest.mark.django_db
def test_item_stock_adjust_cannot_go_below_reserved():
    item = ItemFactory(stock_on_hand=5)
    services.item_stock_reserve(item_id=item.pk, quantity=4, reference="DO-1")
    with pytest.raises(ApplicationError, match="cannot be below the 4 pieces reserved"):
        services.item_stock_adjust(item_id=item.pk, stock_on_hand=3, reference="stock-take")
    services.item_stock_adjust(item_id=item.pk, stock_on_hand=50, reference="delivery")
    assert _stock(item) == (50, 4)
    assert StockMovement.objects.filter(kind="adjust").get().quantity == 45


@pytest.mark.django_db
def test_item_save_from_a_stale_form_keeps_the_reservation_made_meanwhile():
    item = ItemFactory(stock_on_hand=5)
    stale = Item.objects.get(pk=item.pk)  # a staff edit form loaded now
    services.item_stock_reserve(item_id=item.pk, quantity=4, reference="DO-1")
    stale.stock_on_hand = 8
    services.item_save(item=stale, reference="admin")
    assert _stock(item) == (8, 4)


@pytest.mark.skipif(not using_postgres(), reason="row locks need PostgreSQL (SQLite serialises writers anyway)")
@pytest.mark.django_db(transaction=True)
def test_item_stock_reserve_two_threads_racing_for_the_last_units_one_wins():
    item = ItemFactory(stock_on_hand=3)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def reserve(reference):
        try:
            barrier.wait(timeout=5)
            services.item_stock_reserve(item_id=item.pk, quantity=2, reference=reference)
            outcomes.append("ok")
        except ApplicationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(f"DO-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["ok", "refused"]
    assert _stock(item) == (3, 2)
