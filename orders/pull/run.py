"""One pull of one store, under its lease.

The pull reads from the saved cursor (the latest platform update time committed)
minus OVERLAP, page by page; each page's orders are committed by the ingestion, which
is idempotent, and the cursor moves only after the last page, so a 429, 500 or timeout
mid-pull loses nothing and the next run reads the same window again.
"""

import logging
import uuid
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.state import clip
from orders import ingest
from orders.models import PlatformOrder, PullRun, StorePullState
from orders.state import PULL_RUN_MACHINE
from stores.models import Store
from stores.platforms.base import PlatformError
from stores.services import store_call

from .lease import LeaseLost, ensure_state, lease_acquire, lease_release, lease_renew

logger = logging.getLogger(__name__)

# Read this much before the cursor again: orders changed while the previous pull was
# running, and platforms whose update times lag a little, are not missed.
OVERLAP = timedelta(minutes=10)
# A store never pulled before starts this far back.
FIRST_PULL_WINDOW = timedelta(days=30)


def _aware(day, end: bool = False) -> datetime:
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment)


def _cursor_time(store: Store):
    state = StorePullState.objects.filter(store=store).only("cursor").first()
    value = (state.cursor if state else {}).get("updated_at")
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _finish(run: PullRun, status: str, message: str) -> PullRun:
    return PULL_RUN_MACHINE.move(
        run,
        status,
        message=message,
        fields={
            "message": clip(message, 500),
            "finished_at": timezone.now(),
            "fetched": run.fetched,
            "created": run.created,
            "updated": run.updated,
            "failed": run.failed,
        },
    )


def pull_run_execute(*, run: PullRun, http=None, owner: str | None = None, page_size: int | None = None) -> PullRun:
    """Pull one store under its lease: read pages, ingest each, then move the cursor.

    `http` and `page_size` let tests and benchmarks shape the client's traffic.
    """
    store = Store.objects.get(pk=run.store_id)
    owner = owner or uuid.uuid4().hex
    if not lease_acquire(store=store, owner=owner):
        return _finish(run, PullRun.Status.SKIPPED, _("This store is being pulled by another worker right now."))
    try:
        PULL_RUN_MACHINE.move(run, PullRun.Status.RUNNING, fields={"started_at": timezone.now()})
        ranged = run.date_from is not None
        if ranged:
            since, until = _aware(run.date_from), _aware(run.date_to or timezone.localdate(), end=True)
        else:
            cursor = _cursor_time(store)
            since = cursor - OVERLAP if cursor else timezone.now() - FIRST_PULL_WINDOW
            until = None
        summary = ingest.IngestSummary()

        def pull_pages(client):
            if page_size:
                client.page_size = page_size
            for page in client.iter_orders(since=since):
                orders = [o for o in page.orders if until is None or o.created_at is None or o.created_at <= until]
                page_summary = ingest.platform_orders_ingest(
                    store=store, orders=orders, source=PlatformOrder.Source.PULL
                )
                for rejected in getattr(page, "rejected", ()) or ():
                    ingest.ingestion_error_record(
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
            pull_result_record(store=store, ok=False, message=str(exc), order_count=summary.created)
            return _finish(run, PullRun.Status.FAILED, str(exc))
        if not ranged and summary.latest_update is not None:
            _cursor_save(store=store, owner=owner, latest=summary.latest_update)
        message = _("%(read)d read, %(new)d new, %(changed)d changed, %(failed)d rejected.") % {
            "read": summary.total,
            "new": summary.created,
            "changed": summary.updated,
            "failed": summary.failed,
        }
        pull_result_record(store=store, ok=True, message=message, order_count=summary.created)
        return _finish(run, PullRun.Status.SUCCEEDED, message)
    except Exception as exc:
        pull_result_record(store=store, ok=False, message=str(exc) or exc.__class__.__name__)
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
    current = _cursor_time(store)
    if current is not None and current >= latest:
        return
    # Only this function writes the cursor.
    state.cursor = {"updated_at": latest.isoformat()}
    state.save(update_fields=["cursor"])


def pull_result_record(*, store: Store, ok: bool, message: str = "", order_count: int = 0) -> None:
    """The result of one pull, shown on the store list and the sync page; the store is due
    again `pull_interval` from now."""
    ensure_state(store)
    StorePullState.objects.filter(store=store).update(
        last_pull_at=timezone.now(),
        last_result=StorePullState.Result.OK if ok else StorePullState.Result.FAILED,
        last_message=clip(message, 500),
        last_order_count=order_count,
    )
