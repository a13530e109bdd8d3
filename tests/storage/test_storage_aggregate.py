"""Contract: grouped queries (periods, groups, collected field reductions), on every engine."""
from __future__ import annotations

import pytest
from storage_support import CONFIG, at, record, rows_by_key

from backdrop.core.storage.base import AggregateQuery, Filter, Op, Reduction, TimeRange
from backdrop.core.timeseries import PERIODS, Bucketing


@pytest.fixture
def ds(engine):
    engine.create_data_set(CONFIG)
    return engine


def bucketed(period: str) -> Bucketing:
    return Bucketing(PERIODS[period])


def counts(engine, period: str | None = None, **query) -> dict:
    if period is not None:
        query["bucketing"] = bucketed(period)
    return {key: row.count for key, row in rows_by_key(engine.aggregate("ds", AggregateQuery(**query))).items()}


# --- groups ---------------------------------------------------------------------------


def test_records_are_counted_per_group_value(ds):
    ds.save_records("ds", [record("1", authority="Camden"), record("2", authority="Westminster"),
                           record("3", authority="Camden")])
    assert counts(ds, group_by=("authority",)) == {(None, ("Camden",)): 2, (None, ("Westminster",)): 1}


def test_records_are_counted_per_combination_of_several_fields(ds):
    ds.save_records("ds", [record("1", a="x", b="p"), record("2", a="x", b="q"), record("3", a="x", b="p")])
    assert counts(ds, group_by=("a", "b")) == {(None, ("x", "p")): 2, (None, ("x", "q")): 1}


def test_group_values_keep_their_json_type_and_true_is_not_one(ds):
    ds.save_records("ds", [record("1", v=True), record("2", v=1), record("3", v="1"),
                           record("4", v=False), record("5", v=0)])
    rows = ds.aggregate("ds", AggregateQuery(group_by=("v",)))
    assert sorted((repr(row.group[0]), row.count) for row in rows) == [
        ("'1'", 1), ("0", 1), ("1", 1), ("False", 1), ("True", 1)]


def test_one_and_one_point_zero_are_one_group(ds):
    ds.save_records("ds", [record("1", v=1), record("2", v=1.0)])
    assert [row.count for row in ds.aggregate("ds", AggregateQuery(group_by=("v",)))] == [2]


def test_records_missing_a_group_field_or_holding_null_are_left_out(ds):
    ds.save_records("ds", [record("1", a="x", b="y"), record("2", a="x"), record("3", a="x", b=None),
                           record("4", b="y")])
    assert counts(ds, group_by=("a", "b")) == {(None, ("x", "y")): 1}


def test_an_aggregate_without_period_or_group_counts_every_match(ds):
    ds.save_records("ds", [record("1"), record("2", at(2013, 1, 1))])
    assert counts(ds) == {(None, ()): 2}


def test_an_aggregate_over_no_records_has_no_rows(ds):
    assert ds.aggregate("ds", AggregateQuery()) == []
    assert ds.aggregate("ds", AggregateQuery(group_by=("a",), bucketing=bucketed("day"))) == []


def test_filters_and_time_range_select_the_records_counted(ds):
    ds.save_records("ds", [record("1", at(2013, 1, 1), kind="x", g="a"),
                           record("2", at(2013, 1, 2), kind="y", g="a"),
                           record("3", at(2013, 2, 1), kind="x", g="a")])
    query = dict(group_by=("g",), filters=(Filter("kind", "x"),), time=TimeRange(at(2013, 1, 1), at(2013, 2, 1)))
    assert counts(ds, **query) == {(None, ("a",)): 1}


# --- periods --------------------------------------------------------------------------

