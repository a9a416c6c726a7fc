"""The pull over real HTTP against the Shopify sandbox (live_server): orders in, cursor
moved only after commit, faults mid-pull losing nothing, malformed orders recorded,
replays, the store lease, the due-stores sweep, [Sync now] and webhooks."""

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from mapping.models import Mapping
from orders import ingest, pull
from orders.models import IngestionError, Order, PlatformOrder, PullRun, StorePullState, WebhookDelivery
from orders.state import PULL_RUN_MACHINE
from sandbox import shopify as sandbox_shopify
from sandbox.models import SandboxShop
from stores.authorization import store_authorization_complete, store_authorization_start
from stores.platforms.base import PlatformHttp, RetryPolicy
from stores.services import store_call
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.conftest import using_postgres
from tests.distribution.factories import owner_of
from tests.orders.factories import StorePullStateFactory
from tests.sandbox_helpers import ShopifySandbox, WebhookReceiver
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "acme-orders.myshopify.com"
CALLBACK = "http://testserver/stores/authorize/shopify/callback/"
SKUS = ["SERUM-US", "MASK-US"]


@pytest.fixture
def sandbox(live_server, settings):
    settings.SHOPIFY_API_BASE = f"{live_server.url}/sandbox/shopify/{{shop}}"
    return ShopifySandbox(live_server.url)


@pytest.fixture
def actor():
    return owner_of()


@pytest.fixture
def store(actor, sandbox):
    outcome = store_authorization_start(
        actor=actor,
        platform="shopify",
        form={"name": "Acme US", "site": "US", "currency": "USD", "shop_domain": SHOP},
        redirect_uri=CALLBACK,
    )
    store = store_authorization_complete(actor=actor, platform="shopify", params=sandbox.consent(outcome.redirect_url))
    warehouse = WarehouseFactory(code="US-CA", sites="US")
    for sku in SKUS:
        Mapping.objects.create(store=store, store_sku=sku, item=ItemFactory(warehouse=warehouse))
    # Fast tests: no rate limit unless a test asks for one.
    sandbox.control(SHOP, bucket_size=10_000)
    return store


def quick_http(sleeps=None, attempts=5, timeout=(5.0, 30.0)) -> PlatformHttp:
    waits = sleeps if sleeps is not None else []
    return PlatformHttp(
        platform="shopify",
        sleep=waits.append,
        rng=lambda: 0.0,
        policy=RetryPolicy(max_attempts=attempts),
        timeout=timeout,
    )


def run_pull(store, **kwargs) -> PullRun:
    run = PullRun.objects.create(store=store, trigger=PullRun.Trigger.SCHEDULE)
    kwargs.setdefault("http", quick_http())
    return pull.pull_run_execute(run=run, **kwargs)


def create_orders(sandbox, count):
    return sandbox.control(SHOP, create_orders=count, skus=SKUS)


def cursor(store):
    state = StorePullState.objects.filter(store=store).first()
    return state.cursor if state else {}


# --- the pull -----------------------------------------------------------------------------


def test_pull_takes_in_the_shops_orders_across_pages_and_moves_the_cursor(store, sandbox):
    create_orders(sandbox, 23)
    run = run_pull(store, page_size=10)
    assert run.status == PullRun.Status.SUCCEEDED, run.message
    assert (run.fetched, run.created) == (23, 23)
    assert PlatformOrder.objects.filter(store=store).count() == 23
    assert Order.objects.filter(store=store, status="awaiting_payment").count() == 23
    assert cursor(store)["updated_at"]
    state = StorePullState.objects.get(store=store)
    assert state.last_result == StorePullState.Result.OK and state.last_order_count == 23
    assert not StorePullState.objects.get(store=store).lease_owner  # the lease is given back


