"""Running queries against the reference engine: the answer shapes and rules of docs/query-language.md."""
from __future__ import annotations

from datetime import datetime

import pytest

from backdrop.core.query import Query, QueryError
from backdrop.core.reading import aggregate_query, execute
from backdrop.core.storage.base import Filter, Op, Sort
from backdrop.core.storage.memory import MemoryStorage
from backdrop.core.timeseries import DAY, MONTH, WEEK

from normalised import at, record


def engine_with(records: list[dict]) -> MemoryStorage:
    storage = MemoryStorage()
    storage.save_records("ds", records)
    return storage


def run(records: list[dict], **query) -> list[dict]:
    return execute(engine_with(records), "ds", Query(**query))


def counts(series: list[dict]) -> list[tuple]:
    return [(entry["_start_at"], entry["_count"]) for entry in series]


def numbered(prefix: str, timestamp: datetime, how_many: int, **fields) -> list[dict]:
    return [record(f"{prefix}{n}", timestamp, **fields) for n in range(how_many)]


# --- fixtures after the original feature files -------------------------------------------

LICENSING = [  # licensing.json: Westminster 4, Camden 2
    record("1234", at(2012, 12, 12, 1, 1, 1), authority="Westminster"),
    record("1235", at(2012, 12, 12, 1, 1, 1), authority="Camden"),
    record("1236", at(2012, 12, 13, 1, 1, 1), authority="Westminster"),
    record("1237", at(2012, 12, 14, 1, 1, 1), authority="Westminster"),
    record("1238", at(2012, 12, 19, 1, 1, 1), authority="Westminster"),
    record("1239", at(2012, 12, 19, 1, 1, 1), authority="Camden"),
]

LICENSING_2 = [  # licensing_2.json: four in the week of 2012-12-10, one in the week of 12-03
    record("1234", at(2012, 12, 12, 1, 1, 1), authority="Westminster", licence_name="Temporary events notice"),
    record("1235", at(2012, 12, 12, 1, 1, 1), authority="Camden", licence_name="Temporary events notice"),
    record("1236", at(2012, 12, 13, 1, 1, 1), authority="Westminster", licence_name="Temporary events notice"),
    record("1237", at(2012, 12, 14, 1, 1, 1), authority="Westminster", licence_name="Temporary events notice"),
    record("1238", at(2012, 12, 4, 1, 1, 1), authority="Westminster", licence_name="Cat herding licence"),
]

STORED_TIMESTAMPS = [  # 20:00Z on 03-15, 16, 17 (week 03-11) and 18, 19 (week 03-18)
    record(str(day), at(2013, 3, day, 20), name=name)
    for day, name in zip(range(15, 20), ["alpha", "beta", "alpha", "beta", "alpha"])
]

ANIMALS = [  # sort_and_limit.json
    record("a", name="aardvark", value=8, type="wild"),
    record("b", name="buffalo", value=7, type="wild"),
    record("c", name="cat", value=3, type="domestic"),
    record("d", name="dog", value=3, type="domestic"),
    record("e", name="elephant", value=8, type="wild"),
    record("f", name="frog", value=4, type="wild"),
]

MARCH_WEEKS = dict(start_at=at(2013, 3, 11), end_at=at(2013, 3, 25), period=WEEK)


# --- raw --------------------------------------------------------------------------------------


def test_raw_query_returns_records_as_stored_with_iso_dates():
    [found] = run(LICENSING, start_at=at(2012, 12, 12, 1, 1, 2), end_at=at(2012, 12, 14))
    assert found["_id"] == "1236"
    assert found["_timestamp"] == "2012-12-13T01:01:01+00:00"
    assert found["_week_start_at"] == "2012-12-10T00:00:00+00:00"
    assert found["authority"] == "Westminster"


def test_raw_query_filters_by_value_in_storage_order():
    found = run(LICENSING, filters=(Filter("authority", "Camden"),))
    assert [r["_id"] for r in found] == ["1235", "1239"]


def test_raw_query_sorts_numerically_and_limits_after_sorting():
    found = run(ANIMALS, sort_by=Sort("value", descending=True), limit=3)
    assert [r["value"] for r in found] == [8, 8, 7]


def test_raw_query_limit_zero_means_no_limit():
    assert len(run(ANIMALS, limit=0)) == 6


