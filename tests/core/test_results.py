"""Shaping helpers and CSV export (read-api.md §6, §10)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backdrop.core.results import (
    collect_keys,
    collect_values,
    empty_collect_values,
    first_data_index,
    limit_rows,
    merge_stats,
    nested_shift,
    sort_rows,
    to_csv,
)
from backdrop.core.storage.base import FieldStats, Sort

UTC = timezone.utc


# --- collect values ----------------------------------------------------------------------------


def test_collect_values_turn_field_stats_into_the_method_keys():
    stats = {"value": FieldStats(sum=27, numeric_count=4, count=4, values=[4, 7, 8])}
    collects = [("value", "sum"), ("value", "mean"), ("value", "count"), ("value", "set")]
    assert collect_values(stats, collects) == {
        "value:sum": 27, "value:mean": 6.75, "value:count": 4, "value:set": [4, 7, 8]}


def test_collect_values_of_a_field_no_record_has():
    assert collect_values({}, [("v", "sum"), ("v", "mean"), ("v", "count"), ("v", "set")]) == {
        "v:sum": 0, "v:mean": None, "v:count": 0, "v:set": []}


def test_default_method_keys_are_the_set_and_the_bare_field():
    assert collect_keys([("pickup", "default"), ("value", "sum")]) == ["pickup:set", "pickup", "value:sum"]


def test_empty_collect_values_for_the_default_method_hold_only_the_set_key():
    assert empty_collect_values([("pickup", "default"), ("value", "mean")]) == {"pickup:set": None, "value:mean": None}


def test_merged_stats_weight_the_mean_and_unite_the_sets():
    merged = merge_stats([FieldStats(3, 2, 2, [1, 2]), FieldStats(6, 1, 2, [6, "x"]), FieldStats(0, 0, 1, [True])])
    assert merged == FieldStats(sum=9, numeric_count=3, count=5, values=[True, 1, 2, 6, "x"])
    assert collect_values({"v": merged}, [("v", "mean")]) == {"v:mean": 3.0}


def test_merged_integer_sums_stay_integers_and_float_sums_floats():
    assert type(merge_stats([FieldStats(1, 1, 1), FieldStats(2, 1, 1)]).sum) is int
    assert type(merge_stats([FieldStats(1862526.0, 1, 1), FieldStats(0, 0, 0)]).sum) is float


# --- shifting -------------------------------------------------------------------------------------


def series(*counts: int) -> list[dict]:
    return [{"_count": count} for count in counts]


def test_first_data_index_counts_empty_periods_from_the_chosen_end():
    assert first_data_index(series(0, 0, 3, 1, 0), backward=False) == 2
    assert first_data_index(series(0, 0, 3, 1, 0), backward=True) == 1


def test_first_data_index_without_data_is_zero():
    assert first_data_index(series(0, 0), backward=False) == 0


def test_nested_shift_is_the_smallest_over_groups_and_zero_without_groups():
    groups = [{"values": series(0, 0, 1)}, {"values": series(0, 1, 1)}]
    assert nested_shift(groups, backward=False) == 1
    assert nested_shift([], backward=False) == 0


# --- sort and limit -------------------------------------------------------------------------------


def test_sort_is_stable_in_both_directions():
    rows = [{"g": "a", "n": 12}, {"g": "b", "n": 16}, {"g": "c", "n": 12}, {"g": "d", "n": 13}]
    assert [r["g"] for r in sort_rows(rows, Sort("n", descending=True))] == ["b", "d", "a", "c"]
    assert [r["g"] for r in sort_rows(rows, Sort("n"))] == ["a", "c", "d", "b"]


def test_no_sort_keeps_the_rows_as_they_are():
    rows = [{"n": 2}, {"n": 1}]
    assert sort_rows(rows, None) == [{"n": 2}, {"n": 1}]


def test_limit_zero_or_none_keeps_every_row():
    rows = [{"n": 1}, {"n": 2}]
    assert limit_rows(rows, 0) == rows and limit_rows(rows, None) == rows and limit_rows(rows, 1) == [{"n": 1}]


# --- CSV (§10) ------------------------------------------------------------------------------------


def test_csv_header_is_the_sorted_union_of_keys_with_crlf_lines():
    rows = [{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "cc": 33}, {"a": 1, "bb": 22, "c": 3, "cc": 33}]
    assert to_csv(rows) == "a,b,bb,c,cc\r\n1,2,,3,\r\n1,2,,,33\r\n1,,22,3,33\r\n"


def test_csv_skips_empty_objects():
    assert to_csv([{}, {"a": 1}, {}]) == "a\r\n1\r\n"


def test_csv_of_no_rows_or_only_empty_rows_is_empty():
    assert to_csv([]) == ""
    assert to_csv([{}, {}]) == ""


def test_csv_writes_booleans_as_json_and_null_as_an_empty_cell():
    assert to_csv([{"a": True, "b": False, "c": None}]) == "a,b,c\r\ntrue,false,\r\n"


def test_csv_writes_datetimes_like_json_in_utc():
    plus_one = timezone(timedelta(hours=1))
    rows = [{"a": datetime(2013, 3, 11, tzinfo=UTC), "b": datetime(2015, 1, 14, 13, 51, 45, 621000, tzinfo=plus_one)}]
    assert to_csv(rows) == "a,b\r\n2013-03-11T00:00:00+00:00,2015-01-14T12:51:45.621000+00:00\r\n"


def test_csv_writes_nested_values_as_json_text():
    rows = [{"set": ["a", "b"], "values": [{"_count": 1, "_start_at": datetime(2013, 3, 11, tzinfo=UTC)}]}]
    text = to_csv(rows)
    assert text.splitlines()[1] == '"[""a"",""b""]","[{""_count"":1,""_start_at"":""2013-03-11T00:00:00+00:00""}]"'


def test_csv_passes_utf8_through_and_quotes_commas():
    assert to_csv([{"name": "café 🦕", "list": "a,b"}]) == 'list,name\r\n"a,b",café 🦕\r\n'


def test_csv_writes_numbers_as_json_numbers():
    assert to_csv([{"i": 3, "f": 1862526.0, "m": 6.75}]) == "f,i,m\r\n1862526.0,3,6.75\r\n"