def test_pulling_twice_creates_nothing_new_and_reads_from_the_cursor_minus_the_overlap(store, sandbox):
    create_orders(sandbox, 5)
    run_pull(store)
    first_cursor = cursor(store)
    again = run_pull(store)
    assert (again.fetched, again.created, again.updated) == (5, 0, 0)  # the overlap re-reads, nothing changes
    assert PlatformOrder.objects.count() == 5 and Order.objects.count() == 5
    assert cursor(store) == first_cursor
    from sandbox.models import SandboxRequest

    since = SandboxRequest.objects.filter(path__endswith="orders.json").last().query
    assert "updated_at_min" in since


@pytest.mark.parametrize(
    "fault",
    [
        {"fail_next_500": 50},
        {"fail_next_429": 1, "fault_retry_after": 120.0},  # a Retry-After beyond what we wait in-process
    ],
    ids=["500", "429"],
)
def test_a_fault_mid_pull_loses_nothing_and_leaves_the_cursor(store, sandbox, monkeypatch, fault):
    create_orders(sandbox, 25)
    real_ingest = ingest.platform_orders_ingest
    calls = []

    def ingest_then_break_the_platform(**kwargs):
        result = real_ingest(**kwargs)
        calls.append(1)
        if len(calls) == 1:
            sandbox.control(SHOP, **fault)
        return result

    monkeypatch.setattr(ingest, "platform_orders_ingest", ingest_then_break_the_platform)
    failed = run_pull(store, page_size=10, http=quick_http(attempts=3))
    assert failed.status == PullRun.Status.FAILED
    assert PlatformOrder.objects.count() == 10  # the first page is committed
    assert cursor(store) == {}  # ...but the cursor did not move
    assert StorePullState.objects.get(store=store).last_result == StorePullState.Result.FAILED
    monkeypatch.setattr(ingest, "platform_orders_ingest", real_ingest)
    sandbox.control(SHOP, fail_next_500=0, fail_next_429=0)
    recovered = run_pull(store, page_size=10)
    assert recovered.status == PullRun.Status.SUCCEEDED
    assert PlatformOrder.objects.count() == 25 and Order.objects.count() == 25
    assert cursor(store)["updated_at"]


def test_a_timeout_mid_pull_loses_nothing(store, sandbox):
    create_orders(sandbox, 3)
    sandbox.control(SHOP, slow_seconds=1.0)
    timed_out = run_pull(store, http=quick_http(attempts=2, timeout=(2.0, 0.3)))
    assert timed_out.status == PullRun.Status.FAILED and "Timeout" in timed_out.message
    assert cursor(store) == {}
    # the sandbox is still answering the requests we gave up on: let them finish first
    time.sleep(1.5)
    sandbox.control(SHOP, slow_seconds=0)
    assert run_pull(store).status == PullRun.Status.SUCCEEDED
    assert Order.objects.count() == 3


def test_a_malformed_order_is_recorded_and_the_rest_proceed(store, sandbox):
    create_orders(sandbox, 2)
    shop = SandboxShop.objects.get(domain=SHOP)
    [bad] = sandbox_shopify.orders_create_random(shop, count=1, skus=["SERUM-US"], notify=False)
    bad.payload["line_items"][0]["current_quantity"] = -3  # no order wants a negative quantity
    bad.save()
    create_orders(sandbox, 2)
    run = run_pull(store)
    assert run.status == PullRun.Status.SUCCEEDED
    assert (run.created, run.failed) == (4, 1)
    error = IngestionError.objects.get()
    assert error.external_id == str(bad.external_id) and "invalid quantity" in error.reason
    assert error.payload["id"] == bad.external_id
    assert Order.objects.count() == 4
    assert cursor(store)["updated_at"]  # the bad order does not hold the others back


# --- one worker per store -------------------------------------------------------------------


def test_the_lease_admits_one_owner_until_released_or_expired(store):
    assert pull.lease_acquire(store=store, owner="a")
    assert not pull.lease_acquire(store=store, owner="b")
    pull.lease_release(store=store, owner="b")  # not b's to give back
    assert not pull.lease_acquire(store=store, owner="b")
    StorePullState.objects.filter(store=store).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert pull.lease_acquire(store=store, owner="b")  # a crashed worker's lease expires
    with pytest.raises(pull.LeaseLost):
        pull.lease_renew(store=store, owner="a")


