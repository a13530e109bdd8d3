"""The collect methods: the reductions each needs and the values it answers with."""
from __future__ import annotations

import pytest

from backdrop.core.collect import (
    METHODS,
    empty_values,
    find_method,
    keys,
    merged,
    method_list,
    percentile,
    reductions,
    values,
)
from backdrop.core.storage.base import Op, Reduction


def test_the_methods_are_listed_in_the_order_of_the_read_apis_messages():
    assert list(METHODS) == ["sum", "count", "set", "mean", "min", "max", "median", "count_unique"]
    assert method_list() == (
        "sum, count, set, mean, min, max, median, percentileNN (NN from 1 to 99), count_unique")


def test_each_reduction_is_asked_for_once_and_the_default_method_needs_the_set():
    assert reductions([("v", "mean"), ("v", "sum"), ("w", "default"), ("w", "set")]) == (
        Reduction("v", Op.SUM), Reduction("v", Op.NUMBERS), Reduction("w", Op.DISTINCT))


def reduced(field: str, sum=0, numbers=0, count=0, distinct=()) -> dict:
    """An engine row's reductions of one field."""
    return {Reduction(field, Op.SUM): sum, Reduction(field, Op.NUMBERS): numbers,
            Reduction(field, Op.COUNT): count, Reduction(field, Op.DISTINCT): list(distinct)}


def test_collect_values_turn_reductions_into_the_method_keys():
    stats = reduced("value", sum=27, numbers=4, count=4, distinct=[4, 7, 8])
    collects = [("value", "sum"), ("value", "mean"), ("value", "count"), ("value", "set")]
    assert values(stats, collects) == {
        "value:sum": 27, "value:mean": 6.75, "value:count": 4, "value:set": [4, 7, 8]}


def test_collect_values_of_a_field_no_record_has():
    assert values({}, [("v", "sum"), ("v", "mean"), ("v", "count"), ("v", "set")]) == {
        "v:sum": 0, "v:mean": None, "v:count": 0, "v:set": []}


def test_default_method_keys_are_the_set_and_the_bare_field():
    assert keys([("pickup", "default"), ("value", "sum")]) == ["pickup:set", "pickup", "value:sum"]


def test_empty_values_for_the_default_method_hold_only_the_set_key():
    assert empty_values([("pickup", "default"), ("value", "mean")]) == {"pickup:set": None, "value:mean": None}


def test_merged_reductions_weight_the_mean_and_unite_the_sets():
    total = merged([reduced("v", 3, 2, 2, [1, 2]), reduced("v", 6, 1, 2, [6, "x"]), reduced("v", 0, 0, 1, [True])])
    assert total == reduced("v", sum=9, numbers=3, count=5, distinct=[True, 1, 2, 6, "x"])
    assert values(total, [("v", "mean")]) == {"v:mean": 3.0}


def test_merged_integer_sums_stay_integers_and_float_sums_floats():
    sums = Reduction("v", Op.SUM)
    assert type(merged([{sums: 1}, {sums: 2}])[sums]) is int
    assert type(merged([{sums: 1862526.0}, {sums: 0}])[sums]) is float


# --- min, max, median, percentileNN, count_unique ------------------------------------------


@pytest.mark.parametrize("name", ["percentile1", "percentile5", "percentile50", "percentile95", "percentile99"])
def test_percentiles_from_1_to_99_are_methods_needing_the_numbers(name):
    assert find_method(name).needs == (Op.NUMBER_LIST,)


@pytest.mark.parametrize("name", ["percentile", "percentile0", "percentile100", "percentile5.5", "percentilex",
                                  "percentile05", "percentile+5", "percentile 5", "Percentile5", "default",
                                  "median50", "percentile١"])
def test_other_names_are_no_methods(name):
    assert find_method(name) is None


# Each expected value is PostgreSQL 15's answer to
# SELECT percentile_cont(<fraction>) WITHIN GROUP (ORDER BY x) over the same numbers.
PERCENTILE_CONT = [
    ([1, 2, 3, 4], 95, 3.8499999999999996),
    ([1, 2, 3, 4], 50, 2.5),
    ([1, 2, 3], 50, 2.0),
    ([7], 1, 7.0),
    ([7], 99, 7.0),
    ([4, 7, 8, 8], 50, 7.5),
    ([4, 7, 8, 8], 25, 6.25),
    ([4, 7, 8, 8], 75, 8.0),
    ([0.1, 0.2, 0.30000000000000004], 33, 0.166),
    ([-5, 1e-07, 2.5, 10, 1e16], 90, 6000000000000005.0),
    ([1, 3], 1, 1.02),
    ([1, 3], 99, 2.98),
    ([-2, -1], 37, -1.63),
]


@pytest.mark.parametrize("numbers, percent, expected", PERCENTILE_CONT)
def test_percentiles_interpolate_as_postgresqls_percentile_cont(numbers, percent, expected):
    assert percentile(numbers, percent) == expected
    assert type(percentile(numbers, percent)) is float


def test_a_percentile_of_no_numbers_is_null():
    assert percentile([], 50) is None


def numbers(field: str, *found) -> dict:
    """An engine row's MIN, MAX and NUMBER_LIST of one field over these numbers."""
    ordered = sorted(found)
    return {Reduction(field, Op.MIN): ordered[0] if found else None,
            Reduction(field, Op.MAX): ordered[-1] if found else None,
            Reduction(field, Op.NUMBER_LIST): ordered}


def test_min_max_median_and_percentiles_of_the_numbers():
    collects = [("v", "min"), ("v", "max"), ("v", "median"), ("v", "percentile50"), ("v", "percentile95")]
    assert values(numbers("v", 4, 7, 8, 8), collects) == {
        "v:min": 4, "v:max": 8, "v:median": 7.5, "v:percentile50": 7.5, "v:percentile95": 8.0}


def test_new_methods_of_a_field_no_record_has_are_null_and_zero_unique():
    collects = [("v", "min"), ("v", "max"), ("v", "median"), ("v", "percentile10"), ("v", "count_unique")]
    assert values({}, collects) == {"v:min": None, "v:max": None, "v:median": None, "v:percentile10": None,
                                    "v:count_unique": 0}


def test_count_unique_counts_the_distinct_values():
    assert values({Reduction("v", Op.DISTINCT): [False, True, 1, "1"]}, [("v", "count_unique")]) == {
        "v:count_unique": 4}


def test_all_percentiles_of_a_field_share_one_number_list_and_count_unique_the_set():
    assert reductions([("v", "median"), ("v", "percentile90"), ("v", "count_unique"), ("v", "set")]) == (
        Reduction("v", Op.NUMBER_LIST), Reduction("v", Op.DISTINCT))


def test_merged_extremes_and_number_lists_stay_exact_over_periods():
    total = merged([numbers("v", 5, 1), numbers("v"), numbers("v", 9, 3, 3)])
    assert total == numbers("v", 1, 3, 3, 5, 9)
    assert values(total, [("v", "median"), ("v", "percentile25")]) == {"v:median": 3.0, "v:percentile25": 3.0}


def test_merged_extremes_prefer_the_int_of_an_equal_int_and_float():
    low, high = Reduction("v", Op.MIN), Reduction("v", Op.MAX)
    total = merged([{low: 2.0, high: 5}, {low: 2, high: 5.0}, {low: None, high: None}])
    assert (repr(total[low]), repr(total[high])) == ("2", "5")
    assert merged([{low: None}, {low: None}]) == {low: None}
