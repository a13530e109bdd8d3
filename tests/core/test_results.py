"""Shaping helpers and CSV export (docs/query-language.md, "Shifting a duration", "CSV")."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backdrop.core.results import first_data_index, limit_rows, nested_shift, sort_rows, to_csv
from backdrop.core.storage.base import Sort

UTC = timezone.utc


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


# --- CSV ----------------------------------------------------------------------------------------


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