BUCKETS = {
    "hour": [(at(2013, 10, 4, 10, 23, 43), at(2013, 10, 4, 10)),
             (at(2013, 10, 4, 10, 59, 59, 999999), at(2013, 10, 4, 10)),
             (at(2013, 10, 4, 11), at(2013, 10, 4, 11)),
             (at(1969, 12, 31, 23, 30), at(1969, 12, 31, 23))],
    "day": [(at(2013, 10, 18, 12), at(2013, 10, 18)),
            (at(2013, 10, 18, 23, 59, 59, 999999), at(2013, 10, 18)),
            (at(2013, 10, 19), at(2013, 10, 19)),
            (at(1969, 12, 31, 23, 30), at(1969, 12, 31))],
    "week": [(at(2013, 4, 7, 23, 59, 59), at(2013, 4, 1)),      # Sunday
             (at(2013, 4, 8), at(2013, 4, 8)),                  # Monday midnight
             (at(2013, 4, 9, 15), at(2013, 4, 8)),              # Tuesday
             (at(1970, 1, 1), at(1969, 12, 29)),                # a Thursday
             (at(1969, 12, 28, 12), at(1969, 12, 22))],
    "month": [(at(2013, 4, 9), at(2013, 4, 1)),
              (at(2013, 12, 1, 12, 32, 34), at(2013, 12, 1)),
              (at(2012, 2, 29, 23, 59, 59, 999999), at(2012, 2, 1)),
              (at(1969, 12, 31, 23, 59, 59, 999999), at(1969, 12, 1))],
    "quarter": [(at(2013, 1, 20), at(2013, 1, 1)), (at(2013, 5, 20), at(2013, 4, 1)),
                (at(2013, 9, 30, 23, 59, 59, 999999), at(2013, 7, 1)), (at(2013, 12, 4), at(2013, 10, 1)),
                (at(1969, 11, 5), at(1969, 10, 1))],
    "year": [(at(2013, 1, 20, 0, 23, 43), at(2013, 1, 1)), (at(2013, 12, 31, 23, 59, 59), at(2013, 1, 1)),
             (at(2014, 1, 1), at(2014, 1, 1)), (at(1969, 6, 1), at(1969, 1, 1))],
}


@pytest.mark.parametrize("period", list(BUCKETS))
def test_records_are_counted_in_the_utc_period_holding_their_timestamp(ds, period):
    cases = BUCKETS[period]
    ds.save_records("ds", [record(str(i), timestamp) for i, (timestamp, _) in enumerate(cases)])
    expected: dict = {}
    for _, start in cases:
        expected[(start, ())] = expected.get((start, ()), 0) + 1
    assert counts(ds, period=period) == expected


def test_period_starts_are_aware_utc_datetimes(ds):
    ds.save_records("ds", [record("1", at(2013, 4, 9))])
    [row] = ds.aggregate("ds", AggregateQuery(bucketing=bucketed("week")))
    assert row.period_start == at(2013, 4, 8) and row.period_start.utcoffset().total_seconds() == 0


def test_records_without_a_timestamp_are_left_out_of_period_queries(ds):
    ds.save_records("ds", [record("1", at(2013, 4, 9)), record("2")])
    assert counts(ds, period="day") == {(at(2013, 4, 9), ()): 1}


def test_records_are_counted_per_period_and_group(ds):
    ds.save_records("ds", [record("1", at(2013, 3, 11), name="alpha"), record("2", at(2013, 3, 12), name="alpha"),
                           record("3", at(2013, 3, 18), name="alpha"), record("4", at(2013, 3, 19), name="beta")])
    assert counts(ds, period="week", group_by=("name",)) == {
        (at(2013, 3, 11), ("alpha",)): 2, (at(2013, 3, 18), ("alpha",)): 1, (at(2013, 3, 18), ("beta",)): 1}


# --- collected fields -----------------------------------------------------------------


class Reduced:
    """One field's reductions in one row, as attributes (the ones not asked for are None)."""

    def __init__(self, row, field: str):
        found = {reduction.op: value for reduction, value in row.values.items() if reduction.field == field}
        self.sum, self.numeric_count = found.get(Op.SUM), found.get(Op.NUMBERS)
        self.count, self.values = found.get(Op.COUNT), found.get(Op.DISTINCT)


def collect(field: str, want_set: bool = False) -> tuple[Reduction, ...]:
    """The reductions of a numeric summary of `field`, and its distinct values when `want_set`."""
    ops = (Op.SUM, Op.NUMBERS, Op.COUNT) + ((Op.DISTINCT,) if want_set else ())
    return tuple(Reduction(field, op) for op in ops)


def stats(engine, *collected: tuple[Reduction, ...], **query):
    [row] = engine.aggregate("ds", AggregateQuery(reductions=sum(collected, ()), **query))
    return {reduction.field: Reduced(row, reduction.field) for reduction in row.values}


