"""The SQL the SQLite engine runs: statements built from query value objects.

Kept apart from the engine (sqlite.py) so the statements can be read in one place. Every
user-supplied value, JSON paths included, goes in as a bound parameter; the only text
spliced into statements is fixed SQL chosen here.

Records are stored as JSON text (`body`) beside a few columns the engine needs to be fast:
`ts` (the `_timestamp` in µs since the epoch, UTC), `seq` (write order, from the one
database-wide counter), `size` (bytes counted against `capped_size`; 0 until a capped
write needs it, since counting costs a second encoding of the record).

SQLite's JSON functions hand strings back as C strings, cut at the first U+0000. Stored
strings therefore use an order- and prefix-preserving escape (U+0001 → U+0001 U+0002,
U+0000 → U+0001 U+0001), applied to filter values too and undone on the way out, so
equality, prefixes, sorting and grouping still see whole strings.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .base import Filter, Sort, TimeRange
from .text import escape as escape_text

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

TAKE_VERSIONS = "UPDATE counter SET value = value + ? WHERE id = 1 RETURNING value"

UPSERT_RECORD = """
    INSERT INTO records (data_set, id, seq, ts, updated_at, size, body)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (data_set, id) DO UPDATE SET
        seq = excluded.seq, ts = excluded.ts, updated_at = excluded.updated_at,
        size = excluded.size, body = excluded.body"""

UNCOUNTED_RECORDS = "SELECT id, body FROM records WHERE data_set = ? AND size = ?"
SET_SIZE = "UPDATE records SET size = ? WHERE data_set = ? AND id = ?"

# Keep the newest records whose running total (newest first) fits; delete all older ones.
EVICT_OLDEST = """
    DELETE FROM records WHERE data_set = ?1 AND seq <= (
        SELECT MAX(seq) FROM (
            SELECT seq, SUM(size) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS running
            FROM records WHERE data_set = ?1)
        WHERE running > ?2)"""

# A loose index scan: one probe per data set instead of a pass over every record.
LAST_UPDATED = """
    WITH RECURSIVE names (name) AS (
        SELECT MIN(data_set) FROM records
        UNION ALL
        SELECT (SELECT MIN(data_set) FROM records WHERE data_set > name)
        FROM names WHERE name IS NOT NULL)
    SELECT name, (SELECT MAX(updated_at) FROM records WHERE data_set = name)
    FROM names WHERE name IS NOT NULL"""

_RANK = """CASE json_type(body, ?)
    WHEN 'false' THEN 1 WHEN 'true' THEN 2 WHEN 'integer' THEN 3 WHEN 'real' THEN 3
    WHEN 'text' THEN 4 WHEN 'array' THEN 5 WHEN 'object' THEN 6 ELSE 0 END"""
"""The cross-type order (null or missing, false, true, numbers, strings) as a number."""

_GROUP_CLASS = """CASE json_type(body, ?)
    WHEN 'true' THEN 'b' WHEN 'false' THEN 'b' WHEN 'integer' THEN 'n' WHEN 'real' THEN 'n'
    WHEN 'text' THEN 's' END"""
"""Keeps `true` apart from `1` in a GROUP BY; NULL (left out) for null or missing values."""

_NUMERIC = "('integer', 'real')"


def json_path(field: str) -> str:
    """`$."field"`: the quoted form, so no field name is ever read as a path operator."""
    return f'$."{field}"'


def micros(moment: datetime) -> int:
    """An instant as whole microseconds since the epoch (naive taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


class Where:
    """The WHERE clause shared by raw and grouped queries, with its parameters in order."""

    def __init__(self, name: str) -> None:
        self.clauses: list[str] = ["data_set = ?"]
        self.params: list[Any] = [name]

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def filters(self, filters: tuple[Filter, ...]) -> "Where":
        for condition in filters:
            path = json_path(condition.field)
            if condition.prefix:
                prefix = escape_text(str(condition.value))
                self.add("json_type(body, ?) = 'text' AND "
                         "substr(json_extract(body, ?), 1, length(?)) = ?",
                         path, path, prefix, prefix)
            elif isinstance(condition.value, bool):
                self.add("json_type(body, ?) = ?", path, "true" if condition.value else "false")
            else:
                self.add("json_type(body, ?) = 'text' AND json_extract(body, ?) = ?",
                         path, path, escape_text(condition.value))
        return self

    def time(self, time: TimeRange) -> "Where":
        """Comparisons on `ts` leave out records without a `_timestamp` (ts NULL)."""
        if time.start is not None:
            self.add("ts >= ?", micros(time.start))
        if time.end is not None:
            self.add("ts <= ?" if time.end_inclusive else "ts < ?", micros(time.end))
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses)


