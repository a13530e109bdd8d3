"""The columnar copies (core/storage/columnar.py) over every engine: they catch up after every
kind of change from the engine's change feed, in work proportional to the change, and answer
only when current; large changes and first loads go to the background while the engine
answers; small data sets stay with the engine; the memory budget drops the least recently
used copy; a worker's threads share one copy and never see a write half applied.

The contract suite runs against the columnar path too (the `columnar` engine of
tests/storage/conftest.py); these tests are about what an engine does not have.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from storage_support import CONFIG, at, record

from backdrop.core.storage.base import AggregateQuery, Filter, Op, RecordQuery, Reduction
from backdrop.core.storage.columnar import ColumnarSettings, ColumnarStore
from backdrop.core.storage.memory import MemoryStorage
from backdrop.core.timeseries import DAY, PERIODS, Bucketing, UTC
from backdrop.core.values import tuple_key
from backdrop.testing_engines import MONGOMOCK, support_for

QUERIES = (
    AggregateQuery(),
    AggregateQuery(group_by=("kind",), reductions=(Reduction("n", Op.SUM), Reduction("n", Op.MAX),
                                                   Reduction("kind", Op.DISTINCT))),
    AggregateQuery(bucketing=Bucketing(PERIODS["week"], UTC), group_by=("kind",),
                   reductions=(Reduction("n", Op.NUMBER_LIST),)),
    AggregateQuery(filters=(Filter("kind", "k1"),), bucketing=Bucketing(DAY, UTC)),
)
DEADLINE = 30.0  # seconds a background load may take in these tests before they fail


class Spy:
    """The engine, counting the records its change feed hands out."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.fed = 0

    def changes(self, name, since, limit):
        changes = self._engine.changes(name, since, limit)
        self.fed += len(changes.records)
        return changes

    def __getattr__(self, name):
        return getattr(self._engine, name)


def inline(**settings) -> ColumnarSettings:
    return ColumnarSettings(**{"min_records": 0, "background": False, "fall_back": False, **settings})


@pytest.fixture
def spy(plain_engine):
    plain_engine.create_data_set(CONFIG)
    return Spy(plain_engine)


@pytest.fixture
def store(spy):
    made = ColumnarStore(spy, inline())
    yield made
    made.close()


def rows(engine_rows) -> list:
    return sorted(((row.period_start, row.group, row.count, row.values) for row in engine_rows),
                  key=lambda row: (row[0] or datetime.min.replace(tzinfo=UTC), tuple_key(row[1])))


def assert_current(store: ColumnarStore, engine) -> None:
    """Every query answered by the copy (never left to the engine) as the engine answers it."""
    for query in QUERIES:
        answer = store.aggregate("ds", query)
        assert answer is not None, "the copy did not answer"
        assert rows(answer) == rows(engine.aggregate("ds", query)), query
    assert store.status()["ds"]["records"] == len(list(engine.find("ds", RecordQuery())))


def batch(start: int, count: int, **fields) -> list[dict]:
    return [record(f"r{index:04}", at(2014, 1, 1 + index % 28), kind=f"k{index % 3}", n=index, **fields)
            for index in range(start, start + count)]


