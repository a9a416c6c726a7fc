"""Benchmarks: `python bench/run.py` runs every `bench/bench_*.py` and records the figures."""
