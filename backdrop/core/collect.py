"""The read API's collect methods: what each asks of the engine and how it answers.

`collect=field:method` adds `field:method` to every result row. Each method is one entry
of METHODS: the reductions (storage.base.Op) it needs the engine to compute, and how its
value is finished from them. Asking for a field without a method is the original's
`default`: `field:set` and `field` both hold the set. The query parser, the reading of
grouped results and the result shapes all read this one table.
"""
from __future__ import annotations

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


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("sum", (Op.SUM,), lambda values: values[Op.SUM]),
        Method("count", (Op.COUNT,), lambda values: values[Op.COUNT]),
        Method("set", (Op.DISTINCT,), lambda values: list(values[Op.DISTINCT])),
        Method("mean", (Op.SUM, Op.NUMBERS), _mean),
    )
}
"""Every method by name, in the order the read API lists them in its messages."""

Collects = Sequence[tuple[str, str]]  # (field, method) pairs, as in Query.collect


def _method(name: str) -> Method:
    return METHODS["set" if name == DEFAULT_METHOD else name]


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


_NOTHING: dict[Op, Any] = {Op.COUNT: 0, Op.SUM: 0, Op.NUMBERS: 0, Op.DISTINCT: ()}
"""Each reduction over a field no record holds."""
