"""The SQL of the PostgreSQL engine: bulk upsert, eviction, and query builders.

Every value a user chose (field names included) travels as a bound parameter; only fixed
fragments of text are pasted together.
"""
from __future__ import annotations

from typing import Any, Sequence

from backdrop.core.timeseries import UTC, as_utc
from backdrop.core.values import distinct_sorted, tuple_key

from .base import AggregateQuery, AggregateRow, FieldStats, Filter, RecordQuery, TimeRange
from .postgres_codec import escape, stored_json
from .text import unescape

NEXT_VERSION = "nextval('backdrop_version_seq')"


UPSERT = f"""
INSERT INTO backdrop_records AS r (data_set, id, seq, ts, updated_at, size, body)
SELECT %s, b.id, {NEXT_VERSION}, b.ts, b.updated_at, b.size, b.body::jsonb
FROM unnest(%b::text[], %b::timestamptz[], %b::timestamptz[], %b::int[], %b::text[])
     WITH ORDINALITY AS b(id, ts, updated_at, size, body, position)
ORDER BY b.position
ON CONFLICT (data_set, id) DO UPDATE SET
    seq = EXCLUDED.seq, ts = EXCLUDED.ts, updated_at = EXCLUDED.updated_at,
    size = EXCLUDED.size, body = EXCLUDED.body
"""

# Walk back from the newest record adding sizes; the first record that no longer fits and
# everything older go. The walk stops there (index scan + LIMIT), so a write to a large
# capped data set reads only what it keeps.
EVICT = """
DELETE FROM backdrop_records
WHERE data_set = %(name)s AND seq <= (
    SELECT seq FROM (
        SELECT seq, sum(size) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS newer_total
        FROM backdrop_records WHERE data_set = %(name)s
        ORDER BY seq DESC
    ) totals
    WHERE newer_total > %(cap)s
    LIMIT 1)
"""

LAST_UPDATED = """
WITH RECURSIVE names(name) AS (
    SELECT min(data_set) FROM backdrop_records
    UNION ALL
    SELECT (SELECT min(data_set) FROM backdrop_records WHERE data_set > names.name)
    FROM names WHERE names.name IS NOT NULL
)
SELECT name, (SELECT max(updated_at) FROM backdrop_records WHERE data_set = names.name)
FROM names WHERE name IS NOT NULL
"""

_TYPE_RANK = (
    "CASE jsonb_typeof({v}) WHEN 'boolean' THEN (CASE WHEN {v} = 'true'::jsonb THEN 2 ELSE 1 END)"
    " WHEN 'number' THEN 3 WHEN 'string' THEN 4 ELSE 0 END"
)


