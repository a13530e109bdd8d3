"""Period arithmetic in UTC: starts, ends, ranges and duration arithmetic, with the original's examples."""
from datetime import datetime, timedelta, timezone

import pytest

from backdrop.core.timeseries import (
    DAY,
    HOUR,
    MONTH,
    PERIODS,
    QUARTER,
    WEEK,
    YEAR,
    as_utc,
    period_keys,
)

UTC = timezone.utc


def at(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- start of the period containing t ----------------------------------------------------

@pytest.mark.parametrize(
    "period, moment, start",
    [
        (WEEK, at(2013, 4, 9, 15, 2), at(2013, 4, 8)),
        (WEEK, at(2013, 4, 8, 23, 12), at(2013, 4, 8)),
        (WEEK, at(2013, 4, 8), at(2013, 4, 8)),
        (MONTH, at(2013, 4, 9), at(2013, 4, 1)),
        (MONTH, at(2013, 12, 1, 12, 32, 34), at(2013, 12, 1)),
        (QUARTER, at(2013, 1, 20), at(2013, 1, 1)),
        (QUARTER, at(2013, 5, 20), at(2013, 4, 1)),
        (QUARTER, at(2013, 9, 20), at(2013, 7, 1)),
        (QUARTER, at(2013, 12, 4), at(2013, 10, 1)),
        (YEAR, at(2013, 1, 20, 0, 23, 43), at(2013, 1, 1)),
        (HOUR, at(2013, 10, 4, 10, 23, 43), at(2013, 10, 4, 10)),
        (DAY, at(2013, 10, 18, 21), at(2013, 10, 18)),
    ],
)
def test_start_is_the_start_of_the_period_containing_the_moment(period, moment, start):
    assert period.start(moment) == start


def test_start_drops_microseconds():
    assert HOUR.start(at(2013, 10, 4, 10, 23, 43).replace(microsecond=5)) == at(2013, 10, 4, 10)


def test_start_works_in_utc_not_in_the_given_offset():
    # 2013-04-08 01:00 at +02:00 is Sunday 2013-04-07 23:00 UTC: week of 04-01, day 04-07.
    moment = datetime(2013, 4, 8, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert WEEK.start(moment) == at(2013, 4, 1)
    assert DAY.start(moment) == at(2013, 4, 7)


def test_naive_moments_are_taken_as_utc():
    assert DAY.start(datetime(2013, 4, 9, 15)) == at(2013, 4, 9)
    assert as_utc(datetime(2013, 4, 9, 15)) == at(2013, 4, 9, 15)


def test_as_utc_converts_rather_than_relabels():
    moment = datetime(2013, 4, 9, 15, tzinfo=timezone(timedelta(hours=-5)))
    assert as_utc(moment) == at(2013, 4, 9, 20)
    assert as_utc(moment).utcoffset() == timedelta(0)


# --- valid starts --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "period, moment",
    [
        (HOUR, at(2013, 4, 8, 13)),
        (DAY, at(2013, 10, 18)),
        (WEEK, at(2013, 4, 8)),
        (MONTH, at(2013, 2, 1)),
        (QUARTER, at(2013, 4, 1)),
        (YEAR, at(2013, 1, 1)),
    ],
)
def test_boundaries_are_valid_starts(period, moment):
    assert period.valid_start(moment)


@pytest.mark.parametrize(
    "period, moment",
    [
        (WEEK, at(2013, 4, 8, 0, 0, 1)),
        (WEEK, at(2013, 4, 8, 0, 1)),
        (WEEK, at(2013, 4, 8, 1)),
        (WEEK, at(2013, 4, 9)),
        (QUARTER, at(2013, 2, 1)),
        (DAY, at(2013, 10, 18, 12)),
        (MONTH, at(2013, 4, 2)),
        (YEAR, at(2013, 2, 1)),
        (HOUR, at(2013, 4, 8, 13, 0, 1)),
    ],
)
def test_any_deviation_from_a_boundary_is_not_a_valid_start(period, moment):
    assert not period.valid_start(moment)


# --- end of a period (round up) --------------------------------------------------------------

@pytest.mark.parametrize(
    "period, moment, end",
    [
        (WEEK, at(2013, 4, 9), at(2013, 4, 15)),
        (WEEK, at(2013, 4, 8), at(2013, 4, 8)),
        (WEEK, at(2013, 4, 8, 23, 12), at(2013, 4, 15)),
        (MONTH, at(2013, 10, 4, 10, 23, 43), at(2013, 11, 1)),
        (MONTH, at(2013, 10, 4), at(2013, 11, 1)),
        (MONTH, at(2013, 5, 1), at(2013, 5, 1)),
        (MONTH, at(2013, 5, 1, 0, 12), at(2013, 6, 1)),
        (DAY, at(2013, 10, 18, 21), at(2013, 10, 19)),
        (HOUR, at(2013, 10, 4, 10, 23, 43), at(2013, 10, 4, 11)),
        (QUARTER, at(2013, 1, 1, 1), at(2013, 4, 1)),
        (QUARTER, at(2013, 4, 1, 1), at(2013, 7, 1)),
        (QUARTER, at(2013, 7, 1, 1), at(2013, 10, 1)),
        (QUARTER, at(2013, 10, 1, 1), at(2014, 1, 1)),
        (YEAR, at(2013, 10, 4), at(2014, 1, 1)),
    ],
)
def test_end_rounds_up_to_the_next_boundary_unless_already_on_one(period, moment, end):
    assert period.end(moment) == end


def test_month_end_from_the_last_day_of_a_long_month():
    assert MONTH.end(at(2013, 1, 31, 12)) == at(2013, 2, 1)


# --- ranges ----------------------------------------------------------------------------------

def starts(period, start, end):
    return [bucket_start for bucket_start, _ in period.range(start, end)]


def test_weekly_range_on_boundaries():
    assert list(WEEK.range(at(2013, 4, 1), at(2013, 4, 15))) == [
        (at(2013, 4, 1), at(2013, 4, 8)),
        (at(2013, 4, 8), at(2013, 4, 15)),
    ]


def test_weekly_range_off_boundaries_covers_both_ends():
    assert list(WEEK.range(at(2013, 4, 3), at(2013, 4, 19))) == [
        (at(2013, 4, 1), at(2013, 4, 8)),
        (at(2013, 4, 8), at(2013, 4, 15)),
        (at(2013, 4, 15), at(2013, 4, 22)),
    ]


def test_monthly_range_on_boundaries():
    assert starts(MONTH, at(2013, 4, 1), at(2013, 6, 1)) == [at(2013, 4, 1), at(2013, 5, 1)]


def test_monthly_range_off_boundaries():
    assert starts(MONTH, at(2013, 4, 3), at(2013, 5, 19)) == [at(2013, 4, 1), at(2013, 5, 1)]


def test_daily_range_lists_seven_days():
    assert starts(DAY, at(2013, 4, 3), at(2013, 4, 10)) == [at(2013, 4, d) for d in range(3, 10)]


def test_hourly_range_lists_five_hours():
    assert starts(HOUR, at(2013, 4, 3, 12), at(2013, 4, 3, 17)) == [
        at(2013, 4, 3, h) for h in range(12, 17)
    ]


def test_quarterly_range_ends_with_the_quarter_holding_the_end():
    buckets = list(QUARTER.range(at(2012, 10, 1), at(2013, 12, 30)))
    assert [s for s, _ in buckets] == [
        at(2012, 10, 1), at(2013, 1, 1), at(2013, 4, 1), at(2013, 7, 1), at(2013, 10, 1)
    ]
    assert buckets[-1] == (at(2013, 10, 1), at(2014, 1, 1))


def test_yearly_range_lists_five_years():
    assert starts(YEAR, at(2010, 1, 1), at(2015, 1, 1)) == [at(y, 1, 1) for y in range(2010, 2015)]


def test_a_december_month_bucket_ends_on_the_first_of_january():
    assert list(MONTH.range(at(2013, 12, 1), at(2014, 1, 1))) == [(at(2013, 12, 1), at(2014, 1, 1))]


def test_each_bucket_ends_where_the_next_starts():
    buckets = list(MONTH.range(at(2012, 11, 15), at(2013, 3, 2)))
    assert all(end == following for (_, end), (following, _) in zip(buckets, buckets[1:]))
    assert len(buckets) == 5


def test_empty_range_when_start_equals_end_on_a_boundary():
    assert list(DAY.range(at(2013, 4, 3), at(2013, 4, 3))) == []


# --- duration arithmetic ---------------------------------------------------------------------

def test_duration_from_start_at():
    first = DAY.start(at(2014, 1, 9))
    assert (first, DAY.add(first, 3)) == (at(2014, 1, 9), at(2014, 1, 12))


def test_duration_to_end_at():
    last = DAY.start(at(2014, 1, 11))
    assert (DAY.add(last, -3), last) == (at(2014, 1, 8), at(2014, 1, 11))


def test_duration_back_from_now():
    last = DAY.start(at(2014, 1, 9))
    assert (DAY.add(last, -3), last) == (at(2014, 1, 6), at(2014, 1, 9))


def test_weekly_duration_to_a_friday_excludes_the_partial_week():
    last = WEEK.start(at(2014, 8, 8))
    assert (WEEK.add(last, -3), last) == (at(2014, 7, 14), at(2014, 8, 4))


def test_ten_weeks_from_a_monday():
    first = WEEK.start(at(2012, 11, 5))
    assert WEEK.add(first, 10) == at(2013, 1, 14)


@pytest.mark.parametrize("count, start, end", [(5, at(2014, 1, 14), at(2014, 1, 20)),
                                              (-5, at(2014, 1, 4), at(2014, 1, 10))])
def test_shifting_adds_k_periods_to_both_ends(count, start, end):
    assert (DAY.add(at(2014, 1, 9), count), DAY.add(at(2014, 1, 15), count)) == (start, end)


def test_month_arithmetic_is_calendar_arithmetic_across_years():
    assert MONTH.add(at(2013, 11, 1), 3) == at(2014, 2, 1)
    assert MONTH.add(at(2013, 2, 1), -3) == at(2012, 11, 1)
    assert QUARTER.add(at(2013, 10, 1), -4) == at(2012, 10, 1)
    assert YEAR.add(at(2013, 1, 1), 2) == at(2015, 1, 1)


# --- the table of periods ---------------------------------------------------------------

def test_periods_are_listed_by_name_in_order():
    assert list(PERIODS) == ["hour", "day", "week", "month", "quarter", "year"]


def test_period_keys_hold_every_period_start_of_a_timestamp():
    keys = period_keys(at(2013, 5, 22, 10, 23, 43))
    assert keys == {
        "_hour_start_at": at(2013, 5, 22, 10),
        "_day_start_at": at(2013, 5, 22),
        "_week_start_at": at(2013, 5, 20),
        "_month_start_at": at(2013, 5, 1),
        "_quarter_start_at": at(2013, 4, 1),
        "_year_start_at": at(2013, 1, 1),
    }
