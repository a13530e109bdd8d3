"""What only the SQLite engine can get wrong: its URL, its file, concurrency, its encoding.

The contract suite proves the engine answers like the reference; these pin the places where
the engine manages the file itself (paths, WAL, several processes and threads writing at
once, lazy connections after a fork) and the shortcut it takes to count record sizes.
"""
from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from storage_support import CONFIG, record

from backdrop.core.storage import open_storage
from backdrop.core.storage.base import AggregateQuery, RecordQuery, StorageError, record_size
from backdrop.core.storage.sqlite import SQLiteStorage
from backdrop.core.storage.sqlite_codec import encode_record as _encode_record, stored_body as _stored_body


def test_a_relative_url_is_a_path_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage = SQLiteStorage.from_url("sqlite:///var/data/backdrop.db")
    storage.create_data_set(CONFIG)
    storage.close()
    assert (tmp_path / "var" / "data" / "backdrop.db").is_file()


def test_an_absolute_url_has_four_slashes_and_parent_folders_are_created(tmp_path):
    path = tmp_path / "deep" / "er" / "backdrop.db"
    storage = open_storage(f"sqlite:///{path}")
    assert isinstance(storage, SQLiteStorage)
    storage.create_data_set(CONFIG)
    storage.close()
    assert path.is_file()


def test_opening_touches_nothing_until_first_use(tmp_path):
    SQLiteStorage.from_url(f"sqlite:///{tmp_path}/later/backdrop.db")
    assert not (tmp_path / "later").exists()


def test_a_url_without_a_path_is_refused():
    with pytest.raises(StorageError):
        SQLiteStorage.from_url("sqlite:///")