def test_inclusive_end_includes_the_record_exactly_at_end_at():
    records = [record(str(d), at(2014, 12, d)) for d in (1, 2, 3)]
    window = dict(start_at=at(2014, 12, 1), end_at=at(2014, 12, 3))
    assert len(run(records, **window)) == 2
    assert len(run(records, **window, inclusive=True)) == 3


# --- group_by only ----------------------------------------------------------------------------


def test_group_by_authority_gives_camden_2_and_westminster_4():
    assert run(LICENSING, group_by=("authority",)) == [
        {"authority": "Camden", "_count": 2},
        {"authority": "Westminster", "_count": 4},
    ]


def test_group_by_two_keys_gives_a_flat_list_ordered_by_both():
    assert run(LICENSING_2, group_by=("authority", "licence_name")) == [
        {"authority": "Camden", "licence_name": "Temporary events notice", "_count": 1},
        {"authority": "Westminster", "licence_name": "Cat herding licence", "_count": 1},
        {"authority": "Westminster", "licence_name": "Temporary events notice", "_count": 3},
    ]


def test_boolean_groups_keep_their_json_type():
    records = [record("t-rex", eats_people=True), record("raptor", eats_people=True),
               record("croc", eats_people=True), record("diplo", eats_people=False)]
    result = run(records, group_by=("eats_people",))
    assert result == [{"eats_people": False, "_count": 1}, {"eats_people": True, "_count": 3}]
    assert result[0]["eats_people"] is False


def test_groups_of_mixed_types_follow_the_cross_type_order_and_true_is_not_one():
    records = [record("s", x="1"), record("n", x=1), record("t", x=True), record("f", x=False),
               record("null", x=None), record("missing")]
    result = run(records, group_by=("x",))
    assert [row["x"] for row in result] == [False, True, 1, "1"]
    assert [type(row["x"]) for row in result] == [bool, bool, int, str]


def test_records_lacking_a_group_field_take_no_part():
    records = [record("1", a="x", b="y"), record("2", a="x")]
    assert run(records, group_by=("a", "b")) == [{"a": "x", "b": "y", "_count": 1}]


# --- period only -----------------------------------------------------------


def test_weekly_buckets_count_three_and_two():
    assert run(STORED_TIMESTAMPS, **MARCH_WEEKS) == [
        {"_start_at": at(2013, 3, 11), "_end_at": at(2013, 3, 18), "_count": 3},
        {"_start_at": at(2013, 3, 18), "_end_at": at(2013, 3, 25), "_count": 2},
    ]


def test_weekly_buckets_with_a_filter():
    result = run(STORED_TIMESTAMPS, **MARCH_WEEKS, filters=(Filter("name", "alpha"),))
    assert [entry["_count"] for entry in result] == [2, 1]


def test_a_range_without_data_gives_zero_buckets():
    result = run([], start_at=at(2013, 4, 1), end_at=at(2013, 4, 15), period=WEEK)
    assert counts(result) == [(at(2013, 4, 1), 0), (at(2013, 4, 8), 0)]


def test_unaligned_range_is_filled_from_the_week_holding_its_start_to_its_rounded_up_end():
    records = numbered("a", at(2013, 4, 9), 12) + numbered("b", at(2013, 4, 16), 23)
    result = run(records, start_at=at(2013, 4, 5), end_at=at(2013, 4, 25), period=WEEK)
    assert counts(result) == [(at(2013, 4, 1), 0), (at(2013, 4, 8), 12), (at(2013, 4, 15), 23), (at(2013, 4, 22), 0)]


def test_gaps_between_data_weeks_are_filled():
    records = numbered("a", at(2013, 1, 15), 32) + numbered("b", at(2013, 1, 22), 45) + numbered("c", at(2013, 2, 5), 17)
    result = run(records, start_at=at(2013, 1, 7), end_at=at(2013, 2, 18), period=WEEK)
    assert [entry["_count"] for entry in result] == [0, 32, 45, 0, 17, 0]
    assert result[-1]["_start_at"] == at(2013, 2, 11) and result[-1]["_end_at"] == at(2013, 2, 18)


