"""Contract: a read's `timeout` cancels it (QueryTimeout) and leaves the engine usable; an
aggregate's `row_cap` refuses more rows (TooManyRows); on every engine.

A query is made too slow without timing it: a 1 µs budget is spent before any engine
looks at its clock (SQLite every 1,000 steps, the memory engine every 256 records). On
PostgreSQL, whose `statement_timeout` counts whole milliseconds, the records table is held
locked by another connection, so the read waits until it is cancelled.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from storage_support import CONFIG, at, record

from backdrop.core.storage.base import (
    AggregateQuery,
    Op,
    QueryTimeout,
    RecordQuery,
    Reduction,
    TooManyRows,
)
from backdrop.core.storage.engines import Capability
from backdrop.core.timeseries import DAY, Bucketing, UTC

RECORDS = 600
TINY = 1e-6  # seconds: spent before the first look at the clock
GENEROUS = 600.0  # seconds: never reached by these small reads
GROUPED = AggregateQuery(group_by=("kind",), reductions=(Reduction("n", Op.SUM), Reduction("n", Op.DISTINCT)))


@pytest.fixture
def ds(engine_database, engine):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record(f"r{index:04}", at(2014, 1, 1 + index % 28), kind=f"k{index % 3}", n=index)
                               for index in range(RECORDS)])
    return engine_database[0], engine_database[1], engine


@contextmanager
def made_slow(name: str, url: str):
    """Holds PostgreSQL's records table locked so a read waits; other engines need nothing."""
    if name != "postgres":
        yield TINY
        return
    import psycopg

    with psycopg.connect(url) as blocker:
        blocker.execute("LOCK TABLE backdrop_records IN ACCESS EXCLUSIVE MODE")
        yield 0.2
        blocker.rollback()


@pytest.mark.needs(Capability.STATEMENT_TIMEOUT)
def test_a_raw_read_past_its_timeout_is_cancelled_and_the_next_read_is_answered(ds):
    name, url, engine = ds
    with made_slow(name, url) as timeout, pytest.raises(QueryTimeout):
        list(engine.find("ds", RecordQuery(timeout=timeout)))
    # untimed, on the same connection: an old deadline left behind would cut it
    assert len(list(engine.find("ds", RecordQuery()))) == RECORDS


@pytest.mark.needs(Capability.STATEMENT_TIMEOUT)
def test_an_aggregate_past_its_timeout_is_cancelled_and_the_next_read_is_answered(ds):
    name, url, engine = ds
    with made_slow(name, url) as timeout, pytest.raises(QueryTimeout):
        engine.aggregate("ds", AggregateQuery(group_by=("kind",), bucketing=Bucketing(DAY, UTC), timeout=timeout))
    rows = engine.aggregate("ds", GROUPED)
    assert sum(row.count for row in rows) == RECORDS


def test_a_generous_timeout_changes_no_answer(ds):
    _, _, engine = ds
    assert list(engine.find("ds", RecordQuery(timeout=GENEROUS))) == list(engine.find("ds", RecordQuery()))
    timed = AggregateQuery(group_by=GROUPED.group_by, reductions=GROUPED.reductions, timeout=GENEROUS)
    key = lambda row: row.group  # noqa: E731
    assert sorted(engine.aggregate("ds", timed), key=key) == sorted(engine.aggregate("ds", GROUPED), key=key)


@pytest.mark.parametrize("cap, refused", [(2, True), (3, False), (None, False)])
def test_an_aggregate_answering_more_rows_than_its_cap_is_refused(ds, cap, refused):
    _, _, engine = ds
    query = AggregateQuery(group_by=("kind",), row_cap=cap)
    if refused:
        with pytest.raises(TooManyRows):
            engine.aggregate("ds", query)
    else:
        assert sorted(row.group for row in engine.aggregate("ds", query)) == [("k0",), ("k1",), ("k2",)]


def test_the_cap_counts_period_and_group_rows(ds):
    """28 days × 3 kinds = 84 rows."""
    _, _, engine = ds
    bucketed = dict(group_by=("kind",), bucketing=Bucketing(DAY, UTC))
    assert len(engine.aggregate("ds", AggregateQuery(**bucketed, row_cap=84))) == 84
    with pytest.raises(TooManyRows):
        engine.aggregate("ds", AggregateQuery(**bucketed, row_cap=83))
