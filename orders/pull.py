"""The scheduled pull of store orders, [Sync now], and Shopify's order webhooks.

- Beat runs `pull_sweep` every minute: each authorized API store whose pull interval
  has passed since its last pull gets a queued PullRun and a task (at most once while
  that task waits in the queue: StorePullState.enqueued_at).
- A worker pulls a store only while it holds the store's lease (StorePullState), won by
  one conditional UPDATE, so two workers or two beats never pull one store at once.
- The pull reads from the saved cursor (the latest platform update time committed)
  minus OVERLAP, page by page; each page's orders are committed by the ingestion, which
  is idempotent, and the cursor moves only after the last page, so a 429, 500 or
  timeout mid-pull loses nothing and the next run reads the same window again.
- Webhooks (orders/create, orders/updated) are verified by the store's platform
  client, deduplicated by the platform's delivery id, and ingested like a pulled order;
  the pull reconciles what webhooks miss.
"""

import json
import logging
import uuid
from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.tenancy import ensure_can_act
from stores.models import Store
from stores.platforms.base import PayloadError, PlatformError, client_class
from stores.services import store_call, store_record_pull

from . import services
from .models import PlatformOrder, PullRun, StorePullState, WebhookDelivery

logger = logging.getLogger(__name__)

# Read this much before the cursor again: orders changed while the previous pull was
# running, and platforms whose update times lag a little, are not missed.
OVERLAP = timedelta(minutes=10)
# A store never pulled before starts this far back.
FIRST_PULL_WINDOW = timedelta(days=30)
# The lease outlives a page by far; it is renewed after every page.
LEASE = timedelta(minutes=5)
# A queued pull whose task never started (a lost message) is queued again after this.
QUEUE_STALE = timedelta(minutes=15)
# Stores queued per sweep (one small INSERT and one task each); the next minute takes the rest.
SWEEP_LIMIT = 500


class LeaseLost(ApplicationError):
    """Another worker took the store's lease (ours expired): stop without moving the cursor."""


def _state(store: Store) -> None:
    if not StorePullState.objects.filter(store=store).exists():
        try:
            with transaction.atomic():
                StorePullState.objects.create(store=store)
        except IntegrityError:
            pass  # created by a concurrent worker


def lease_acquire(*, store: Store, owner: str, duration: timedelta = LEASE) -> bool:
    """Take the store's lease if it is free or expired; exactly one of racing callers wins."""
    _state(store)
    now = timezone.now()
    return (
        StorePullState.objects.filter(store=store)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=owner, lease_until=now + duration, enqueued_at=None)
        == 1
    )


def lease_renew(*, store: Store, owner: str, duration: timedelta = LEASE) -> None:
    if not StorePullState.objects.filter(store=store, lease_owner=owner).update(lease_until=timezone.now() + duration):
        raise LeaseLost(_("Another worker took over this store's pull."))


def lease_release(*, store: Store, owner: str) -> None:
    StorePullState.objects.filter(store=store, lease_owner=owner).update(lease_owner="", lease_until=None)


def stores_due(*, now=None):
    """Authorized API stores whose pull interval has passed since their last pull."""
    now = now or timezone.now()
    due_at = ExpressionWrapper(F("last_pull_at") + F("pull_interval"), output_field=DateTimeField())
    return (
        Store.objects.pullable()
        .annotate(due_at=due_at)
        .filter(Q(last_pull_at__isnull=True) | Q(due_at__lte=now))
        .order_by(F("last_pull_at").asc(nulls_first=True), "pk")
    )


def pull_sweep(*, now=None, limit: int = SWEEP_LIMIT) -> list[PullRun]:
    """Queue a pull of every due store that is not queued already; returns the new runs."""
    from .tasks import pull_store

    now = now or timezone.now()
    runs = []
    for store in list(stores_due(now=now)[:limit]):
        _state(store)
        claimed = (
            StorePullState.objects.filter(store=store, lease_until__isnull=True)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - QUEUE_STALE))
            .update(enqueued_at=now)
        )
        if not claimed:
            continue
        run = PullRun.objects.create(store=store, trigger=PullRun.Trigger.SCHEDULE)
        transaction.on_commit(lambda run_id=run.pk: pull_store.delay(run_id))
        runs.append(run)
    return runs


def pull_request(*, actor: Membership, store: Store, date_from=None, date_to=None) -> PullRun:
    """[Sync now]: pull the store in the background, optionally only a date range (≤ 90 days)."""
    from .tasks import pull_store

    ensure_can_act(actor, Section.ORDERS)
    if store.distributor_id != actor.distributor_id or store.removed_at is not None:
        raise ApplicationError(_("Not found."))
    if not store.has_api:
        raise ApplicationError(_("This store has no API: its orders come by importing an order file."))
    if store.status != Store.Status.AUTHORIZED:
        raise ApplicationError(
            _("The store “%(name)s” is %(status)s; authorize it again first.")
            % {"name": store.name, "status": store.get_status_display()}
        )
    busy = PullRun.objects.filter(
        store=store,
        trigger=PullRun.Trigger.MANUAL,
        status__in=[PullRun.Status.QUEUED, PullRun.Status.RUNNING],
        created_at__gte=timezone.now() - QUEUE_STALE,
    ).first()
    if busy is not None:
        return busy
    run = PullRun.objects.create(
        store=store,
        trigger=PullRun.Trigger.MANUAL,
        date_from=date_from,
        date_to=date_to,
        requested_by=actor.user,
    )
    transaction.on_commit(lambda: pull_store.delay(run.pk))
    return run


def _aware(day, end: bool = False) -> datetime:
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment)