def test_monthly_series_fills_the_missing_month():
    records = [record("apr", at(2013, 4, 10)), record("jun", at(2013, 6, 1, 12))]
    result = run(records, start_at=at(2013, 4, 1), end_at=at(2013, 6, 2), period=MONTH)
    assert counts(result) == [(at(2013, 4, 1), 1), (at(2013, 5, 1), 0), (at(2013, 6, 1), 1)]
    assert result[-1]["_end_at"] == at(2013, 7, 1)


def test_filled_periods_carry_null_collects_and_only_the_set_key_for_the_default_method():
    records = [record("1", at(2013, 3, 12), value=2, colour="red")]
    result = run(records, **MARCH_WEEKS, collect=(("value", "sum"), ("value", "mean"), ("colour", "default")))
    assert result[0] == {"_start_at": at(2013, 3, 11), "_end_at": at(2013, 3, 18), "_count": 1,
                         "value:sum": 2, "value:mean": 2.0, "colour:set": ["red"], "colour": ["red"]}
    assert result[1] == {"_start_at": at(2013, 3, 18), "_end_at": at(2013, 3, 25), "_count": 0,
                         "value:sum": None, "value:mean": None, "colour:set": None}


def test_period_queries_leave_out_records_without_timestamp():
    records = [record("timed", at(2013, 3, 12)), record("untimed")]
    assert [entry["_count"] for entry in run(records, **MARCH_WEEKS)] == [1, 0]


def test_period_collect_gives_set_and_default_keys():
    records = [record("1", at(2013, 8, 6), pickup="ring"), record("2", at(2013, 8, 7), pickup="mushroom")]
    result = run(records, start_at=at(2013, 8, 5), end_at=at(2013, 8, 12), period=WEEK, collect=(("pickup", "default"),))
    assert result == [{"_start_at": at(2013, 8, 5), "_end_at": at(2013, 8, 12), "_count": 2,
                       "pickup:set": ["mushroom", "ring"], "pickup": ["mushroom", "ring"]}]


def test_result_datetimes_are_aware_utc():
    [entry] = run([record("1", at(2013, 3, 12))], start_at=at(2013, 3, 11), end_at=at(2013, 3, 18), period=WEEK)
    assert entry["_start_at"].utcoffset().total_seconds() == 0
    assert type(entry["_count"]) is int


# --- period + group_by, nested ---------------------------------------------------------------


def test_nested_groups_carry_totals_and_their_series():
    result = run(STORED_TIMESTAMPS, **MARCH_WEEKS, group_by=("name",))
    assert result[0] == {
        "name": "alpha", "_count": 3, "_group_count": 2,
        "values": [
            {"_start_at": at(2013, 3, 11), "_end_at": at(2013, 3, 18), "_count": 2},
            {"_start_at": at(2013, 3, 18), "_end_at": at(2013, 3, 25), "_count": 1},
        ],
    }
    assert (result[1]["name"], result[1]["_count"], result[1]["_group_count"]) == ("beta", 2, 2)
    assert [entry["_count"] for entry in result[1]["values"]] == [1, 1]


def test_group_count_counts_periods_with_records_before_filling():
    records = [record("1", at(2013, 1, 8), name="a"), record("2", at(2013, 1, 9), name="a"),
               record("3", at(2013, 1, 29), name="a")]
    [group] = run(records, start_at=at(2013, 1, 7), end_at=at(2013, 2, 4), period=WEEK, group_by=("name",))
    assert group["_group_count"] == 2
    assert [entry["_count"] for entry in group["values"]] == [2, 0, 0, 1]


def test_grouping_by_a_field_nobody_has_gives_no_groups():
    assert run(STORED_TIMESTAMPS, **MARCH_WEEKS, group_by=("wibble",)) == []


def test_group_totals_combine_the_periods_stats():
    records = [record("1", at(2013, 3, 12), name="a", v=1), record("2", at(2013, 3, 13), name="a", v=2),
               record("3", at(2013, 3, 19), name="a", v=6), record("4", at(2013, 3, 19), name="a", v="x")]
    collect = (("v", "sum"), ("v", "mean"), ("v", "count"), ("v", "set"))
    [group] = run(records, **MARCH_WEEKS, group_by=("name",), collect=collect)
    assert (group["v:sum"], group["v:mean"], group["v:count"], group["v:set"]) == (9, 3.0, 4, [1, 2, 6, "x"])
    assert [(e["v:sum"], e["v:mean"], e["v:set"]) for e in group["values"]] == [(3, 1.5, [1, 2]), (6, 6.0, [6, "x"])]