def find_statement(name: str, filters, time: TimeRange, sort: Sort | None,
                   limit: int | None) -> tuple[str, list]:
    """Matching bodies in the cross-type order of the sort field, ties in write order."""
    where = Where(name).filters(filters).time(time)
    params = list(where.params)
    order = "seq"
    if sort is not None:
        direction = " DESC" if sort.descending else ""
        order = f"{_RANK}{direction}, json_extract(body, ?){direction}, seq"
        path = json_path(sort.field)
        params += [path, path]
    sql = f"SELECT body FROM records WHERE {where.sql} ORDER BY {order}"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


_HOUR = 3_600_000_000
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_MONDAY = 4 * _DAY  # 1970-01-01 was a Thursday; 1970-01-05 the first Monday

_SECONDS = "((ts - ((ts % 1000000) + 1000000) % 1000000) / 1000000)"  # floor, also before 1970


def _calendar(*modifiers: str) -> str:
    """Start of a calendar period via strftime on whole seconds, back in microseconds."""
    extra = "".join(f", {modifier}" for modifier in modifiers)
    return f"(CAST(strftime('%s', {_SECONDS}, 'unixepoch'{extra}) AS INTEGER) * 1000000)"


def _fixed(length: int, origin: int = 0) -> str:
    """Start of a fixed-length period by floor arithmetic on integer microseconds."""
    return f"(ts - (((ts - {origin}) % {length}) + {length}) % {length})"


_QUARTER_BACK = (f"'-' || ((CAST(strftime('%m', {_SECONDS}, 'unixepoch') AS INTEGER) + 2) % 3)"
                 " || ' months'")

PERIOD_START = {
    "hour": _fixed(_HOUR),
    "day": _fixed(_DAY),
    "week": _fixed(_WEEK, _MONDAY),
    "month": _calendar("'start of month'"),
    "quarter": _calendar("'start of month'", _QUARTER_BACK),
    "year": _calendar("'start of year'"),
}
"""Period start (µs) from `ts`, in SQL: UTC, Monday weeks, calendar quarters."""


def aggregate_statement(name: str, query, float_sums: bool = False) -> tuple[str, list, list[tuple[str, bool]]]:
    """One GROUP BY statement: period bucket, typed group values, count, field reductions.

    The inner SELECT picks the matching records and extracts what the outer one needs
    once per record; the outer one groups and reduces. Returns the statement, its
    parameters and the collected (field, want_set) pairs in column order.
    """
    where = Where(name).filters(query.filters).time(query.time)
    inner: list[str] = []
    inner_params: list[Any] = []
    outer: list[str] = []
    keys: list[str] = []
    conditions: list[str] = []
    if query.period is not None:
        inner.append(f"{PERIOD_START[query.period]} AS p")
        outer.append("p")
        keys.append("p")
        conditions.append("p IS NOT NULL")
    else:
        outer.append("NULL")
    for index, field in enumerate(query.group_by):
        path = json_path(field)
        inner.append(f"{_GROUP_CLASS} AS g{index}c, json_extract(body, ?) AS g{index}v")
        inner_params += [path, path]
        outer += [f"g{index}c", f"g{index}v"]
        keys += [f"g{index}c", f"g{index}v"]
        conditions.append(f"g{index}c IS NOT NULL")
    outer.append("COUNT(*)")
    collects = list({c.field: c.want_set for c in query.collect}.items())
    for index, (field, want_set) in enumerate(collects):
        path = json_path(field)
        t, v, j = f"c{index}t", f"c{index}v", f"c{index}j"
        inner.append(f"json_type(body, ?) AS {t}, json_extract(body, ?) AS {v}")
        inner_params += [path, path]
        outer += [f"{'TOTAL' if float_sums else 'SUM'}(CASE WHEN {t} IN {_NUMERIC} THEN {v} END)",
                  f"COUNT(CASE WHEN {t} IN {_NUMERIC} THEN 1 END)",
                  f"COUNT(CASE WHEN {t} <> 'null' THEN 1 END)"]
        if want_set:
            # `->` gives each value's JSON text exactly as stored (no float rounding);
            # DISTINCT on that text keeps true apart from 1 and "1".
            inner.append(f"body -> ? AS {j}")
            inner_params.append(path)
            outer.append(f"group_concat(DISTINCT CASE WHEN {t} <> 'null' THEN {j} END)")
    selected = ", ".join(inner) or "1"
    sql = (f"SELECT {', '.join(outer)} FROM (SELECT {selected} FROM records WHERE {where.sql})"
           + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
           + (f" GROUP BY {', '.join(keys)}" if keys else ""))
    return sql, inner_params + where.params, collects