def _cursor_time(store: Store):
    value = (store.pull_cursor or {}).get("updated_at")
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _finish(run: PullRun, status: str, message: str) -> PullRun:
    run.status = status
    run.message = message[:500]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "finished_at", "fetched", "created", "updated", "failed"])
    return run


def pull_run_execute(*, run: PullRun, http=None, owner: str | None = None, page_size: int | None = None) -> PullRun:
    """Pull one store under its lease: read pages, ingest each, then move the cursor.

    `http` and `page_size` let tests and benchmarks shape the client's traffic.
    """
    store = Store.objects.get(pk=run.store_id)
    owner = owner or uuid.uuid4().hex
    if not lease_acquire(store=store, owner=owner):
        return _finish(run, PullRun.Status.SKIPPED, _("This store is being pulled by another worker right now."))
    try:
        PullRun.objects.filter(pk=run.pk).update(status=PullRun.Status.RUNNING, started_at=timezone.now())
        run.status = PullRun.Status.RUNNING
        ranged = run.date_from is not None
        if ranged:
            since, until = _aware(run.date_from), _aware(run.date_to or timezone.localdate(), end=True)
        else:
            cursor = _cursor_time(store)
            since = cursor - OVERLAP if cursor else timezone.now() - FIRST_PULL_WINDOW
            until = None
        summary = services.IngestSummary()

        def pull_pages(client):
            if page_size:
                client.page_size = page_size
            for page in client.iter_orders(since=since):
                orders = [o for o in page.orders if until is None or o.created_at is None or o.created_at <= until]
                page_summary = services.platform_orders_ingest(
                    store=store, orders=orders, source=PlatformOrder.Source.PULL
                )
                for rejected in getattr(page, "rejected", ()) or ():
                    services.ingestion_error_record(
                        store=store,
                        source=PlatformOrder.Source.PULL,
                        external_id=str(getattr(rejected, "external_id", "") or ""),
                        reason=str(getattr(rejected, "reason", "") or _("The platform's order could not be read.")),
                        payload=getattr(rejected, "payload", None),
                    )
                    page_summary.failed += 1
                summary.merge(page_summary)
                run.fetched, run.created, run.updated, run.failed = (
                    summary.total,
                    summary.created,
                    summary.updated,
                    summary.failed,
                )
                PullRun.objects.filter(pk=run.pk).update(
                    fetched=run.fetched, created=run.created, updated=run.updated, failed=run.failed
                )
                lease_renew(store=store, owner=owner)

        try:
            store_call(store=store, operation=pull_pages, http=http)
        except (PlatformError, ApplicationError) as exc:
            # Committed pages stay (idempotent); the cursor does not move, so the next run re-reads.
            store_record_pull(store=store, ok=False, message=str(exc), order_count=summary.created)
            return _finish(run, PullRun.Status.FAILED, str(exc))
        if not ranged and summary.latest_update is not None:
            _cursor_save(store=store, owner=owner, latest=summary.latest_update)
        message = _("%(read)d read, %(new)d new, %(changed)d changed, %(failed)d rejected.") % {
            "read": summary.total,
            "new": summary.created,
            "changed": summary.updated,
            "failed": summary.failed,
        }
        store_record_pull(store=store, ok=True, message=message, order_count=summary.created)
        return _finish(run, PullRun.Status.SUCCEEDED, message)
    except Exception as exc:
        store_record_pull(store=store, ok=False, message=str(exc) or exc.__class__.__name__)
        _finish(run, PullRun.Status.FAILED, str(exc) or exc.__class__.__name__)
        raise
    finally:
        lease_release(store=store, owner=owner)


@transaction.atomic
def _cursor_save(*, store: Store, owner: str, latest) -> None:
    """Advance the cursor, only while we still hold the lease, and never backwards."""
    state = StorePullState.objects.select_for_update().get(store=store)
    if state.lease_owner != owner:
        raise LeaseLost(_("Another worker took over this store's pull."))
    current = _cursor_time(Store.objects.only("pull_cursor").get(pk=store.pk))
    if current is not None and current >= latest:
        return
    # Store.pull_cursor is owned by the pull (stores/models.py): only this function writes it.
    Store.objects.filter(pk=store.pk).update(pull_cursor={"updated_at": latest.isoformat()})


# --- webhooks ---------------------------------------------------------------------------------

ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})


def webhook_order_receive(*, store: Store, platform: str, webhook_id: str, topic: str, body: bytes) -> str:
    """Take in a verified order webhook once: 'duplicate', 'rejected', or the ingestion outcome.

    The delivery id is recorded in the same transaction as the order, so a delivery that
    failed here is not remembered and the platform's retry is processed.
    """
    if topic not in ORDER_TOPICS:
        return "ignored"
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    platform=platform, webhook_id=webhook_id[:100], store=store, topic=topic[:64]
                )
        except IntegrityError:
            return "duplicate"
        payload = None
        try:
            payload = json.loads(body)
            order = client_class(platform).parse_order(payload)
        except (ValueError, PayloadError) as exc:
            readable = payload if isinstance(payload, dict) else {}
            services.ingestion_error_record(
                store=store,
                source=PlatformOrder.Source.WEBHOOK,
                external_id=str(readable.get("id", "")),
                reason=str(exc),
                payload=readable,
            )
            return "rejected"
        WebhookDelivery.objects.filter(platform=platform, webhook_id=webhook_id[:100]).update(
            external_id=order.external_id[:100]
        )
        result = services.platform_order_ingest(store=store, order=order, source=PlatformOrder.Source.WEBHOOK)
    return result.outcome.value
