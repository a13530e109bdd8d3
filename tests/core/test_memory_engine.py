"""The reference engine's own rules; the storage contract suite covers the interface broadly."""
from __future__ import annotations


import pytest

from backdrop.core.storage import open_storage
from backdrop.core.storage.base import (
    AggregateQuery,
    AlreadyExists,
    Filter,
    NotFound,
    Op,
    RecordQuery,
    Reduction,
    Sort,
    TimeRange,
    record_size,
)
from backdrop.core.storage.memory import MemoryStorage
from backdrop.core.timeseries import WEEK, Bucketing

from normalised import at, record


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def ids(storage: MemoryStorage, query: RecordQuery = RecordQuery()) -> list[str]:
    return [found["_id"] for found in storage.find("ds", query)]


def test_memory_url_opens_the_reference_engine():
    assert isinstance(open_storage("memory://"), MemoryStorage)


# --- configurations and versions ------------------------------------------------------------


def test_every_change_takes_a_new_version_from_one_counter(storage):
    storage.create_data_set({"name": "a", "data_group": "g", "data_type": "a"})
    storage.create_data_set({"name": "b", "data_group": "g", "data_type": "b"})
    first_a, first_b = storage.data_set_version("a"), storage.data_set_version("b")
    storage.save_records("a", [record("1")])
    assert first_a < first_b < storage.data_set_version("a")


def test_taken_name_or_pair_is_refused(storage):
    storage.create_data_set({"name": "a", "data_group": "g", "data_type": "t"})
    with pytest.raises(AlreadyExists):
        storage.create_data_set({"name": "a", "data_group": "g", "data_type": "other"})
    with pytest.raises(AlreadyExists):
        storage.create_data_set({"name": "b", "data_group": "g", "data_type": "t"})


def test_replacing_an_absent_configuration_is_not_found(storage):
    with pytest.raises(NotFound):
        storage.replace_data_set("nope", {"name": "nope", "data_group": "g", "data_type": "t"})


def test_deleting_a_data_set_removes_its_records_and_version(storage):
    storage.create_data_set({"name": "ds", "data_group": "g", "data_type": "t"})
    storage.save_records("ds", [record("1")])
    assert storage.delete_data_set("ds") is True
    assert (storage.get_record("ds", "1"), storage.data_set_version("ds")) == (None, None)
    assert storage.delete_data_set("ds") is False


def test_returned_configurations_are_copies(storage):
    storage.create_data_set({"name": "a", "data_group": "g", "data_type": "t", "schema": {"k": 1}})
    storage.get_data_set("a")["schema"]["k"] = 2
    assert storage.get_data_set("a")["schema"] == {"k": 1}


def test_documents_need_create_for_new_keys_and_exist_for_updates(storage):
    storage.put_document("transforms", "x", {"id": "x"}, create=True)
    with pytest.raises(AlreadyExists):
        storage.put_document("transforms", "x", {"id": "x"}, create=True)
    with pytest.raises(NotFound):
        storage.put_document("transforms", "y", {"id": "y"}, create=False)
    assert storage.list_documents("transforms") == [{"id": "x"}]


# --- records --------------------------------------------------------------------------------


def test_records_are_stored_with_iso_date_strings(storage):
    storage.save_records("ds", [record("1", at(2012, 12, 12, 12, 12))])
    stored = storage.get_record("ds", "1")
    assert stored["_timestamp"] == "2012-12-12T12:12:00+00:00"
    assert stored["_week_start_at"] == "2012-12-10T00:00:00+00:00"


def test_an_upsert_replaces_the_record_and_counts_as_written_now(storage):
    storage.save_records("ds", [record("1", v=1), record("2")])
    storage.save_records("ds", [record("1", w=2)])
    assert ids(storage) == ["2", "1"]
    assert "v" not in storage.get_record("ds", "1")


def test_the_later_record_of_a_batch_with_the_same_id_wins(storage):
    storage.save_records("ds", [record("1", v=1), record("2"), record("1", v=3)])
    assert ids(storage) == ["2", "1"] and storage.get_record("ds", "1")["v"] == 3


def test_a_batch_with_a_bad_record_stores_nothing(storage):
    with pytest.raises(KeyError):
        storage.save_records("ds", [record("1"), {"no": "id"}])
    assert ids(storage) == []


def test_capped_size_evicts_oldest_written_first(storage):
    storage.save_records("ds", [record(str(n), v="x") for n in range(4)])
    size = record_size(storage.get_record("ds", "0"))  # all four are the same size
    storage.save_records("ds", [record("0", v="x")], capped_size=size * 2)
    assert ids(storage) == ["3", "0"]


