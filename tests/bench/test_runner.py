import json
import textwrap

import pytest

from bench import run as bench_run

README = textwrap.dedent(
    """\
    # Project

    Some prose the runner must leave alone.

    <!-- bench:start -->
    _No results yet: run `make bench`._
    <!-- bench:end -->

    ## After the table

    More prose.
    """
)


def _row(figure: str, value: float, *, ok: bool | None = True, size: str = "100 things") -> dict:
    return {
        "figure": figure,
        "value": value,
        "unit": "ms",
        "target": "≤ 50 ms" if ok is not None else "",
        "ok": ok,
        "size": size,
        "command": "make bench BENCH_ARGS='--only fake'",
    }


def _bench_module(bench_dir, name: str, body: str) -> None:
    source = f'NAME = "{name}"\nDESCRIPTION = "a fake benchmark"\n\n\n' + textwrap.dedent(body)
    (bench_dir / f"bench_{name}.py").write_text(source)


def _fake_returning(bench_dir, name: str, rows: list[dict]) -> None:
    _bench_module(bench_dir, name, f"def run(ctx):\n    return {rows!r}\n")


@pytest.fixture
def paths(tmp_path):
    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    (tmp_path / "README.md").write_text(README)
    return bench_run.Paths(
        bench_dir=bench_dir,
        results_json=bench_dir / "results.json",
        results_md=bench_dir / "results.md",
        readme=tmp_path / "README.md",
        var_dir=tmp_path / "var" / "bench",
    )


@pytest.fixture
def run_bench(paths, tmp_path):
    def run(*argv: str) -> int:
        return bench_run.main(list(argv), paths=paths, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    return run


def _results(paths) -> dict:
    return json.loads(paths.results_json.read_text())


def test_runner_records_rows_with_database_machine_and_date(paths, run_bench):
    # given
    _fake_returning(paths.bench_dir, "fake", [_row("fake: p95 latency", 12.5)])
    # when
    exit_code = run_bench()
    # then
    assert exit_code == 0
    row = _results(paths)["fake: p95 latency"]
    assert row["value"] == 12.5
    assert row["benchmark"] == "fake"
    assert row["database"].startswith("SQLite ")
    assert "cores" in row["machine"]
    assert row["date"]


def test_runner_merges_rows_keyed_by_figure_and_keeps_other_benchmarks(paths, run_bench):
    # given: an earlier run of "other" and of "fake", whose second figure fake no longer reports
    earlier = {
        "other: throughput": {**_row("other: throughput", 300.0), "benchmark": "other"},
        "fake: p95 latency": {**_row("fake: p95 latency", 99.0), "benchmark": "fake"},
        "fake: retired figure": {**_row("fake: retired figure", 1.0), "benchmark": "fake"},
    }
    for row in earlier.values():
        row.update(database="SQLite 3", machine="old box", date="2026-01-01")
    paths.results_json.write_text(json.dumps(earlier))
    _fake_returning(paths.bench_dir, "fake", [_row("fake: p95 latency", 12.5), _row("fake: p50 latency", 4.0)])
    _fake_returning(paths.bench_dir, "other", [_row("other: throughput", 1.0)])
    # when
    exit_code = run_bench("--only", "fake")
    # then
    results = _results(paths)
    assert exit_code == 0
    assert list(results) == ["other: throughput", "fake: p95 latency", "fake: p50 latency"]
    assert results["other: throughput"] == earlier["other: throughput"]
    assert results["fake: p95 latency"]["value"] == 12.5


def test_runner_writes_results_md_table(paths, run_bench):
    # given
    _fake_returning(
        paths.bench_dir,
        "fake",
        [
            _row("fake: throughput", 1234.4, ok=True),
            _row("fake: p95 latency", 80.0, ok=False),
            _row("fake: n", 3.0, ok=None),
        ],
    )
    # when
    run_bench()
    # then
    lines = paths.results_md.read_text().splitlines()
    assert "| figure | value | unit | target | met? | size | database | machine | date | command |" in lines
    table_rows = [line for line in lines if line.startswith("| fake:")]
    assert table_rows[0].startswith("| fake: throughput | 1,234 | ms | ≤ 50 ms | yes | 100 things | SQLite ")
    assert table_rows[1].startswith("| fake: p95 latency | 80.0 | ms | ≤ 50 ms | **no** |")
    assert table_rows[2].startswith("| fake: n | 3.00 | ms | — | — |")
    assert table_rows[0].endswith("| `make bench BENCH_ARGS='--only fake'` |")


def test_runner_rewrites_only_the_readme_block(paths, run_bench):
    # given
    _fake_returning(paths.bench_dir, "fake", [_row("fake: p95 latency", 12.5)])
    before, _, rest = README.partition("<!-- bench:start -->")
    _, _, after = rest.partition("<!-- bench:end -->")
    # when
    run_bench()
    # then
    readme = paths.readme.read_text()
    assert readme.startswith(before + "<!-- bench:start -->\n| figure | value |")
    assert readme.endswith("|\n<!-- bench:end -->" + after)
    assert "No results yet" not in readme
    block = readme.split("<!-- bench:start -->\n")[1].split("<!-- bench:end -->")[0]
    assert block == bench_run.render_table(_results(paths))


def test_runner_passes_quick_flag_to_benchmarks(paths, run_bench):
    # given
    _bench_module(
        paths.bench_dir,
        "fake",
        """\
        def run(ctx):
            size = "quick" if ctx.quick else "full"
            return [{"figure": "fake: n", "value": 1.0, "unit": "ms", "target": "", "ok": None, "size": size,
                     "command": ctx.command(NAME)}]
        """,
    )
    # when
    run_bench("--quick")
    # then
    row = _results(paths)["fake: n"]
    assert (row["size"], row["command"]) == ("quick", "make bench BENCH_ARGS='--only fake'")


def test_runner_missed_target_is_not_an_error(paths, run_bench):
    # given
    _fake_returning(paths.bench_dir, "fake", [_row("fake: p95 latency", 500.0, ok=False)])
    # when / then
    assert run_bench() == 0
    assert _results(paths)["fake: p95 latency"]["ok"] is False


def test_runner_exits_non_zero_when_a_benchmark_raises_and_records_the_others(paths, run_bench):
    # given
    _bench_module(paths.bench_dir, "boom", "def run(ctx):\n    raise RuntimeError('gunicorn would not start')\n")
    _fake_returning(paths.bench_dir, "fake", [_row("fake: p95 latency", 12.5)])
    # when
    exit_code = run_bench()
    # then
    assert exit_code == 1
    assert list(_results(paths)) == ["fake: p95 latency"]


def test_runner_treats_a_malformed_row_as_a_failure(paths, run_bench):
    # given: the value is a string, not a number
    _fake_returning(paths.bench_dir, "fake", [{**_row("fake: p95 latency", 1.0), "value": "fast"}])
    # when
    exit_code = run_bench()
    # then
    assert exit_code == 1
    assert not paths.results_json.exists()
    assert paths.readme.read_text() == README


def test_runner_rejects_an_unknown_only_name(paths, run_bench):
    # given
    _fake_returning(paths.bench_dir, "fake", [_row("fake: p95 latency", 12.5)])
    # when / then
    assert run_bench("--only", "nope") == 2
    assert not paths.results_json.exists()


def test_replace_readme_block_needs_both_markers():
    with pytest.raises(bench_run.BenchError):
        bench_run.replace_readme_block("# no markers here\n", "| table |\n")