def test_a_copy_catches_up_after_every_kind_of_change_fed_only_what_changed(store, spy):
    spy.save_records("ds", batch(0, 60))
    assert_current(store, spy)
    assert spy.fed == 60

    changes = [
        ("append", lambda: spy.save_records("ds", batch(60, 5)), 5),
        ("upsert of an existing _id", lambda: spy.save_records("ds", [record("r0003", at(2014, 2, 1), kind="k9", n=1)]), 1),
        ("patch", lambda: spy.save_records("ds", [dict(spy.get_record("ds", "r0004"), n=400, _timestamp=at(2014, 1, 5))]), 1),
        ("delete", lambda: spy.delete_record("ds", "r0005"), 0),
        ("capped eviction", lambda: spy.save_records("ds", batch(100, 3), capped_size=2_000), 3),
        ("empty", lambda: spy.empty_data_set("ds"), 0),
        ("append after empty", lambda: spy.save_records("ds", batch(200, 4)), 4),
        ("configuration only", lambda: spy.replace_data_set("ds", dict(CONFIG, raw_queries_allowed=True)), 0),
        ("made again", lambda: (spy.delete_data_set("ds"), spy.create_data_set(CONFIG),
                                spy.save_records("ds", batch(300, 2))), 2),
    ]
    for kind, change, written in changes:
        fed = spy.fed
        change()
        assert_current(store, spy)
        assert spy.fed - fed == written, f"{kind}: the feed handed out more than the change"


def test_a_copy_at_the_current_version_answers_without_reading_the_feed(store, spy):
    spy.save_records("ds", batch(0, 10))
    store.aggregate("ds", QUERIES[1])
    reads = []
    spy.changes = lambda *args: reads.append(args)  # would fail the query if it were called
    assert store.aggregate("ds", QUERIES[1]) is not None
    assert reads == []


def test_first_loads_and_large_changes_go_to_the_background_while_the_engine_answers(spy):
    spy.save_records("ds", batch(0, 40))
    store = ColumnarStore(spy, ColumnarSettings(min_records=10, catch_up_records=5, page=7))
    try:
        assert store.aggregate("ds", QUERIES[1]) is None  # the load starts; the engine answers
        answered = poll(lambda: store.aggregate("ds", QUERIES[1]))
        assert rows(answered) == rows(spy.aggregate("ds", QUERIES[1]))

        spy.save_records("ds", batch(40, 3))  # small: caught up while the query waits
        assert rows(store.aggregate("ds", QUERIES[1])) == rows(spy.aggregate("ds", QUERIES[1]))

        spy.save_records("ds", batch(50, 20))  # more than catch_up_records
        assert store.aggregate("ds", QUERIES[1]) is None
        answered = poll(lambda: store.aggregate("ds", QUERIES[1]))
        assert rows(answered) == rows(spy.aggregate("ds", QUERIES[1]))
    finally:
        store.close()


def poll(ask):
    """Ask until there is an answer, or fail at the deadline."""
    ends = time.monotonic() + DEADLINE
    while time.monotonic() < ends:
        answer = ask()
        if answer is not None:
            return answer
        time.sleep(0.02)
    raise AssertionError("the copy never became current")


def test_small_data_sets_stay_with_the_engine_until_they_grow(spy):
    store = ColumnarStore(spy, inline(min_records=50))
    try:
        spy.save_records("ds", batch(0, 49))
        assert store.aggregate("ds", QUERIES[0]) is None
        assert store.status() == {}
        spy.save_records("ds", batch(49, 1))
        assert store.aggregate("ds", QUERIES[0]) is not None
        assert list(store.status()) == ["ds"]
    finally:
        store.close()


def test_the_memory_budget_drops_the_least_recently_used_copy(spy):
    for name in ("a", "b"):
        spy.create_data_set({"name": name, "data_group": name, "data_type": name})
        spy.save_records(name, batch(0, 300))
    measure = ColumnarStore(spy, inline())
    try:
        measure.aggregate("a", QUERIES[0])
        one_copy = measure.memory_bytes()
    finally:
        measure.close()

    store = ColumnarStore(spy, inline(memory_bytes=int(one_copy * 1.5)))
    try:
        assert store.aggregate("a", QUERIES[0]) is not None
        assert store.aggregate("b", QUERIES[0]) is not None
        assert list(store.status()) == ["b"]
        assert store.aggregate("a", QUERIES[0]) is not None
        assert list(store.status()) == ["a"]
        assert store.memory_bytes() <= one_copy * 1.5
    finally:
        store.close()


