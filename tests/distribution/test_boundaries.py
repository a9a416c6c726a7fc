"""The layering of docs/design.md holds: import-linter's contracts (pyproject.toml) are
kept by the code, and they do catch a forbidden import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["distribution", "catalog", "stores", "mapping", "orders", "finance", "fulfillment", "sandbox"]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT, "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(cwd)},
    )


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory) -> Path:
    """The apps' Python files and the contracts, in a folder a test may break."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for app in APPS:
        shutil.copytree(ROOT / app, root / app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "migrations"))
    return root


def test_contracts_kept_by_the_code():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        ("orders/_probe.py", "import fulfillment.models", "Apps are layered"),
        ("finance/_probe.py", "from orders import models", "Apps are layered"),
        ("catalog/_probe.py", "import mapping.models", "Apps are layered"),
        ("stores/_probe.py", "import catalog.models", "Apps are layered"),
        ("sandbox/_probe.py", "import orders.models", "The sandbox imports none of our apps"),
        ("stores/_probe2.py", "from sandbox import shopify", "No app imports the sandbox"),
    ],
)
def test_contracts_fail_on_a_forbidden_import(copy_of_the_code, module, statement, contract):
    probe = copy_of_the_code / module
    probe.write_text(f"{statement}  # a forbidden import\n")
    try:
        result = lint(copy_of_the_code)
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line or contract in line]
    assert any(contract in line for line in broken), result.stdout
