"""The MongoDB engine's reads: aggregation pipelines built from the query values.

Every read runs in the server as one pipeline over the `records` collection (one document
per record, see mongo.py: `d` data set, `i` id, `s` write order, `t` `_timestamp` in µs,
`u` `_updated_at` in µs, `z` size, `r` the record as a raw query returns it). Filtering,
time ranges, sorting, limits, bucketing, grouping and every reduction happen there; Python
only decodes the (small) answer. Run them with `allowDiskUse=True`: a large sort or group
may outgrow the server's in-memory limit.

JSON semantics over BSON:

* Booleans are not numbers. Filters name the BSON type they accept (`$type`), numbers are
  recognised with `$isNumber`, and `$sum` adds only what `$isNumber` admits.
* The cross-type order (null or missing, false, true, numbers, strings) is not BSON's
  (which puts booleans after strings), so sorting uses a computed rank before the value.
* Sets keep each value with its rank (`{k: rank, v: value}`): distinct by type and value,
  so `true` and `1` stay apart while `1` and `1.0` are one, as JSON values compare.
* Missing fields are null (`$ifNull`), as in every engine.

No user text becomes an operator or a path: the read API admits only letters, digits and
underscores in field names, and every name is checked again here (`safe_key`: no leading
`$`, no `.`, no U+0000) before any pipeline is built; values only ever appear as operands.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from backdrop.core.timeseries import as_utc, from_micros, micros, to_instant
from backdrop.core.values import distinct_sorted

from .base import AggregateQuery, AggregateRow, Filter, Op, Position, RecordQuery, Reduction, TimeRange
from . import rows
from .mongo_local import bucket_start
from .rows import Columns, Offsets

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def safe_key(key: str) -> bool:
    """A key MongoDB reads as a plain name: not empty, no leading `$` (an operator), no `.`
    (a path), no U+0000 (the end of a BSON key)."""
    return isinstance(key, str) and bool(key) and not key.startswith("$") and not any(
        character in key for character in ".\x00")


def _path(field: str) -> str:
    """The record field's path inside the stored document, once the name is known to be safe."""
    if not safe_key(field):
        raise ValueError(f"Not a field name MongoDB can take as it is: {field!r}")
    return f"r.{field}"


def _value(field: str) -> dict:
    """The field's value in an expression, null when the record lacks it."""
    return {"$ifNull": [f"${_path(field)}", None]}


def _rank(value: Any) -> dict:
    """The cross-type order as a number: null 0, false 1, true 2, numbers 3, strings 4."""
    return {"$switch": {"branches": [
        {"case": {"$lte": [value, None]}, "then": 0},
        {"case": {"$isNumber": value}, "then": 3},
        {"case": {"$eq": [value, False]}, "then": 1},
        {"case": {"$eq": [value, True]}, "then": 2},
        {"case": {"$lt": [value, {}]}, "then": 4},  # strings sort below documents in BSON
    ], "default": 5}}


# --- matching ------------------------------------------------------------------------------


def _successor(text: str) -> str | None:
    """The least string greater than every string starting with `text` (None: no bound).

    Strings compare by UTF-8 bytes, that is by code point, so the strings with a prefix are
    exactly those from the prefix up to (not including) the prefix with its last code point
    raised by one.
    """
    while text:
        last = ord(text[-1]) + 1
        if last in _SURROGATES:
            last = _SURROGATES.stop
        if last <= _MAX_CODE_POINT:
            return text[:-1] + chr(last)
        text = text[:-1]
    return None


def _condition(condition: Filter) -> dict:
    path = _path(condition.field)
    if condition.prefix:
        prefix = str(condition.value)
        bounds: dict[str, Any] = {"$type": "string", "$gte": prefix}
        upper = _successor(prefix)
        if upper is not None:
            bounds["$lt"] = upper
        return {path: bounds}
    kind = "bool" if isinstance(condition.value, bool) else "string"
    return {path: {"$type": kind, "$eq": condition.value}}


def _time(time: TimeRange) -> dict:
    """Bounds on `t`; a bounded range leaves out records without a `_timestamp` (t null)."""
    bounds: dict[str, int] = {}
    if time.start is not None:
        bounds["$gte"] = micros(as_utc(time.start))
    if time.end is not None:
        bounds["$lte" if time.end_inclusive else "$lt"] = micros(as_utc(time.end))
    return {"t": bounds} if bounds else {}


def matching(name: str, filters: Iterable[Filter], time: TimeRange) -> dict:
    """The `$match` of a query: the data set, every filter, the time range."""
    match: dict[str, Any] = {"d": name, **_time(time)}
    conditions = [_condition(condition) for condition in filters]
    if conditions:
        match["$and"] = conditions
    return match


# --- raw queries ---------------------------------------------------------------------------


def _after(position: Position) -> dict:
    """Records after `position` in paging order. BSON puts null `t` first, as the paging
    order does, and compares strings by UTF-8 bytes, which is code point order."""
    if position.timestamp is None:
        return {"$or": [{"t": {"$ne": None}}, {"t": None, "i": {"$gt": position.id}}]}
    stamp = micros(as_utc(position.timestamp))
    return {"$or": [{"t": {"$gt": stamp}}, {"t": stamp, "i": {"$gt": position.id}}]}


