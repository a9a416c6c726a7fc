"""Run the benchmarks and record their figures.

    python bench/run.py [--only NAME] [--quick]

Every `bench/bench_*.py` module defines `NAME` (a short id), `DESCRIPTION` and
`run(ctx) -> list[dict]`; each dict is one figure (see `ROW_FIELDS`). The runner
stamps the rows with the database, machine and date, merges them into
`bench/results.json` (keyed by figure, so running one benchmark keeps the other
benchmarks' latest figures), and writes the same table to `bench/results.md` and
between the bench markers of README.md.

A benchmark that raises makes the run exit non-zero; a missed target does not: it is
a measurement, shown in the table as not met.
"""

import argparse
import importlib.util
import json
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

import dj_database_url

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
# One database per runner process, so two runs on one server never drop each other's.
BENCH_DATABASE = f"distribution_bench_{os.getpid()}"
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
# What a benchmark returns for each figure, and the types the runner accepts.
ROW_FIELDS = {
    "figure": str,
    "value": (int, float),
    "unit": str,
    "target": str,
    "ok": (bool, type(None)),
    "size": str,
    "command": str,
}
TABLE_COLUMNS = ["figure", "value", "unit", "target", "met?", "size", "database", "machine", "date", "command"]


class BenchError(Exception):
    """A benchmark or the runner could not do its work (not a missed target)."""


@dataclass(frozen=True)
class Paths:
    bench_dir: Path
    results_json: Path
    results_md: Path
    readme: Path
    var_dir: Path  # scratch space for benchmarks: databases, static files, logs

    @classmethod
    def default(cls) -> "Paths":
        var_dir = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var") / "bench"
        return cls(
            bench_dir=BENCH_DIR,
            results_json=BENCH_DIR / "results.json",
            results_md=BENCH_DIR / "results.md",
            readme=BASE_DIR / "README.md",
            var_dir=var_dir,
        )


@dataclass(frozen=True)
class Machine:
    cores: int
    ram_gb: float
    cpu: str
    python: str
    database: str

    def describe(self) -> str:
        return f"{self.cores} cores {self.cpu}, {self.ram_gb:.0f} GB RAM, Python {self.python}"


