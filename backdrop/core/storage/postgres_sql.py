"""The SQL of the PostgreSQL engine: bulk upsert, eviction, and query builders.

The builders have the shape of sql.py's (find, aggregate, decode). Every value a user
chose (field names included) travels as a bound parameter; only fixed fragments of text
are pasted together.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from backdrop.core.timeseries import UTC, as_utc
from backdrop.core.values import distinct_sorted

from .base import AggregateQuery, AggregateRow, Filter, Op, Position, RecordQuery, Reduction, TimeRange
from .postgres_codec import escape, stored_json
from .rows import Columns, decode_aggregate
from .sql import Statement
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
# capped data set reads only what it keeps. Answers the greatest seq that went (NULL:
# none), the data set's new floor for the change feed.
EVICT = """
WITH gone AS (
    DELETE FROM backdrop_records
    WHERE data_set = %(name)s AND seq <= (
        SELECT seq FROM (
            SELECT seq, sum(size) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS newer_total
            FROM backdrop_records WHERE data_set = %(name)s
            ORDER BY seq DESC
        ) totals
        WHERE newer_total > %(cap)s
        LIMIT 1)
    RETURNING seq)
SELECT max(seq) FROM gone
"""

# The removals the change feed reports (base.Storage.changes): a deleted id keeps the
# newest version that deleted it; a floor replaces the data set's previous one and drops
# the deletions it covers. Record ids are stored escaped, as in backdrop_records.
RECORD_DELETION = """
INSERT INTO backdrop_deleted_records (data_set, record_id, version) VALUES (%s, %s, %s)
ON CONFLICT (data_set, record_id) DO UPDATE
SET version = greatest(backdrop_deleted_records.version, EXCLUDED.version)
"""
SET_FLOOR = """
INSERT INTO backdrop_record_floors (data_set, floor, version) VALUES (%s, %s, %s)
ON CONFLICT (data_set) DO UPDATE SET floor = EXCLUDED.floor, version = EXCLUDED.version
"""
DROP_COVERED_DELETIONS = "DELETE FROM backdrop_deleted_records WHERE data_set = %s AND version <= %s"
FORGET_DELETIONS = "DELETE FROM backdrop_deleted_records WHERE data_set = %s"
FLOOR = "SELECT floor, version FROM backdrop_record_floors WHERE data_set = %s"
DELETIONS_AFTER = "SELECT record_id, version FROM backdrop_deleted_records WHERE data_set = %s AND version > %s"
RECORDS_AFTER = "SELECT seq, body FROM backdrop_records WHERE data_set = %s AND seq > %s ORDER BY seq LIMIT %s"

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


def _conditions(name: str, filters: Sequence[Filter], time: TimeRange) -> Statement:
    where = Statement().add("WHERE r.data_set = %s", name)
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
    return where.time_bounds(time, "r.ts", "%s", as_utc)


def _after(position: Position) -> Statement:
    """Records after `position` in paging order (NULL `ts` first, then `ts`, then `id` by
    code point: ids are stored escaped, which keeps code point order, and compared under the
    "C" collation, which is byte order, whatever the database's collation).

    `ts >= %s` leads so the `(data_set, ts)` index bounds the scan."""
    escaped = escape(position.id)
    if position.timestamp is None:
        return Statement().add('AND (r.ts IS NOT NULL OR r.id COLLATE "C" > %s)', escaped)
    stamp = as_utc(position.timestamp)
    return Statement().add('AND r.ts >= %s AND (r.ts > %s OR r.id COLLATE "C" > %s)', stamp, stamp, escaped)


def find_statement(name: str, query: RecordQuery) -> Statement:
    """Matching bodies in the cross-type order of the sort field, ties in write order; or in
    paging order (`ts` with NULL first, then `id`)."""
    statement = Statement().add("SELECT r.body FROM backdrop_records r")
    if query.sort is not None:
        statement.add("CROSS JOIN LATERAL (SELECT r.body -> %s AS v) s", query.sort.field)
    statement.extend(_conditions(name, query.filters, query.time))
    if query.page is not None:
        if query.page.after is not None:
            statement.extend(_after(query.page.after))
        statement.add('ORDER BY r.ts NULLS FIRST, r.id COLLATE "C"')
    elif query.sort is None:
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


# A group value's text (`->>`) is its JSON type only for strings that look like no number
# and no boolean; numbers start with `-` or a digit (below ':' in byte order), booleans read
# `true`/`false`. Only for texts that could be either is the (costlier) jsonb_typeof asked.
_GROUP_KIND = (
    "CASE WHEN x.{value} COLLATE \"C\" < ':' OR x.{value} IN ('true', 'false')"
    " THEN jsonb_typeof(x.b -> %s) END"
)

_NUMBER = "jsonb_typeof({x}) = 'number'"
_PRESENT = "jsonb_typeof({x}) <> 'null'"
_AS_NUMERIC = f"CASE WHEN {_NUMBER} THEN {{x}}::numeric END"  # a CASE: only numbers are cast


def _extreme(aggregate: str) -> str:
    """`min`/`max` over the numbers as `numeric`, which keeps each value's scale (ints 0,
    floats more); where an int and a float tie for the extreme, the int (base.Op)."""
    numbers = f"{aggregate}({_AS_NUMERIC})"
    ints = f"{aggregate}({_AS_NUMERIC}) FILTER (WHERE scale({_AS_NUMERIC}) = 0)"
    return f"CASE WHEN {ints} = {numbers} THEN {ints} ELSE {numbers} END"


# postgres_codec stores every float with a `.` in its text (and JSONB keeps a number's
# scale), so a float is a number of non-zero scale: the sum is exact in `numeric`, and
# rounded once to a float when a float took part (the `float` helper column).
_REDUCE: dict[Op, dict[str, str]] = {
    Op.SUM: {"": f"sum(CASE WHEN {_NUMBER} THEN {{x}}::numeric END)",
             "float": f"coalesce(bool_or(scale({{x}}::numeric) > 0) FILTER (WHERE {_NUMBER}), false)"},
    Op.NUMBERS: {"": f"count(*) FILTER (WHERE {_NUMBER})"},
    Op.COUNT: {"": f"count(*) FILTER (WHERE {_PRESENT})"},
    Op.DISTINCT: {"": f"jsonb_agg(DISTINCT {{x}}) FILTER (WHERE {_PRESENT})"},
    Op.MIN: {"": _extreme("min")},
    Op.MAX: {"": _extreme("max")},
    Op.NUMBER_LIST: {"": f"jsonb_agg({{x}} ORDER BY {_AS_NUMERIC}) FILTER (WHERE {_NUMBER})"},
}


def _extracted(name: str, query: AggregateQuery, fields: list[str]) -> Statement:
    """The inner query: per matching record only the period, group texts and reduced fields.

    With groups or reduced fields it is fenced (`OFFSET 0` keeps the planner from merging
    it into the outer query), so the grouping above never carries whole bodies: the sort or
    hash holds a few small columns, and each field is looked up once per record. The body
    (`b`) goes up only for the group fields' type tags, computed below any sort.
    """
    columns = Statement()
    if query.bucketing is not None:
        # PostgreSQL's date_trunc units are the periods' names. On local clocks the column is
        # the bucket's start in local wall time, turned into an instant by the bucketing
        # (rows.py), so a midnight skipped or repeated resolves as in every engine.
        zone = str(query.bucketing.zone) if query.bucketing.local else "UTC"
        columns.add(f"date_trunc(%s::text, r.ts AT TIME ZONE %s::text) AS {Columns.PERIOD},",
                    query.bucketing.period.name, zone)
    for index, group in enumerate(query.group_by):
        columns.add(f"r.body ->> %s AS {Columns.group_value(index)},", group)
    for index, field in enumerate(fields):
        columns.add(f"r.body -> %s AS f{index},", field)
    columns.add("r.body AS b" if query.group_by else "1 AS one")
    where = _conditions(name, query.filters, query.time)
    if query.bucketing is not None:
        where.add("AND r.ts IS NOT NULL")
    inner = Statement().extend(columns, before="SELECT ")
    inner.add("FROM backdrop_records r").extend(where)
    if query.group_by or fields:
        inner.add("OFFSET 0")
    return inner


def aggregate_statement(name: str, query: AggregateQuery) -> Statement:
    """Period, then (type, text) per group field, count, then the reductions' columns.

    Group values are compared as text, typed where the text alone is ambiguous: `true`,
    `1` and `"1"` stay apart. Numbers equal in value but spelt apart (`1`, `1.0`) come out
    as separate rows that sql.decode_aggregate merges.
    """
    fields = list(dict.fromkeys(reduction.field for reduction in query.reductions))
    select = Statement()
    keys = []
    if query.bucketing is not None:
        select.add(f"x.{Columns.PERIOD},")
        keys.append(Columns.PERIOD)
    for index, group in enumerate(query.group_by):
        kind, value = Columns.group_kind(index), Columns.group_value(index)
        select.add(_GROUP_KIND.format(value=value) + f" AS {kind}, x.{value},", group)
        keys += [kind, value]
    select.add(f"count(*) AS {Columns.COUNT}")
    for index, reduction in enumerate(query.reductions):
        alias = f"x.f{fields.index(reduction.field)}"
        for helper, sql in _REDUCE[reduction.op].items():
            select.add(f", {sql.format(x=alias)} AS {Columns.reduction(index, helper)}")
    statement = Statement().extend(select, before="SELECT ")
    statement.extend(_extracted(name, query, fields), before="FROM (", after=") x")
    present = [f"x.{Columns.group_value(index)} IS NOT NULL" for index in range(len(query.group_by))]
    if present:
        statement.add("WHERE " + " AND ".join(present))
    if keys:
        statement.add("GROUP BY " + ", ".join(keys))
    else:
        statement.add("HAVING count(*) > 0")
    if query.row_cap is not None:  # one row more than the cap says the cap was passed
        statement.add("LIMIT %s", query.row_cap + 1)
    return statement


class Decoder:
    """PostgreSQL's aggregate columns back to Python values (see aggregate_statement)."""

    @staticmethod
    def period(value: datetime) -> datetime:
        return value.replace(tzinfo=UTC)

    @staticmethod
    def group_value(kind: str | None, text: str) -> Any:
        """A group value from its `->>` text and, where the text is ambiguous, its JSON type."""
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "boolean":
            return text == "true"
        return unescape(text)

    @staticmethod
    def reduction(reduction: Reduction, row: Mapping[str, Any], index: int) -> Any:
        value = row[Columns.reduction(index)]
        if reduction.op is Op.SUM:
            total = value or 0
            return float(total) if row[Columns.reduction(index, "float")] else int(total)
        if reduction.op is Op.DISTINCT:
            return distinct_sorted(value or [])
        if reduction.op in (Op.MIN, Op.MAX):
            return _number(value)
        if reduction.op is Op.NUMBER_LIST:
            return value or []
        return value


def _number(value: Decimal | None) -> int | float | None:
    """A `numeric` as the JSON number it was stored as: no fraction digits is an int."""
    if value is None:
        return None
    return int(value) if value.as_tuple().exponent >= 0 else float(value)


def aggregate_rows(rows: Iterable[Mapping[str, Any]], query: AggregateQuery) -> list[AggregateRow]:
    return decode_aggregate(rows, query, Decoder())
