"""Bucketing in a time zone: local periods, DST changes, skipped and repeated midnights."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from backdrop.core.timeseries import (
    DAY, HOUR, MONTH, PERIODS, QUARTER, WEEK, YEAR, Bucketing, utc_offsets, wall_to_instant,
)

UTC = timezone.utc
LONDON, NEW_YORK, LORD_HOWE = ZoneInfo("Europe/London"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")


def at(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("period", list(PERIODS.values()))
def test_utc_bucketing_is_the_period_itself(period):
    moment = at(2013, 10, 18, 13, 45, 12)
    bucketing = Bucketing(period)
    assert bucketing.start(moment) == period.start(moment)
    assert bucketing.add(period.start(moment), 3) == period.add(period.start(moment), 3)
    assert bucketing.shown(moment) is moment


@pytest.mark.parametrize("period, moment, start", [
    (DAY, at(2026, 7, 1, 22, 59), at(2026, 6, 30, 23)),
    (DAY, at(2026, 7, 1, 23), at(2026, 7, 1, 23)),
    (WEEK, at(2026, 7, 5, 23, 30), at(2026, 7, 5, 23)),        # Monday 00:30 BST
    (MONTH, at(2026, 6, 30, 23, 30), at(2026, 6, 30, 23)),     # 1 July 00:30 BST
    (QUARTER, at(2026, 5, 20), at(2026, 3, 31, 23)),
    (YEAR, at(2026, 12, 31, 23, 30), at(2026, 1, 1)),          # GMT in winter
    (HOUR, at(2026, 7, 1, 22, 59), at(2026, 7, 1, 22)),
])
def test_london_buckets_start_at_local_midnight(period, moment, start):
    assert Bucketing(period, LONDON).start(moment) == start


def test_the_day_the_clocks_go_forward_has_23_hours_and_going_back_25():
    spring = Bucketing(DAY, LONDON).range(at(2026, 3, 29), at(2026, 3, 29, 12))
    autumn = Bucketing(DAY, LONDON).range(at(2026, 10, 25, 12), at(2026, 10, 25, 13))
    assert [end - start for start, end in spring] == [timedelta(hours=23)]
    assert [end - start for start, end in autumn] == [timedelta(hours=25)]


def test_ranges_walk_local_weeks_across_a_change():
    starts = [start for start, _ in Bucketing(WEEK, NEW_YORK).range(at(2026, 3, 2, 5), at(2026, 3, 16, 4))]
    assert starts == [at(2026, 3, 2, 5), at(2026, 3, 9, 4)]


def test_hours_stay_utc_hours_starting_at_half_past_in_a_half_hour_zone():
    bucketing = Bucketing(HOUR, LORD_HOWE)
    start = bucketing.start(at(2026, 6, 1, 3, 10))
    assert start == at(2026, 6, 1, 3) and bucketing.shown(start).isoformat() == "2026-06-01T13:30:00+10:30"


def test_answers_show_the_local_offset():
    start = Bucketing(DAY, LONDON).start(at(2026, 3, 30, 12))
    assert Bucketing(DAY, LONDON).shown(start).isoformat() == "2026-03-30T00:00:00+01:00"


def test_a_skipped_midnight_starts_its_day_when_the_clocks_jump():
    sao_paulo = ZoneInfo("America/Sao_Paulo")  # 2018-11-04 00:00 -03 became 01:00 -02
    assert wall_to_instant(datetime(2018, 11, 4), sao_paulo) == at(2018, 11, 4, 3)
    assert Bucketing(DAY, sao_paulo).start(at(2018, 11, 4, 12)) == at(2018, 11, 4, 3)
    assert Bucketing(DAY, sao_paulo).add(at(2018, 11, 4, 3), 1) == at(2018, 11, 5, 2)


def test_a_repeated_midnight_starts_its_day_at_the_first_reading():
    havana = ZoneInfo("America/Havana")  # 2014-11-02 01:00 -04 went back to 00:00 -05
    assert wall_to_instant(datetime(2014, 11, 2), havana) == at(2014, 11, 2, 4)
    assert Bucketing(DAY, havana).start(at(2014, 11, 2, 5, 30)) == at(2014, 11, 2, 4)


def test_count_between_counts_local_periods():
    bucketing = Bucketing(DAY, LONDON)
    assert bucketing.count_between(at(2026, 3, 28), at(2026, 4, 4, 23)) == 8


def test_offsets_list_every_change_in_the_range():
    table = utc_offsets(LONDON, at(2026, 1, 1), at(2026, 12, 31))
    hour = 3_600_000_000
    assert table == [(None, 0), (at(2026, 3, 29, 1), hour), (at(2026, 10, 25, 1), 0)]
