"""Contract: the change feed (Storage.changes) a columnar replica catches up from, on every engine.

The replica here is kept as core/storage/columnar.py keeps one: records by `_id` with their
`seq`, brought up to date by applying each answer's floor, then its deleted ids, then its
records, page after page until an answer is complete. After every kind of change a replica
that has caught up must hold exactly what a raw query of the data set answers, and a
cursor taken after catching up must answer nothing more until something changes.
"""
from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_support import at, record

from backdrop.core.storage.base import Changes, RecordQuery

_names = itertools.count()


def config(name: str, **extra) -> dict:
    return {"name": name, "data_group": "feed", "data_type": name, **extra}


def stored(engine, name: str) -> dict:
    """The data set as a raw query answers it, by `_id`."""
    return {found["_id"]: found for found in engine.find(name, RecordQuery())}


class Replica:
    """A copy of one data set kept current from the change feed alone."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[int, dict]] = {}  # _id -> (seq, record)
        self.cursor = 0
        self.version: int | None = None

    def apply(self, changes: Changes, limit: int) -> None:
        """Apply one answer in the documented order, checking what every answer promises."""
        seqs = [seq for seq, _ in changes.records]
        assert seqs == sorted(set(seqs)) and all(seq > self.cursor for seq in seqs)
        assert len(seqs) == limit if not changes.complete else len(seqs) <= limit
        assert list(changes.deleted) == sorted(set(changes.deleted))
        assert changes.cursor >= max([self.cursor, *seqs])
        if changes.floor is not None:
            self.records = {key: kept for key, kept in self.records.items() if kept[0] > changes.floor}
        for record_id in changes.deleted:
            self.records.pop(record_id, None)
        for seq, found in changes.records:
            self.records[found["_id"]] = (seq, found)
        self.cursor = changes.cursor
        if changes.complete:
            self.version = changes.version

    def catch_up(self, engine, name: str, limit: int = 2) -> int:
        """Ask from the cursor until an answer is complete; how many answers it took."""
        for asked in itertools.count(1):
            changes = engine.changes(name, self.cursor, limit)
            self.apply(changes, limit)
            if changes.complete:
                return asked
        raise AssertionError("unreachable")

    def contents(self) -> dict:
        return {key: found for key, (_, found) in self.records.items()}


def assert_follows(engine, name: str, replica: Replica, limit: int = 2) -> None:
    """The replica, caught up, holds the data set at its version, and nothing is left to come."""
    replica.catch_up(engine, name, limit)
    assert replica.contents() == stored(engine, name)
    assert replica.version == engine.data_set_version(name)
    assert engine.changes(name, replica.cursor, limit) == Changes(
        version=replica.version, cursor=replica.cursor, complete=True)


def test_a_replica_follows_every_kind_of_change(engine):
    """Two replicas: one catching up after every change (two records an answer), one only at
    the end (one record an answer), which must skip the intermediate states correctly."""
    eager, late = Replica(), Replica()
    engine.create_data_set(config("ds"))
    steps = [
        ("append", lambda: engine.save_records("ds", [record("a", v=1), record("b", v=2), record("c", v=3)])),
        ("append more", lambda: engine.save_records("ds", [record("d", at(2014, 1, 1), v=4)])),
        ("upsert an existing id", lambda: engine.save_records("ds", [record("b", v=20, extra="new")])),
        ("delete a record", lambda: engine.delete_record("ds", "a")),
        ("delete a missing record", lambda: engine.delete_record("ds", "zzz")),
        ("save a deleted id again", lambda: engine.save_records("ds", [record("a", v=100)])),
        ("empty", lambda: engine.empty_data_set("ds")),
        ("append after emptying", lambda: engine.save_records("ds", [record(key) for key in "pqrs"])),
        ("capped eviction", lambda: engine.save_records("ds", [record("t", v=5), record("u", v=6)], 150)),
        ("replace the configuration", lambda: engine.replace_data_set("ds", config("ds", realtime=True))),
        ("delete the data set", lambda: engine.delete_data_set("ds")),
        ("make it again", lambda: engine.create_data_set(config("ds"))),
        ("records of the new one", lambda: engine.save_records("ds", [record("b", v=-1), record("x", v=7)])),
    ]
    for what, change in steps:
        change()
        try:
            assert_follows(engine, "ds", eager)
        except AssertionError as failure:
            failure.add_note(f"after: {what}")
            raise
    assert_follows(engine, "ds", late, limit=1)
    assert set(late.contents()) == {"b", "x"}


def test_capped_eviction_reaches_a_replica_as_a_floor(engine):
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record(key, v=n) for n, key in enumerate("abcd")])
    replica = Replica()
    replica.catch_up(engine, "ds")
    engine.save_records("ds", [record("e", v=9)], 120)
    changes = engine.changes("ds", replica.cursor, 10)
    kept = stored(engine, "ds")
    assert changes.floor is not None and changes.deleted == () and "e" in kept and len(kept) < 5
    replica.apply(changes, 10)
    assert replica.contents() == kept


def test_a_data_set_deleted_and_made_again_drops_the_old_records(engine):
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record("a"), record("b")])
    replica = Replica()
    replica.catch_up(engine, "ds")
    engine.delete_data_set("ds")
    gone = engine.changes("ds", replica.cursor, 10)
    assert (gone.version, gone.records, gone.complete) == (None, (), True) and gone.floor > replica.cursor
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record("c")])
    replica.catch_up(engine, "ds")  # never saw the data set while it was gone
    assert replica.contents() == stored(engine, "ds") == {"c": engine.get_record("ds", "c")}


def test_replacing_the_configuration_moves_only_the_version(engine):
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record("a")])
    replica = Replica()
    replica.catch_up(engine, "ds")
    engine.replace_data_set("ds", config("ds", realtime=True))
    version = engine.data_set_version("ds")
    assert version > replica.version
    assert engine.changes("ds", replica.cursor, 10) == Changes(version=version, cursor=version, complete=True)


def test_from_a_cursor_only_the_later_changes_come(engine):
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record(f"r{n}", v=n) for n in range(20)])
    replica = Replica()
    assert replica.catch_up(engine, "ds", limit=5) == 4  # the fourth finds no sixth record: complete
    engine.save_records("ds", [record("r3", v=30), record("new", v=31)])
    engine.delete_record("ds", "r5")
    changes = engine.changes("ds", replica.cursor, 100)
    assert [found["_id"] for _, found in changes.records] == ["r3", "new"]
    assert (changes.deleted, changes.floor, changes.complete) == (("r5",), None, True)
    assert changes.cursor == changes.version == engine.data_set_version("ds")


def test_an_incomplete_answer_stops_at_its_last_record(engine):
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record(key) for key in "abc"])
    first = engine.changes("ds", 0, 2)
    assert not first.complete and [found["_id"] for _, found in first.records] == ["a", "b"]
    assert first.cursor == first.records[-1][0]
    rest = engine.changes("ds", first.cursor, 2)
    assert rest.complete and [found["_id"] for _, found in rest.records] == ["c"]
    assert rest.cursor == max(rest.version, rest.records[-1][0])


def test_deleted_ids_come_sorted_and_an_empty_forgets_those_it_covers(engine):
    engine.create_data_set(config("ds"))
    engine.save_records("ds", [record(key) for key in ("b", "é", "a", "B")])
    for key in ("é", "b", "B"):
        engine.delete_record("ds", key)
    assert engine.changes("ds", 0, 10).deleted == ("B", "b", "é")  # code-point order
    engine.empty_data_set("ds")
    emptied = engine.changes("ds", 0, 10)
    assert (emptied.deleted, emptied.floor, emptied.cursor) == ((), emptied.version, emptied.version)


def test_records_come_as_a_raw_query_returns_them(engine):
    """Dates as ISO strings, strings holding U+0000 and U+0001 (which SQL engines escape),
    floats without a fraction and ints keeping their type."""
    engine.create_data_set(config("ds"))
    odd = record("a\x00\x01", at(2014, 1, 6, 0, 0, 0, 5), text="x\x00y\x01\x01z", whole=3.0, n=3, flag=False,
                 nothing=None)
    engine.save_records("ds", [odd])
    engine.save_records("ds", [record("gone\x00")])
    engine.delete_record("ds", "gone\x00")
    changes = engine.changes("ds", 0, 10)
    [(_, found)] = changes.records
    assert json.dumps(found, sort_keys=True) == json.dumps(engine.get_record("ds", "a\x00\x01"), sort_keys=True)
    assert found["text"] == "x\x00y\x01\x01z" and found["_timestamp"] == "2014-01-06T00:00:00.000005+00:00"
    assert changes.deleted == ("gone\x00",)


def test_an_unknown_data_set_has_no_version(engine):
    assert engine.changes("nothing", 0, 10) == Changes(version=None, cursor=0, complete=True)
    assert engine.changes("nothing", 7, 10) == Changes(version=None, cursor=7, complete=True)


# --- property: random histories, random page sizes, catching up at random points -------------

ids = st.sampled_from(["a", "b", "é", "f\x00"])  # few, so that deletions and upserts often meet a stored id
CHANGES = {
    "save": st.tuples(st.just("save"), st.lists(st.tuples(ids, st.integers(0, 3)), min_size=1, max_size=4),
                      st.sampled_from([0, 150, 300])),  # a record is about 60 bytes: caps keep two or five
    "delete": st.tuples(st.just("delete"), ids),
    "empty": st.just(("empty",)),
    "replace": st.just(("replace",)),
    "recreate": st.tuples(st.just("recreate"), st.booleans()),
}
# Saves and deletions are drawn most often (by share of a hundred): an empty or a deletion
# of the whole data set covers every removal before it, so were they as frequent, few
# histories would leave an eviction or a deletion for a replica to meet.
SHARES = (("save", 50), ("delete", 30), ("empty", 7), ("replace", 6), ("recreate", 7))
KINDS = [kind for kind, share in SHARES for _ in range(share)]
changes = st.integers(0, len(KINDS) - 1).flatmap(lambda drawn: CHANGES[KINDS[drawn]])
# Rounds of changes, each followed by catching up with that page size (0: not catching up).
rounds = st.lists(st.tuples(st.lists(changes, min_size=1, max_size=4), st.integers(0, 4)), min_size=2, max_size=5)


def run(engine, name: str, change: tuple, replica: Replica) -> None:
    kind, *args = change
    if kind == "save":
        batch, capped_size = args
        engine.save_records(name, [record(key, v=value) for key, value in batch], capped_size)
    elif kind == "delete":
        engine.delete_record(name, args[0])
    elif kind == "empty":
        engine.empty_data_set(name)
    elif kind == "replace":
        engine.replace_data_set(name, config(name, realtime=True))
    else:
        engine.delete_data_set(name)
        if args[0]:  # a replica catching up while the data set is gone holds nothing
            replica.catch_up(engine, name)
            assert replica.contents() == {} and replica.version is None
        engine.create_data_set(config(name))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=max(10, settings.default.max_examples // 3))  # each example is a whole history
@given(history=rounds, last_limit=st.integers(1, 5))
def test_a_replica_catching_up_at_random_points_equals_the_data_set(engine, history, last_limit):
    for earlier in engine.list_data_sets():  # keep the database small (mongomock scans everything)
        engine.delete_data_set(earlier["name"])
    name = f"ds{next(_names)}"
    engine.create_data_set(config(name))
    replica = Replica()
    for changes_made, limit in history:
        for change in changes_made:
            run(engine, name, change, replica)
        if limit:
            assert_follows(engine, name, replica, limit)
    assert_follows(engine, name, replica, limit=last_limit)
