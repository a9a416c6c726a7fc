"""The repository stands on its own: a fresh clone with no folder beside it builds, runs
and tests. Nothing in it may reach for the `shared` folder next to the checkout, where
the project's steering notes and the platforms' verbatim samples live.

The one deliberate exception is the platform conformance suite, which reads those
samples from PLATFORM_SAMPLES_DIR (by default that folder) and skips without them, and
the page that explains it (docs/testing.md).
"""

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# "../shared", "/work/shared", and the ways code spells the same path without a slash:
# `BASE_DIR.parent / "shared"`, `os.path.join("..", "shared")`.
REFERENCE = re.compile(
    r"""\.\./shared\b|/work/shared\b|\.parent\s*/\s*["']shared["']|["']\.\.["']\s*,\s*["']shared["']"""
)
ALLOWED = {
    "tests/stores/test_platform_conformance.py",  # reads the samples by default from there
    "docs/testing.md",  # explains PLATFORM_SAMPLES_DIR and its default
    "tests/distribution/test_self_contained.py",  # spells the patterns above
}
# Where to look when the checkout is not a git work tree (an exported tarball).
NOT_SOURCE = {".git", ".venv", "var", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache"}


def repository_files() -> list[str]:
    """The files of the repository: tracked ones and new ones git does not ignore."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return sorted(
            path.relative_to(REPO_ROOT).as_posix()
            for path in REPO_ROOT.rglob("*")
            if path.is_file() and not NOT_SOURCE & set(path.relative_to(REPO_ROOT).parts)
        )
    return sorted({name for name in listed.decode("utf-8", "surrogateescape").split("\0") if name})


def references_in(relative: str) -> list[str]:
    path = REPO_ROOT / relative
    if not path.is_file():  # tracked but deleted in the work tree
        return []
    content = path.read_bytes()
    if b"\0" in content:  # binary: images, compiled catalogues
        return []
    lines = content.decode("utf-8", "replace").splitlines()
    return [f"{relative}:{number}: {line.strip()}" for number, line in enumerate(lines, 1) if REFERENCE.search(line)]


def test_repository_files_are_found():
    files = repository_files()
    assert "README.md" in files
    assert "tests/distribution/test_self_contained.py" in files
    assert not any(name.startswith((".venv/", "var/")) for name in files)


def test_self_contained_no_file_reaches_for_the_shared_folder_beside_the_checkout():
    found = [hit for name in repository_files() if name not in ALLOWED for hit in references_in(name)]
    assert found == [], "These lines depend on a folder outside the repository:\n" + "\n".join(found)


def test_self_contained_pattern_catches_each_spelling():
    for line in (
        "See ../shared/DESIGN.md for the layout.",
        "SAMPLES = Path('/work/shared/platform-samples')",
        'SAMPLES = Path(settings.BASE_DIR).parent / "shared" / "platform-samples"',
        "os.path.join(BASE_DIR, '..', 'shared')",
    ):
        assert REFERENCE.search(line), line
    for line in ("from celery import shared_task", "Catalog rows are shared by every distributor", "shared/folder"):
        assert not REFERENCE.search(line), line
