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

from backdrop.core.timeseries import MICROSECOND, Period, micros

from .base import AggregateQuery, Filter, Op, Position, RecordQuery, TimeRange
from .rows import Columns, Offsets
from .sql import Statement
from .text import escape as escape_text

TAKE_VERSIONS = "UPDATE counter SET value = value + ? WHERE id = 1 RETURNING value"

UPSERT_RECORD = """
    INSERT INTO records (data_set, id, seq, ts, updated_at, size, body)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (data_set, id) DO UPDATE SET
        seq = excluded.seq, ts = excluded.ts, updated_at = excluded.updated_at,
        size = excluded.size, body = excluded.body"""

UNCOUNTED_RECORDS = "SELECT id, body FROM records WHERE data_set = ? AND size = ?"
SET_SIZE = "UPDATE records SET size = ? WHERE data_set = ? AND id = ?"

# Keep the newest records whose running total (newest first) fits; all older ones go. The
# greatest seq that goes (NULL: none) is found first, since it becomes the data set's floor
# (the change feed); then everything up to it is deleted.
EVICTION_FLOOR = """
    SELECT MAX(seq) FROM (
        SELECT seq, SUM(size) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS running
        FROM records WHERE data_set = ?1)
    WHERE running > ?2"""
EVICT_UP_TO = "DELETE FROM records WHERE data_set = ? AND seq <= ?"

# The removals the change feed reports (base.Storage.changes): a deleted id keeps the
# newest version that deleted it; a floor replaces the data set's previous one and drops
# the deletions it covers.
RECORD_DELETION = """
    INSERT INTO deleted_records (data_set, record_id, version) VALUES (?, ?, ?)
    ON CONFLICT (data_set, record_id) DO UPDATE SET version = MAX(version, excluded.version)"""
SET_FLOOR = """
    INSERT INTO record_floors (data_set, floor, version) VALUES (?, ?, ?)
    ON CONFLICT (data_set) DO UPDATE SET floor = excluded.floor, version = excluded.version"""
DROP_COVERED_DELETIONS = "DELETE FROM deleted_records WHERE data_set = ? AND version <= ?"
FORGET_DELETIONS = "DELETE FROM deleted_records WHERE data_set = ?"
FLOOR = "SELECT floor, version FROM record_floors WHERE data_set = ?"
DELETIONS_AFTER = "SELECT record_id, version FROM deleted_records WHERE data_set = ? AND version > ?"
RECORDS_AFTER = "SELECT seq, body FROM records WHERE data_set = ? AND seq > ? ORDER BY seq LIMIT ?"

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

_GROUP_KIND = """CASE json_type(body, ?)
    WHEN 'true' THEN 'b' WHEN 'false' THEN 'b' WHEN 'integer' THEN 'n' WHEN 'real' THEN 'n'
    WHEN 'text' THEN 's' END"""
"""Keeps `true` apart from `1` in a GROUP BY; NULL (left out) for null or missing values."""

_NUMERIC = "('integer', 'real')"


def json_path(field: str) -> str:
    """`$."field"`: the quoted form, so no field name is ever read as a path operator."""
    return f'$."{field}"'


def _where(name: str, filters: tuple[Filter, ...], time: TimeRange) -> Statement:
    """The WHERE clause shared by raw and grouped queries.

    Comparisons on `ts` leave out records without a `_timestamp` (ts NULL).
    """
    where = Statement().add("WHERE data_set = ?", name)
    for condition in filters:
        path = json_path(condition.field)
        if condition.prefix:
            prefix = escape_text(str(condition.value))
            where.add("AND json_type(body, ?) = 'text' AND substr(json_extract(body, ?), 1, length(?)) = ?",
                      path, path, prefix, prefix)
        elif isinstance(condition.value, bool):
            where.add("AND json_type(body, ?) = ?", path, "true" if condition.value else "false")
        else:
            where.add("AND json_type(body, ?) = 'text' AND json_extract(body, ?) = ?",
                      path, path, escape_text(condition.value))
    return where.time_bounds(time, "ts", "?", micros)


