"""The one ordering of JSON values every engine and every result follows.

Records mix types freely (a field may hold 3 in one record, "3" in another, true in a
third), so sorting, grouping and `set` need a total order across types that is the same
everywhere: null, then false, true, then numbers, then strings by code point. Booleans are
never numbers here, although Python says `True == 1`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

# Ranks across types. Datetimes and lists never come out of a stored record (dates are
# stored as ISO strings, records are flat) but do appear in result rows (`_start_at`,
# `field:set`), which can be sorted too.
_NULL, _BOOL, _NUMBER, _STRING, _DATETIME, _LIST, _OTHER = range(7)


def is_number(value: Any) -> bool:
    """True for JSON numbers only: Python's bool is an int, a JSON boolean is not a number."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def order_key(value: Any) -> tuple:
    """A sort key placing any value in the cross-type order; missing values count as null."""
    if value is None:
        return (_NULL,)
    if isinstance(value, bool):
        return (_BOOL, int(value))
    if is_number(value):
        return (_NUMBER, value)
    if isinstance(value, str):
        return (_STRING, value)
    if isinstance(value, datetime):  # as an instant: clock readings of one zone may repeat
        return (_DATETIME, value.astimezone(timezone.utc) if value.tzinfo is not None else value)
    if isinstance(value, (list, tuple)):
        return (_LIST, tuple(order_key(item) for item in value))
    return (_OTHER, repr(value))


def tuple_key(values: tuple | list) -> tuple:
    """Element-wise order_key: the key of a group (a tuple of group_by values)."""
    return tuple(order_key(value) for value in values)


def distinct_sorted(values) -> list:
    """Distinct values in the cross-type order; `True` and `1` stay apart, `1` and `1.0` do not."""
    seen: dict[tuple, Any] = {}
    for value in values:
        seen.setdefault(order_key(value), value)
    return [seen[key] for key in sorted(seen)]


def least(numbers) -> int | float | None:
    """The smallest number, None for none; of an equal int and float (`2`, `2.0`) the int.

    Which of two equal numbers comes out must not depend on an engine's row order: the
    int is chosen, as every engine can (its minimum over ints alone equals the minimum).
    """
    return min(numbers, key=lambda number: (number, type(number) is float), default=None)


def greatest(numbers) -> int | float | None:
    """The largest number, None for none; of an equal int and float the int (see `least`)."""
    return max(numbers, key=lambda number: (number, type(number) is not float), default=None)
