"""The read API's collect methods: what each asks of the engine and how it answers.

`collect=field:method` adds `field:method` to every result row. Each method is one entry
of METHODS (the `percentileNN` family is made by `find_method`): the reductions
(storage.base.Op) it needs the engine to compute, and how its value is finished from them.
Asking for a field without a method is the original's `default`: `field:set` and `field`
both hold the set. The query parser, the reading of grouped results and the result shapes
all read this one table (through `find_method`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from backdrop.core.storage.base import Op, Reduction

DEFAULT_METHOD = "default"


@dataclass(frozen=True)
class Method:
    """One collect method: the engine reductions it needs and its value from them."""

    name: str
    needs: tuple[Op, ...]
    finish: Callable[[dict[Op, Any]], Any]


def _mean(values: dict[Op, Any]) -> float | None:
    return values[Op.SUM] / values[Op.NUMBERS] if values[Op.NUMBERS] else None


def percentile(numbers: Sequence[int | float], percent: int) -> float | None:
    """PostgreSQL's `percentile_cont(percent / 100)` over ascending numbers; None for none.

    Linear interpolation between the closest ranks, in float8 arithmetic step by step as
    PostgreSQL does it (rank = fraction × (n − 1); lower + (upper − lower) × (rank −
    floor(rank))), so both give the same float to the last bit.
    """
    if not numbers:
        return None
    rank = percent / 100 * (len(numbers) - 1)
    below, above = math.floor(rank), math.ceil(rank)
    lower = float(numbers[below])
    if below == above:
        return lower
    return lower + (rank - below) * (float(numbers[above]) - lower)


def _percentile_method(name: str, percent: int) -> Method:
    return Method(name, (Op.NUMBER_LIST,), lambda values: percentile(values[Op.NUMBER_LIST], percent))


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("sum", (Op.SUM,), lambda values: values[Op.SUM]),
        Method("count", (Op.COUNT,), lambda values: values[Op.COUNT]),
        Method("set", (Op.DISTINCT,), lambda values: list(values[Op.DISTINCT])),
        Method("mean", (Op.SUM, Op.NUMBERS), _mean),
        Method("min", (Op.MIN,), lambda values: values[Op.MIN]),
        Method("max", (Op.MAX,), lambda values: values[Op.MAX]),
        _percentile_method("median", 50),
        Method("count_unique", (Op.DISTINCT,), lambda values: len(values[Op.DISTINCT])),
    )
}
"""Every method with a fixed name, in the order the read API lists them in its messages
(`percentileNN`, a family of names, is listed after `median`)."""

PERCENTILE = "percentile"
_PERCENTILE = re.compile(r"percentile([1-9][0-9]?)", re.ASCII)
PERCENTILE_RANGE = "percentile must be followed by a whole number from 1 to 99 (no leading zero), eg. percentile95"


def find_method(name: str) -> Method | None:
    """The method a collect or sort key names (`sum`, `percentile95`, …), None for no method."""
    match = _PERCENTILE.fullmatch(name)
    return _percentile_method(name, int(match.group(1))) if match else METHODS.get(name)


def method_list() -> str:
    """The accepted method names as messages list them."""
    names = list(METHODS)
    names.insert(names.index("median") + 1, "percentileNN (NN from 1 to 99)")
    return ", ".join(names)


Collects = Sequence[tuple[str, str]]  # (field, method) pairs, as in Query.collect


def _method(name: str) -> Method:
    found = find_method("set" if name == DEFAULT_METHOD else name)
    if found is None:
        raise ValueError(f"Not a collect method: {name!r}")
    return found


def reductions(collects: Collects) -> tuple[Reduction, ...]:
    """What the engine must compute for these collects, each reduction once, in order."""
    needed = (Reduction(field, op) for field, name in collects for op in _method(name).needs)
    return tuple(dict.fromkeys(needed))


def keys(collects: Collects) -> list[str]:
    """Every key the collects add to a row; the default method adds `field:set` and `field`."""
    found: list[str] = []
    for field, name in collects:
        found += [f"{field}:set", field] if name == DEFAULT_METHOD else [f"{field}:{name}"]
    return list(dict.fromkeys(found))


def values(computed: dict[Reduction, Any], collects: Collects) -> dict[str, Any]:
    """The collect keys of one row, from the engine's reductions for that row.

    A reduction the engine left out (it cannot, but a hand-built row might) counts as
    that of a field no record holds.
    """
    row: dict[str, Any] = {}
    for field, name in collects:
        method = _method(name)
        inputs = {op: computed.get(Reduction(field, op), _NOTHING[op]) for op in method.needs}
        value = method.finish(inputs)
        if name == DEFAULT_METHOD:
            row[f"{field}:set"] = value
            row[field] = list(value)
        else:
            row[f"{field}:{name}"] = value
    return row


def empty_values(collects: Collects) -> dict[str, None]:
    """A gap-filled period has null collects; for the default method only `field:set` appears."""
    return {(f"{field}:set" if name == DEFAULT_METHOD else f"{field}:{name}"): None
            for field, name in collects}


def merged(rows: Iterable[dict[Reduction, Any]]) -> dict[Reduction, Any]:
    """Several rows' reductions as one row's: a group's totals over all its periods."""
    rows = list(rows)
    wanted = dict.fromkeys(reduction for row in rows for reduction in row)
    return {reduction: reduction.op.merge(row[reduction] for row in rows if reduction in row)
            for reduction in wanted}


_NOTHING: dict[Op, Any] = {Op.COUNT: 0, Op.SUM: 0, Op.NUMBERS: 0, Op.DISTINCT: (), Op.MIN: None,
                           Op.MAX: None, Op.NUMBER_LIST: ()}
"""Each reduction over a field no record holds."""