class _Sql:
    """A statement under construction: text with %s placeholders and their values in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, text: str, *params: Any) -> "_Sql":
        self.parts.append(text)
        self.params.extend(params)
        return self

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def _conditions(name: str, filters: Sequence[Filter], time: TimeRange) -> _Sql:
    where = _Sql().add("WHERE r.data_set = %s", name)
    for condition in filters:
        if condition.prefix:
            where.add(
                "AND jsonb_typeof(r.body -> %s) = 'string' AND starts_with(r.body ->> %s, %s)",
                condition.field,
                condition.field,
                escape(str(condition.value)),
            )
        else:
            where.add("AND r.body -> %s = %s::jsonb", condition.field, stored_json(condition.value))
    if time.start is not None:
        where.add("AND r.ts >= %s", as_utc(time.start))
    if time.end is not None:
        where.add("AND r.ts <= %s" if time.end_inclusive else "AND r.ts < %s", as_utc(time.end))
    return where


def find_sql(name: str, query: RecordQuery) -> _Sql:
    statement = _Sql().add("SELECT r.body FROM backdrop_records r")
    if query.sort is not None:
        statement.add("CROSS JOIN LATERAL (SELECT r.body -> %s AS v) s", query.sort.field)
    where = _conditions(name, query.filters, query.time)
    statement.add(where.text, *where.params)
    if query.sort is None:
        statement.add("ORDER BY r.seq")
    else:
        way = " DESC" if query.sort.descending else ""
        keys = (
            _TYPE_RANK.format(v="s.v"),
            "CASE WHEN jsonb_typeof(s.v) = 'number' THEN s.v::numeric END",
            "(CASE WHEN jsonb_typeof(s.v) = 'string' THEN s.v #>> '{}' END) COLLATE \"C\"",
        )
        statement.add("ORDER BY " + ", ".join(key + way for key in keys) + ", r.seq")
    if query.limit:  # 0 and None both mean no limit, as in the reference engine
        statement.add("LIMIT %s", query.limit)
    return statement


def collected_fields(query: AggregateQuery) -> list[tuple[str, bool]]:
    """Each collected field once; a field named twice takes its last Collect, as the reference does."""
    return list({collect.field: collect.want_set for collect in query.collect}.items())


# A group value's text (`->>`) is its JSON type only for strings that look like no number
# and no boolean; numbers start with `-` or a digit (below ':' in byte order), booleans read
# `true`/`false`. Only for texts that could be either is the (costlier) jsonb_typeof asked.
_GROUP_TYPE = (
    "CASE WHEN x.g{i} COLLATE \"C\" < ':' OR x.g{i} IN ('true', 'false')"
    " THEN jsonb_typeof(x.b -> %s) END"
)


def _collect_columns(alias: str, want_set: bool) -> list[str]:
    """sum, numeric count, count, "some number was a float", and the distinct values.

    postgres_codec stores every float with a `.` in its text (and JSONB keeps a number's
    scale), so a float is a number of non-zero scale; the sum is exact in `numeric` and
    rounded once to a float when one took part.
    """
    number = f"jsonb_typeof({alias}) = 'number'"
    present = f"jsonb_typeof({alias}) <> 'null'"
    columns = [
        f"sum(CASE WHEN {number} THEN {alias}::numeric END)",
        f"count(*) FILTER (WHERE {number})",
        f"count(*) FILTER (WHERE {present})",
        f"coalesce(bool_or(scale({alias}::numeric) > 0) FILTER (WHERE {number}), false)",
    ]
    if want_set:
        columns.append(f"jsonb_agg(DISTINCT {alias}) FILTER (WHERE {present})")
    return columns


def _extracted(name: str, query: AggregateQuery, fields: list[tuple[str, bool]]) -> _Sql:
    """The inner query: per matching record only the period, group texts and collected values.

    With groups or collected fields it is fenced (`OFFSET 0` keeps the planner from merging
    it into the outer query), so the grouping above never carries whole bodies: the sort or
    hash holds a few small columns, and each field is looked up once per record. The body
    (`b`) goes up only for the group fields' type tags, computed below any sort.
    """
    columns = _Sql()
    if query.period is not None:
        columns.add("date_trunc(%s::text, r.ts AT TIME ZONE 'UTC') AS p,", query.period)
    for index, group in enumerate(query.group_by):
        columns.add(f"r.body ->> %s AS g{index},", group)
    for index, (field, _) in enumerate(fields):
        columns.add(f"r.body -> %s AS c{index},", field)
    columns.add("r.body AS b" if query.group_by else "1 AS one")
    where = _conditions(name, query.filters, query.time)
    if query.period is not None:
        where.add("AND r.ts IS NOT NULL")
    inner = _Sql().add("SELECT " + columns.text, *columns.params)
    inner.add("FROM backdrop_records r " + where.text, *where.params)
    if query.group_by or fields:
        inner.add("OFFSET 0")
    return inner


def aggregate_sql(name: str, query: AggregateQuery, fields: list[tuple[str, bool]]) -> _Sql:
    """Period, then (type, text) per group field, count, then the collect columns per field.

    Group values are compared as text, typed where the text alone is ambiguous: `true`,
    `1` and `"1"` stay apart. Numbers equal in value but spelt apart (`1`, `1.0`) come out
    as separate rows that aggregate_rows merges.
    """
    select = _Sql()
    if query.period is not None:
        select.add("x.p,")
    for index, group in enumerate(query.group_by):
        select.add(_GROUP_TYPE.format(i=index) + f", x.g{index},", group)
    keys = (query.period is not None) + 2 * len(query.group_by)
    select.add("count(*)")
    for index, (_, want_set) in enumerate(fields):
        select.add(", " + ", ".join(_collect_columns(f"x.c{index}", want_set)))
    inner = _extracted(name, query, fields)
    statement = _Sql().add("SELECT " + select.text, *select.params)
    statement.add("FROM (" + inner.text + ") x", *inner.params)
    present = [f"x.g{index} IS NOT NULL" for index in range(len(query.group_by))]
    if present:
        statement.add("WHERE " + " AND ".join(present))
    if keys:
        statement.add("GROUP BY " + ", ".join(str(i + 1) for i in range(keys)))
    else:
        statement.add("HAVING count(*) > 0")
    return statement


def _group_value(kind: str | None, text: str) -> Any:
    """A group value from its `->>` text and, where the text is ambiguous, its JSON type."""
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "boolean":
        return text == "true"
    return unescape(text)


def _field_stats(values: Sequence[Any], want_set: bool) -> FieldStats:
    total, numeric_count, count, any_float = values[:4]
    if total is None:
        total = 0
    stats = FieldStats(
        sum=float(total) if any_float else int(total),
        numeric_count=numeric_count,
        count=count,
    )
    if want_set:
        stats.values = distinct_sorted(values[4] or [])
    return stats


def _merged(old: list, new: Sequence[Any], want_set: bool) -> list:
    """Two rows' raw collect columns as one (for groups spelt `1` in one and `1.0` in another)."""
    total = (old[0] or 0) + (new[0] or 0) if old[0] is not None or new[0] is not None else None
    merged = [total, old[1] + new[1], old[2] + new[2], old[3] or new[3]]
    if want_set:
        merged.append((old[4] or []) + (new[4] or []))
    return merged


