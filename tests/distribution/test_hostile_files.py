"""Hostile workbooks through the real upload pages of both importers, each upload in a
process of its own (tests/distribution/upload_child.py) on a fresh SQLite database, so
an abort would kill that process and not pytest.

Each file must be refused with a message that says what is wrong, on a page that answers
below 500, by a process that exits normally and never holds more than 300 MB."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.distribution import xlsx_files

ROOT = Path(settings.BASE_DIR)
PEAK_MB = 300
HOSTILE = {
    "far-cell": (xlsx_files.far_cell, "reaches column XFD"),
    "million-rows": (xlsx_files.million_rows, "more than"),
    "huge-cell": (xlsx_files.huge_cell, "more than 32,767 characters"),
    "billion-laughs": (xlsx_files.billion_laughs, "document type declaration"),
}


def _env(var: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        VAR_DIR=str(var),
        MEDIA_ROOT=str(var / "media"),
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="distribution.settings",
        TESTING="1",  # the test settings: plain static files, no sandbox seeding
        CELERY_TASK_ALWAYS_EAGER="true",  # a large order file is checked by the (eager) task
    )
    return env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One migrated database, copied for every upload (migrating costs seconds, copying nothing)."""
    var = tmp_path_factory.mktemp("template")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=_env(var), check=True, timeout=180)
    return var / "db.sqlite3"


def _upload_in_a_child(tmp_path: Path, migrated: Path, importer: str, content: bytes) -> tuple[int, float, dict]:
    """(exit code, peak resident memory in MB, what the child printed)."""
    var = tmp_path / importer
    var.mkdir()
    shutil.copy(migrated, var / "db.sqlite3")
    hostile = var / "hostile.xlsx"
    hostile.write_bytes(content)
    out = var / "out.txt"
    with out.open("wb") as stdout:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.distribution.upload_child", importer, str(hostile), "orders.xlsx"],
            cwd=ROOT,
            env=_env(var),
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )
        # wait4 reports this child's own peak, not the largest of all children so far.
        _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    output = out.read_text(errors="replace")
    lines = [line for line in output.splitlines() if line.startswith("{")]
    return child.returncode, usage.ru_maxrss / 1024, (json.loads(lines[-1]) if lines else {"output": output[-3000:]})


@pytest.mark.parametrize("importer", ["mapping", "orders"])
@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_hostile_file_is_refused_by_the_upload_page_without_harm(tmp_path, migrated, hostile, importer):
    build, expected = HOSTILE[hostile]
    exit_code, peak_mb, seen = _upload_in_a_child(tmp_path, migrated, importer, build())
    assert exit_code == 0, seen
    assert peak_mb < PEAK_MB, (peak_mb, seen)
    assert seen["answer"] < 500 and seen["page"] < 500, seen
    assert expected in seen["text"], seen
    if importer == "mapping":
        assert seen["answer"] == 400 and seen["import_status"] == ""  # refused on the form; nothing kept
    else:
        assert seen["import_status"] == "failed" and expected in seen["import_message"], seen
    print(f"{hostile} via {importer}: peak {peak_mb:.0f} MB")