def test_inclusive_end_record_outside_the_series_still_lists_its_group():
    records = [record("edge", at(2013, 3, 25), name="late"), record("in", at(2013, 3, 12), name="early")]
    result = run(records, **MARCH_WEEKS, inclusive=True, group_by=("name",))
    late = result[1]
    assert (late["name"], late["_count"], late["_group_count"]) == ("late", 1, 1)
    assert [entry["_count"] for entry in late["values"]] == [0, 0]


def test_limit_on_nested_groups_does_not_shorten_their_series():
    result = run(STORED_TIMESTAMPS, **MARCH_WEEKS, group_by=("name",), limit=1)
    assert len(result) == 1 and len(result[0]["values"]) == 2


def test_nested_groups_sort_by_count_descending():
    result = run(LICENSING_2, start_at=at(2012, 12, 3), end_at=at(2012, 12, 17), period=WEEK,
                 group_by=("authority",), sort_by=Sort("_count", descending=True))
    assert [(g["authority"], g["_count"]) for g in result] == [("Westminster", 4), ("Camden", 1)]


def test_nested_float_sum_stays_float_in_group_and_period():
    records = [record("1", at(2012, 4, 1), channel="assisted-digital", volume=1000000.0),
               record("2", at(2012, 4, 1), channel="assisted-digital", volume=862526.0)]
    [group] = run(records, start_at=at(2012, 4, 1), end_at=at(2012, 5, 1), period=MONTH,
                  group_by=("channel",), collect=(("volume", "sum"),))
    assert group["volume:sum"] == 1862526.0 and type(group["volume:sum"]) is float
    assert type(group["values"][0]["volume:sum"]) is float


# --- flattened ---------------------------------------------------------------------------------


def test_flatten_fills_every_period_and_every_combination_of_seen_values():
    records = [record("1", at(2013, 3, 2), status="Success", thing="blue", no="yes"),
               record("2", at(2013, 3, 9), status="Unknown", thing="elephant", no="maybe"),
               record("3", at(2013, 3, 20), status="", thing="kant", no="maybe")]
    result = run(records, start_at=at(2013, 3, 1), end_at=at(2013, 4, 1), period=MONTH,
                 group_by=("status", "thing", "no"), flatten=True)
    assert len(result) == 18
    assert sum(row["_count"] for row in result) == 3


def test_flatten_over_two_months_with_two_values_per_field_gives_sixteen_rows():
    records = [record("1", at(2013, 3, 2), a="x", b="p", c="m"), record("2", at(2013, 4, 9), a="y", b="q", c="n")]
    result = run(records, start_at=at(2013, 3, 1), end_at=at(2013, 5, 1), period=MONTH,
                 group_by=("a", "b", "c"), flatten=True)
    assert len(result) == 16
    assert [row["_start_at"] for row in result].count(at(2013, 4, 1)) == 8


def test_flattened_rows_are_ordered_by_period_then_group_values_with_zero_filled_rows():
    records = [record("1", at(2013, 3, 12), g="b", v=1), record("2", at(2013, 3, 19), g="a", v=2)]
    result = run(records, **MARCH_WEEKS, group_by=("g",), flatten=True, collect=(("v", "sum"),))
    assert result == [
        {"g": "a", "_start_at": at(2013, 3, 11), "_end_at": at(2013, 3, 18), "_count": 0, "v:sum": None},
        {"g": "b", "_start_at": at(2013, 3, 11), "_end_at": at(2013, 3, 18), "_count": 1, "v:sum": 1},
        {"g": "a", "_start_at": at(2013, 3, 18), "_end_at": at(2013, 3, 25), "_count": 1, "v:sum": 2},
        {"g": "b", "_start_at": at(2013, 3, 18), "_end_at": at(2013, 3, 25), "_count": 0, "v:sum": None},
    ]


