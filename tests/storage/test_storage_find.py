"""Contract: raw queries (filters, time ranges, sorting, limits), on every engine."""
from __future__ import annotations

import pytest
from storage_support import CONFIG, at, ids, record

from backdrop.core.storage.base import Filter, RecordQuery, Sort, TimeRange


@pytest.fixture
def ds(engine):
    engine.create_data_set(CONFIG)
    return engine


def found(engine, **query) -> list[str]:
    return ids(engine.find("ds", RecordQuery(**query)))


def where(*filters: Filter) -> dict:
    return {"filters": filters}


# --- filters --------------------------------------------------------------------------


def test_a_string_filter_matches_equal_strings_only(ds):
    ds.save_records("ds", [record("s", v="5"), record("n", v=5), record("f", v=5.0),
                           record("other", v="50"), record("missing")])
    assert found(ds, **where(Filter("v", "5"))) == ["s"]


def test_a_string_filter_does_not_match_booleans_or_null(ds):
    ds.save_records("ds", [record("t", v=True), record("s", v="true"), record("n", v=None),
                           record("null", v="null")])
    assert found(ds, **where(Filter("v", "true"))) == ["s"]
    assert found(ds, **where(Filter("v", "null"))) == ["null"]


def test_a_boolean_filter_matches_booleans_only(ds):
    ds.save_records("ds", [record("t", v=True), record("f", v=False), record("one", v=1),
                           record("zero", v=0), record("s", v="true")])
    assert found(ds, **where(Filter("v", True))) == ["t"]
    assert found(ds, **where(Filter("v", False))) == ["f"]


def test_string_equality_is_case_sensitive_and_exact(ds):
    ds.save_records("ds", [record("a", v="Big"), record("b", v="big"), record("c", v="big ")])
    assert found(ds, **where(Filter("v", "big"))) == ["b"]


def test_filters_on_several_fields_must_all_match(ds):
    ds.save_records("ds", [record("both", a="x", b="y"), record("a_only", a="x", b="z"),
                           record("b_only", a="z", b="y")])
    assert found(ds, **where(Filter("a", "x"), Filter("b", "y"))) == ["both"]


def test_a_filter_on_an_internal_field(ds):
    ds.save_records("ds", [record("a"), record("b")])
    assert found(ds, **where(Filter("_id", "b"))) == ["b"]


def test_a_prefix_filter_matches_strings_starting_with_it(ds):
    ds.save_records("ds", [record("a", v="apple"), record("b", v="apricot"), record("c", v="banana"),
                           record("d", v="ap"), record("e", v="a")])
    assert found(ds, **where(Filter("v", "ap", prefix=True))) == ["a", "b", "d"]


@pytest.mark.parametrize("prefix, matching", [
    ("50%", ["literal"]),
    ("a_c", ["underscore"]),
    (".*", ["regex"]),
    ("\\", ["backslash"]),
])
def test_a_prefix_is_literal_not_a_pattern(ds, prefix, matching):
    ds.save_records("ds", [record("literal", v="50% off"), record("percent", v="500 off"),
                           record("underscore", v="a_c"), record("abc", v="abc"),
                           record("regex", v=".*x"), record("dots", v="abc.*"),
                           record("backslash", v="\\x")])
    assert found(ds, **where(Filter("v", prefix, prefix=True))) == matching


def test_a_prefix_filter_is_case_sensitive(ds):
    ds.save_records("ds", [record("lower", v="camden"), record("upper", v="Camden")])
    assert found(ds, **where(Filter("v", "Cam", prefix=True))) == ["upper"]


def test_a_prefix_filter_matches_only_strings(ds):
    ds.save_records("ds", [record("n", v=123), record("s", v="123"), record("t", v=True)])
    assert found(ds, **where(Filter("v", "12", prefix=True))) == ["s"]


def test_a_prefix_counts_non_ascii_characters(ds):
    ds.save_records("ds", [record("a", v="été"), record("b", v="étage"), record("c", v="e")])
    assert found(ds, **where(Filter("v", "ét", prefix=True))) == ["a", "b"]


CONTROL = "a\x00b\x01c"


def test_strings_holding_nul_and_control_characters_filter_whole(ds):
    ds.save_records("ds", [record("whole", v=CONTROL), record("a", v="a"), record("a1", v="a\x01"),
                           record("a0", v="a\x00")])
    assert found(ds, **where(Filter("v", CONTROL))) == ["whole"]
    assert found(ds, **where(Filter("v", "a"))) == ["a"]
    assert found(ds, **where(Filter("v", "a\x00", prefix=True))) == ["whole", "a0"]
    assert found(ds, **where(Filter("v", "a\x01", prefix=True))) == ["a1"]


def test_strings_holding_nul_sort_by_code_point(ds):
    ds.save_records("ds", [record("whole", v=CONTROL), record("a1", v="a\x01"), record("a", v="a"),
                           record("a0", v="a\x00")])
    assert found(ds, sort=Sort("v")) == ["a", "a0", "whole", "a1"]


# --- time ranges ----------------------------------------------------------------------