def test_a_data_set_larger_than_the_budget_alone_stays_with_the_engine(spy):
    spy.save_records("ds", batch(0, 100))
    store = ColumnarStore(spy, inline(memory_bytes=1000))
    try:
        assert store.aggregate("ds", QUERIES[0]) is None
        assert store.status() == {}
    finally:
        store.close()


def test_threads_share_one_copy_and_never_see_a_write_half_applied(store, spy, request):
    if request.node.callspec.params["plain_engine"] == "mongo" and support_for("mongo").lacking():
        pytest.skip(MONGOMOCK)  # no transactions there: the feed can read half of a batch being written
    spy.save_records("ds", batch(0, 10))
    counts: list[list[int]] = [[] for _ in range(6)]
    writing = threading.Event()
    problems: list[BaseException] = []

    def read(seen: list[int]) -> None:
        try:
            while writing.is_set() or len(seen) < 5:
                answer = store.aggregate("ds", AggregateQuery())
                seen.append(sum(row.count for row in answer))
        except BaseException as error:  # reported below, not lost in the thread
            problems.append(error)

    writing.set()
    readers = [threading.Thread(target=read, args=(seen,)) for seen in counts]
    for reader in readers:
        reader.start()
    for start in range(10, 200, 10):  # ten records a write: whole writes only, never part of one
        spy.save_records("ds", batch(start, 10))
    writing.clear()
    for reader in readers:
        reader.join(DEADLINE)
    assert problems == []
    for seen in counts:
        assert all(count % 10 == 0 for count in seen), seen
        assert seen == sorted(seen), "a thread saw the data set go back in time"
    assert store.aggregate("ds", AggregateQuery())[0].count == 200
    assert list(store.status()) == ["ds"]


def test_json_semantics_survive_the_typing(store, spy):
    """Booleans are not numbers, `1` and `1.0` are one group, integer sums past 2**53 stay exact."""
    big = 2**63 - 1
    values = [1, 1.0, True, False, "1", None, big, big, -big, 0.5, "", "é"]
    stored = [record(f"v{index}", at(2014, 1, 1), v=value, g=value) for index, value in enumerate(values)]
    spy.save_records("ds", stored)
    reference = MemoryStorage()  # SQLite's own sums of integers past 64 bits are floats
    reference.save_records("ds", stored)
    reductions = tuple(Reduction("v", op) for op in Op)
    for query in (AggregateQuery(reductions=reductions), AggregateQuery(group_by=("g",), reductions=reductions)):
        assert rows(store.aggregate("ds", query)) == rows(reference.aggregate("ds", query))
    total = store.aggregate("ds", AggregateQuery(filters=(Filter("g", True),), reductions=(Reduction("v", Op.SUM),)))
    assert total[0].values[Reduction("v", Op.SUM)] == 0  # `true` is no number
    exact = store.aggregate("ds", AggregateQuery(group_by=("g",), reductions=(Reduction("v", Op.SUM),)))
    big_group = [row for row in exact if row.group == (big,)]
    assert big_group[0].values[Reduction("v", Op.SUM)] == 2 * big
    assert isinstance(big_group[0].values[Reduction("v", Op.SUM)], int)


def test_a_new_process_starts_with_no_copies(store, spy, monkeypatch):
    spy.save_records("ds", batch(0, 10))
    assert store.aggregate("ds", QUERIES[0]) is not None
    monkeypatch.setattr("os.getpid", lambda: -1)  # as a forked worker sees it
    assert store.memory_bytes() >= 0
    assert store.status() == {}


def test_timestamps_are_read_as_the_engines_read_them(store, spy):
    spy.save_records("ds", [record("early", datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc), n=1),
                            record("late", at(2014, 1, 1, 0, 0), n=2)])
    query = AggregateQuery(bucketing=Bucketing(PERIODS["hour"], UTC))
    assert rows(store.aggregate("ds", query)) == rows(spy.aggregate("ds", query))
