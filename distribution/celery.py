"""The Celery application: JSON only, bounded task time, the beat schedule in code.

Tasks that are safe to run twice declare IDEMPOTENT_TASK options: they are
acknowledged only after they finish (acks_late) and re-queued when a worker dies
under them, so a crash never loses one. Non-idempotent work must not use them.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "distribution.settings")

app = Celery("distribution")
# What depends on the environment (broker, eager mode, file paths) is read from
# Django settings under the CELERY_ prefix; the rest is fixed here.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    result_backend=None,
    timezone="UTC",
    enable_utc=True,
    # A task past its soft limit gets SoftTimeLimitExceeded and can record why it
    # stopped; past the hard limit the worker process is killed.
    task_soft_time_limit=300,
    task_time_limit=360,
    task_acks_late=False,
    worker_prefetch_multiplier=1,
)
# The beat schedule, in code. Later apps add their entries here.
app.conf.beat_schedule = {
    "heartbeat": {
        "task": "distribution.tasks.heartbeat",
        "schedule": float(os.environ.get("HEARTBEAT_SECONDS", "60")),
    },
    # Queues a pull of every store whose pull interval has passed (orders/pull.py).
    "orders-pull-due-stores": {
        "task": "orders.tasks.pull_due_stores",
        "schedule": float(os.environ.get("PULL_SWEEP_SECONDS", "60")),
    },
    # Orders waiting for a mapping that arrived while its re-evaluation task was lost.
    "orders-reevaluate-sweep": {
        "task": "orders.tasks.reevaluate_sweep",
        "schedule": float(os.environ.get("REEVALUATE_SWEEP_SECONDS", "300")),
    },
    # Auto-pay: payable orders of distributors with auto-pay on (orders/actions/pay.py).
    "orders-autopay-sweep": {
        "task": "orders.tasks.autopay_sweep",
        "schedule": float(os.environ.get("AUTOPAY_SWEEP_SECONDS", "60")),
    },
    # The orders-per-status counts the database keeps (orders/counts.py), folded.
    "orders-compact-status-counts": {
        "task": "orders.tasks.compact_status_counts",
        "schedule": float(os.environ.get("STATUS_COUNT_FOLD_SECONDS", "60")),
    },
    # Fulfilment (fulfillment/tasks.py): paid orders not yet pushed, cancel requests not
    # yet carried, the warehouses' changes, tracking due to be sent on to the stores.
    "fulfillment-push-paid": {
        "task": "fulfillment.tasks.push_paid_orders",
        "schedule": float(os.environ.get("PUSH_SWEEP_SECONDS", "60")),
    },
    "fulfillment-cancel-requests": {
        "task": "fulfillment.tasks.carry_cancel_requests",
        "schedule": float(os.environ.get("CANCEL_SWEEP_SECONDS", "60")),
    },
    "fulfillment-poll-warehouses": {
        "task": "fulfillment.tasks.poll_warehouses",
        "schedule": float(os.environ.get("WAREHOUSE_POLL_SECONDS", "60")),
    },
    "fulfillment-sync-tracking": {
        "task": "fulfillment.tasks.sync_tracking_due",
        "schedule": float(os.environ.get("TRACKING_SYNC_SECONDS", "60")),
    },
    # Nightly proof of the ledger's invariants (finance/audit.py); the admin shows the result.
    "finance-check-ledger": {
        "task": "finance.tasks.check_ledger_nightly",
        "schedule": crontab(hour=int(os.environ.get("LEDGER_CHECK_HOUR", "3")), minute=17),
    },
    # Nightly comparison of our pushed orders with each warehouse's (fulfillment/reconcile.py).
    "fulfillment-reconcile-warehouses": {
        "task": "fulfillment.tasks.reconcile_warehouses",
        "schedule": crontab(hour=int(os.environ.get("RECONCILE_HOUR", "4")), minute=7),
    },
}
app.autodiscover_tasks()

IDEMPOTENT_TASK = {"acks_late": True, "reject_on_worker_lost": True}