def _after(position: Position) -> Statement:
    """Records after `position` in paging order: SQLite puts NULL `ts` first, as the paging
    order does, and compares `id` text by its UTF-8 bytes, which is code point order.

    `ts >= ?` leads so the `(data_set, ts)` index bounds the scan."""
    if position.timestamp is None:
        return Statement().add("AND (ts IS NOT NULL OR id > ?)", position.id)
    stamp = micros(position.timestamp)
    return Statement().add("AND ts >= ? AND (ts > ? OR id > ?)", stamp, stamp, position.id)


def find_statement(name: str, query: RecordQuery) -> Statement:
    """Matching bodies in the cross-type order of the sort field, ties in write order; or in
    paging order (`ts`, then `id`)."""
    statement = Statement().add("SELECT body FROM records").extend(_where(name, query.filters, query.time))
    if query.page is not None:
        if query.page.after is not None:
            statement.extend(_after(query.page.after))
        statement.add("ORDER BY ts, id")
    elif query.sort is None:
        statement.add("ORDER BY seq")
    else:
        way = " DESC" if query.sort.descending else ""
        path = json_path(query.sort.field)
        statement.add(f"ORDER BY {_RANK}{way}, json_extract(body, ?){way}, seq", path, path)
    if query.limit:  # 0 and None both mean no limit
        statement.add("LIMIT ?", query.limit)
    return statement


# --- period buckets ----------------------------------------------------------------------

def _seconds(ts: str) -> str:
    return f"(({ts} - (({ts} % 1000000) + 1000000) % 1000000) / 1000000)"  # floor, also before 1970


def _calendar(ts: str, *modifiers: str) -> str:
    """Start of a calendar period via strftime on whole seconds, back in microseconds."""
    extra = "".join(f", {modifier}" for modifier in modifiers)
    return f"(CAST(strftime('%s', {_seconds(ts)}, 'unixepoch'{extra}) AS INTEGER) * 1000000)"


def _fixed(ts: str, length: int, origin: int) -> str:
    """Start of a fixed-length period by floor arithmetic on integer microseconds."""
    return f"({ts} - ((({ts} - {origin}) % {length}) + {length}) % {length})"


