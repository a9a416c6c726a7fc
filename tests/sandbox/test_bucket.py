"""The sandbox's leaky bucket (every emulated platform's rate limit): exact under racing
requests, and drained by time."""

import time
from functools import partial

import pytest

from sandbox import state
from tests.concurrency import together
from tests.conftest import using_postgres


@pytest.mark.django_db
def test_a_full_bucket_refuses_with_the_wait_and_drains_with_time():
    shop = state.shop_get_or_create("shopify", "bucket.myshopify.com", bucket_size=3, leak_per_second=2.0)
    taken = [state.bucket_take(shop) for _ in range(4)]
    assert [t.allowed for t in taken] == [True, True, True, False]
    assert taken[2].used == 3 and taken[3].size == 3
    assert 0 < taken[3].retry_after <= 0.5  # one request leaks out in half a second
    time.sleep(taken[3].retry_after + 0.05)
    assert state.bucket_take(shop).allowed


@pytest.mark.postgres
@pytest.mark.skipif(not using_postgres(), reason="racing connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_racing_requests_get_exactly_the_bucket_size():
    shop = state.shop_get_or_create("shopify", "race.myshopify.com", bucket_size=5, leak_per_second=0.001)

    results = [taken.allowed for taken in together(*[partial(state.bucket_take, shop)] * 12)]
    assert sorted(results) == [False] * 7 + [True] * 5