def test_sums_of_integers_stay_integers(ds):
    ds.save_records("ds", [record(str(i), value=v) for i, v in enumerate([8, 7, 8, 4])])
    field = stats(ds, collect("value"))["value"]
    assert field.sum == 27 and type(field.sum) is int
    assert (field.numeric_count, field.count, field.values) == (4, 4, None)


def test_sums_mixing_floats_are_floats(ds):
    ds.save_records("ds", [record("1", value=1), record("2", value=0.5)])
    field = stats(ds, collect("value"))["value"]
    assert field.sum == 1.5 and type(field.sum) is float


def test_sums_count_numbers_only_and_count_counts_present_non_null_values(ds):
    ds.save_records("ds", [record("1", v=2), record("2", v=True), record("3", v="3"), record("4", v=None),
                           record("5"), record("6", v=False), record("7", v=1.5)])
    field = stats(ds, collect("v"))["v"]
    assert (field.sum, field.numeric_count, field.count) == (3.5, 2, 5)


def test_a_field_no_record_has_collects_zeroes_and_an_empty_set(ds):
    ds.save_records("ds", [record("1", v=1)])
    field = stats(ds, collect("absent", want_set=True))["absent"]
    assert (field.sum, field.numeric_count, field.count, field.values) == (0, 0, 0, [])


def test_a_set_holds_distinct_non_null_values_in_the_cross_type_order(ds):
    values = ["b", 1, True, None, 2.5, "a", False, 1, "b", 1.0, "1", -7, "B"]
    ds.save_records("ds", [record(str(i), v=v) for i, v in enumerate(values)])
    field = stats(ds, collect("v", want_set=True))["v"]
    assert [(type(v).__name__ if type(v) is bool else "x", v) for v in field.values] == [
        ("bool", False), ("bool", True), ("x", -7), ("x", 1), ("x", 2.5), ("x", "1"), ("x", "B"), ("x", "a"),
        ("x", "b")]


def test_sets_keep_floats_exact(ds):
    ds.save_records("ds", [record("1", v=0.30000000000000004), record("2", v=1e-07), record("3", v=1e16)])
    assert stats(ds, collect("v", want_set=True))["v"].values == [1e-07, 0.30000000000000004, 1e16]


def test_sets_keep_strings_with_commas_quotes_and_non_ascii_intact(ds):
    values = ['a,b', '"quoted"', "back\\slash", "é😀", "[1]", "line\nbreak"]
    ds.save_records("ds", [record(str(i), v=v) for i, v in enumerate(values)])
    assert stats(ds, collect("v", want_set=True))["v"].values == sorted(values)


def test_strings_holding_nul_are_whole_group_values_and_set_members(ds):
    values = ["a", "a\x00", "a\x00b\x01c", "a\x01", "a"]
    ds.save_records("ds", [record(str(i), v=v) for i, v in enumerate(values)])
    rows = ds.aggregate("ds", AggregateQuery(group_by=("v",)))
    assert sorted((row.group[0], row.count) for row in rows) == [
        ("a", 2), ("a\x00", 1), ("a\x00b\x01c", 1), ("a\x01", 1)]
    assert stats(ds, collect("v", want_set=True))["v"].values == ["a", "a\x00", "a\x00b\x01c", "a\x01"]


def test_collects_are_computed_per_group_and_period(ds):
    ds.save_records("ds", [record("1", at(2013, 1, 1), g="a", v=1), record("2", at(2013, 1, 2), g="a", v=2),
                           record("3", at(2013, 1, 1), g="b", v=4), record("4", at(2013, 1, 1), g="a", v=8)])
    rows = rows_by_key(ds.aggregate("ds", AggregateQuery(bucketing=bucketed("day"), group_by=("g",),
                                                          reductions=collect("v", want_set=True))))
    assert {key: (Reduced(row, "v").sum, Reduced(row, "v").values) for key, row in rows.items()} == {
        (at(2013, 1, 1), ("a",)): (9, [1, 8]), (at(2013, 1, 2), ("a",)): (2, [2]),
        (at(2013, 1, 1), ("b",)): (4, [4])}