def test_a_pull_that_finds_the_store_leased_does_nothing(store, sandbox):
    create_orders(sandbox, 2)
    assert pull.lease_acquire(store=store, owner="someone-else")
    run = run_pull(store)
    assert run.status == PullRun.Status.SKIPPED
    assert not PlatformOrder.objects.exists()


@pytest.mark.skipif(not using_postgres(), reason="two workers at once need PostgreSQL")
def test_two_concurrent_pulls_of_one_store_make_each_order_once(store, sandbox):
    create_orders(sandbox, 12)
    sandbox.control(SHOP, slow_seconds=0.3)
    barrier = threading.Barrier(2)
    runs = [PullRun.objects.create(store=store, trigger=PullRun.Trigger.SCHEDULE) for _ in range(2)]
    statuses = []

    def worker(run):
        try:
            barrier.wait()
            statuses.append(pull.pull_run_execute(run=run, http=quick_http(), page_size=5).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [PullRun.Status.SKIPPED, PullRun.Status.SUCCEEDED]
    assert PlatformOrder.objects.count() == 12
    assert Order.objects.count() == 12
    assert not IngestionError.objects.exists()


# --- the schedule ------------------------------------------------------------------------------


def test_sweep_queues_each_due_store_once_and_pulls_it(store, sandbox):
    create_orders(sandbox, 3)
    not_due = StoreFactory(distributor=store.distributor)
    StorePullStateFactory(store=not_due, last_pull_at=timezone.now())
    StoreFactory(distributor=store.distributor, platform="other")  # no API: never pulled
    assert list(pull.stores_due()) == [store]
    assert not_due not in pull.stores_due(now=timezone.now() + timedelta(minutes=5))
    assert not_due in pull.stores_due(now=timezone.now() + timedelta(minutes=11))
    runs = pull.pull_sweep()  # eager tasks in tests: the pull runs on commit
    assert [run.store_id for run in runs] == [store.pk]
    assert PullRun.objects.get(pk=runs[0].pk).status == PullRun.Status.SUCCEEDED
    assert Order.objects.count() == 3
    assert pull.pull_sweep() == []  # pulled just now: not due


def test_sweep_pulls_again_a_store_whose_worker_died_mid_pull(store, sandbox):
    # given a worker killed mid-pull: its run "running", the lease it held expired, the cursor unmoved
    create_orders(sandbox, 5)
    crashed = PullRun.objects.create(
        store=store,
        trigger=PullRun.Trigger.SCHEDULE,
        status=PULL_RUN_MACHINE.initial_status(PullRun.Status.QUEUED),
    )
    PULL_RUN_MACHINE.move(crashed, PullRun.Status.RUNNING, fields={"started_at": timezone.now() - timedelta(hours=1)})
    StorePullState.objects.update_or_create(
        store=store,
        defaults={
            "lease_owner": "dead-worker",
            "lease_until": timezone.now() - timedelta(minutes=1),
            "enqueued_at": None,
            "last_pull_at": timezone.now() - timedelta(hours=1),
        },
    )
    # when beat's next sweep runs
    runs = pull.pull_sweep()
    # then the store is pulled again, and the dead run is closed as failed, saying why
    assert [run.store_id for run in runs] == [store.pk]
    assert PullRun.objects.get(pk=runs[0].pk).status == PullRun.Status.SUCCEEDED
    crashed.refresh_from_db()
    assert crashed.status == PullRun.Status.FAILED and "stopped (killed or restarted)" in crashed.message
    assert Order.objects.filter(store=store).count() == 5


@pytest.mark.parametrize("lease_expired", [True, False], ids=["lease expired", "lease still held"])
def test_a_pull_task_delivered_again_after_its_worker_died_closes_that_run_and_pulls_under_a_new_one(
    store, sandbox, lease_expired
):
    # given a run that started on a worker that died (the broker hands the task to the next worker)
    from orders.tasks import pull_store

    create_orders(sandbox, 4)
    crashed = PullRun.objects.create(
        store=store,
        trigger=PullRun.Trigger.SCHEDULE,
        status=PULL_RUN_MACHINE.initial_status(PullRun.Status.QUEUED),
    )
    PULL_RUN_MACHINE.move(crashed, PullRun.Status.RUNNING, fields={"started_at": timezone.now()})
    until = timezone.now() + (timedelta(minutes=-1) if lease_expired else timedelta(minutes=4))
    StorePullState.objects.update_or_create(store=store, defaults={"lease_owner": "dead-worker", "lease_until": until})
    # when the task is delivered again
    status = pull_store(crashed.pk)
    # then the dead run is closed as failed, saying why, and a new run carries on (or waits for the lease)
    crashed.refresh_from_db()
    assert crashed.status == PullRun.Status.FAILED and "stopped (killed or restarted)" in crashed.message
    successor = PullRun.objects.exclude(pk=crashed.pk).get(store=store)
    assert successor.trigger == crashed.trigger and successor.status == status
    if lease_expired:
        assert status == PullRun.Status.SUCCEEDED and Order.objects.count() == 4
    else:
        assert status == PullRun.Status.SKIPPED and Order.objects.count() == 0
    # and a third delivery of the same task changes nothing
    assert pull_store(crashed.pk) == "gone"
    assert PullRun.objects.filter(store=store).count() == 2


def test_sweep_leaves_a_store_whose_lease_is_still_live(store):
    StorePullState.objects.update_or_create(
        store=store, defaults={"lease_owner": "busy", "lease_until": timezone.now() + timedelta(minutes=3)}
    )
    assert pull.pull_sweep() == []


def test_lease_is_shorter_than_the_pull_task_time_limit():
    from orders.tasks import pull_store

    assert pull.LEASE.total_seconds() < pull_store.soft_time_limit < pull_store.time_limit
    assert pull_store.acks_late and pull_store.reject_on_worker_lost


def test_sweep_does_not_queue_a_store_whose_task_is_still_waiting(store):
    StorePullState.objects.create(store=store, enqueued_at=timezone.now())
    assert pull.pull_sweep() == []
    # a queued task that never started (a lost message) is queued again after a while
    StorePullState.objects.filter(store=store).update(enqueued_at=timezone.now() - timedelta(hours=1))
    assert [run.store_id for run in pull.pull_sweep()] == [store.pk]


def test_sync_now_pulls_in_the_background_and_shows_the_result(store, sandbox, actor, client):
    create_orders(sandbox, 4)
    client.force_login(actor.user)
    response = client.post(reverse("orders:sync_now", args=[store.pk]), {}, follow=True)
    assert response.status_code == 200
    run = PullRun.objects.get(trigger=PullRun.Trigger.MANUAL)
    assert run.status == PullRun.Status.SUCCEEDED and run.requested_by == actor.user
    assert "4 new" in response.content.decode()
    assert client.get(reverse("orders:pullrun_status", args=[run.pk])).json()["finished"] is True
    assert Order.objects.count() == 4


def test_sync_now_with_a_date_range_reads_that_range_and_keeps_the_cursor(store, sandbox, actor, client):
    create_orders(sandbox, 2)
    client.force_login(actor.user)
    today = timezone.localdate()
    client.post(
        reverse("orders:sync_now", args=[store.pk]),
        {"date_from": (today - timedelta(days=89)).isoformat(), "date_to": today.isoformat()},
    )
    run = PullRun.objects.get()
    assert (run.status, run.date_from, run.created) == (PullRun.Status.SUCCEEDED, today - timedelta(days=89), 2)
    assert cursor(store) == {}  # a backfill is not the schedule's window


# --- webhooks -------------------------------------------------------------------------------------


def _captured_deliveries(store, sandbox, count):
    with WebhookReceiver() as receiver:
        store_call(
            store=store,
            operation=lambda client: client.subscribe_webhook(topic="orders/create", address=receiver.url),
            http=quick_http(),
        )
        create_orders(sandbox, count)
    assert len(receiver.received) == count
    return receiver.received


def test_webhook_creates_the_order_and_a_redelivery_is_ignored(store, sandbox, live_server):
    [(headers, body)] = _captured_deliveries(store, sandbox, 1)
    endpoint = live_server.url + reverse("webhooks:shopify_orders")
    first = requests.post(endpoint, data=body, headers=headers, timeout=10)
    again = requests.post(endpoint, data=body, headers=headers, timeout=10)
    assert (first.status_code, first.text) == (200, "created")
    assert (again.status_code, again.text) == (200, "duplicate")
    assert WebhookDelivery.objects.count() == 1
    assert PlatformOrder.objects.get().source == PlatformOrder.Source.WEBHOOK
    assert Order.objects.count() == 1


def test_webhook_with_a_bad_signature_is_refused(store, sandbox, live_server):
    [(headers, body)] = _captured_deliveries(store, sandbox, 1)
    headers = {**headers, "X-Shopify-Hmac-Sha256": "AAAA" + headers["X-Shopify-Hmac-Sha256"][4:]}
    endpoint = live_server.url + reverse("webhooks:shopify_orders")
    response = requests.post(endpoint, data=body, headers=headers, timeout=10)
    assert response.status_code == 401
    assert not PlatformOrder.objects.exists() and not WebhookDelivery.objects.exists()


def _signed(body: bytes) -> str:
    """Sign a body as Shopify does, with our app's secret (as every shop's deliveries are)."""
    from django.conf import settings

    return base64.b64encode(hmac.new(settings.SHOPIFY_CLIENT_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def test_webhook_resent_with_another_shops_domain_is_refused(store, sandbox, live_server):
    [(headers, body)] = _captured_deliveries(store, sandbox, 1)
    endpoint = live_server.url + reverse("webhooks:shopify_orders")
    victim = StoreFactory(platform="shopify", shop_domain="victim-shop.myshopify.com", site="US")
    forged = {**headers, "X-Shopify-Shop-Domain": victim.shop_domain, "X-Shopify-Webhook-Id": "forged-1"}
    response = requests.post(endpoint, data=body, headers=forged, timeout=10)
    assert (response.status_code, response.text) == (403, "shop mismatch")
    assert not PlatformOrder.objects.exists() and not WebhookDelivery.objects.exists()
    # the genuine delivery still lands in the shop its body names
    genuine = requests.post(endpoint, data=body, headers=headers, timeout=10)
    assert genuine.text == "created"
    assert PlatformOrder.objects.get().store == store


def test_webhook_whose_body_names_no_shop_is_left_to_the_pull(store, sandbox, live_server):
    [(headers, body)] = _captured_deliveries(store, sandbox, 1)
    payload = json.loads(body)
    payload.pop("order_status_url")
    bare = json.dumps(payload).encode()
    headers = {**headers, "X-Shopify-Hmac-Sha256": _signed(bare)}
    response = requests.post(
        live_server.url + reverse("webhooks:shopify_orders"), data=bare, headers=headers, timeout=10
    )
    assert (response.status_code, response.text) == (200, "unverified shop: left to the scheduled pull")
    assert not PlatformOrder.objects.exists()
    assert run_pull(store).created == 1  # nothing is lost: the pull fetches it with the store's own token


def test_the_pull_reconciles_what_webhooks_missed(store, sandbox, live_server):
    deliveries = _captured_deliveries(store, sandbox, 3)
    headers, body = deliveries[0]  # only one of three webhooks arrives
    requests.post(live_server.url + reverse("webhooks:shopify_orders"), data=body, headers=headers, timeout=10)
    assert PlatformOrder.objects.count() == 1
    run = run_pull(store)
    assert (run.created, run.fetched) == (2, 3)
    assert PlatformOrder.objects.count() == 3 and Order.objects.count() == 3
