"""Test-only: the platform's Celery app, in a worker whose order-file reader aborts its
process the way a hostile workbook once made calamine do. Production code has no hook
for this; the patch is made here, in each pool process, after it forks.

    celery -A tests.distribution.poison_worker worker --pool=prefork --concurrency=1

Started by tests/distribution/test_import_attempts.py.
"""

import os

from celery.signals import worker_process_init

from distribution.celery import app

__all__ = ["app"]

# A lost pool process is noticed after this long (10 s by default): the test waits less.
app.conf.worker_lost_wait = 0.5


@worker_process_init.connect
def _poison_the_reader(**_kwargs):
    from orders.imports import format as orderfile

    def abort(*_args, **_kwargs):
        os.abort()

    orderfile.open_rows = abort