def test_the_database_file_is_in_wal_mode(tmp_path):
    storage = SQLiteStorage.from_url(f"sqlite:///{tmp_path}/b.db")
    storage.list_data_sets()
    storage.close()
    with sqlite3.connect(tmp_path / "b.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_cannot_be_opened_is_a_storage_error(tmp_path):
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(StorageError):
        SQLiteStorage.from_url(f"sqlite:///{tmp_path}/folder.db").list_data_sets()


def test_two_engines_on_one_file_see_each_others_writes(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    writer, reader = SQLiteStorage.from_url(url), SQLiteStorage.from_url(url)
    writer.create_data_set(CONFIG)
    writer.save_records("ds", [record("a")])
    assert reader.get_record("ds", "a")["_id"] == "a"
    assert reader.data_set_version("ds") == writer.data_set_version("ds")
    writer.close(), reader.close()


def test_writing_while_a_raw_query_is_streamed_survives_another_processs_commit(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    storage, elsewhere = SQLiteStorage.from_url(url), SQLiteStorage.from_url(url)
    storage.save_records("input", [record(f"r{i}") for i in range(500)])
    streamed = storage.find("input", RecordQuery())
    next(streamed)
    elsewhere.save_records("other", [record("x")])
    storage.save_records("output", [record("y")])
    assert sum(1 for _ in streamed) == 499
    assert storage.get_record("output", "y") is not None
    storage.close(), elsewhere.close()


def test_a_closed_file_opens_again_with_its_data(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    first = SQLiteStorage.from_url(url)
    first.save_records("ds", [record("a")])
    first.close()
    again = SQLiteStorage.from_url(url)
    assert again.get_record("ds", "a") is not None
    again.close()


def _batches(storage, prefix: str, count: int, size: int) -> None:
    for batch in range(count):
        storage.save_records("ds", [record(f"{prefix}-{batch}-{i}", v=i) for i in range(size)])


def test_threads_writing_at_once_all_succeed(tmp_path):
    storage = SQLiteStorage.from_url(f"sqlite:///{tmp_path}/b.db")
    storage.create_data_set(CONFIG)
    errors = []

    def write(prefix):
        try:
            _batches(storage, prefix, 10, 50)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(4)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert errors == []
    assert len(list(storage.find("ds", RecordQuery()))) == 4 * 10 * 50
    storage.close()


def _write_in_child(url: str, prefix: str, start) -> None:
    storage = SQLiteStorage.from_url(url)
    start.wait()
    _batches(storage, prefix, 10, 100)
    storage.close()


def test_processes_starting_on_a_fresh_file_and_writing_at_once_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(6)
    children = [context.Process(target=_write_in_child, args=(url, f"p{n}", start)) for n in range(6)]
    [child.start() for child in children]
    [child.join(120) for child in children]
    assert [child.exitcode for child in children] == [0] * 6
    storage = SQLiteStorage.from_url(url)
    assert len(list(storage.find("ds", RecordQuery()))) == 6 * 10 * 100
    storage.close()


def _write_with_inherited_engine(storage: SQLiteStorage) -> None:
    _batches(storage, "child", 2, 10)


def test_a_forked_child_opens_its_own_connection(tmp_path):
    storage = SQLiteStorage.from_url(f"sqlite:///{tmp_path}/b.db")
    storage.create_data_set(CONFIG)  # the parent's connection is open before the fork
    child = multiprocessing.get_context("fork").Process(target=_write_with_inherited_engine, args=(storage,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert len(list(storage.find("ds", RecordQuery()))) == 20
    storage.close()


def test_a_reader_never_sees_part_of_a_batch(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    writer, reader = SQLiteStorage.from_url(url), SQLiteStorage.from_url(url)
    writer.create_data_set(CONFIG)
    seen: set[int] = set()
    done = threading.Event()

    def read():
        while not done.is_set():
            rows = reader.aggregate("ds", AggregateQuery())
            seen.add(rows[0].count if rows else 0)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        _batches(writer, "w", 20, 250)
    finally:
        done.set()
        thread.join()
    assert seen and all(count % 250 == 0 for count in seen), sorted(seen)
    writer.close(), reader.close()


# --- the size shortcut ----------------------------------------------------------------

plus_two = timezone(timedelta(hours=2))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=("Cs",))),
    st.datetimes(timezones=st.sampled_from([timezone.utc, plus_two])),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)


@given(st.dictionaries(st.text(min_size=1, max_size=5), scalars, max_size=6))
def test_the_counted_size_is_the_contract_size_of_the_stored_record(fields):
    body, size = _encode_record(fields)
    stored = json.loads(body)
    assert size == record_size(stored)
    expected = {key: _as_stored(value) for key, value in fields.items()}
    assert stored == expected


@given(st.dictionaries(st.text(min_size=1, max_size=5), scalars, max_size=6))
def test_the_uncounted_body_is_the_counted_one(fields):
    assert _stored_body(fields) == _encode_record(fields)[0]


def _sizes(path) -> list[int]:
    with sqlite3.connect(path) as connection:
        return [size for (size,) in connection.execute("SELECT size FROM records ORDER BY id")]


def test_an_uncapped_write_leaves_sizes_uncounted_and_a_capped_one_counts_them(tmp_path):
    storage = SQLiteStorage.from_url(f"sqlite:///{tmp_path}/b.db")
    storage.create_data_set(CONFIG)
    tricky = [record("a", s="\x00é\x01😀"), record("b", f=1e-07), record("c", f=1e16)]
    storage.save_records(CONFIG["name"], tricky)
    assert _sizes(tmp_path / "b.db") == [0, 0, 0]
    storage.save_records(CONFIG["name"], [], capped_size=10**6)
    stored = [storage.get_record(CONFIG["name"], name) for name in "abc"]
    storage.close()
    assert _sizes(tmp_path / "b.db") == [record_size(json.loads(json.dumps(r))) for r in stored]


def _as_stored(value):
    from backdrop.core.timeseries import as_utc

    return as_utc(value).isoformat() if isinstance(value, datetime) else value


def test_a_sum_beyond_64_bit_integers_is_answered_as_a_float(tmp_path):
    from datetime import datetime, timezone

    from backdrop.core.records import prepare_batch
    from backdrop.core.storage import open_storage
    from backdrop.core.storage.base import AggregateQuery, Op, Reduction

    storage = open_storage(f"sqlite:///{tmp_path}/big.db")
    storage.create_data_set({"name": "big", "data_group": "big", "data_type": "t"})
    items = [{"count": 9 * 10**18, "kind": "a"}, {"count": 9 * 10**18, "kind": "a"}]
    storage.save_records("big", prepare_batch(items, auto_ids=None, schema=None, now=datetime.now(timezone.utc)))
    sums, numbers = Reduction("count", Op.SUM), Reduction("count", Op.NUMBERS)
    [row] = storage.aggregate("big", AggregateQuery(group_by=("kind",), reductions=(sums, numbers)))
    storage.close()
    assert row.values[sums] == float(18 * 10**18)
    assert row.values[numbers] == 2
