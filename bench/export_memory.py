"""Peak resident memory of `backdrop export` over a large data set (issue 15: < 200 MB at 1,000,000).

    .venv/bin/python -m bench.export_memory --engine sqlite --records 1000000
    .venv/bin/python -m bench.export_memory --engine postgres --records 1000000

Fills a fresh database (a temporary SQLite file, or a fresh PostgreSQL database on
BACKDROP_TEST_POSTGRES_URL) with bench/generate.py's records through the write path
(DataSet.store, batches of 10,000), then runs `backdrop export` in a process of its own, once
over 10 records and once over them all (NDJSON and CSV), output to a file. Each process
reports its own peak RSS (VmHWM) as it ends, so nothing else on the machine counts. Prints
one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from backdrop.core import registry
from backdrop.core.data_set import DataSet
from backdrop.core.storage import open_storage
from backdrop.testing import fresh_postgres_database
from bench.generate import records

BATCH = 10_000


def fill(url: str, name: str, count: int) -> None:
    storage = open_storage(url)
    try:
        data_set = DataSet(storage, registry.create(storage, {"name": name, "data_group": name, "data_type": "t"}))
        batch = []
        for record in records(count, id_prefix=name):
            batch.append(record)
            if len(batch) == BATCH:
                data_set.store(batch)
                batch = []
        data_set.store(batch)
    finally:
        storage.close()


# The command run in a fresh interpreter that reports its own peak RSS (VmHWM) as it ends.
# Not the rusage of the child: Linux carries the parent's peak into a child's ru_maxrss
# across fork and exec, so a large parent (pytest) would hide the figure.
_MEASURED = """
import sys
from backdrop.cli import main
try:
    main(sys.argv[1:], prog_name="backdrop")
finally:
    peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0].split()[1]
    print(f"peak_rss_kb {peak}", file=sys.stderr)
"""


def peak_rss_mb(url: str, *args: str) -> float:
    """Run `backdrop ARGS` on the database `url` in a process of its own; its peak RSS in MB."""
    environ = {**os.environ, "BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], env=environ, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=3600)
    last = done.stderr.splitlines()[-1] if done.stderr else ""
    if done.returncode != 0 or not last.startswith("peak_rss_kb "):
        raise RuntimeError(f"backdrop {' '.join(args)} failed: {done.stderr}")
    return round(int(last.split()[1]) / 1024, 1)


def export(url: str, name: str, output: Path, *options: str) -> dict:
    started = time.monotonic()
    peak = peak_rss_mb(url, "export", name, "-o", str(output), *options)
    return {"peak_rss_mb": peak, "seconds": round(time.monotonic() - started, 1),
            "output_mb": round(output.stat().st_size / 2**20, 1)}


@contextmanager
def database(engine: str, folder: Path):
    if engine == "sqlite":
        yield f"sqlite:///{folder}/export.db"
    else:
        with fresh_postgres_database(prefix="backdrop_bench_export") as url:
            yield url


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.export_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backdrop-export-bench-") as temporary:
        folder = Path(temporary)
        with database(args.engine, folder) as url:
            started = time.monotonic()
            fill(url, "tiny", 10)
            fill(url, "large", args.records)
            filled = round(time.monotonic() - started, 1)
            result = {"engine": args.engine, "records": args.records, "fill_seconds": filled,
                      "tiny_ndjson": export(url, "tiny", folder / "tiny.ndjson"),
                      "large_ndjson": export(url, "large", folder / "large.ndjson"),
                      "large_csv": export(url, "large", folder / "large.csv", "--format", "csv")}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