@dataclass(frozen=True)
class BenchContext:
    """What a benchmark module gets: where and how to run, on what machine."""

    database_url: str  # the configured database; benchmarks work on a fresh copy (fresh_database)
    quick: bool  # smaller sizes, for a smoke test
    machine: Machine
    base_dir: Path
    var_dir: Path

    @property
    def is_postgres(self) -> bool:
        return _is_postgres(self.database_url)

    def log(self, message: str) -> None:
        print(f"  {message}", flush=True)

    def command(self, name: str) -> str:
        """The command that reproduces a benchmark's figures."""
        return f"make bench BENCH_ARGS='--only {name}'"

    def env(self, *, database_url: str, **overrides: str) -> dict[str, str]:
        """The environment for a Django process of this project on the given database.

        DEBUG is on unless overridden (so that demo tooling such as seed_demo runs), and
        VAR_DIR points into the bench folder, so the development var/ is never touched.
        """
        env = dict(os.environ)
        env.update({"DATABASE_URL": database_url, "VAR_DIR": str(self.var_dir), "DEBUG": "true"})
        env.update(overrides)
        return env

    def production_env(self, *, allowed_host: str = "testserver") -> dict[str, str]:
        """Production settings with fresh secrets, minus TLS (benchmarks speak plain HTTP or use the test client)."""
        from cryptography.fernet import Fernet

        return {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "STORE_CREDENTIAL_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": allowed_host,
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SANDBOX_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
        }

    def latency_rows(self, name: str, figure: str, timings: dict, *, size: str, max_p95_ms: float) -> list[dict]:
        """The p50 (no target) and p95 (at most `max_p95_ms`) rows of one page's timings, in ms."""
        common = {"unit": "ms", "size": size, "command": self.command(name)}
        return [
            {**common, "figure": f"{figure}: p50", "value": round(timings["p50"], 2), "target": "", "ok": None},
            {
                **common,
                "figure": f"{figure}: p95",
                "value": round(timings["p95"], 2),
                "target": f"≤ {max_p95_ms} ms",
                "ok": timings["p95"] <= max_p95_ms,
            },
        ]

    def run_worker(self, script: str | Path, *args: str, env: dict[str, str], timeout: float = 1800) -> dict:
        """Run `script --worker args...` in a fresh process; return the JSON its last output line holds.

        Benchmarks measure in a worker process so that Django is set up on the benchmark
        database with the settings under test, not the runner's.
        """
        result = subprocess.run(
            [sys.executable, str(Path(script).resolve()), "--worker", *map(str, args)],
            cwd=self.base_dir,
            env={"DJANGO_SETTINGS_MODULE": "distribution.settings", **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"{Path(script).name} --worker failed ({result.returncode}):\n{_tail(result.stderr)}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def manage(self, *args: str, database_url: str, extra_env: dict[str, str] | None = None) -> str:
        """Run `manage.py <args>` in a subprocess; return its output, raise BenchError on failure."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.base_dir,
            env=self.env(database_url=database_url, **(extra_env or {})),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{_tail(result.stderr)}")
        return result.stdout

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """Create an empty, migrated benchmark database; yield its URL; drop it afterwards.

        PostgreSQL: a database named `distribution_bench_<pid>` on the configured server.
        SQLite: a file under the bench folder.
        """
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.is_postgres:
            url = _pg_recreate(self.database_url, BENCH_DATABASE)
        else:
            path = self.var_dir / f"{BENCH_DATABASE}.sqlite3"
            _sqlite_remove(path)
            url = f"sqlite:///{path}"
        try:
            started = time.perf_counter()
            self.manage("migrate", "--noinput", database_url=url)
            self.log(f"fresh database migrated in {time.perf_counter() - started:.1f} s")
            yield url
        finally:
            if self.is_postgres:
                _pg_drop(self.database_url, BENCH_DATABASE)
            else:
                _sqlite_remove(self.var_dir / f"{BENCH_DATABASE}.sqlite3")


# --- Databases ---------------------------------------------------------------------------------


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def _pg_admin_connection(url: str):
    import psycopg2  # only needed when the configured database is PostgreSQL

    config = dj_database_url.parse(url)
    params = {
        "host": config.get("HOST"),
        "port": config.get("PORT"),
        "user": config.get("USER"),
        "password": config.get("PASSWORD"),
    }
    # The maintenance database: the configured one may not exist, and one cannot drop the database one is in.
    connection = psycopg2.connect(dbname="postgres", **{key: value for key, value in params.items() if value})
    connection.autocommit = True
    return connection


def _pg_drop(url: str, name: str) -> None:
    with closing(_pg_admin_connection(url)) as connection, connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_recreate(url: str, name: str) -> str:
    with closing(_pg_admin_connection(url)) as connection, connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _sqlite_remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def database_description(url: str) -> str:
    if _is_postgres(url):
        with closing(_pg_admin_connection(url)) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone()
        return f"PostgreSQL {version.split()[0]}"
    if urlsplit(url).scheme == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    return urlsplit(url).scheme


# --- Machine -----------------------------------------------------------------------------------


def _proc_field(path: str, field: str) -> str | None:
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == field:
            return value.strip()
    return None


def describe_machine(database_url: str) -> Machine:
    mem_total = _proc_field("/proc/meminfo", "MemTotal")  # "24576000 kB"
    ram_gb = int(mem_total.split()[0]) / 1024**2 if mem_total else 0.0
    return Machine(
        cores=os.cpu_count() or 1,
        ram_gb=ram_gb,
        cpu=_proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        python=platform.python_version(),
        database=database_description(database_url),
    )


# --- Discovery ---------------------------------------------------------------------------------


def discover(bench_dir: Path) -> list[ModuleType]:
    modules = []
    for path in sorted(bench_dir.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        missing = [attr for attr in ("NAME", "DESCRIPTION", "run") if not hasattr(module, attr)]
        if missing:
            raise BenchError(f"{path.name} does not define {', '.join(missing)}")
        modules.append(module)
    names = [module.NAME for module in modules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BenchError(f"benchmark names used twice: {', '.join(duplicates)}")
    return modules


def validate_rows(name: str, rows) -> list[dict]:
    if not isinstance(rows, list) or not rows:
        raise BenchError(f"{name}.run() must return a non-empty list of rows, not {rows!r}")
    for row in rows:
        for field, kind in ROW_FIELDS.items():
            if not isinstance(row.get(field), kind) or (field == "value" and isinstance(row[field], bool)):
                raise BenchError(f"{name}: row {row!r} has no valid {field!r}")
    figures = [row["figure"] for row in rows]
    if len(set(figures)) != len(figures):
        raise BenchError(f"{name}: a figure appears twice in {figures}")
    return rows


# --- Results -----------------------------------------------------------------------------------


def merge_rows(existing: dict[str, dict], new_rows: list[dict], *, benchmarks: set[str]) -> dict[str, dict]:
    """The results after a run: new rows replace the same figure in place, other benchmarks' rows stay.

    A figure that a benchmark which just ran no longer reports is dropped, so a renamed
    figure leaves no stale row behind.
    """
    new_figures = {row["figure"] for row in new_rows}
    merged = {
        figure: row
        for figure, row in existing.items()
        if figure in new_figures or row.get("benchmark") not in benchmarks
    }
    for row in new_rows:
        merged[row["figure"]] = row
    return merged


def load_results(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def format_value(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(results: dict[str, dict]) -> str:
    lines = [
        "| " + " | ".join(TABLE_COLUMNS) + " |",
        "|" + "|".join(" --- " for _ in TABLE_COLUMNS) + "|",
    ]
    for row in results.values():
        met = {True: "yes", False: "**no**", None: "—"}[row["ok"]]
        cells = [
            row["figure"],
            format_value(row["value"]),
            row["unit"],
            row["target"] or "—",
            met,
            row["size"],
            row["database"],
            row["machine"],
            row["date"],
            f"`{row['command']}`",
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def replace_readme_block(text: str, block: str) -> str:
    start = text.find(README_START)
    end = text.find(README_END, start + len(README_START)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise BenchError(f"README has no {README_START} … {README_END} block")
    return text[: start + len(README_START)] + "\n" + block.rstrip("\n") + "\n" + text[end:]


def write_results(paths: Paths, results: dict[str, dict]) -> None:
    table = render_table(results)
    paths.results_json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    paths.results_md.write_text(
        "# Benchmark results\n\n"
        "Written by `bench/run.py` (`make bench`); each row is the latest run of its figure.\n\n" + table
    )
    readme = paths.readme.read_text()
    updated = replace_readme_block(readme, table)
    if updated != readme:
        paths.readme.write_text(updated)


# --- Main --------------------------------------------------------------------------------------


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the benchmarks under bench/ and record their figures.")
    parser.add_argument("--only", metavar="NAME", action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, paths: Paths | None = None, database_url: str | None = None) -> int:
    args = parse_args(argv)
    paths = paths or Paths.default()
    modules = discover(paths.bench_dir)
    if args.only:
        unknown = sorted(set(args.only) - {module.NAME for module in modules})
        if unknown:
            known = ", ".join(module.NAME for module in modules) or "none"
            print(f"Unknown benchmark {', '.join(unknown)}; known: {known}", file=sys.stderr)
            return 2
        modules = [module for module in modules if module.NAME in args.only]

    database_url = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{paths.var_dir.parent / 'db.sqlite3'}"
    paths.var_dir.mkdir(parents=True, exist_ok=True)
    machine = describe_machine(database_url)
    ctx = BenchContext(
        database_url=database_url, quick=args.quick, machine=machine, base_dir=BASE_DIR, var_dir=paths.var_dir
    )
    print(f"Machine: {machine.describe()}; database: {machine.database}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > machine.cores / 2:
        print(f"Warning: load average {load:.1f} on {machine.cores} cores; other work will skew the figures.")

    new_rows: list[dict] = []
    ran: set[str] = set()
    failed: list[str] = []
    for module in modules:
        print(f"\n== {module.NAME}: {module.DESCRIPTION}", flush=True)
        started = time.perf_counter()
        try:
            rows = validate_rows(module.NAME, module.run(ctx))
        except Exception:
            traceback.print_exc()
            failed.append(module.NAME)
            continue
        date = datetime.now(UTC).strftime("%Y-%m-%d")
        for row in rows:
            row = {field: row[field] for field in ROW_FIELDS}
            row.update(benchmark=module.NAME, database=machine.database, machine=machine.describe(), date=date)
            new_rows.append(row)
            met = {True: "met", False: "NOT met", None: "no target"}[row["ok"]]
            print(f"  {row['figure']}: {format_value(row['value'])} {row['unit']} ({row['target'] or '—'}, {met})")
        ran.add(module.NAME)
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)

    if ran:
        results = merge_rows(load_results(paths.results_json), new_rows, benchmarks=ran)
        write_results(paths, results)
        print(f"\nWrote {paths.results_json}, {paths.results_md} and the table in {paths.readme.name}")
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
