"""Contract: saving, replacing, deleting and capping records, on every engine."""
from __future__ import annotations

import json

import pytest
from storage_support import CONFIG, at, ids, record

from backdrop.core.storage.base import RecordQuery, StorageError, record_size
from backdrop.core.storage.engines import Capability


@pytest.fixture
def ds(engine):
    engine.create_data_set(CONFIG)
    return engine


def everything(engine, name: str = "ds") -> list[dict]:
    return list(engine.find(name, RecordQuery()))


def test_a_raw_query_returns_dates_as_iso_strings(ds):
    ds.save_records("ds", [record("a", at(2012, 12, 12, 12, 12, 0, 500), value=1)])
    stored = ds.get_record("ds", "a")
    assert stored["_timestamp"] == "2012-12-12T12:12:00.000500+00:00"
    assert stored["_week_start_at"] == "2012-12-10T00:00:00+00:00"
    assert stored["_updated_at"] == "2014-01-01T12:00:00+00:00"


def test_a_record_comes_back_with_every_value_and_type_intact(ds):
    values = {"i": 3, "f": 0.30000000000000004, "tiny": 1e-07, "whole": 2.0, "t": True,
              "n": None, "s": "café ☕ 😀", "empty": ""}
    ds.save_records("ds", [record("a", **values)])
    stored = ds.get_record("ds", "a")
    for key, value in values.items():
        assert stored[key] == value and type(stored[key]) is type(value), key


def test_a_missing_record_is_none(ds):
    assert ds.get_record("ds", "missing") is None


def test_saving_an_existing_id_replaces_the_whole_record(ds):
    ds.save_records("ds", [record("first", foo="bar", other=1)])
    ds.save_records("ds", [record("first", foo="foo")])
    assert everything(ds) == [{"_id": "first", "_updated_at": "2014-01-01T12:00:00+00:00", "foo": "foo"}]


def test_the_same_id_in_two_data_sets_is_two_records(ds):
    ds.create_data_set({"name": "other", "data_group": "g", "data_type": "t"})
    ds.save_records("ds", [record("a", where="ds")])
    ds.save_records("other", [record("a", where="other")])
    assert ds.get_record("ds", "a")["where"] == "ds"
    assert ds.get_record("other", "a")["where"] == "other"


def test_within_a_batch_a_later_record_with_the_same_id_wins(ds):
    ds.save_records("ds", [record("a", v=1), record("b", v=2), record("a", v=3)])
    assert {r["_id"]: r["v"] for r in everything(ds)} == {"a": 3, "b": 2}


def test_records_come_back_in_write_order_by_default(ds):
    ds.save_records("ds", [record("c"), record("a")])
    ds.save_records("ds", [record("b")])
    assert ids(everything(ds)) == ["c", "a", "b"]


def test_an_upserted_record_moves_to_the_end_of_write_order(ds):
    ds.save_records("ds", [record("a"), record("b"), record("c")])
    ds.save_records("ds", [record("a", v=2)])
    assert ids(everything(ds)) == ["b", "c", "a"]


def test_a_repeated_id_takes_its_later_batch_position(ds):
    ds.save_records("ds", [record("a", v=1), record("b"), record("a", v=2)])
    assert ids(everything(ds)) == ["b", "a"]


@pytest.mark.needs(Capability.ATOMIC_BATCHES)
def test_a_batch_that_fails_midway_stores_nothing(ds):
    ds.save_records("ds", [record("old", v=1)])
    version = ds.data_set_version("ds")
    batch = [record("new1"), record("old", v=2), record("bad", v=object()), record("new2")]
    with pytest.raises((TypeError, ValueError, StorageError)):
        ds.save_records("ds", batch)
    assert everything(ds) == [record_as_stored("old", v=1)]
    assert ds.data_set_version("ds") == version


def record_as_stored(record_id, **fields):
    return {"_id": record_id, "_updated_at": "2014-01-01T12:00:00+00:00", **fields}


def test_empty_data_set_removes_records_and_keeps_the_configuration(ds):
    ds.save_records("ds", [record("a"), record("b")])
    ds.empty_data_set("ds")
    assert everything(ds) == []
    assert ds.get_data_set("ds") == CONFIG


def test_delete_record_removes_only_that_record(ds):
    ds.save_records("ds", [record("a"), record("b")])
    assert ds.delete_record("ds", "a") is True
    assert ids(everything(ds)) == ["b"]


def test_delete_record_of_a_missing_id_answers_false(ds):
    ds.save_records("ds", [record("a")])
    assert ds.delete_record("ds", "b") is False
    assert ids(everything(ds)) == ["a"]


