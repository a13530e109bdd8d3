"""The collect methods: the reductions each needs and the values it answers with."""
from __future__ import annotations

from backdrop.core.collect import METHODS, empty_values, keys, merged, reductions, values
from backdrop.core.storage.base import Op, Reduction


def test_the_methods_are_listed_in_the_order_of_the_read_apis_messages():
    assert list(METHODS) == ["sum", "count", "set", "mean"]


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
