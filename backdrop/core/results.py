"""Turning the engine's aggregate rows into the read API's shapes, and rows into CSV.

The engine answers one flat list of (period, group, count, field stats) rows; everything a
client sees beyond that (nesting by group, gap-filled series, permutation filling, the
collect keys, ordering by the cross-type order, sort and limit) is decided here, once, so
every engine gives the same answer (docs/query-language.md: "Kinds of query and their
answers", "Collect", "Sorting and limit", "CSV").
"""
from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from backdrop.core import collect
from backdrop.core.collect import Collects
from backdrop.core.storage.base import AggregateRow, Sort
from backdrop.core.timeseries import Bucketing, as_utc
from backdrop.core.values import distinct_sorted, order_key, tuple_key


# --- groups --------------------------------------------------------------------------------


@dataclass
class Group:
    """One group of a grouped result: its values and its engine rows (one per period)."""

    values: tuple
    rows: list[AggregateRow] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(int(row.count) for row in self.rows)

    def by_period(self) -> dict[datetime, AggregateRow]:
        return {as_utc(row.period_start): row for row in self.rows if row.period_start is not None}


def group_rows(rows: Iterable[AggregateRow]) -> list[Group]:
    """Engine rows gathered by group value, ordered by the group values (cross-type order)."""
    groups: dict[tuple, Group] = {}
    for row in rows:
        groups.setdefault(tuple_key(row.group), Group(tuple(row.group))).rows.append(row)
    return [groups[key] for key in sorted(groups)]


def group_fields(group_by: Sequence[str], values: tuple) -> dict[str, Any]:
    return dict(zip(group_by, values))


# --- time series ---------------------------------------------------------------------------


def bucket(start: datetime, end: datetime, count: int, collected: dict) -> dict[str, Any]:
    return {"_start_at": start, "_end_at": end, "_count": count, **collected}


def filled_series(
    period: Bucketing, start: datetime, end: datetime, rows: Sequence[AggregateRow], collects: Collects
) -> list[dict]:
    """Every bucket of the range in order; data where there is some, zero and nulls elsewhere.

    Rows whose period lies outside the range (a record exactly at an inclusive end) are
    not emitted. Bucket bounds are written with the bucketing's local offset.
    """
    data = {as_utc(row.period_start): row for row in rows if row.period_start is not None}
    series = []
    for bucket_start, bucket_end in period.range(start, end):
        row = data.get(bucket_start)
        if row is None:
            series.append(bucket(period.shown(bucket_start), period.shown(bucket_end), 0,
                                 collect.empty_values(collects)))
        else:
            series.append(bucket(period.shown(bucket_start), period.shown(bucket_end), int(row.count),
                                 collect.values(row.values, collects)))
    return series


def first_data_index(series: Sequence[dict], backward: bool) -> int:
    """How many empty periods precede the first with data (from the end when backward); 0 if none has any."""
    ordered = list(reversed(series)) if backward else list(series)
    return next((index for index, entry in enumerate(ordered) if entry["_count"] > 0), 0)


def nested_shift(groups: Sequence[dict], backward: bool) -> int:
    """The smallest shift over the groups' series (the answer moves as one); no groups, no shift."""
    return min((first_data_index(group["values"], backward) for group in groups), default=0)


# --- the four shapes -------------------------------------------------------------------------


def grouped(groups: Sequence[Group], group_by: Sequence[str], collects: Collects) -> list[dict]:
    """Grouped: one row per group with its count and collects."""
    return [
        {**group_fields(group_by, group.values), "_count": group.count,
         **collect.values(collect.merged(row.values for row in group.rows), collects)}
        for group in groups
    ]


def nested(
    groups: Sequence[Group], group_by: Sequence[str], collects: Collects,
    period: Bucketing, start: datetime, end: datetime,
) -> list[dict]:
    """Nested: per group its totals over all its records (even those outside the series) and its series."""
    return [
        {
            **group_fields(group_by, group.values),
            "_count": group.count,
            "_group_count": len(group.by_period()),
            **collect.values(collect.merged(row.values for row in group.rows), collects),
            "values": filled_series(period, start, end, group.rows, collects),
        }
        for group in groups
    ]


def flattened(
    rows: Sequence[AggregateRow], group_by: Sequence[str], collects: Collects,
    period: Bucketing, start: datetime, end: datetime,
) -> list[dict]:
    """Flattened: a row for every period × every combination of the values seen for each field."""
    rows = [row for row in rows if row.period_start is not None]
    data = {(as_utc(row.period_start), tuple_key(row.group)): row for row in rows}
    seen = seen_values(rows, group_by)
    combinations = list(itertools.product(*seen)) if rows else []
    flat = []
    for bucket_start, bucket_end in period.range(start, end):
        for values in combinations:
            row = data.get((bucket_start, tuple_key(values)))
            count, collected = (
                (int(row.count), collect.values(row.values, collects)) if row
                else (0, collect.empty_values(collects))
            )
            shown = bucket(period.shown(bucket_start), period.shown(bucket_end), count, collected)
            flat.append({**group_fields(group_by, values), **shown})
    return flat


def seen_values(rows: Sequence[AggregateRow], group_by: Sequence[str]) -> list[list]:
    """Per group_by field, the distinct values of the rows in a period: a flattened answer has
    a row for every combination of them in every period (their product is its size)."""
    rows = [row for row in rows if row.period_start is not None]
    return [distinct_sorted(row.group[index] for row in rows) for index in range(len(group_by))]


# --- sort and limit --------------------------------------------------------------------------


def sort_rows(rows: list[dict], sort: Sort | None) -> list[dict]:
    """Stable: ties keep the order rows came in (group order); nulls first ascending, last descending."""
    if sort is None:
        return rows
    return sorted(rows, key=lambda row: order_key(row.get(sort.field)), reverse=sort.descending)


def limit_rows(rows: list[dict], limit: int | None) -> list[dict]:
    """`limit` 0 or None means no limit."""
    return rows[:limit] if limit else rows


# --- CSV ---------------------------------------------------------------------------------------


def _instant_text(value: datetime) -> str:
    """ISO 8601 in UTC, but a period bound in a named zone (Bucketing.shown) keeps the
    zone's offset, as the JSON answer writes it."""
    return (value if isinstance(value.tzinfo, ZoneInfo) else as_utc(value)).isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _instant_text(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def csv_cell(value: Any) -> str:
    """One cell, written the way the JSON response writes the value (null is an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return _instant_text(value)
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def to_csv(rows: Sequence[dict]) -> str:
    """Header = sorted union of keys; one `\\r\\n` line per non-empty row; nothing at all for no rows."""
    rows = [row for row in rows if row]
    if not rows:
        return ""
    header = sorted(set().union(*rows))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(row[key]) if key in row else "" for key in header])
    return out.getvalue()