def period_start(period: Period, ts: str = "ts") -> str:
    """The start (µs) of the period holding `ts` (an SQL expression), from the period's own rules."""
    if period.length is not None:
        return _fixed(ts, period.length // MICROSECOND, micros(period.origin))
    if period.months == 12:
        return _calendar(ts, "'start of year'")
    if period.months == 1:
        return _calendar(ts, "'start of month'")
    months_back = (f"'-' || ((CAST(strftime('%m', {_seconds(ts)}, 'unixepoch') AS INTEGER) - 1)"
                   f" % {int(period.months)}) || ' months'")
    return _calendar(ts, "'start of month'", months_back)


def wall_time(offsets: Offsets) -> str:
    """`ts` as the zone's clocks read it (µs, as if UTC): the offset in force added, chosen
    by a CASE over the transition instants (newest first). SQLite knows no zone rules; the
    offsets come from zoneinfo (timeseries.utc_offsets), as integers spliced in."""
    (_, first), changes = offsets[0], offsets[1:]
    if not changes:
        return f"(ts + {int(first)})"
    branches = " ".join(f"WHEN ts >= {micros(moment)} THEN {int(offset)}" for moment, offset in reversed(changes))
    return f"(ts + CASE {branches} ELSE {int(first)} END)"


# --- grouped queries -----------------------------------------------------------------------

def _extreme(aggregate: str) -> str:
    """MIN/MAX over the numbers; where an int and a float tie for the extreme, the int
    (base.Op): SQLite compares them by value, so the extreme of the ints alone then equals it."""
    numbers = f"{aggregate}(CASE WHEN {{f}}t IN {_NUMERIC} THEN {{f}}v END)"
    ints = f"{aggregate}(CASE WHEN {{f}}t = 'integer' THEN {{f}}v END)"
    return f"CASE WHEN {ints} = {numbers} THEN {ints} ELSE {numbers} END"


_REDUCE = {
    Op.SUM: "{sum}(CASE WHEN {f}t IN " + _NUMERIC + " THEN {f}v END)",
    Op.NUMBERS: "COUNT(CASE WHEN {f}t IN " + _NUMERIC + " THEN 1 END)",
    Op.COUNT: "COUNT(CASE WHEN {f}t <> 'null' THEN 1 END)",
    # `->` gives each value's JSON text exactly as stored (no float rounding); DISTINCT on
    # that text keeps true apart from 1 and "1". Texts are joined by commas: a JSON list.
    Op.DISTINCT: "group_concat(DISTINCT CASE WHEN {f}t <> 'null' THEN {f}j END)",
    Op.MIN: _extreme("MIN"),
    Op.MAX: _extreme("MAX"),
    # Every number's JSON text as stored (exact), joined into a JSON list; SQLite before
    # 3.44 cannot order inside an aggregate, so the decoder sorts it.
    Op.NUMBER_LIST: "group_concat(CASE WHEN {f}t IN " + _NUMERIC + " THEN {f}j END)",
}
_VALUE_OPS = frozenset((Op.SUM, Op.MIN, Op.MAX))
_TEXT_OPS = frozenset((Op.DISTINCT, Op.NUMBER_LIST))


def _extracted_fields(query: AggregateQuery) -> Statement:
    """Per collected field, once per record: its JSON type, and its value and JSON text
    only where a reduction needs them."""
    columns = Statement()
    ops_by_field: dict[str, set[Op]] = {}
    for reduction in query.reductions:
        ops_by_field.setdefault(reduction.field, set()).add(reduction.op)
    for index, (field, ops) in enumerate(ops_by_field.items()):
        path = json_path(field)
        columns.add(f", json_type(body, ?) AS f{index}t", path)
        if ops & _VALUE_OPS:
            columns.add(f", json_extract(body, ?) AS f{index}v", path)
        if ops & _TEXT_OPS:
            columns.add(f", body -> ? AS f{index}j", path)
    return columns


def aggregate_statement(name: str, query: AggregateQuery, float_sums: bool = False,
                        offsets: Offsets | None = None) -> Statement:
    """One GROUP BY statement: period bucket, typed group values, count, reductions.

    A bucketing on local clocks needs the zone's `offsets` over the records' time
    (rows.local_offsets); its period column is then the bucket's start in local wall time.

    The inner SELECT picks the matching records and extracts what the outer one needs
    once per record; it is fenced (`LIMIT -1`) so SQLite does not merge it into the
    grouping, whose sort then carries a few small columns instead of whole bodies.
    `float_sums` uses TOTAL (a float) where SUM would overflow 64-bit integers.
    """
    inner = Statement().add("SELECT 1 AS one")
    outer: list[str] = []
    keys: list[str] = []
    present: list[str] = []  # a record without a timestamp or a group value takes no part
    if query.bucketing is not None:
        ts = wall_time(offsets) if query.bucketing.local else "ts"
        inner.add(f", {period_start(query.bucketing.period, ts)} AS {Columns.PERIOD}")
        outer.append(Columns.PERIOD)
        keys.append(Columns.PERIOD)
        present.append(Columns.PERIOD)
    for index, group in enumerate(query.group_by):
        kind, value = Columns.group_kind(index), Columns.group_value(index)
        path = json_path(group)
        inner.add(f", {_GROUP_KIND} AS {kind}, json_extract(body, ?) AS {value}", path, path)
        outer += [kind, value]
        keys += [kind, value]
        present.append(kind)
    outer.append(f"COUNT(*) AS {Columns.COUNT}")
    fields = list(dict.fromkeys(reduction.field for reduction in query.reductions))
    for index, reduction in enumerate(query.reductions):
        sql = _REDUCE[reduction.op].format(f=f"f{fields.index(reduction.field)}",
                                           sum="TOTAL" if float_sums else "SUM")
        outer.append(f"{sql} AS {Columns.reduction(index)}")
    inner.extend(_extracted_fields(query))
    inner.add("FROM records").extend(_where(name, query.filters, query.time))
    if keys or query.reductions:
        inner.add("LIMIT -1")
    statement = Statement().add(f"SELECT {', '.join(outer)} FROM (").extend(inner).add(")")
    if present:
        statement.add("WHERE " + " AND ".join(f"{column} IS NOT NULL" for column in present))
    if keys:
        statement.add("GROUP BY " + ", ".join(keys))
    if query.row_cap is not None:  # one row more than the cap says the cap was passed
        statement.add("LIMIT ?", query.row_cap + 1)
    return statement
