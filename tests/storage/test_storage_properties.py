"""Property: on random records and random queries, every engine answers as the reference does.

Records mix JSON types in the same fields (small ints, floats, booleans, nulls, short
strings with non-ASCII, U+0000 and LIKE/regex metacharacters), some fields and timestamps are
missing, ids repeat (upserts) and batches may be capped. Time bounds are often the
timestamps of stored records, so range ends are exercised. Raw answers are compared as
lists (write order and the stable sort are total orders); aggregate rows as lists in a
total order, sums within a float tolerance and with the same int/float type.
"""
from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backdrop.core.storage.base import (
    AggregateQuery,
    Filter,
    Op,
    Page,
    Position,
    RecordQuery,
    Reduction,
    Sort,
    TimeRange,
)
from backdrop.core.storage.memory import MemoryStorage
from backdrop.core.timeseries import PERIODS, Bucketing, period_keys, to_instant
from backdrop.core.values import tuple_key

UTC = timezone.utc
FIELDS = ["a", "b", "c"]
_START = datetime(2011, 1, 1, tzinfo=UTC)
_names = itertools.count()

texts = st.text(alphabet="aAé😀%_.\x00\x01", max_size=2)
filter_texts = st.sampled_from(["", "a", "A", "é", "%", "_", "a%", "😀", ".", "aa", "\x00", "a\x01"])
floats = st.one_of(st.floats(-100, 100, allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.1, 0.30000000000000004, 1e-07, 2.0, -0.5]))
values = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), floats, texts)
# Over five years, often on a coarse grid so that records share period boundaries.
instants = st.one_of(
    st.builds(lambda quarters: _START + timedelta(days=91 * quarters), st.integers(0, 20)),
    st.builds(lambda days, hours, micros: _START + timedelta(days=days, hours=hours, microseconds=micros),
              st.integers(0, 5 * 365), st.integers(0, 23), st.sampled_from([0, 1, 999_999, 1_800_000_000])),
)
written = st.datetimes(min_value=datetime(2014, 1, 1), max_value=datetime(2014, 1, 2),
                       timezones=st.just(UTC))


@st.composite
def records(draw) -> dict:
    record = {"_id": f"r{draw(st.integers(0, 40))}", "_updated_at": draw(written)}
    if draw(st.integers(0, 4)):
        timestamp = draw(instants)
        record["_timestamp"] = timestamp
        record.update(period_keys(timestamp))
    for field in FIELDS:
        if draw(st.integers(0, 3)):
            record[field] = draw(values)
    return record


batches = st.lists(
    st.tuples(st.lists(records(), min_size=5, max_size=30), st.sampled_from([0, 0, 0, 3000, 10000])),
    min_size=1, max_size=3)

filters = st.one_of(
    st.builds(Filter, st.sampled_from(FIELDS), filter_texts, st.booleans()),
    st.builds(Filter, st.sampled_from(FIELDS), st.booleans()),
)


def time_ranges(bounds) -> st.SearchStrategy[TimeRange]:
    @st.composite
    def bounded(draw) -> TimeRange:
        start, end = draw(st.none() | bounds), draw(st.none() | bounds)
        if start is None and end is None:
            start = draw(bounds)
        elif start is not None and end is not None and start > end and draw(st.integers(0, 3)):
            start, end = end, start
        return TimeRange(start, end, draw(st.booleans()))

    return st.just(TimeRange()) | bounded()


def positions(bounds, stored: list[Position]) -> st.SearchStrategy[Position]:
    """Mostly exactly a stored record's position (where a page ends), else ids around the stored ones."""
    around = st.builds(Position, st.none() | bounds, st.sampled_from(["", "r", "r1", "r19", "r3", "r40", "s"]))
    return st.sampled_from(stored) | around if stored else around


def record_queries(bounds, stored: list[Position] = ()) -> st.SearchStrategy[RecordQuery]:
    """Sorted or in write order, or (never both) in paging order from a position."""
    common = {
        "filters": st.just(()) | st.lists(filters, min_size=1, max_size=2).map(tuple),
        "time": time_ranges(bounds),
        "limit": st.none() | st.integers(1, 8),
    }
    sorted_queries = st.builds(
        RecordQuery, **common,
        sort=st.none() | st.builds(Sort, st.sampled_from(FIELDS + ["_id", "_timestamp"]), st.booleans()),
    )
    paged_queries = st.builds(RecordQuery, **common, page=st.builds(Page, st.none() | positions(bounds, list(stored))))
    return sorted_queries | paged_queries