def find_pipeline(name: str, query: RecordQuery) -> list[dict]:
    """The matching records as stored, in write order or the sort field's cross-type order
    (ties in write order), or in paging order (`t`, then `i`), limited; the output
    documents are the records themselves."""
    pipeline: list[dict] = [{"$match": matching(name, query.filters, query.time)}]
    if query.page is not None:
        if query.page.after is not None:
            pipeline.append({"$match": _after(query.page.after)})
        pipeline.append({"$sort": {"t": 1, "i": 1}})
    elif query.sort is None:
        pipeline.append({"$sort": {"s": 1}})
    else:
        way = -1 if query.sort.descending else 1
        pipeline += [{"$addFields": {"_rank": _rank(_value(query.sort.field))}},
                     {"$sort": {"_rank": way, _path(query.sort.field): way, "s": 1}}]
    if query.limit:  # 0 and None both mean no limit
        pipeline.append({"$limit": query.limit})
    pipeline.append({"$replaceRoot": {"newRoot": "$r"}})
    return pipeline


def last_updated_pipeline() -> list[dict]:
    """`{_id: data-set name, u: newest _updated_at in µs}` for every data set with records."""
    return [{"$match": {"u": {"$ne": None}}}, {"$group": {"_id": "$d", "u": {"$max": "$u"}}}]


# --- grouped queries -----------------------------------------------------------------------


def _is_number(value: Any) -> dict:
    return {"$isNumber": value}


def _present(value: Any) -> dict:
    return {"$gt": [value, None]}


# MongoDB compares an int and an equal double as equal, and its expressions that could tell
# them apart (`$type`) are missing from mongomock: where they tie for the extreme, either
# may come out (base.Op).
_EXTREMES = {Op.MIN: "$min", Op.MAX: "$max"}


def _accumulator(reduction: Reduction) -> dict:
    value = _value(reduction.field)
    if reduction.op is Op.COUNT:
        return {"$sum": {"$cond": [_present(value), 1, 0]}}
    if reduction.op is Op.SUM:
        return {"$sum": {"$cond": [_is_number(value), value, 0]}}
    if reduction.op is Op.NUMBERS:
        return {"$sum": {"$cond": [_is_number(value), 1, 0]}}
    if reduction.op in _EXTREMES:
        return {_EXTREMES[reduction.op]: {"$cond": [_is_number(value), value, None]}}
    if reduction.op is Op.NUMBER_LIST:
        return {"$push": {"$cond": [_is_number(value), value, "$$REMOVE"]}}
    return {"$addToSet": {"$cond": [_present(value), {"k": _rank(value), "v": value}, "$$REMOVE"]}}


def aggregate_pipeline(name: str, query: AggregateQuery, offsets: Offsets | None = None) -> list[dict]:
    """One `$group` per bucket × group with the count and every reduction, flattened to
    the fields rows.Columns names.

    Buckets in UTC come from the `_<period>_start_at` keys the write path stores in every
    record with a `_timestamp` (their UTC ISO text groups exactly like the instant); buckets
    on local clocks are computed from `t` and the zone's `offsets` (mongo_local.py).
    """
    match = matching(name, query.filters, query.time)
    key: dict[str, Any] = {}
    if query.bucketing is not None and query.bucketing.local:
        match.setdefault("t", {"$ne": None})
        key[Columns.PERIOD] = bucket_start(query.bucketing.period, offsets or [(None, 0)])
    elif query.bucketing is not None:
        period_key = _path(query.bucketing.period.start_at_key)
        match[period_key] = {"$type": "string"}
        key[Columns.PERIOD] = f"${period_key}"
    for index, field in enumerate(query.group_by):
        match.setdefault("$and", []).append({_path(field): {"$ne": None}})
        # The rank beside the value keeps `true` and `1` apart, as the SQL engines' type tags do.
        key[Columns.group_kind(index)] = _rank(_value(field))
        key[Columns.group_value(index)] = f"${_path(field)}"
    group: dict[str, Any] = {"_id": key, Columns.COUNT: {"$sum": 1}}
    for index, reduction in enumerate(query.reductions):
        group[Columns.reduction(index)] = _accumulator(reduction)
    flat = {column: f"$_id.{column}" for column in key}
    flat.update({column: 1 for column in group if column != "_id"})
    pipeline = [{"$match": match}, {"$group": group}, {"$project": {"_id": 0, **flat}}]
    if query.row_cap is not None:  # one row more than the cap says the cap was passed
        pipeline.append({"$limit": query.row_cap + 1})
    return pipeline


class _Decoder:
    """The pipeline's output fields back to Python values."""

    @staticmethod
    def period(value: str | int):
        """A UTC period key's ISO text, or a local bucket's wall time in µs (mongo_local.py)."""
        return to_instant(value) if isinstance(value, str) else from_micros(int(value))

    @staticmethod
    def group_value(kind: Any, value: Any) -> Any:
        return value

    @staticmethod
    def reduction(reduction: Reduction, row: Mapping[str, Any], index: int) -> Any:
        value = row[Columns.reduction(index)]
        if reduction.op is Op.DISTINCT:
            return distinct_sorted(item["v"] for item in value or ())
        if reduction.op is Op.NUMBER_LIST:
            return sorted(value or ())
        return value


def decode_aggregate(documents: Iterable[Mapping[str, Any]], query: AggregateQuery) -> list[AggregateRow]:
    """The pipeline's documents as AggregateRows; a group of no records is no row (a server
    groups nothing then; a stand-in for one may answer a single empty group)."""
    return rows.decode_aggregate((row for row in documents if row[Columns.COUNT]), query, _Decoder())