@pytest.fixture
def timed(ds):
    ds.save_records("ds", [record("before", at(2013, 1, 31, 23, 59, 59, 999999)),
                           record("start", at(2013, 2, 1)),
                           record("inside", at(2013, 2, 10)),
                           record("end", at(2013, 3, 1)),
                           record("after", at(2013, 3, 1, 0, 0, 0, 1)),
                           record("untimed")])
    return ds


def test_a_range_includes_its_start_and_excludes_its_end(timed):
    assert found(timed, time=TimeRange(at(2013, 2, 1), at(2013, 3, 1))) == ["start", "inside"]


def test_an_inclusive_range_includes_its_end(timed):
    assert found(timed, time=TimeRange(at(2013, 2, 1), at(2013, 3, 1), end_inclusive=True)) == [
        "start", "inside", "end"]


def test_a_range_open_at_the_end(timed):
    assert found(timed, time=TimeRange(start=at(2013, 3, 1))) == ["end", "after"]


def test_a_range_open_at_the_start(timed):
    assert found(timed, time=TimeRange(end=at(2013, 2, 1))) == ["before"]


def test_records_without_a_timestamp_match_no_bounded_range(timed):
    assert "untimed" not in found(timed, time=TimeRange(start=at(1900, 1, 1)))
    assert "untimed" not in found(timed, time=TimeRange(end=at(2100, 1, 1)))


def test_records_without_a_timestamp_match_an_unbounded_query(timed):
    assert "untimed" in found(timed)


def test_range_bounds_in_other_time_zones_are_compared_as_instants(timed):
    from datetime import timedelta, timezone

    plus_one = timezone(timedelta(hours=1))
    start = at(2013, 2, 1).astimezone(plus_one)  # 01:00+01:00
    assert found(timed, time=TimeRange(start, at(2013, 2, 2))) == ["start"]


def test_filters_and_range_combine(ds):
    ds.save_records("ds", [record("in", at(2013, 2, 1), kind="x"), record("wrong", at(2013, 2, 1), kind="y"),
                           record("late", at(2013, 4, 1), kind="x")])
    query = dict(filters=(Filter("kind", "x"),), time=TimeRange(at(2013, 1, 1), at(2013, 3, 1)))
    assert found(ds, **query) == ["in"]


# --- sorting and limits ---------------------------------------------------------------

MIXED = [
    ("string_b", "b"), ("true", True), ("int_10", 10), ("missing", ...), ("float_2_5", 2.5),
    ("null", None), ("false", False), ("string_upper", "B"), ("negative", -3), ("string_a", "a"),
]


@pytest.fixture
def mixed(ds):
    ds.save_records("ds", [record(rid) if value is ... else record(rid, v=value) for rid, value in MIXED])
    return ds


def test_sorting_ascending_follows_the_cross_type_order(mixed):
    assert found(mixed, sort=Sort("v")) == [
        "missing", "null", "false", "true", "negative", "float_2_5", "int_10",
        "string_upper", "string_a", "string_b"]


def test_sorting_descending_puts_missing_and_null_last(mixed):
    assert found(mixed, sort=Sort("v", descending=True)) == [
        "string_b", "string_a", "string_upper", "int_10", "float_2_5", "negative",
        "true", "false", "missing", "null"]


def test_equal_sort_values_keep_write_order_both_ways(ds):
    ds.save_records("ds", [record("a", v=1), record("b", v=2), record("c", v=1.0), record("d", v=2)])
    assert found(ds, sort=Sort("v")) == ["a", "c", "b", "d"]
    assert found(ds, sort=Sort("v", descending=True)) == ["b", "d", "a", "c"]


def test_strings_sort_by_code_point(ds):
    values = ["\uff61", "😀", "é", "z", "Z", "a b", "ab", "a"]
    ds.save_records("ds", [record(str(i), v=v) for i, v in enumerate(values)])
    assert [r["v"] for r in ds.find("ds", RecordQuery(sort=Sort("v")))] == sorted(values)


def test_a_limit_keeps_the_first_records_in_write_order(ds):
    ds.save_records("ds", [record(r) for r in "edcba"])
    assert found(ds, limit=2) == ["e", "d"]


def test_a_limit_applies_after_sorting(ds):
    ds.save_records("ds", [record(r, v=n) for r, n in zip("abcde", [3, 1, 5, 2, 4])])
    assert found(ds, sort=Sort("v", descending=True), limit=2) == ["c", "e"]


def test_a_limit_larger_than_the_matches_returns_them_all(ds):
    ds.save_records("ds", [record("a"), record("b")])
    assert found(ds, limit=10) == ["a", "b"]


def test_records_can_be_written_while_a_raw_query_is_being_read(ds):
    ds.save_records("ds", [record(f"r{i}") for i in range(300)])
    streamed = ds.find("ds", RecordQuery())
    first = next(streamed)
    ds.save_records("ds", [record("late")])
    ds.save_records("out", [record("copy")])
    assert len([first, *streamed]) in (300, 301)
    assert ds.get_record("out", "copy") is not None


def test_a_query_on_an_unknown_data_set_finds_nothing(engine):
    assert list(engine.find("nothing", RecordQuery())) == []
