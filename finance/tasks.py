"""Thin tasks: take ids, load rows, call a service."""

from celery import shared_task

from distribution.celery import IDEMPOTENT_TASK

from .audit import ledger_check_record


@shared_task(soft_time_limit=1800, time_limit=1900, **IDEMPOTENT_TASK)
def check_ledger_nightly() -> bool:
    """Beat, nightly: prove the ledger's invariants; the admin shows the latest result."""
    return ledger_check_record().ok
