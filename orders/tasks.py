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
def reevaluate_sweep() -> int:
    """Beat, every few minutes: re-route waiting orders whose mappings arrived while their
    re-evaluation task was lost."""
    from .ingest.reevaluate import reevaluation_sweep

    return reevaluation_sweep()


@shared_task(**IDEMPOTENT_TASK)
def check_order_import(order_import_id: int) -> str:
    """Check an uploaded order file (the preview); a failure is recorded on the row."""
    order_import = OrderImport.objects.filter(pk=order_import_id, status=OrderImport.Status.CHECKING).first()
    if order_import is None:
        return "gone"
    return _attempt(order_import, imports.order_import_check)


@shared_task(**IDEMPOTENT_TASK)
def apply_order_import(order_import_id: int) -> str:
    """Import a confirmed order file; idempotent, so a re-delivered task changes nothing."""
    order_import = OrderImport.objects.filter(pk=order_import_id, status=OrderImport.Status.APPLYING).first()
    if order_import is None:
        return "gone"
    return _attempt(order_import, imports.order_import_apply)


def _attempt(order_import: OrderImport, work) -> str:
    """One delivery of an import task; a file that killed its worker too often is given up."""
    if not imports.order_import_attempt(order_import=order_import):
        return "given up"
    try:
        work(order_import=order_import)
    except Exception as exc:
        imports.order_import_fail(order_import=order_import, message=str(exc))
        raise
    finally:
        # Not reached when the worker dies under the task: that delivery keeps counting.
        imports.order_import_attempt_done(order_import=order_import)
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
    if run.status == PullRun.Status.RUNNING:
        run = pull.pull_run_redelivered(run)
        if run is None:
            return "gone"
    return pull.pull_run_execute(run=run).status


@shared_task(**IDEMPOTENT_TASK)
def autopay_distributor(distributor_id: int) -> int:
    """Auto-pay the distributor's payable orders (if auto-pay is on); returns how many were paid.

    Idempotent: the same set of orders is paid under one key, and paid orders are no
    longer payable."""
    from distribution.models import Distributor

    from .actions import orders_autopay

    distributor = Distributor.objects.filter(pk=distributor_id).first()
    if distributor is None:
        return 0
    return len(orders_autopay(distributor=distributor).paid)


@shared_task(**IDEMPOTENT_TASK)
def autopay_sweep() -> int:
    """Beat, every minute: auto-pay for every distributor that has payable orders and auto-pay on
    (new orders pulled or imported, and anything a lost message missed)."""
    from .actions.pay import autopay_candidates

    distributor_ids = autopay_candidates()
    for distributor_id in distributor_ids:
        autopay_distributor.delay(distributor_id)
    return len(distributor_ids)


@shared_task(**IDEMPOTENT_TASK)
def compact_status_counts() -> int:
    """Beat, every minute: fold the rows of the orders-per-status counts (orders/counts.py)."""
    from .counts import status_counts_compact

    return status_counts_compact()
