"""Thin tasks: take ids, load rows, call a service."""

import smtplib

from celery import shared_task

from distribution.celery import IDEMPOTENT_TASK

from .audit import ledger_check_record
from .low_balance import low_balance_check


@shared_task(soft_time_limit=1800, time_limit=1900, **IDEMPOTENT_TASK)
def check_ledger_nightly() -> bool:
    """Beat, nightly: prove the ledger's invariants; the admin shows the latest result."""
    return ledger_check_record().ok


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=5,
    **IDEMPOTENT_TASK,
)
def low_balance_check_task(distributor_id: int, may_notify: bool = True) -> bool:
    """After a posting has committed: the low-balance e-mail, at most once per crossing."""
    return low_balance_check(distributor_id=distributor_id, may_notify=may_notify)
