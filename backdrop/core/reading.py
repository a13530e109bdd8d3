"""Running a parsed Query against an engine: what to ask it, and which shape to answer with.

A raw query is one `find`; a grouped query is one `aggregate` (the engine counts and
reduces, close to the data) followed by shaping in results.py. A `duration` query may run
once more on a shifted range (docs/query-language.md, "Shifting a duration").
"""
from __future__ import annotations

from datetime import datetime, timezone

import math

from backdrop.core import collect, paging, results
from backdrop.core.limits import NO_LIMITS, Limits, too_many_rows
from backdrop.core.query import Query, QueryError
from backdrop.core.storage.base import AggregateQuery, Page, RecordQuery, Storage, TimeRange, TooManyRows


def execute(storage: Storage, name: str, query: Query, limits: Limits = NO_LIMITS) -> list[dict]:
    """The `data` list of the read API's answer to `query` on the data set `name`.

    `limits` (core/limits.py) bound what it may build: a read for a client passes the
    settings' limits, a transform none.
    """
    if query.paged:
        return page(storage, name, query, limits).records
    if query.is_raw:
        records = list(storage.find(name, record_query(query, limits)))
        limits.check_rows(len(records), query)
        return records
    check_sort_key(query)
    return _grouped(storage, name, query, limits, may_shift=query.duration is not None and not query.flatten)


def page(storage: Storage, name: str, query: Query, limits: Limits = NO_LIMITS) -> paging.PageOfRecords:
    """One page of a paged raw query: one record more than the page holds is asked for,
    so the engine's answer itself says whether another page follows."""
    assert query.paged and query.limit
    limits.check_page(query)
    asked = RecordQuery(query.filters, _time(query), None, query.limit + 1, Page(query.after),
                        timeout=limits.timeout)
    return paging.cut(list(storage.find(name, asked)), query.limit)


def record_query(query: Query, limits: Limits = NO_LIMITS) -> RecordQuery:
    return RecordQuery(query.filters, _time(query), query.sort_by, limits.engine_cap(query.limit or None),
                       timeout=limits.timeout)


def aggregate_query(query: Query, limits: Limits = NO_LIMITS) -> AggregateQuery:
    """One aggregate call serves every collect: each reduction they need is asked for once."""
    return AggregateQuery(
        filters=query.filters,
        time=_time(query),
        bucketing=query.bucketing,
        group_by=query.group_by,
        reductions=collect.reductions(query.collect),
        row_cap=limits.rows,
        timeout=limits.timeout,
    )


def _time(query: Query) -> TimeRange:
    return TimeRange(query.start_at, query.end_at, query.inclusive)


def sortable_keys(query: Query) -> set[str]:
    """The keys every row of a grouped result has, hence the only keys it can be sorted by."""
    keys = {*query.group_by, "_count", *collect.keys(query.collect)}
    if query.period and query.group_by:
        keys |= {"_start_at", "_end_at"} if query.flatten else {"_group_count"}
    return keys


def check_sort_key(query: Query) -> None:
    """Sorting by a key the rows lack is the client's mistake: a 400, not a 500."""
    if query.sort_by is not None and query.sort_by.field not in sortable_keys(query):
        raise QueryError(f"Cannot sort by {query.sort_by.field}: it is not a field of the results")


def _grouped(storage: Storage, name: str, query: Query, limits: Limits, *, may_shift: bool) -> list[dict]:
    """Every count below is checked against the row limit before the rows it counts are built."""
    if query.period is not None and query.start_at is not None and query.end_at is not None:
        limits.check_rows(_periods(query, query.start_at, query.end_at), query)
    try:
        rows = storage.aggregate(name, aggregate_query(query, limits))
    except TooManyRows:
        raise QueryError(too_many_rows(limits.rows, query)) from None
    if query.period is None:
        return _sorted_and_limited(results.grouped(results.group_rows(rows), query.group_by, query.collect), query)
    start, end = _series_range(query, rows)
    periods = _periods(query, start, end)
    if query.group_by and query.flatten:
        limits.check_rows(math.prod(map(len, results.seen_values(rows, query.group_by))) * periods, query)
        flat = results.flattened(rows, query.group_by, query.collect, query.bucketing, start, end)
        return _sorted_and_limited(flat, query)
    if query.group_by:
        groups = results.group_rows(rows)
        limits.check_rows(len(groups) * periods, query)
        shaped = results.nested(groups, query.group_by, query.collect, query.bucketing, start, end)
        shift = results.nested_shift(shaped, backward=_backward(query))
        shaped = _sorted_and_limited(shaped, query)
    else:
        shaped = results.filled_series(query.bucketing, start, end, rows, query.collect)
        shift = results.first_data_index(shaped, backward=_backward(query))
    if may_shift and shift > 0:
        moved = query.shifted(-shift if _backward(query) else shift)
        return _grouped(storage, name, moved, limits, may_shift=False)
    return shaped


def _periods(query: Query, start: datetime, end: datetime) -> int:
    """How many buckets the series from `start` to `end` has, by arithmetic (not by walking them)."""
    bucketing = query.bucketing
    return bucketing.count_between(bucketing.start(start), bucketing.end(end))


def _backward(query: Query) -> bool:
    """A range counted from its end (or from now) slides back; one counted from its start, forward."""
    return query.anchor != "start"


def _series_range(query: Query, rows) -> tuple[datetime, datetime]:
    """The query's range; a period query always has one, but a missing bound is no crash."""
    starts = [row.period_start for row in rows if row.period_start is not None]
    start = query.start_at or (min(starts) if starts else None)
    end = query.end_at or (query.bucketing.add(max(starts), 1) if starts else None)
    if start is None or end is None:  # nothing to show: an empty series
        start = end = query.bucketing.start(start or end or datetime.now(timezone.utc))
    return start, end


def _sorted_and_limited(rows: list[dict], query: Query) -> list[dict]:
    return results.limit_rows(results.sort_rows(rows, query.sort_by), query.limit)
