"""Backdrop's benchmark: ingest and query speed over real HTTP, beside the raw engine and DuckDB.

Run it with `python -m bench` (or `./bench/run.sh`) from the repository root; `--help`
lists the options and bench/RESULTS.md holds the figures measured so far. It is a
benchmark, not a test: nothing here asserts a time (tests/test_bench_smoke.py only runs it
on tiny sizes so it cannot rot).
"""