def test_flattened_rows_are_sorted_stably_then_limited_as_a_final_list():
    records = [record("1", at(2013, 3, 12), g="b"), record("2", at(2013, 3, 19), g="a"),
               record("3", at(2013, 3, 20), g="a")]
    result = run(records, **MARCH_WEEKS, group_by=("g",), flatten=True,
                 sort_by=Sort("_count", descending=True), limit=3)
    assert [(row["g"], row["_start_at"], row["_count"]) for row in result] == [
        ("a", at(2013, 3, 18), 2), ("b", at(2013, 3, 11), 1), ("a", at(2013, 3, 11), 0)]


def test_flatten_includes_the_value_of_an_inclusive_end_record_in_the_permutations():
    records = [record("edge", at(2013, 3, 25), g="late"), record("in", at(2013, 3, 12), g="early")]
    result = run(records, **MARCH_WEEKS, inclusive=True, group_by=("g",), flatten=True)
    assert [(row["g"], row["_count"]) for row in result] == [("early", 1), ("late", 0), ("early", 0), ("late", 0)]


def test_flattened_group_only_query_is_the_plain_group_list():
    result = run(ANIMALS, group_by=("type",), filters=(Filter("type", "wild"),), flatten=True,
                 collect=(("value", "sum"), ("value", "mean")))
    assert result == [{"type": "wild", "_count": 4, "value:sum": 27, "value:mean": 6.75}]


# --- collect ----------------------------------------------------------------------


def test_collect_methods_over_8_7_8_4():
    collect = (("value", "sum"), ("value", "mean"), ("value", "count"), ("value", "set"))
    [wild] = run(ANIMALS, group_by=("type",), filters=(Filter("type", "wild"),), collect=collect)
    assert wild == {"type": "wild", "_count": 4, "value:sum": 27, "value:mean": 6.75, "value:count": 4,
                    "value:set": [4, 7, 8]}


def test_default_collect_gives_the_set_under_two_keys():
    [row] = run(LICENSING_2, group_by=("licence_name",), collect=(("authority", "default"),),
                filters=(Filter("licence_name", "Temporary events notice"),))
    assert row["authority:set"] == ["Camden", "Westminster"] and row["authority"] == ["Camden", "Westminster"]


def test_collecting_booleans_keeps_false():
    records = [record("1", g="x", paid=False), record("2", g="x", paid=False)]
    [row] = run(records, group_by=("g",), collect=(("paid", "default"),))
    assert row["paid"] == [False] and row["paid:set"] == [False]


def test_sum_skips_strings_and_gives_zero_without_numbers():
    records = [record("1", type="t-rex", name="rex"), record("2", type="t-rex", name="rexy")]
    [row] = run(records, group_by=("type",), collect=(("name", "sum"),))
    assert row["name:sum"] == 0


def test_mean_over_no_numbers_is_null():
    records = [record("1", g="x", v="a"), record("2", g="x")]
    [row] = run(records, group_by=("g",), collect=(("v", "mean"), ("missing", "mean")))
    assert row["v:mean"] is None and row["missing:mean"] is None


def test_sums_of_ints_stay_ints_and_means_are_floats():
    records = [record("1", g="x", v=2), record("2", g="x", v=4)]
    [row] = run(records, group_by=("g",), collect=(("v", "sum"), ("v", "mean")))
    assert type(row["v:sum"]) is int and row["v:sum"] == 6
    assert type(row["v:mean"]) is float and row["v:mean"] == 3.0


def test_count_and_set_leave_out_nulls_and_missing_values_and_keep_true_apart_from_one():
    records = [record("1", g="x", v=None), record("2", g="x"), record("3", g="x", v=True),
               record("4", g="x", v=1), record("5", g="x", v="b"), record("6", g="x", v=1)]
    [row] = run(records, group_by=("g",), collect=(("v", "count"), ("v", "set"), ("v", "sum")))
    assert row["v:count"] == 4
    assert row["v:set"] == [True, 1, "b"]
    assert row["v:sum"] == 2


def test_one_aggregate_asks_for_each_reduction_the_collects_need_once():
    query = Query(group_by=("g",), collect=(("a", "sum"), ("b", "default"), ("a", "set"), ("c", "mean"),
                                            ("c", "sum")))
    assert [(r.field, r.op) for r in aggregate_query(query).reductions] == [
        ("a", Op.SUM), ("b", Op.DISTINCT), ("a", Op.DISTINCT), ("c", Op.SUM), ("c", Op.NUMBERS)]


# --- sort and limit on groups -----------------------------------------------------------