def _parsed(row: Sequence[Any], query: AggregateQuery, fields: list) -> list:
    """[period start, group, count, raw collect columns per field] of one aggregate_sql row."""
    position, period_start = 0, None
    if query.period is not None:
        period_start, position = row[0].replace(tzinfo=UTC), 1
    group = tuple(
        _group_value(row[position + 2 * i], row[position + 2 * i + 1]) for i in range(len(query.group_by))
    )
    position += 2 * len(query.group_by)
    count, position = row[position], position + 1
    columns = []
    for _, want_set in fields:
        width = 5 if want_set else 4
        columns.append(list(row[position : position + width]))
        position += width
    return [period_start, group, count, columns]


def aggregate_rows(rows: Sequence[Sequence[Any]], query: AggregateQuery, fields: list) -> list[AggregateRow]:
    """aggregate_sql's rows as AggregateRows, rows whose groups are equal numbers merged."""
    merged: dict[tuple, list] = {}
    for row in rows:
        entry = _parsed(row, query, fields)
        key = (entry[0], tuple_key(entry[1]))
        if key not in merged:
            merged[key] = entry
            continue
        kept = merged[key]
        kept[2] += entry[2]
        kept[3] = [_merged(old, new, want_set) for old, new, (_, want_set) in zip(kept[3], entry[3], fields)]
    return [_aggregate_row(*entry, fields) for entry in merged.values()]


def _aggregate_row(period_start, group: tuple, count: int, columns: list, fields: list) -> AggregateRow:
    result = AggregateRow(period_start=period_start, group=group, count=count)
    for (field, want_set), values in zip(fields, columns):
        result.fields[field] = _field_stats(values, want_set)
    return result
