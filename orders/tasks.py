"""Thin tasks: take ids, load rows, call a service."""

import logging

from celery import shared_task

from distribution.celery import IDEMPOTENT_TASK
from stores.models import Store

from .imports import services as imports
from .ingest import orders_reevaluate_pending
from .models import OrderImport, PullRun

logger = logging.getLogger(__name__)


@shared_task(**IDEMPOTENT_TASK)
def reevaluate_pending_orders(store_id: int, skus: list[str] | None = None) -> int:
    """Re-route the store's orders waiting on `skus` (all waiting orders when None)."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return 0
    return orders_reevaluate_pending(store=store, skus=skus)


@shared_task(**IDEMPOTENT_TASK)
def check_order_import(order_import_id: int) -> str:
    """Check an uploaded order file (the preview); a failure is recorded on the row."""
    order_import = OrderImport.objects.filter(pk=order_import_id, status=OrderImport.Status.CHECKING).first()
    if order_import is None:
        return "gone"
    try:
        imports.order_import_check(order_import=order_import)
    except Exception as exc:
        imports.order_import_fail(order_import=order_import, message=str(exc))
        raise
    return order_import.status


@shared_task(**IDEMPOTENT_TASK)
def apply_order_import(order_import_id: int) -> str:
    """Import a confirmed order file; idempotent, so a re-delivered task changes nothing."""
    order_import = OrderImport.objects.filter(pk=order_import_id, status=OrderImport.Status.APPLYING).first()
    if order_import is None:
        return "gone"
    try:
        imports.order_import_apply(order_import=order_import)
    except Exception as exc:
        imports.order_import_fail(order_import=order_import, message=str(exc))
        raise
    return order_import.status


@shared_task(**IDEMPOTENT_TASK)
def pull_due_stores() -> int:
    """Beat, every minute: queue a pull of each store whose interval has passed."""
    from . import pull

    return len(pull.pull_sweep())


# A backfill of many pages may take minutes; the lease is renewed after every page.
@shared_task(soft_time_limit=900, time_limit=960, **IDEMPOTENT_TASK)
def pull_store(run_id: int) -> str:
    """Pull one store (a queued PullRun); the store's lease makes a duplicate task harmless."""
    from . import pull

    run = PullRun.objects.filter(pk=run_id, status__in=[PullRun.Status.QUEUED, PullRun.Status.RUNNING]).first()
    if run is None:
        return "gone"
    return pull.pull_run_execute(run=run).status