def test_capped_size_can_evict_records_of_the_batch_just_written(storage):
    storage.save_records("ds", [record("1", v="x")])
    size = record_size(storage.get_record("ds", "1"))
    storage.save_records("ds", [record("2", v="y"), record("3", v="z")], capped_size=size)
    assert ids(storage) == ["3"]


def test_last_updated_is_the_newest_write_time_per_data_set(storage):
    storage.save_records("a", [record("1", _updated_at=at(2014, 1, 2)), record("2", _updated_at=at(2014, 1, 5))])
    storage.save_records("b", [record("1", _updated_at=at(2013, 1, 1))])
    assert storage.last_updated() == {"a": at(2014, 1, 5), "b": at(2013, 1, 1)}


# --- find -----------------------------------------------------------------------------------


def test_string_filters_match_only_strings_and_boolean_filters_only_booleans(storage):
    storage.save_records("ds", [record("s", v="true"), record("b", v=True), record("n", v=3), record("t", v="3")])
    assert ids(storage, RecordQuery(filters=(Filter("v", True),))) == ["b"]
    assert ids(storage, RecordQuery(filters=(Filter("v", "3"),))) == ["t"]


def test_prefix_filters_are_literal_and_only_on_strings(storage):
    storage.save_records("ds", [record("1", a=".*x"), record("2", a="abc"), record("3", a=12)])
    assert ids(storage, RecordQuery(filters=(Filter("a", ".*", prefix=True),))) == ["1"]
    assert ids(storage, RecordQuery(filters=(Filter("a", "1", prefix=True),))) == []


def test_records_without_timestamp_never_match_a_bounded_range(storage):
    storage.save_records("ds", [record("timed", at(2013, 1, 1)), record("untimed")])
    assert ids(storage, RecordQuery(time=TimeRange(start=at(2012, 1, 1)))) == ["timed"]
    assert ids(storage, RecordQuery()) == ["timed", "untimed"]


def test_sorting_follows_the_cross_type_order_with_missing_first(storage):
    storage.save_records("ds", [record("s", v="a"), record("n", v=10), record("m"), record("t", v=True), record("n3", v=3)])
    assert ids(storage, RecordQuery(sort=Sort("v"))) == ["m", "t", "n3", "n", "s"]
    assert ids(storage, RecordQuery(sort=Sort("v", descending=True), limit=2)) == ["s", "n"]


# --- aggregate --------------------------------------------------------------------------------


def test_aggregate_buckets_by_period_start_and_leaves_out_untimed_records(storage):
    storage.save_records("ds", [record("1", at(2013, 3, 12, 5)), record("2", at(2013, 3, 17)), record("3")])
    [row] = storage.aggregate("ds", AggregateQuery(bucketing=Bucketing(WEEK)))
    assert (row.period_start, row.group, row.count) == (at(2013, 3, 11), (), 2)


def test_aggregate_keeps_true_and_one_as_different_groups_and_skips_null_groups(storage):
    storage.save_records("ds", [record("1", g=True), record("2", g=1), record("3", g=None), record("4")])
    rows = storage.aggregate("ds", AggregateQuery(group_by=("g",)))
    assert sorted((repr(row.group), row.count) for row in rows) == [("(1,)", 1), ("(True,)", 1)]


ALL_OPS = tuple(Reduction("v", op) for op in Op)


def test_aggregate_reductions_sum_numbers_only_and_count_present_values(storage):
    storage.save_records("ds", [record("1", v=8), record("2", v=4), record("3", v="x"), record("4", v=None),
                                record("5", v=False), record("6")])
    [row] = storage.aggregate("ds", AggregateQuery(reductions=ALL_OPS))
    assert {reduction.op: value for reduction, value in row.values.items()} == {
        Op.SUM: 12, Op.NUMBERS: 2, Op.COUNT: 4, Op.DISTINCT: [False, 4, 8, "x"], Op.MIN: 4, Op.MAX: 8,
        Op.NUMBER_LIST: [4, 8]}
    assert type(row.values[Reduction("v", Op.SUM)]) is int


def test_aggregate_computes_only_the_reductions_asked_for(storage):
    storage.save_records("ds", [record("1", v=1.5)])
    [row] = storage.aggregate("ds", AggregateQuery(reductions=(Reduction("v", Op.SUM),)))
    assert row.values == {Reduction("v", Op.SUM): 1.5}


def test_aggregate_buckets_weeks_on_the_clocks_of_a_time_zone(storage):
    from zoneinfo import ZoneInfo

    # Sunday 23:30 UTC in summer is already Monday 00:30 in London: the next London week.
    storage.save_records("ds", [record("1", at(2014, 7, 13, 23, 30))])
    [row] = storage.aggregate("ds", AggregateQuery(bucketing=Bucketing(WEEK, ZoneInfo("Europe/London"))))
    assert row.period_start == at(2014, 7, 13, 23)
