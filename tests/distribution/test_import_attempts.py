"""A file that kills the worker reading it: its task is redelivered (acks_late,
reject_on_worker_lost), so each delivery is counted first, and the import is failed
with a message on the delivery after the third death instead of looping for ever.

The counting is tested by calling the tasks as redelivery would; then once with a real
Celery worker whose reader aborts its process (tests/distribution/poison_worker.py)."""

import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from mapping import services as mapping_services
from mapping import tasks as mapping_tasks
from mapping.models import MappingImport
from orders import tasks as order_tasks
from orders.imports import services as order_imports
from orders.models import OrderImport
from tests.mapping.test_world import upload, world_fixture  # noqa: F401  (the `world` fixture)
from tests.orders.factories import OrderImportFactory

ROOT = Path(settings.BASE_DIR)
GIVEN_UP = "This file stopped the importer 3 times; it was not imported. Check the file or contact staff."


class WorkerDied(BaseException):  # noqa: N818 (what it stands for, not an error class)
    """A worker killed under a task: nothing after the point of death runs, not even `finally`."""


def _dies(calls: list):
    def work(**_kwargs):
        calls.append(1)
        raise WorkerDied

    return work


def _background_mapping_import(world, settings, capture) -> MappingImport:
    settings.MAPPING_IMPORT_INLINE_ROWS = 1
    rows = [["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]]
    with capture(execute=False):  # the task is delivered by hand below, as the broker would
        return mapping_services.mapping_import_upload(actor=world.owner, file=upload(rows))


def test_mapping_import_task_gives_up_after_its_worker_died_three_times(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    mapping_import = _background_mapping_import(world, settings, django_capture_on_commit_callbacks)
    calls = []
    monkeypatch.setattr(mapping_services, "mapping_import_preview", _dies(calls))
    monkeypatch.setattr(mapping_services, "mapping_import_attempt_done", lambda **_kwargs: None)
    for _death in range(3):
        with pytest.raises(WorkerDied):
            mapping_tasks.mapping_import_preview_task.run(mapping_import.pk)
    mapping_import.refresh_from_db()
    assert (mapping_import.status, mapping_import.attempts) == (MappingImport.Status.PREVIEWING, 3)
    # when the message is delivered a fourth time
    mapping_tasks.mapping_import_preview_task.run(mapping_import.pk)
    # then the file is not read again, and the import says why it stopped
    mapping_import.refresh_from_db()
    assert len(calls) == 3
    assert (mapping_import.status, mapping_import.error_message) == (MappingImport.Status.FAILED, GIVEN_UP)
    mapping_tasks.mapping_import_preview_task.run(mapping_import.pk)  # and a stray fifth changes nothing
    assert len(calls) == 3


def test_mapping_import_task_deliveries_that_end_do_not_count(world, settings, django_capture_on_commit_callbacks):
    mapping_import = _background_mapping_import(world, settings, django_capture_on_commit_callbacks)
    for _delivery in range(5):  # redelivered after finishing: harmless, and never counted
        mapping_tasks.mapping_import_preview_task.run(mapping_import.pk)
    mapping_import.refresh_from_db()
    assert (mapping_import.status, mapping_import.attempts) == (MappingImport.Status.PREVIEWED, 0)


@pytest.mark.django_db
def test_order_import_task_gives_up_after_its_worker_died_three_times(monkeypatch):
    order_import = OrderImportFactory()
    calls = []
    monkeypatch.setattr(order_imports, "order_import_check", _dies(calls))
    monkeypatch.setattr(order_imports, "order_import_attempt_done", lambda **_kwargs: None)
    for _death in range(3):
        with pytest.raises(WorkerDied):
            order_tasks.check_order_import.run(order_import.pk)
    assert OrderImport.objects.get(pk=order_import.pk).attempts == 3
    assert order_tasks.check_order_import.run(order_import.pk) == "given up"
    order_import.refresh_from_db()
    assert len(calls) == 3
    assert (order_import.status, order_import.message) == (OrderImport.Status.FAILED, GIVEN_UP)
    assert order_tasks.check_order_import.run(order_import.pk) == "gone"  # no longer checking: nothing runs


def _no_core_dump():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


SETUP = """
import os, django
django.setup()
from django.core.files.base import ContentFile
from orders.models import OrderImport
from orders.tasks import check_order_import
from tests.distribution.factories import owner_of
owner = owner_of()
order_import = OrderImport.objects.create(
    distributor=owner.distributor, uploaded_by=owner.user, original_name="orders.xlsx", sha256="0" * 64,
    file=ContentFile(b"PK\\x03\\x04 poison", name="orders.xlsx"),
)
check_order_import.delay(order_import.pk)
print(order_import.pk)
"""


def test_a_real_worker_killed_by_a_file_gives_the_import_up_after_three_deaths(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="distribution.settings",
        CELERY_TASK_ALWAYS_EAGER="false",
        TESTING="",
    )
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    setup = subprocess.run([python, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=60, capture_output=True)
    pk = int(setup.stdout.split()[-1])
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [python, "-m", "celery", "-A", "tests.distribution.poison_worker", "worker"]
            + ["--pool=prefork", "--concurrency=1", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_no_core_dump,  # noqa: PLW1509 (the worker is single-threaded when it starts)
        )

    def state():
        try:
            with sqlite3.connect(tmp_path / "db.sqlite3") as db:
                return db.execute(
                    "SELECT status, message, attempts FROM orders_orderimport WHERE id=?", [pk]
                ).fetchone()
        except sqlite3.OperationalError:  # the worker holds the write lock a moment
            return None

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (state() or ("",))[0] != "failed" and worker.poll() is None:
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    log = log_path.read_text(errors="replace")
    assert state() == ("failed", GIVEN_UP, 4), log[-4000:]
    assert log.count("SIGABRT") >= 3, log[-4000:]  # three deliveries died; the fourth gave up
