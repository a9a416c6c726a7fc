"""Which stores are due, beat's sweep that queues their pulls, and [Sync now].

Beat runs `pull_sweep` every minute: each authorized API store whose pull interval has
passed since its last pull gets a queued PullRun and a task (at most once while that
task waits in the queue: StorePullState.enqueued_at).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.state import IllegalTransition, clip
from distribution.tenancy import ensure_can_act
from orders.models import PullRun, StorePullState
from orders.state import PULL_RUN_MACHINE
from stores.models import Store

from .lease import ensure_state, lease_duration

logger = logging.getLogger(__name__)

# A queued pull whose task never started (a lost message) is queued again after this.
QUEUE_STALE = timedelta(minutes=15)
# Stores queued per sweep (one small INSERT and one task each); the next minute takes the rest.
SWEEP_LIMIT = 500


def stores_due(*, now=None):
    """Authorized API stores whose pull interval has passed since their last pull."""
    now = now or timezone.now()
    due_at = ExpressionWrapper(
        F("pull_state__last_pull_at") + F("pull_state__pull_interval"), output_field=DateTimeField()
    )
    return (
        Store.objects.pullable()
        .annotate(due_at=due_at)
        .filter(Q(pull_state__last_pull_at__isnull=True) | Q(due_at__lte=now))
        .order_by(F("pull_state__last_pull_at").asc(nulls_first=True), "pk")
    )


def pull_runs_abandoned_close(*, now=None) -> int:
    """Close the runs whose worker is gone: "running" with the store's lease expired or
    free for longer than a lease (the worker was killed mid-pull), and "queued" whose
    task never started (a lost message). They end failed, with what happened; the
    store's next pull reads the same window again (the cursor never moved)."""
    now = now or timezone.now()
    lease = lease_duration()
    free = Q(store__pull_state__lease_until__isnull=True) | Q(store__pull_state__lease_until__lt=now)
    closed = 0
    for run in PullRun.objects.filter(status=PullRun.Status.RUNNING, started_at__lt=now - lease).filter(free):
        closed += _close(run, _killed_message())
    for run in PullRun.objects.filter(status=PullRun.Status.QUEUED, created_at__lt=now - QUEUE_STALE):
        closed += _close(run, _("The pull never started (its task was lost); the store is queued again."))
    return closed


def _killed_message() -> str:
    return _("The worker pulling this store stopped (killed or restarted); the next pull reads these orders again.")


def pull_run_redelivered(run: PullRun) -> PullRun | None:
    """A pull task delivered again for a run that had started: its worker died under it
    (the broker hands an unacknowledged task to the next worker). That run is closed as
    failed, saying so, and a new run of the same kind takes over, so every attempt keeps
    its own record; None when the run finished meanwhile."""
    if not _close(run, _killed_message()):
        return None
    return PullRun.objects.create(
        store_id=run.store_id,
        trigger=run.trigger,
        date_from=run.date_from,
        date_to=run.date_to,
        requested_by_id=run.requested_by_id,
    )


def _close(run: PullRun, message: str) -> int:
    try:
        PULL_RUN_MACHINE.move(
            run,
            PullRun.Status.FAILED,
            message=message,
            fields={"message": clip(message, 500), "finished_at": timezone.now()},
            only_from=[PullRun.Status.RUNNING, PullRun.Status.QUEUED],
        )
    except IllegalTransition:
        return 0  # finished meanwhile
    return 1


def pull_sweep(*, now=None, limit: int = SWEEP_LIMIT) -> list[PullRun]:
    """Queue a pull of every due store that is not queued already (a store whose lease
    expired counts as free: its worker died); returns the new runs."""
    from orders.tasks import pull_store

    now = now or timezone.now()
    pull_runs_abandoned_close(now=now)
    runs = []
    for store in list(stores_due(now=now)[:limit]):
        ensure_state(store)
        claimed = (
            StorePullState.objects.filter(store=store)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
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
    from orders.tasks import pull_store

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