def test_sort_ties_keep_group_order():
    records = (numbered("a", None, 12, g="a") + numbered("b", None, 16, g="b")
               + numbered("c", None, 12, g="c") + numbered("d", None, 13, g="d"))
    result = run(records, group_by=("g",), sort_by=Sort("_count", descending=True))
    assert [(row["g"], row["_count"]) for row in result] == [("b", 16), ("d", 13), ("a", 12), ("c", 12)]


def test_sort_ascending_and_limit_pick_the_smallest_group():
    assert run(ANIMALS, group_by=("type",), sort_by=Sort("_count"), limit=1) == [{"type": "domestic", "_count": 2}]


def test_groups_can_be_sorted_by_a_collect_key():
    result = run(ANIMALS, group_by=("name",), collect=(("value", "sum"),), sort_by=Sort("value:sum", descending=True))
    assert [row["name"] for row in result[:3]] == ["aardvark", "elephant", "buffalo"]


def test_null_sort_values_come_first_ascending_and_last_descending():
    records = [record("1", g="a", v="x"), record("2", g="b", v=5), record("3", g="c", v=1)]
    collect = (("v", "mean"),)
    up = run(records, group_by=("g",), collect=collect, sort_by=Sort("v:mean"))
    down = run(records, group_by=("g",), collect=collect, sort_by=Sort("v:mean", descending=True))
    assert [row["g"] for row in up] == ["a", "c", "b"]
    assert [row["g"] for row in down] == ["b", "c", "a"]


def test_limit_on_groups():
    assert [row["name"] for row in run(ANIMALS, group_by=("name",), limit=2)] == ["aardvark", "buffalo"]


def test_sorting_groups_by_a_key_the_results_lack_is_a_query_error():
    with pytest.raises(QueryError, match="Cannot sort by value"):
        run(ANIMALS, group_by=("type",), sort_by=Sort("value"))


def test_group_count_is_sortable_only_for_nested_results():
    with pytest.raises(QueryError):
        run(ANIMALS, group_by=("type",), sort_by=Sort("_group_count"))
    run(STORED_TIMESTAMPS, **MARCH_WEEKS, group_by=("name",), sort_by=Sort("_group_count"))


# --- duration shifting -------------------------------------------------------------------------


def test_forward_duration_slides_to_the_first_week_with_data():
    result = run(LICENSING_2, start_at=at(2012, 11, 5), end_at=at(2013, 1, 14), period=WEEK,
                 duration=10, anchor="start")
    assert len(result) == 10
    assert counts(result)[:3] == [(at(2012, 12, 3), 1), (at(2012, 12, 10), 4), (at(2012, 12, 17), 0)]


def test_backward_duration_slides_to_end_with_the_last_week_with_data():
    result = run(LICENSING_2, start_at=at(2012, 11, 26), end_at=at(2013, 2, 4), period=WEEK,
                 duration=10, anchor="end")
    assert len(result) == 10
    assert result[0]["_start_at"] == at(2012, 10, 8)
    assert counts(result)[-3:] == [(at(2012, 11, 26), 0), (at(2012, 12, 3), 1), (at(2012, 12, 10), 4)]


def test_duration_without_any_data_does_not_move():
    result = run([], start_at=at(2012, 11, 5), end_at=at(2012, 11, 19), period=WEEK, duration=2, anchor="start")
    assert counts(result) == [(at(2012, 11, 5), 0), (at(2012, 11, 12), 0)]


def test_duration_already_starting_with_data_does_not_move():
    result = run(LICENSING_2, start_at=at(2012, 12, 12), end_at=at(2012, 12, 14), period=DAY, duration=2, anchor="start")
    assert counts(result) == [(at(2012, 12, 12), 2), (at(2012, 12, 13), 1)]


def test_grouped_forward_shift_takes_the_smallest_k():
    records = [record("w", at(2012, 12, 11), authority="Westminster"), record("c", at(2012, 12, 13), authority="Camden")]
    result = run(records, start_at=at(2012, 12, 10), end_at=at(2012, 12, 14), period=DAY,
                 group_by=("authority",), duration=4, anchor="start")
    assert [entry["_start_at"] for entry in result[0]["values"]] == [at(2012, 12, d) for d in (11, 12, 13, 14)]


