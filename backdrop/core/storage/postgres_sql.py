"""The SQL of the PostgreSQL engine: schema, bulk upsert, eviction, and query builders.

Every value a user chose (field names included) travels as a bound parameter; only fixed
fragments of text are pasted together.
"""
from __future__ import annotations

from typing import Any, Sequence

from backdrop.core.timeseries import UTC, as_utc
from backdrop.core.values import order_key

from .base import AggregateQuery, AggregateRow, FieldStats, Filter, RecordQuery, TimeRange
from .postgres_codec import escape, stored_json

SCHEMA_LOCK = 0x6261636B64726F70  # "backdrop": serialises schema creation across processes
SCHEMA = (
    "CREATE SEQUENCE IF NOT EXISTS backdrop_version_seq",
    """CREATE TABLE IF NOT EXISTS backdrop_data_sets (
        name TEXT PRIMARY KEY,
        data_group TEXT NOT NULL,
        data_type TEXT NOT NULL,
        config JSONB NOT NULL,
        version BIGINT NOT NULL,
        UNIQUE (data_group, data_type))""",
    """CREATE TABLE IF NOT EXISTS backdrop_records (
        data_set TEXT NOT NULL,
        id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        ts TIMESTAMPTZ NULL,
        updated_at TIMESTAMPTZ NULL,
        size INT NOT NULL,
        body JSONB NOT NULL,
        PRIMARY KEY (data_set, id))""",
    "CREATE INDEX IF NOT EXISTS backdrop_records_ts ON backdrop_records (data_set, ts)",
    "CREATE INDEX IF NOT EXISTS backdrop_records_seq ON backdrop_records (data_set, seq) INCLUDE (size)",
    "CREATE INDEX IF NOT EXISTS backdrop_records_updated"
    " ON backdrop_records (data_set, updated_at)",
    """CREATE TABLE IF NOT EXISTS backdrop_documents (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        body JSONB NOT NULL,
        PRIMARY KEY (kind, key))""",
)
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


def _collect_columns(alias: str, want_set: bool) -> list[str]:
    """sum, numeric count, count, "some number was a float", and the distinct values.

    postgres_codec stores every float with a `.` in its text, so a `.` tells floats from
    ints; the sum is exact in `numeric` and rounded once to a float when one took part.
    """
    number = f"jsonb_typeof({alias}.v) = 'number'"
    present = f"jsonb_typeof({alias}.v) <> 'null'"
    columns = [
        f"sum(CASE WHEN {number} THEN {alias}.v::numeric END)",
        f"count(*) FILTER (WHERE {number})",
        f"count(*) FILTER (WHERE {present})",
        f"coalesce(bool_or(strpos({alias}.v::text, '.') > 0) FILTER (WHERE {number}), false)",
    ]
    if want_set:
        columns.append(f"jsonb_agg(DISTINCT {alias}.v) FILTER (WHERE {present})")
    return columns


def aggregate_sql(name: str, query: AggregateQuery, fields: list[tuple[str, bool]]) -> _Sql:
    select, joins = _Sql(), _Sql()
    keys = 0
    if query.period is not None:
        select.add("date_trunc(%s::text, r.ts AT TIME ZONE 'UTC'),", query.period)
        keys += 1
    for index, group in enumerate(query.group_by):
        joins.add(f"CROSS JOIN LATERAL (SELECT r.body -> %s AS v) g{index}", group)
        select.add(f"g{index}.v,")
        keys += 1
    select.add("count(*)")
    for index, (field, want_set) in enumerate(fields):
        joins.add(f"CROSS JOIN LATERAL (SELECT r.body -> %s AS v) c{index}", field)
        select.add(", " + ", ".join(_collect_columns(f"c{index}", want_set)))
    where = _conditions(name, query.filters, query.time)
    if query.period is not None:
        where.add("AND r.ts IS NOT NULL")
    for index in range(len(query.group_by)):
        where.add(f"AND jsonb_typeof(g{index}.v) <> 'null'")
    statement = _Sql().add("SELECT " + select.text, *select.params)
    statement.add("FROM backdrop_records r " + joins.text, *joins.params)
    statement.add(where.text, *where.params)
    if keys:
        statement.add("GROUP BY " + ", ".join(str(i + 1) for i in range(keys)))
    else:
        statement.add("HAVING count(*) > 0")
    return statement


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
        stats.values = sorted(values[4] or [], key=order_key)
    return stats


def aggregate_row(row: Sequence[Any], query: AggregateQuery, fields: list) -> AggregateRow:
    position = 0
    period_start = None
    if query.period is not None:
        period_start = row[0].replace(tzinfo=UTC)
        position = 1
    group = tuple(row[position : position + len(query.group_by)])
    position += len(query.group_by)
    result = AggregateRow(period_start=period_start, group=group, count=row[position])
    position += 1
    for field, want_set in fields:
        width = 5 if want_set else 4
        result.fields[field] = _field_stats(row[position : position + width], want_set)
        position += width
    return result