def test_several_fields_are_collected_at_once(ds):
    ds.save_records("ds", [record("1", a=1, b="x"), record("2", a=2, b="y")])
    fields = stats(ds, collect("a"), collect("b", want_set=True))
    assert (fields["a"].sum, fields["a"].values, fields["b"].count, fields["b"].values) == (3, None, 2, ["x", "y"])


def test_a_collect_may_name_a_group_field(ds):
    ds.save_records("ds", [record("1", g=3), record("2", g=3)])
    [row] = ds.aggregate("ds", AggregateQuery(group_by=("g",), reductions=collect("g", want_set=True)))
    assert (row.group, Reduced(row, "g").sum, Reduced(row, "g").values) == ((3,), 6, [3])


# --- min, max, the numbers for percentiles ------------------------------------------------

EXTREMES = (Op.MIN, Op.MAX, Op.NUMBER_LIST)


def numeric(engine, field: str = "v", **query) -> tuple:
    """(MIN, MAX, NUMBER_LIST) of `field` in the one row the query answers."""
    reductions = tuple(Reduction(field, op) for op in EXTREMES)
    [row] = engine.aggregate("ds", AggregateQuery(reductions=reductions, **query))
    return tuple(row.values[reduction] for reduction in reductions)


def test_min_max_and_the_number_list_take_numbers_only(ds):
    values = [8, True, "1", None, 7.5, False, -3, 8, "z", 0]
    ds.save_records("ds", [record(str(i), v=v) for i, v in enumerate(values)] + [record("x")])
    assert numeric(ds) == (-3, 8, [-3, 0, 7.5, 8, 8])


def test_min_and_max_of_integers_stay_integers_and_floats_floats(ds):
    ds.save_records("ds", [record("1", v=3), record("2", v=12), record("3", w=0.5), record("4", w=1e16)])
    low, high, _ = numeric(ds)
    assert (repr(low), repr(high)) == ("3", "12")
    low, high, _ = numeric(ds, "w")
    assert (repr(low), repr(high)) == ("0.5", "1e+16")


def test_an_int_and_an_equal_float_tie_as_one_value(ds, engine_database):
    ds.save_records("ds", [record("1", v=2.0), record("2", v=2), record("3", v=5), record("4", v=5.0),
                           record("5", w=2.0), record("6", w=3.5)])
    low, high, _ = numeric(ds)
    assert (low, high) == (2, 5)
    if engine_database[0] != "mongo":  # BSON compares 2 and 2.0 as equal: MongoDB answers either
        assert (repr(low), repr(high)) == ("2", "5")
    low, high, _ = numeric(ds, "w")
    assert (repr(low), repr(high)) == ("2.0", "3.5")


def test_no_numbers_give_null_extremes_and_an_empty_number_list(ds):
    ds.save_records("ds", [record("1", v="3"), record("2", v=True), record("3", v=None), record("4")])
    assert numeric(ds) == (None, None, [])


def test_the_number_list_keeps_repeats_and_floats_exact_in_ascending_order(ds):
    values = [0.30000000000000004, 3, 1e-07, 3, -2.5, 1e16, 0.1]
    ds.save_records("ds", [record(str(i), v=v) for i, v in enumerate(values)])
    assert [repr(v) for v in numeric(ds)[2]] == ["-2.5", "1e-07", "0.1", "0.30000000000000004", "3", "3", "1e+16"]


def test_extremes_and_number_lists_are_computed_per_group_and_period(ds):
    ds.save_records("ds", [record("1", at(2013, 1, 1), g="a", v=1), record("2", at(2013, 1, 2), g="a", v=2),
                           record("3", at(2013, 1, 1), g="b", v=4), record("4", at(2013, 1, 1), g="a", v=8),
                           record("5", at(2013, 1, 1), g="a", v="8")])
    reductions = tuple(Reduction("v", op) for op in EXTREMES)
    rows = rows_by_key(ds.aggregate("ds", AggregateQuery(bucketing=bucketed("day"), group_by=("g",),
                                                          reductions=reductions)))
    assert {key: tuple(row.values[r] for r in reductions) for key, row in rows.items()} == {
        (at(2013, 1, 1), ("a",)): (1, 8, [1, 8]), (at(2013, 1, 2), ("a",)): (2, 2, [2]),
        (at(2013, 1, 1), ("b",)): (4, 4, [4])}
