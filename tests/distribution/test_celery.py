"""Celery as `make run` and production use it: a real worker and beat over the configured broker
(Redis when REDIS_URL is set, else the filesystem transport)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from distribution.celery import IDEMPOTENT_TASK, app
from distribution.models import Heartbeat
from distribution.tasks import heartbeat

ROOT = Path(settings.BASE_DIR)


def test_celery_speaks_json_with_time_limits():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert "heartbeat" in app.conf.beat_schedule
    assert heartbeat.acks_late is True and heartbeat.reject_on_worker_lost is True
    assert IDEMPOTENT_TASK == {"acks_late": True, "reject_on_worker_lost": True}


def test_broker_follows_redis_url():
    if settings.REDIS_URL:
        assert app.conf.broker_url == settings.REDIS_URL
    else:
        assert app.conf.broker_url == "filesystem://"
        assert Path(app.conf.broker_transport_options["data_folder_in"]).is_dir()


@pytest.mark.django_db
def test_heartbeat_task_counts_runs():
    heartbeat.apply()
    heartbeat.apply()
    beat = Heartbeat.objects.get(name="beat")
    assert beat.runs == 2


def _wait_for(predicate, timeout: float, procs) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        for proc in procs:
            if proc.poll() is not None:
                return False
        time.sleep(0.5)
    return False


def test_worker_and_beat_processes_run_the_heartbeat(tmp_path):
    """What `make run` starts: beat schedules the heartbeat, a worker process runs it."""
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "HEARTBEAT_SECONDS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "distribution.settings",
        "TESTING": "",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    celery = [python, "-m", "celery", "-A", "distribution"]
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("worker", "beat")}  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [*celery, "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO"], cwd=ROOT, env=env, stdout=logs["beat"], stderr=subprocess.STDOUT
        ),
    ]
    import sqlite3

    def heartbeat_runs() -> int:
        try:
            with sqlite3.connect(tmp_path / "db.sqlite3") as db:
                row = db.execute("SELECT runs FROM distribution_heartbeat WHERE name='beat'").fetchone()
        except sqlite3.OperationalError:
            return 0
        return row[0] if row else 0

    try:
        seen = _wait_for(lambda: heartbeat_runs() >= 2, timeout=60, procs=procs)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()
    worker_log = (tmp_path / "worker.log").read_text()
    assert seen, (
        f"no heartbeat seen.\nworker:\n{worker_log[-3000:]}\nbeat:\n{(tmp_path / 'beat.log').read_text()[-2000:]}"
    )
    assert "heartbeat seen by worker" in worker_log
