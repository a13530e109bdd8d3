"""The cross-type order of JSON values: null, false, true, numbers, strings."""
from __future__ import annotations

from backdrop.core.values import distinct_sorted, is_number, order_key, tuple_key


def test_order_is_null_false_true_numbers_strings():
    values = ["b", 2.5, True, None, "A", -1, False, 10]
    assert sorted(values, key=order_key) == [None, False, True, -1, 2.5, 10, "A", "b"]


def test_strings_compare_by_code_point():
    assert sorted(["é", "z", "Z", "a"], key=order_key) == ["Z", "a", "z", "é"]


def test_booleans_are_not_numbers():
    assert is_number(1) and is_number(1.5)
    assert not is_number(True) and not is_number("1") and not is_number(None)
    assert order_key(True) != order_key(1)


def test_tuples_of_values_compare_element_wise():
    groups = [("b", 1), ("a", "x"), ("a", None), ("a", 2)]
    assert sorted(groups, key=tuple_key) == [("a", None), ("a", 2), ("a", "x"), ("b", 1)]


def test_distinct_sorted_keeps_true_and_one_apart():
    assert distinct_sorted([1, True, "1", 1, True, False]) == [False, True, 1, "1"]
