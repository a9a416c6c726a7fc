"""Thin tasks: take ids, call a service. Every one is idempotent (a re-delivered task
finds the work done or claimed), so all are acknowledged late and re-queued when their
worker dies."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from catalog.models import Warehouse
from distribution.celery import IDEMPOTENT_TASK

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=120, time_limit=150, **IDEMPOTENT_TASK)
def push_order(order_id: int) -> str:
    from .push import order_push

    return order_push(order_id)


@shared_task(soft_time_limit=600, time_limit=660, **IDEMPOTENT_TASK)
def push_orders(order_ids: list[int]) -> dict[str, int]:
    """Several orders queued together (push.push_enqueue), pushed one after another. One
    order's unexpected error is logged and the others still go; the sweep tries it again."""
    from .push import order_push

    outcomes: dict[str, int] = {}
    for order_id in order_ids:
        try:
            outcome = order_push(order_id)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            logger.exception("push of order %s failed; the sweep will try it again", order_id)
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(**IDEMPOTENT_TASK)
def push_paid_orders() -> int:
    """Beat, every minute: every paid order not yet at the warehouse, whatever was lost."""
    from .push import push_sweep

    return push_sweep()


@shared_task(soft_time_limit=120, time_limit=150, **IDEMPOTENT_TASK)
def carry_cancel_request(order_id: int) -> str:
    from .cancels import cancel_request_carry

    return cancel_request_carry(order_id)


@shared_task(**IDEMPOTENT_TASK)
def carry_cancel_requests() -> int:
    from .cancels import cancel_sweep

    return cancel_sweep()


@shared_task(soft_time_limit=600, time_limit=660, **IDEMPOTENT_TASK)
def poll_warehouses() -> int:
    """Beat: read every warehouse's changes (shipments, pickups, cancels) since the last poll."""
    from .changes import warehouse_poll

    applied = 0
    for warehouse in Warehouse.objects.filter(backend__isnull=False, is_active=True).order_by("code"):
        applied += warehouse_poll(warehouse=warehouse)[0]
    return applied


@shared_task(**IDEMPOTENT_TASK)
def apply_warehouse_event(event_id: int) -> str:
    from .changes import warehouse_event_apply

    row = warehouse_event_apply(event_id=event_id)
    return "done" if row is None or not row.error else row.error


@shared_task(soft_time_limit=120, time_limit=150, **IDEMPOTENT_TASK)
def sync_tracking(sync_id: int) -> str:
    from .tracking import tracking_sync_one

    return tracking_sync_one(sync_id).state


@shared_task(soft_time_limit=600, time_limit=660, **IDEMPOTENT_TASK)
def sync_tracking_due() -> int:
    """Beat, every minute: send on every tracking whose (next) attempt is due."""
    from .tracking import tracking_sync_sweep

    return tracking_sync_sweep()


@shared_task(soft_time_limit=1800, time_limit=1900, **IDEMPOTENT_TASK)
def reconcile_warehouses() -> int:
    """Beat, nightly: compare every warehouse's orders with ours (fulfillment/reconcile.py)."""
    from .reconcile import warehouses_reconcile

    return warehouses_reconcile()
