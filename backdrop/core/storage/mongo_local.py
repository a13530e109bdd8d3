"""Local-clock period buckets for MongoDB pipelines, by integer arithmetic on `t` (µs).

MongoDB's `$dateTrunc` takes a `timezone`, but mongomock (the test double when no server is
at hand) has none of the date operators, so buckets are computed here from plain arithmetic
that both run the same: the zone's offset in force (a `$switch` over the transition
instants, from zoneinfo: timeseries.utc_offsets) is added to `t`, giving the local wall
time as if it were UTC; fixed periods (day, week) are floored on it, calendar periods go
through the civil-from-days and days-from-civil conversions (H. Hinnant's algorithms, exact
for the proleptic Gregorian calendar). The result is the bucket's start in wall time,
which the bucketing decodes back to an instant (rows.py), as for every engine.

On a real server `$mod` and `$subtract` are exact on 64-bit integers and every quotient
here is of an exact multiple, so the arithmetic is exact over years 1 to 9999; mongomock
computes `$mod` in floating point, exact up to 2^53 µs (the year 2255).
"""
from __future__ import annotations

from typing import Any

from backdrop.core.timeseries import MICROSECOND, Period, micros

from .rows import Offsets

DAY = 86_400_000_000


def _floor_div(a: Any, b: Any) -> dict:
    return {"$floor": {"$divide": [a, b]}}


def _floor_mod(a: Any, m: int) -> dict:
    """`a` mod `m` in [0, m) (MongoDB's `$mod` keeps the dividend's sign)."""
    return {"$let": {"vars": {"r": {"$mod": [a, m]}},
                     "in": {"$cond": [{"$lt": ["$$r", 0]}, {"$add": ["$$r", m]}, "$$r"]}}}


def wall_time(offsets: Offsets) -> Any:
    """`t` as the zone's clocks read it (µs, as if UTC)."""
    (_, first), changes = offsets[0], offsets[1:]
    if not changes:
        return {"$add": ["$t", first]}
    branches = [{"case": {"$gte": ["$t", micros(moment)]}, "then": offset} for moment, offset in reversed(changes)]
    return {"$add": ["$t", {"$switch": {"branches": branches, "default": first}}]}


def _lets(steps: list[tuple[str, Any]], result: Any) -> dict:
    """Nested `$let`s: each variable may use the ones before it (`$$name`)."""
    for name, value in reversed(steps):
        result = {"$let": {"vars": {name: value}, "in": result}}
    return result


def _civil(days: Any) -> dict:
    """{y, m} of a day number (days since 1970-01-01)."""
    return _lets([
        ("z", {"$add": [days, 719468]}),
        ("era", _floor_div("$$z", 146097)),
        ("doe", {"$subtract": ["$$z", {"$multiply": ["$$era", 146097]}]}),
        ("yoe", _floor_div({"$add": [{"$subtract": ["$$doe", _floor_div("$$doe", 1460)]},
                                     {"$subtract": [_floor_div("$$doe", 36524), _floor_div("$$doe", 146096)]}]},
                           365)),
        ("doy", {"$subtract": ["$$doe", {"$add": [{"$multiply": [365, "$$yoe"]},
                                                  {"$subtract": [_floor_div("$$yoe", 4), _floor_div("$$yoe", 100)]}]}]}),
        ("mp", _floor_div({"$add": [{"$multiply": [5, "$$doy"]}, 2]}, 153)),
        ("m", {"$cond": [{"$lt": ["$$mp", 10]}, {"$add": ["$$mp", 3]}, {"$subtract": ["$$mp", 9]}]}),
    ], {"y": {"$add": ["$$yoe", {"$multiply": ["$$era", 400]}, {"$cond": [{"$lte": ["$$m", 2]}, 1, 0]}]},
        "m": "$$m"})


def _days_from_civil(year: Any, month: Any) -> dict:
    """The day number of the first of `month` in `year`."""
    return _lets([
        ("y", {"$subtract": [year, {"$cond": [{"$lte": [month, 2]}, 1, 0]}]}),
        ("mp", {"$cond": [{"$gt": [month, 2]}, {"$subtract": [month, 3]}, {"$add": [month, 9]}]}),
        ("era", _floor_div("$$y", 400)),
        ("yoe", {"$subtract": ["$$y", {"$multiply": ["$$era", 400]}]}),
    ], {"$add": [{"$multiply": ["$$era", 146097]}, {"$multiply": ["$$yoe", 365]}, _floor_div("$$yoe", 4),
                 {"$multiply": [-1, _floor_div("$$yoe", 100)]},
                 _floor_div({"$add": [{"$multiply": [153, "$$mp"]}, 2]}, 5), -719468]})


def bucket_start(period: Period, offsets: Offsets) -> dict:
    """The wall-time start (µs) of the local period holding `t`."""
    wall = wall_time(offsets)
    if period.length is not None:
        length, origin = period.length // MICROSECOND, micros(period.origin)
        start = {"$subtract": [wall, _floor_mod({"$subtract": [wall, origin]}, length)]}
        return {"$toLong": start}
    days = {"$divide": [{"$subtract": [wall, _floor_mod(wall, DAY)]}, DAY]}
    first_month = {"$add": [{"$multiply": [_floor_div({"$subtract": ["$$c.m", 1]}, period.months), period.months]}, 1]}
    start_day = _lets([("c", _civil(days))], _days_from_civil("$$c.y", first_month))
    return {"$toLong": {"$multiply": [start_day, DAY]}}