def test_records_may_be_saved_for_a_name_without_configuration(engine):
    engine.save_records("loose", [record("a")])
    assert engine.get_record("loose", "a") is not None
    assert engine.data_set_version("loose") is None


# --- last_updated ---------------------------------------------------------------------


def test_last_updated_gives_the_newest_updated_at_per_data_set(ds):
    ds.create_data_set({"name": "other", "data_group": "g", "data_type": "t"})
    ds.save_records("ds", [record("a", updated_at=at(2014, 1, 3)), record("b", updated_at=at(2014, 1, 5))])
    ds.save_records("ds", [record("c", updated_at=at(2014, 1, 4))])
    ds.save_records("other", [record("a", updated_at=at(2013, 6, 1, 10, 30, 0, 7))])
    assert ds.last_updated() == {"ds": at(2014, 1, 5), "other": at(2013, 6, 1, 10, 30, 0, 7)}


def test_last_updated_leaves_out_data_sets_without_records(ds):
    ds.save_records("ds", [record("a")])
    ds.empty_data_set("ds")
    assert ds.last_updated() == {}


def test_last_updated_answers_aware_utc_datetimes(ds):
    ds.save_records("ds", [record("a")])
    newest = ds.last_updated()["ds"]
    assert newest.utcoffset().total_seconds() == 0


# --- capped data sets -----------------------------------------------------------------


def size_of(*records) -> int:
    """Bytes of records as stored (the contract's rule applied to the raw query's form)."""
    return sum(record_size(json.loads(json.dumps(r, default=lambda d: d.isoformat()))) for r in records)


def test_capping_deletes_the_oldest_written_records_until_the_rest_fit(ds):
    old = [record(f"r{i}", v=i) for i in range(5)]
    ds.save_records("ds", old[:3])
    ds.save_records("ds", old[3:], capped_size=size_of(*old[2:]))
    assert ids(everything(ds)) == ["r2", "r3", "r4"]


def test_capping_keeps_everything_that_fits_exactly(ds):
    batch = [record(f"r{i}", v=i) for i in range(4)]
    ds.save_records("ds", batch, capped_size=size_of(*batch))
    assert len(everything(ds)) == 4


def test_one_byte_over_the_cap_evicts_the_oldest_record(ds):
    batch = [record(f"r{i}", v=i) for i in range(4)]
    ds.save_records("ds", batch, capped_size=size_of(*batch) - 1)
    assert ids(everything(ds)) == ["r1", "r2", "r3"]


def test_capping_counts_utf8_bytes_and_canonical_float_spelling(ds):
    batch = [record("a", s="é😀"), record("b", f=1e-07), record("c", f=1e16), record("d", t=True)]
    ds.save_records("ds", batch, capped_size=size_of(*batch))
    assert len(everything(ds)) == 4
    ds.save_records("ds", [], capped_size=size_of(*batch) - 1)
    assert ids(everything(ds)) == ["b", "c", "d"]


def test_an_upsert_counts_as_written_now_for_capping(ds):
    batch = [record("a", v=1), record("b", v=1), record("c", v=1)]
    ds.save_records("ds", batch)
    ds.save_records("ds", [record("a", v=2)], capped_size=size_of(*batch) - 1)
    assert ids(everything(ds)) == ["c", "a"]


def test_batch_position_breaks_ties_in_capping(ds):
    batch = [record("x", v=1), record("y", v=2), record("z", v=3)]
    ds.save_records("ds", batch, capped_size=size_of(batch[2]))
    assert ids(everything(ds)) == ["z"]


def test_a_one_byte_cap_keeps_fewer_than_seventy_of_a_hundred_small_records(ds):
    ds.save_records("ds", [record(f"r{i}", v=i) for i in range(100)], capped_size=1)
    kept = everything(ds)
    assert len(kept) < 70
    assert kept == []  # under the byte rule no record fits in one byte


def test_records_of_each_write_are_capped_separately_per_data_set(ds):
    ds.create_data_set({"name": "other", "data_group": "g", "data_type": "t"})
    ds.save_records("other", [record("o1"), record("o2")])
    ds.save_records("ds", [record("a"), record("b")], capped_size=1)
    assert ids(everything(ds, "other")) == ["o1", "o2"]


def test_an_uncapped_save_never_evicts(ds):
    ds.save_records("ds", [record(f"r{i}") for i in range(50)], capped_size=0)
    assert len(everything(ds)) == 50
