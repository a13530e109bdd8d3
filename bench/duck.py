"""The columnar baseline (issue 16): DuckDB over typed columns, in the benchmark's own process.

The same generated records are loaded into an in-memory DuckDB table with one typed column
per field the generator produces (`_timestamp` as a UTC TIMESTAMP), and every grouped or
period query of the benchmark is answered there by one SQL statement. Its answers are
compared cell by cell with the API's (same groups, same bucket starts, same counts and sums),
not only by fingerprint: the issue's goal, "within 10× of DuckDB", means nothing unless both
answered the same question. The records are written to a CSV file before the clock starts,
so the load time is DuckDB's `COPY`, as the raw baselines time only the engine.
"""
from __future__ import annotations

import csv
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from bench.generate import DIMENSIONS
from bench.queries import NINETY_DAYS, ONE_YEAR, TWO_YEARS, QuerySpec

UTC = timezone.utc
TARGET_RATIO = 10.0  # issue 16: every grouped or period query within 10× of DuckDB

COLUMNS = ("_id VARCHAR", "_timestamp TIMESTAMP",
           *(f"{name} VARCHAR" for name in DIMENSIONS),
           "count BIGINT", "duration DOUBLE", "cost BIGINT")

# name: (SQL whose rows are the bucket start (NULL without a period), the group values, the
#        count and the sum if collected; the [start, end) bounds or None)
_STATEMENTS = {
    "group_by_one_key": ("SELECT NULL, department, count(*) FROM records GROUP BY department",
                         None),
    "week_one_year": ("SELECT date_trunc('week', _timestamp) AS w, count(*) FROM records"
                      " WHERE _timestamp >= ? AND _timestamp < ? GROUP BY w", ONE_YEAR),
    "month_group_sum_two_years": (
        "SELECT date_trunc('month', _timestamp) AS m, channel, count(*), sum(cost) FROM records"
        " WHERE _timestamp >= ? AND _timestamp < ? GROUP BY m, channel", TWO_YEARS),
    "filter_day_90_days": (
        "SELECT date_trunc('day', _timestamp) AS d, count(*) FROM records"
        " WHERE _timestamp >= ? AND _timestamp < ? AND channel = 'phone' GROUP BY d", NINETY_DAYS),
    "flatten_week_group_one_year": (
        "SELECT date_trunc('week', _timestamp) AS w, channel, count(*) FROM records"
        " WHERE _timestamp >= ? AND _timestamp < ? GROUP BY w, channel", ONE_YEAR),
}
"""DuckDB's `date_trunc('week', …)` starts weeks on Monday, as Backdrop's periods do."""


def answers(spec: QuerySpec) -> bool:
    """Whether the baseline answers this query: every grouped or period one."""
    return spec.name in _STATEMENTS


def _naive_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def statement(spec: QuerySpec) -> tuple[str, list]:
    sql, bounds = _STATEMENTS[spec.name]
    return sql, [] if bounds is None else [_naive_utc(bounds[0]), _naive_utc(bounds[1])]


class DuckTable:
    """An in-memory DuckDB database holding one data set's records as typed columns."""

    def __init__(self, folder: Path):
        import duckdb

        self.version = duckdb.__version__
        self.folder = folder
        self.connection = duckdb.connect(":memory:")
        self.connection.execute(f"CREATE TABLE records ({', '.join(COLUMNS)})")

    def load(self, records: Iterable[dict]) -> tuple[float, int]:
        """(seconds, rows) for one COPY of every record from a CSV file written beforehand."""
        path = self.folder / "duckdb-records.csv"
        with path.open("w", newline="") as stream:
            writer = csv.writer(stream)
            for record in records:
                writer.writerow((record["_id"], _naive_utc(record["_timestamp"]).isoformat(sep=" "),
                                 *(record[name] for name in DIMENSIONS),
                                 record["count"], record["duration"], record["cost"]))
        started = time.perf_counter()
        self.connection.execute(f"COPY records FROM '{path}' (FORMAT csv, HEADER false)")
        seconds = time.perf_counter() - started
        path.unlink()
        return seconds, self.connection.execute("SELECT count(*) FROM records").fetchone()[0]

    def run(self, spec: QuerySpec) -> list[tuple]:
        sql, params = statement(spec)
        return self.connection.execute(sql, params).fetchall()

    def close(self) -> None:
        self.connection.close()


def cells(spec: QuerySpec, rows: list[tuple]) -> list[tuple]:
    """DuckDB's rows as sorted (bucket start, group values, count, sum) cells."""
    found = []
    for row in rows:
        start = None if row[0] is None else row[0].replace(tzinfo=UTC)
        groups = tuple(row[1:len(_group_keys(spec)) + 1])
        total = row[-1] if spec.sum_key else None
        count = row[-2] if spec.sum_key else row[-1]
        found.append((start, groups, count, total))
    return sorted(found, key=_cell_order)


def api_cells(spec: QuerySpec, data: list[dict]) -> list[tuple]:
    """The API's answer as the same cells: nested `values`, flattened rows and plain groups
    alike; empty buckets (`_count` 0) are left out, as SQL has no row for them."""
    keys, found = _group_keys(spec), []
    for row in data:
        for cell in row.get("values", [row]):
            if not cell["_count"]:
                continue
            merged = {**row, **cell}
            start = merged.get("_start_at")
            found.append((None if start is None else datetime.fromisoformat(start).astimezone(UTC),
                          tuple(merged[key] for key in keys), cell["_count"],
                          cell.get(spec.sum_key) if spec.sum_key else None))
    return sorted(found, key=_cell_order)


def _group_keys(spec: QuerySpec) -> list[str]:
    return [value for key, value in spec.params if key == "group_by"]


def _cell_order(cell: tuple) -> tuple:
    """Cells sorted by bucket and group alone, so an equal sum spelled 5 or 5.0 sorts alike."""
    return str(cell[0]), repr(cell[1])
