"""Aggregate rows read by column name: what every engine but the reference shares.

An engine's aggregate answers one row per bucket × group, each a mapping whose keys are
named by `Columns` (the SQL engines' column aliases, the MongoDB pipeline's output
fields). `decode_aggregate` turns them into AggregateRows through the engine's `Decoder`,
so no engine reads a column by its position.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Protocol

from backdrop.core.values import tuple_key

from .base import AggregateQuery, AggregateRow, Reduction

Offsets = list[tuple[datetime | None, int]]
"""A zone's UTC offsets in µs: [(None, offset at the start), (instant of change, new offset), …]."""


class Columns:
    """The names of an aggregate statement's columns, the same in every dialect."""

    PERIOD = "p"
    COUNT = "n"

    @staticmethod
    def group_kind(index: int) -> str:
        return f"g{index}_kind"

    @staticmethod
    def group_value(index: int) -> str:
        return f"g{index}"

    @staticmethod
    def reduction(index: int, helper: str = "") -> str:
        """Reduction `index` of the query's reductions; `helper` names a dialect's extra column."""
        return f"r{index}{'_' + helper if helper else ''}"


class Decoder(Protocol):
    """How one dialect turns its column values back into Python values."""

    def period(self, value: Any) -> datetime: ...

    def group_value(self, kind: Any, value: Any) -> Any:
        """A group value from its column and, where the engine has one, its type tag column."""

    def reduction(self, reduction: Reduction, row: Mapping[str, Any], index: int) -> Any: ...


def decode_aggregate(rows: Iterable[Mapping[str, Any]], query: AggregateQuery,
                     decoder: Decoder) -> list[AggregateRow]:
    """Rows of `aggregate_statement` as AggregateRows, read by column name.

    Rows whose period and group values are equal as JSON values are merged (PostgreSQL
    groups by text, so `1` and `1.0` arrive as two rows of one group).
    """
    merged: dict[tuple, AggregateRow] = {}
    for row in rows:
        found = _decoded(row, query, decoder)
        key = (found.period_start, tuple_key(found.group))
        kept = merged.get(key)
        if kept is None:
            merged[key] = found
            continue
        kept.count += found.count
        kept.values = {reduction: reduction.op.merge((kept.values[reduction], found.values[reduction]))
                       for reduction in query.reductions}
    return list(merged.values())


def local_offsets(query: AggregateQuery, data_span: Callable[[], tuple[datetime | None, datetime | None]]) -> Offsets | None:
    """For engines without zone rules (SQLite, MongoDB): the offsets of the query's zone over
    the time its records can have, or None when the bucketing is not on local clocks.

    That time is the query's range cut to the data set's earliest and latest `_timestamp`
    (`data_span`: two index probes), so a range of centuries over a year of data looks up
    one year of transitions.
    """
    bucketing = query.bucketing
    if bucketing is None or not bucketing.local:
        return None
    first, last = data_span()
    bounds = [moment for moment in (first, query.time.start) if moment is not None]
    start = max(bounds) if bounds else None
    bounds = [moment for moment in (last, query.time.end) if moment is not None]
    end = min(bounds) if bounds else None
    if first is None or start > end:  # no record can match
        return [(None, 0)]
    return bucketing.wall_offsets(start, end)


def _decoded(row: Mapping[str, Any], query: AggregateQuery, decoder: Decoder) -> AggregateRow:
    """A bucket start read from the engine (local wall time for a bucketing on local clocks)
    becomes an instant through the bucketing, the same rule for every engine."""
    period = row[Columns.PERIOD] if query.bucketing is not None else None
    return AggregateRow(
        period_start=None if period is None else query.bucketing.from_wall(decoder.period(period)),
        group=tuple(decoder.group_value(row[Columns.group_kind(i)], row[Columns.group_value(i)])
                    for i in range(len(query.group_by))),
        count=row[Columns.COUNT],
        values={reduction: decoder.reduction(reduction, row, index)
                for index, reduction in enumerate(query.reductions)},
    )