def test_grouped_forward_shift_counts_the_moved_window():
    result = run(LICENSING_2, start_at=at(2012, 12, 10), end_at=at(2012, 12, 14), period=DAY,
                 group_by=("authority",), duration=4, anchor="start")
    assert [(g["authority"], g["_count"]) for g in result] == [("Camden", 1), ("Westminster", 3)]


def test_grouped_backward_shift_moves_the_window_earlier():
    result = run(LICENSING_2, start_at=at(2012, 12, 14), end_at=at(2012, 12, 16), period=DAY,
                 group_by=("authority",), duration=2, anchor="end")
    assert [(g["authority"], g["_count"]) for g in result] == [("Westminster", 2)]
    assert result[0]["values"][0]["_start_at"] == at(2012, 12, 13)


def test_flattened_results_never_shift():
    result = run(LICENSING_2, start_at=at(2012, 11, 26), end_at=at(2012, 12, 10), period=WEEK,
                 group_by=("authority",), duration=2, anchor="start", flatten=True)
    assert counts(result) == [(at(2012, 11, 26), 0), (at(2012, 12, 3), 1)]


def test_the_same_query_unflattened_does_shift():
    result = run(LICENSING_2, start_at=at(2012, 11, 26), end_at=at(2012, 12, 10), period=WEEK,
                 group_by=("authority",), duration=2, anchor="start")
    westminster = next(group for group in result if group["authority"] == "Westminster")
    assert counts(westminster["values"]) == [(at(2012, 12, 3), 1), (at(2012, 12, 10), 3)]


class CountingStorage(MemoryStorage):
    aggregate_calls = 0

    def aggregate(self, name, query):
        self.aggregate_calls += 1
        return super().aggregate(name, query)


def test_a_shifted_query_runs_exactly_once_more():
    storage = CountingStorage()
    storage.save_records("ds", LICENSING_2)
    query = Query(start_at=at(2012, 11, 5), end_at=at(2013, 1, 14), period=WEEK, duration=10, anchor="start")
    execute(storage, "ds", query)
    assert storage.aggregate_calls == 2


# --- min, max, median, percentileNN, count_unique: flattened and as CSV -----------------------

SCORES = [record("1", at(2013, 3, 12), g="a", v=4), record("2", at(2013, 3, 13), g="a", v=9),
          record("3", at(2013, 3, 13), g="a", v="9"), record("4", at(2013, 3, 19), g="a", v=2),
          record("5", at(2013, 3, 20), g="b", v=True)]
NEW_METHODS = [  # method, then its value for group a in the weeks of 03-11 and 03-18, and for b in 03-18
    ("min", 4, 2, None), ("max", 9, 2, None), ("median", 6.5, 2.0, None), ("percentile90", 8.5, 2.0, None),
    ("percentile1", 4.05, 2.0, None), ("count_unique", 3, 1, 1),
]


@pytest.mark.parametrize("method, first, second, other", NEW_METHODS)
def test_flattened_rows_carry_each_new_method(method, first, second, other):
    result = run(SCORES, **MARCH_WEEKS, group_by=("g",), flatten=True, collect=(("v", method),))
    assert [(row["g"], row["_count"], row[f"v:{method}"]) for row in result] == [
        ("a", 3, first), ("b", 0, None), ("a", 1, second), ("b", 1, other)]


@pytest.mark.parametrize("method, first, second, other", NEW_METHODS)
def test_csv_cells_of_each_new_method_are_written_as_in_json(method, first, second, other):
    from backdrop.core.results import csv_cell, to_csv

    result = run(SCORES, **MARCH_WEEKS, group_by=("g",), flatten=True, collect=(("v", method),))
    lines = to_csv(result).split("\r\n")
    assert lines[0] == f"_count,_end_at,_start_at,g,v:{method}"
    assert [line.rsplit(",", 1)[1] for line in lines[1:5]] == [
        csv_cell(first), "", csv_cell(second), csv_cell(other)]


def test_sorting_groups_by_a_new_collect_key():
    result = run(SCORES, group_by=("g",), collect=(("v", "percentile90"),),
                 sort_by=Sort("v:percentile90", descending=True))
    assert [(row["g"], row["v:percentile90"]) for row in result] == [("a", 8.0), ("b", None)]