def aggregate_queries(bounds) -> st.SearchStrategy[AggregateQuery]:
    return st.builds(
        AggregateQuery,
        filters=st.just(()) | st.lists(filters, min_size=1, max_size=1).map(tuple),
        time=time_ranges(bounds),
        bucketing=st.sampled_from([None] + [Bucketing(period) for period in PERIODS.values()]),
        group_by=st.just(()) | st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True).map(tuple),
        reductions=st.lists(st.builds(Reduction, st.sampled_from(FIELDS), st.sampled_from(Op)),
                            max_size=4, unique=True).map(tuple),
    )


engine_settings = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    max_examples=settings.default.max_examples * 3,  # cheap examples; three times the profile's
)


def fill(engine, name: str, drawn_batches) -> None:
    for batch, capped_size in drawn_batches:
        engine.save_records(name, batch, capped_size)


def both(real_engine, drawn_batches):
    """The engine under test and a fresh reference, holding the same records under a new name.

    The records of the engine's earlier examples (every record here has an `_updated_at`, so
    `last_updated` names their data sets) are removed first: the database stays small, as
    mongomock scans every document on every query.
    """
    for earlier in real_engine.last_updated():
        real_engine.empty_data_set(earlier)
    name = f"ds{next(_names)}"
    reference = MemoryStorage()
    fill(reference, name, drawn_batches)
    fill(real_engine, name, drawn_batches)
    return name, reference


def bounds_for(reference, name: str) -> st.SearchStrategy[datetime]:
    """Random instants, or exactly the timestamp of a stored record."""
    stamps = sorted({datetime.fromisoformat(r["_timestamp"]) for r in reference.find(name, RecordQuery())
                     if "_timestamp" in r})
    return instants | st.sampled_from(stamps) if stamps else instants


def positions_in(reference, name: str) -> list[Position]:
    return [Position(to_instant(r.get("_timestamp")), r["_id"]) for r in reference.find(name, RecordQuery())]


def in_order(rows) -> list:
    return sorted(rows, key=lambda row: (row.period_start or datetime.min.replace(tzinfo=UTC),
                                         tuple_key(row.group)))


def comparable(rows) -> list:
    """Everything of the rows but the sums, which are compared with a tolerance."""
    return [(row.period_start, row.group, row.count,
             {reduction: value for reduction, value in row.values.items() if reduction.op is not Op.SUM})
            for row in in_order(rows)]


def same_number(actual, expected) -> bool:
    if isinstance(expected, int) != isinstance(actual, int):
        return False
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


@engine_settings
@given(drawn=batches)
def test_stored_records_match_the_reference(real_engine, drawn):
    name, reference = both(real_engine, drawn)
    assert list(real_engine.find(name, RecordQuery())) == list(reference.find(name, RecordQuery()))
    assert real_engine.last_updated().get(name) == reference.last_updated().get(name)


@engine_settings
@given(drawn=batches, data=st.data())
def test_raw_queries_match_the_reference(real_engine, drawn, data):
    name, reference = both(real_engine, drawn)
    queries = record_queries(bounds_for(reference, name), positions_in(reference, name))
    for query in data.draw(st.lists(queries, min_size=2, max_size=5)):
        assert list(real_engine.find(name, query)) == list(reference.find(name, query)), query


@engine_settings
@given(drawn=batches, data=st.data())
def test_aggregates_match_the_reference(real_engine, drawn, data):
    name, reference = both(real_engine, drawn)
    for query in data.draw(st.lists(aggregate_queries(bounds_for(reference, name)), min_size=2, max_size=5)):
        actual, expected = real_engine.aggregate(name, query), reference.aggregate(name, query)
        assert comparable(actual) == comparable(expected), query
        for got, want in zip(in_order(actual), in_order(expected)):
            for reduction, value in want.values.items():
                if reduction.op is Op.SUM:
                    assert same_number(got.values[reduction], value), (query, reduction)
