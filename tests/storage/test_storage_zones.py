"""Property: periods counted on local clocks, on every engine, agree with plain zoneinfo.

Records cluster around the DST changes of Europe/London, America/New_York and
Australia/Lord_Howe (half-hour DST), America/Sao_Paulo (whose midnight was skipped when
DST began) and America/Havana (whose midnight happened twice when DST ended). The
reference here is independent of the code under test: a record's bucket is named by
what zoneinfo's clocks read at its `_timestamp` (its local date, the Monday on or before,
its month …; hours are UTC hours), and a bucket's start must be the first instant named
so: the bucket's name at the start, an earlier name one microsecond before.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_support import CONFIG, UTC, record

from backdrop.core.storage.base import AggregateQuery, TimeRange
from backdrop.core.timeseries import PERIODS, Bucketing, utc_offsets

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "America/Havana"]
YEARS = (datetime(2013, 1, 1, tzinfo=UTC), datetime(2016, 1, 1, tzinfo=UTC))
MICRO = timedelta(microseconds=1)


TRANSITIONS = {zone: [moment for moment, _ in utc_offsets(ZoneInfo(zone), *YEARS)[1:]] for zone in ZONES}


def transitions(zone: str) -> list[datetime]:
    return TRANSITIONS[zone]


def name_of(moment: datetime, zone: ZoneInfo, period: str):
    """The bucket an instant falls in, as plain zoneinfo reads the clocks."""
    if period == "hour":
        return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    local = moment.astimezone(zone).date()
    return {
        "day": local,
        "week": local - timedelta(days=local.weekday()),
        "month": (local.year, local.month),
        "quarter": (local.year, (local.month - 1) // 3),
        "year": local.year,
    }[period]


STEPS = [timedelta(0), MICRO, -MICRO] + [timedelta(minutes=m) for m in (-720, -90, -60, -30, 30, 60, 90, 720)]


@st.composite
def near_changes(draw, zone: str) -> datetime:
    """An instant close to one of the zone's DST changes, or to a local midnight (of a day
    near one, or of the first of its month or the next): where buckets go wrong if anywhere."""
    tz = ZoneInfo(zone)
    change = draw(st.sampled_from(transitions(zone)))
    day = change.astimezone(tz).date()
    following_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    nearby = [day + timedelta(days=d) for d in range(-2, 3)] + [day.replace(day=1), following_month]
    wall = datetime.combine(draw(st.sampled_from(nearby)), time(), tzinfo=tz)
    midnight = wall.replace(fold=draw(st.integers(0, 1))).astimezone(UTC)
    return draw(st.sampled_from([change, midnight])) + draw(st.sampled_from(STEPS))


@st.composite
def cases(draw):
    zone = draw(st.sampled_from(ZONES))
    period = draw(st.sampled_from(list(PERIODS)))
    instants = draw(st.lists(near_changes(zone), min_size=5, max_size=30))
    bounds = st.none() | st.sampled_from(instants) | near_changes(zone)
    start, end = draw(bounds), draw(bounds)
    if start is not None and end is not None and start > end:
        start, end = end, start
    return zone, period, instants, TimeRange(start, end, draw(st.booleans()))


def selected(instants, time: TimeRange) -> list[datetime]:
    def inside(moment):
        if time.start is not None and moment < time.start:
            return False
        if time.end is not None:
            return moment <= time.end if time.end_inclusive else moment < time.end
        return True

    return [moment for moment in instants if inside(moment)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_local_buckets_match_plain_zoneinfo_on_every_engine(engine, case):
    zone_name, period, instants, time = case
    zone = ZoneInfo(zone_name)
    if engine.get_data_set("ds") is None:
        engine.create_data_set(CONFIG)
    engine.empty_data_set("ds")
    engine.save_records("ds", [record(str(i), moment) for i, moment in enumerate(instants)])

    rows = engine.aggregate("ds", AggregateQuery(time=time, bucketing=Bucketing(PERIODS[period], zone)))

    expected: dict = {}
    for moment in selected(instants, time):
        key = name_of(moment, zone, period)
        expected[key] = expected.get(key, 0) + 1
    assert {name_of(row.period_start, zone, period): row.count for row in rows} == expected
    for row in rows:
        start = row.period_start
        assert start.utcoffset() == timedelta(0), row
        assert name_of(start - MICRO, zone, period) != name_of(start, zone, period), (zone_name, period, start)


@pytest.mark.parametrize("zone", ZONES)
def test_every_change_in_the_test_years_is_found(zone):
    """The reference's instants rest on the transitions: each is a real change of offset."""
    found = transitions(zone)
    assert found, zone
    tz = ZoneInfo(zone)
    for moment in found:
        assert (moment - timedelta(seconds=1)).astimezone(tz).utcoffset() != moment.astimezone(tz).utcoffset()
