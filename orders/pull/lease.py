"""The pull's lease on a store: at most one worker pulls a store at a time.

A worker takes the lease with one conditional UPDATE (free or expired -> mine), so two
workers or two beats racing for a store cannot both win; it renews the lease after
every page and gives it back at the end. A crashed worker's lease simply expires.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from orders.models import StorePullState
from stores.models import Store

logger = logging.getLogger(__name__)

# The lease outlives a page by far; it is renewed after every page. A worker killed
# mid-pull (SIGKILL, the OOM killer) leaves its lease to expire after this long; the
# next sweep then pulls the store again. It is shorter than the pull task's time limit
# (orders/tasks.py), so a task that outlives its lease has been killed by that limit.
LEASE = timedelta(minutes=5)


def lease_duration() -> timedelta:
    """LEASE, or settings.PULL_LEASE_SECONDS (tests of a killed worker shorten it)."""
    seconds = getattr(settings, "PULL_LEASE_SECONDS", None)
    return timedelta(seconds=float(seconds)) if seconds else LEASE


class LeaseLost(ApplicationError):
    """Another worker took the store's lease (ours expired): stop without moving the cursor."""


def ensure_state(store: Store) -> None:
    if not StorePullState.objects.filter(store=store).exists():
        try:
            with transaction.atomic():
                StorePullState.objects.create(store=store)
        except IntegrityError:
            pass  # created by a concurrent worker


def lease_acquire(*, store: Store, owner: str, duration: timedelta | None = None) -> bool:
    """Take the store's lease if it is free or expired; exactly one of racing callers wins."""
    ensure_state(store)
    now = timezone.now()
    duration = duration or lease_duration()
    return (
        StorePullState.objects.filter(store=store)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=owner, lease_until=now + duration, enqueued_at=None)
        == 1
    )


def lease_renew(*, store: Store, owner: str, duration: timedelta | None = None) -> None:
    until = timezone.now() + (duration or lease_duration())
    if not StorePullState.objects.filter(store=store, lease_owner=owner).update(lease_until=until):
        raise LeaseLost(_("Another worker took over this store's pull."))


def lease_release(*, store: Store, owner: str) -> None:
    StorePullState.objects.filter(store=store, lease_owner=owner).update(lease_owner="", lease_until=None)
