"""parse_query: the read API's query-string validation (docs/query-language.md)."""
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backdrop.core.query import (
    ALLOWED_PARAMETERS,
    DEFAULT_METHOD,
    Query,
    QueryError,
    parse_datetime,
    parse_query,
)
from backdrop.core import paging
from backdrop.core.storage.base import Filter, Position, Sort
from backdrop.core.timeseries import DAY, HOUR, MONTH, WEEK

UTC = timezone.utc
NOW = datetime(2014, 1, 9, 12, 30, tzinfo=UTC)
RANGE = "start_at=2013-04-01T00:00:00Z&end_at=2013-04-15T00:00:00Z"


def at(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(query_string: str, *, raw: bool = True, now: datetime = NOW) -> Query:
    """Decode like a browser-facing server would (`+` is a space, `%2B` a plus)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return parse_query(pairs, raw_queries_allowed=raw, now=now)


def error(query_string: str, *, raw: bool = True) -> str:
    with pytest.raises(QueryError) as caught:
        parse(query_string, raw=raw)
    return str(caught.value)


# --- checks 1-16, one test per row of docs/query-language.md, "Errors" -----------------------

@pytest.mark.parametrize("query", ["foo=bar", "_=1389270000", "callback=jsonp1", "=x"])
def test_1_unrecognised_parameter_names_are_refused(query):
    assert error(query) == "An unrecognised parameter was provided"


def test_2_a_period_query_needs_duration_or_both_dates():
    assert error("period=week&start_at=2013-04-01T00:00:00Z") == (
        "Either 'duration' or both 'start_at' and 'end_at' are required for a period query"
    )


def test_2_a_period_query_is_limited_only_when_grouped():
    assert error(f"period=week&limit=1&{RANGE}") == (
        "A period query can only be limited if it is grouped - please add 'group_by'"
    )


def test_3_start_at_must_be_a_valid_datetime():
    assert error("start_at=not a date&end_at=2013-04-15T00:00:00Z") == "start_at is not a valid datetime"


def test_4_end_at_must_be_a_valid_datetime():
    assert error("start_at=2013-04-01T00:00:00Z&end_at=nope") == "end_at is not a valid datetime"


def test_5_filter_by_and_filter_by_prefix_cannot_be_combined():
    assert error("filter_by=a_b:c&filter_by_prefix=a_b:c") == (
        "Cannot use both filter_by and filter_by_prefix in the same query"
    )


@pytest.mark.parametrize("name", ["filter_by", "filter_by_prefix"])
def test_5_a_filter_needs_a_colon(name):
    assert error(f"{name}=authority") == (
        "filter_by must be a field name and value separated by a colon (:) eg. authority:Westminster"
    )


@pytest.mark.parametrize(
    "query", ["filter_by=$where:function(){}", "filter_by_prefix=$prefix:function(){}", "filter_by=a:b"]
)
def test_5_a_filter_needs_a_valid_field_name(query):
    assert error(query) == "Cannot filter by an invalid field name"


def test_5_the_dollar_rule_is_reached_only_after_the_field_name_rule():
    # `filter_by must not start with a $` is unreachable: a `$` name is never valid.
    assert error("filter_by=$ne:1") == "Cannot filter by an invalid field name"


def test_6_period_must_be_one_of_the_six_names():
    assert error(f"period=fortnight&{RANGE}") == (
        "'period' must be one of ['hour', 'day', 'week', 'month', 'quarter', 'year']"
    )


def test_7_period_queries_without_group_by_cannot_be_sorted():
    assert error(f"period=week&sort_by=name:ascending&{RANGE}") == (
        "Cannot sort for period queries without group_by. Period queries are always sorted by time."
    )


def test_7_sort_by_needs_a_colon():
    assert error("sort_by=name") == (
        "sort_by must be a field name and sort direction separated by a colon (:) eg. authority:ascending"
    )


@pytest.mark.parametrize("value", ["name:up", "name:ASCENDING", ":ascending", "name:"])
def test_7_sort_direction_must_be_ascending_or_descending_after_a_field(value):
    assert error(f"sort_by={value}") == (
        "Unrecognised sort direction. Supported directions include: ascending, descending"
    )


@pytest.mark.parametrize("field", ["$where", "a.b", "a", "value:mode", "value:sum:x", "value:percentile0",
                                   "value:percentile100", "value:percentile5.5", "value:percentilex"])
def test_7_sort_by_needs_a_valid_field_name(field):
    assert error(f"sort_by={field}:ascending") == "Cannot sort by an invalid field name"


def test_8_group_by_needs_a_valid_field_name():
    assert error("group_by=$where") == "Cannot group by an invalid field name"


def test_8_group_by_refuses_internal_fields():
    assert error("group_by=_anything") == (
        "Cannot group by internal fields, internal fields start with an underscore"
    )


@pytest.mark.parametrize("value", ["-1", "foo", "1.5", "", "٣"])
def test_9_limit_must_be_a_non_negative_integer(value):
    assert error(f"limit={value}") == "limit must be a positive integer"


@pytest.mark.parametrize("value", ["laierughrelg", "-1", "2.5"])
def test_10_duration_must_be_a_non_negative_integer(value):
    assert error(f"period=day&duration={value}") == "duration must be a positive integer"


def test_11_collect_needs_group_by_or_period():
    assert error("collect=authority") == "collect can be used only with either ['group_by', 'period']"


def test_12_absolute_and_relative_time_cannot_be_mixed():
    assert error(f"period=day&duration=3&{RANGE}") == (
        "Absolute and relative time cannot be requested at the same time - either ask for "
        "'start_at' and 'end_at', or ask for 'start_at'/'end_at' with 'duration'"
    )


def test_12_start_at_alone_is_refused():
    assert error("start_at=2012-12-13T01:01:01%2B00:00") == "Use of 'start_at' requires 'end_at' or 'duration'"


def test_12_end_at_alone_is_refused():
    assert error("end_at=2012-12-12T01:01:02%2B00:00") == "Use of 'end_at' requires 'start_at' or 'duration'"


@pytest.mark.parametrize("value", ["0", "00"])
def test_12_duration_must_not_be_zero(value):
    assert error(f"period=day&duration={value}") == "'duration' must not be zero"


def test_12_duration_requires_a_period():
    assert error("duration=3") == (
        "If 'duration' is requested (for relative time), 'period' is required - "
        "please add a period (like 'day', 'month' etc)"
    )


def test_12_duration_integer_rule_is_unreachable_because_check_10_fires_first():
    assert error("period=day&duration=x") == "duration must be a positive integer"


@pytest.mark.parametrize("value", ["value:mode", "value:", "value:SUM", "value:MEDIAN", "value:default",
                                   "value:Percentile5", "value:count-unique"])
def test_13_collect_method_must_be_known(value):
    assert error(f"group_by=type&collect={value}") == "Unknown collection method"


@pytest.mark.parametrize("method", ["percentile0", "percentile100", "percentile5.5", "percentilex", "percentile",
                                    "percentile05", "percentile-5", "percentile%2B5", "percentile1000"])
def test_13_a_percentile_outside_1_to_99_is_refused_naming_the_range(method):
    assert error(f"group_by=type&collect=value:{method}") == (
        "percentile must be followed by a whole number from 1 to 99 (no leading zero), eg. percentile95")


@pytest.mark.parametrize("method", ["min", "max", "median", "percentile1", "percentile95", "percentile99",
                                    "count_unique"])
def test_the_new_collect_methods_are_parsed_and_sortable(method):
    query = parse(f"group_by=type&collect=value:{method}&sort_by=value:{method}:descending")
    assert query.collect == (("value", method),)
    assert (query.sort_by.field, query.sort_by.descending) == (f"value:{method}", True)


def test_13_collect_needs_a_valid_field_name():
    assert error("group_by=type&collect=$where") == "Cannot collect an invalid field name"


def test_13_collect_refuses_internal_fields():
    assert error("group_by=type&collect=_id") == (
        "Cannot collect internal fields, internal fields start with an underscore"
    )


def test_13_collect_refuses_the_group_by_field():
    assert error("group_by=type&collect=type:count") == "Cannot collect by a field that is used for group_by"


def test_13_collect_with_more_than_one_colon_is_a_client_error():
    assert error("group_by=type&collect=value:sum:mean") == (
        "collect must be a field name, optionally followed by a colon and one of sum, count, set, mean, min, max,"
        " median, percentileNN (NN from 1 to 99), count_unique"
    )


@pytest.mark.parametrize("value", ["yes", "True", ""])
def test_14_flatten_must_be_true_or_false(value):
    assert error(f"group_by=type&flatten={value}") == "flatten must be either 'true' or 'false'"


def test_15_inclusive_must_be_true_or_false():
    assert error(f"group_by=type&inclusive=1&{RANGE}") == "inclusive must be either 'true' or 'false'"


def test_16_inclusive_needs_start_at_or_end_at():
    assert error("group_by=type&inclusive=true") == (
        "inclusive can be used only with either ['start_at', 'end_at']"
    )


# --- precedence ------------------------------------------------------------------------------

def test_the_first_failing_check_wins_over_later_ones():
    # As in the original's scenario: the period rule (2) fires before the internal-field rule (8).
    assert error("period=week&group_by=_week_start_at") == (
        "Either 'duration' or both 'start_at' and 'end_at' are required for a period query"
    )


def test_within_a_check_the_first_listed_problem_wins():
    assert error(f"period=week&sort_by=name&{RANGE}") == (
        "Cannot sort for period queries without group_by. Period queries are always sorted by time."
    )


def test_filters_are_checked_value_by_value_so_the_second_value_reports():
    assert error("filter_by=foo:bar&filter_by=bar") == (
        "filter_by must be a field name and value separated by a colon (:) eg. authority:Westminster"
    )


def test_collects_are_checked_value_by_value():
    assert error("group_by=type&collect=$foo&collect=foo") == "Cannot collect an invalid field name"


def test_every_group_by_value_is_validated():
    assert error("group_by=type&group_by=$where") == "Cannot group by an invalid field name"
    assert error("group_by=type&group_by=_id") == (
        "Cannot group by internal fields, internal fields start with an underscore"
    )


def test_collect_is_compared_with_every_group_by_field():
    assert error("group_by=type&group_by=name&collect=name") == (
        "Cannot collect by a field that is used for group_by"
    )


# --- the two checks the original lacked (start before end, too many periods), in position ----

def test_start_at_after_end_at_is_refused():
    assert error("start_at=2013-04-15T00:00:00Z&end_at=2013-04-01T00:00:00Z") == (
        "start_at must be before end_at"
    )


def test_start_at_equal_to_end_at_is_allowed():
    query = parse("start_at=2013-04-01T00:00:00Z&end_at=2013-04-01T00:00:00Z")
    assert query.start_at == query.end_at == at(2013, 4, 1)


def test_order_is_compared_between_instants_not_texts():
    # 01:00 at +02:00 is before 00:00 UTC on the same date.
    query = parse("start_at=2013-04-01T01:00:00%2B02:00&end_at=2013-04-01T00:00:00Z")
    assert query.start_at == at(2013, 3, 31, 23)


def test_date_order_check_comes_after_the_end_at_check():
    assert error("start_at=2013-04-15T00:00:00Z&end_at=nope") == "end_at is not a valid datetime"


def test_date_order_check_comes_before_the_filter_check():
    assert error("start_at=2013-04-15T00:00:00Z&end_at=2013-04-01T00:00:00Z&filter_by=foo") == (
        "start_at must be before end_at"
    )


def test_a_period_series_longer_than_100000_periods_is_refused():
    assert error("period=hour&start_at=2000-01-01T00:00:00Z&end_at=2020-01-01T00:00:00Z") == (
        "Query would return too many periods"
    )


def test_exactly_100000_periods_are_allowed():
    query = parse("period=hour&start_at=2000-01-01T00:00:00Z&end_at=2011-05-29T16:00:00Z")
    assert (query.end_at - query.start_at) == timedelta(hours=100_000)


def test_a_partial_last_period_counts_towards_the_limit():
    assert error("period=hour&start_at=2000-01-01T00:00:00Z&end_at=2011-05-29T16:00:01Z") == (
        "Query would return too many periods"
    )


def test_a_duration_beyond_100000_periods_is_refused():
    assert error("period=hour&duration=100001") == "Query would return too many periods"
    assert parse("period=hour&duration=100000").duration == 100_000


def test_too_many_periods_is_checked_after_check_16():
    assert error("period=day&duration=200000&inclusive=true") == (
        "inclusive can be used only with either ['start_at', 'end_at']"
    )


def test_too_many_periods_is_checked_before_the_raw_query_rules():
    query = "period=day&start_at=2000-01-01T12:00:00Z&end_at=2400-01-01T00:00:00Z"
    assert error(query, raw=False) == "Query would return too many periods"


# --- date-time strings --------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, instant",
    [
        ("2014-01-01T00:00:00+00:00", at(2014, 1, 1)),
        ("2014-01-01T00:00:00-00:00", at(2014, 1, 1)),
        ("2012-12-12T00:00:00Z", at(2012, 12, 12)),
        ("2012-12-12T00:00:00+0000", at(2012, 12, 12)),
        ("2012-12-12T00:00:00+0130", at(2012, 12, 11, 22, 30)),
        ("2013-04-01T04:30:00+04:30", at(2013, 4, 1)),
        ("2013-02-25T15:09:56-05:00", at(2013, 2, 25, 20, 9, 56)),
    ],
)
def test_valid_datetimes_are_converted_to_utc(text, instant):
    parsed = parse_datetime(text)
    assert parsed == instant and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "i am not a time",
        "14-11-01T11:55:11+00:15",
        "2014-1-1T11:55:11+00:15",
        "2014-JAN-01T11:55:11+00:15",
        "2014-1-1T11:55:11",
        "2013-13-70T00:00:00Z",
        "2013-01-01T00:00:00+24:00",
        "2013-01-01T00:00:00+99:99",
        "2013-01-01T00:00:00",
        "2013-01-01T00:00:00.000Z",
        "2013-01-01T00:00:00.5+00:00",
        "2013-02-29T00:00:00Z",
        "2013-01-01T24:00:00Z",
        "2013-01-01T00:00:60Z",
        "2013-01-01T00:00:00 01:00",  # an unencoded `+` arrives as a space
        "2013-01-01 00:00:00Z",
        "2013-01-01T00:00:00Zjunk",
        "２０１３-01-01T00:00:00Z",
    ],
)
def test_invalid_datetimes_are_refused(text):
    assert parse_datetime(text) is None
    assert error(f"start_at={text}&end_at=2015-01-01T00:00:00Z") == "start_at is not a valid datetime"


def test_an_instant_outside_the_utc_calendar_is_not_a_valid_datetime():
    assert parse_datetime("9999-12-31T23:00:00-05:00") is None
    assert parse_datetime("0001-01-01T00:00:00+05:00") is None


def test_query_dates_are_utc_instants():
    query = parse("start_at=2013-04-01T04:30:00%2B04:30&end_at=2013-04-15T00:00:00-02:00")
    assert (query.start_at, query.end_at) == (at(2013, 4, 1), at(2013, 4, 15, 2))
    assert query.start_at.utcoffset() == timedelta(0)


# --- checks 17-24: rules when raw queries are not allowed ------------------------------------

def test_17_raw_queries_are_refused():
    assert error("filter_by=name:foo", raw=False) == "querying for raw data is not allowed"


def test_17_raw_queries_pass_when_allowed():
    assert parse("filter_by=name:foo", raw=True).is_raw


def test_18_the_minimum_span_is_seven_days():
    query = "period=day&start_at=2000-02-02T00:00:00%2B00:00&end_at=2000-02-08T00:00:00%2B00:00"
    assert error(query, raw=False) == "The minimum time span for a query is 7 days"


def test_18_seven_whole_days_are_enough():
    query = "period=day&start_at=2000-02-02T00:00:00%2B00:00&end_at=2000-02-09T00:00:00%2B00:00"
    assert parse(query, raw=False).end_at == at(2000, 2, 9)


def test_18_the_span_counts_whole_days_only():
    query = "group_by=type&start_at=2012-01-01T00:00:00Z&end_at=2012-01-07T23:59:30Z"
    assert error(query, raw=False) == "The minimum time span for a query is 7 days"


def test_19_start_at_must_be_midnight_in_utc():
    query = "group_by=type&start_at=2013-04-01T00:00:00%2B04:30&end_at=2013-04-08T00:00:00%2B00:00"
    assert error(query, raw=False) == "start_at must be midnight"


def test_19_midnight_is_judged_in_utc():
    query = "group_by=type&start_at=2013-04-01T04:30:00%2B04:30&end_at=2013-04-08T00:00:00%2B00:00"
    assert parse(query, raw=False).start_at == at(2013, 4, 1)


def test_20_end_at_must_be_midnight():
    query = "group_by=type&start_at=2013-04-01T00:00:00Z&end_at=2013-04-08T12:00:00Z"
    assert error(query, raw=False) == "end_at must be midnight"


def test_21_weekly_start_at_must_be_a_monday():
    query = "period=week&start_at=2013-04-02T00:00:00Z&end_at=2013-04-15T00:00:00Z"
    assert error(query, raw=False) == "start_at must be a monday"


def test_22_weekly_end_at_must_be_a_monday():
    query = "period=week&start_at=2013-04-01T00:00:00Z&end_at=2013-04-16T00:00:00Z"
    assert error(query, raw=False) == "end_at must be a monday"


def test_23_monthly_start_at_must_be_the_first():
    query = "period=month&start_at=2013-05-02T00:00:00Z&end_at=2013-07-01T00:00:00Z"
    assert error(query, raw=False) == "'start_at' must be the first of the month for period=month queries"


def test_24_monthly_end_at_must_be_the_first():
    query = "period=month&start_at=2013-05-01T00:00:00Z&end_at=2013-07-02T00:00:00Z"
    assert error(query, raw=False) == "'end_at' must be the first of the month for period=month queries"


def test_the_seven_day_rule_comes_before_the_monday_rule():
    query = "period=week&start_at=2012-01-01T00:00:00Z&end_at=2012-01-05T00:00:00Z"
    assert error(query, raw=False) == "The minimum time span for a query is 7 days"


def test_hourly_queries_allow_any_times():
    query = "period=hour&start_at=2000-02-02T12:00:00%2B00:00&end_at=2000-02-19T13:00:00%2B00:00"
    assert parse(query, raw=False).period is HOUR


def test_hourly_queries_allow_six_days():
    query = "period=hour&start_at=2000-02-02T00:00:00Z&end_at=2000-02-08T00:00:00Z"
    assert parse(query, raw=False).end_at == at(2000, 2, 8)


def test_the_monday_rule_looks_at_the_utc_date():
    # Monday 20:00 at -04:00 is Tuesday 00:00 UTC; Sunday 20:00 at -04:00 is Monday in UTC.
    tuesday = "period=week&start_at=2013-04-08T20:00:00-04:00&end_at=2013-04-22T00:00:00Z"
    monday = "period=week&start_at=2013-04-07T20:00:00-04:00&end_at=2013-04-22T00:00:00Z"
    assert error(tuesday, raw=False) == "start_at must be a monday"
    assert parse(monday, raw=False).start_at == at(2013, 4, 8)


def test_the_first_of_month_rule_looks_at_the_utc_date():
    query = "period=month&start_at=2013-04-30T20:00:00-04:00&end_at=2013-07-01T00:00:00Z"
    assert parse(query, raw=False).start_at == at(2013, 5, 1)


def test_quarters_and_years_have_no_alignment_rule_beyond_midnight():
    query = "period=quarter&start_at=2013-05-07T00:00:00Z&end_at=2013-11-20T00:00:00Z"
    assert parse(query, raw=False).start_at == at(2013, 5, 7)


def test_relative_ranges_skip_the_seven_day_rule():
    query = "start_at=2014-01-09T00:00:00Z&duration=2&period=day"
    assert parse(query, raw=False).end_at == at(2014, 1, 11)


def test_a_user_supplied_date_of_a_relative_range_must_still_be_midnight():
    query = "start_at=2014-01-09T12:00:00Z&duration=2&period=day"
    assert error(query, raw=False) == "start_at must be midnight"


def test_computed_dates_are_not_held_to_the_raw_rules():
    # now is 12:30 on a Thursday; the computed weekly range is still accepted.
    assert parse("period=week&duration=3", raw=False).end_at == at(2014, 1, 6)


# --- duration resolution (docs/query-language.md, "Relative ranges") ----------------------------

def test_duration_counts_forward_from_start_at():
    query = parse("start_at=2014-01-09T00:00:00Z&period=day&duration=3")
    assert (query.start_at, query.end_at, query.anchor, query.duration) == (
        at(2014, 1, 9), at(2014, 1, 12), "start", 3
    )


def test_duration_counts_back_from_end_at():
    query = parse("end_at=2014-01-11T00:00:00Z&period=day&duration=3")
    assert (query.start_at, query.end_at, query.anchor) == (at(2014, 1, 8), at(2014, 1, 11), "end")


def test_duration_counts_back_from_the_start_of_the_current_period():
    query = parse("period=day&duration=3", now=at(2014, 1, 9))
    assert (query.start_at, query.end_at, query.anchor) == (at(2014, 1, 6), at(2014, 1, 9), "end")


def test_duration_from_now_excludes_the_current_partial_period():
    query = parse("period=day&duration=3", now=at(2014, 1, 9, 12, 30))
    assert (query.start_at, query.end_at) == (at(2014, 1, 6), at(2014, 1, 9))


def test_a_naive_now_is_taken_as_utc():
    query = parse("period=hour&duration=2", now=datetime(2014, 1, 9, 12, 30))
    assert (query.start_at, query.end_at) == (at(2014, 1, 9, 10), at(2014, 1, 9, 12))


def test_weekly_duration_back_from_a_friday_excludes_the_partial_week():
    query = parse("end_at=2014-08-08T00:00:00Z&duration=3&period=week")
    assert (query.start_at, query.end_at) == (at(2014, 7, 14), at(2014, 8, 4))


def test_ten_weeks_forward_from_a_monday():
    query = parse("start_at=2012-11-05T00:00:00Z&duration=10&period=week")
    assert (query.start_at, query.end_at) == (at(2012, 11, 5), at(2013, 1, 14))


def test_scenario_two_days_from_start_at_and_to_end_at_cover_the_same_days():
    forward = parse("start_at=2012-12-12T00:00:00%2B00:00&duration=2&period=day", raw=False)
    backward = parse("end_at=2012-12-14T00:00:00%2B00:00&duration=2&period=day", raw=False)
    assert (forward.start_at, forward.end_at) == (backward.start_at, backward.end_at)
    assert (forward.start_at, forward.end_at) == (at(2012, 12, 12), at(2012, 12, 14))


def test_a_start_at_inside_a_period_is_rounded_down_before_counting():
    query = parse("start_at=2013-04-10T00:00:00Z&duration=2&period=month")
    assert (query.start_at, query.end_at) == (at(2013, 4, 1), at(2013, 6, 1))


def test_absolute_queries_carry_no_anchor_or_duration():
    query = parse(f"period=week&{RANGE}")
    assert (query.anchor, query.duration) == (None, None)


def test_the_resolved_query_shifts_by_whole_periods():
    query = parse("start_at=2014-01-09T00:00:00Z&period=day&duration=6")
    shifted = query.shifted(5)
    assert (shifted.start_at, shifted.end_at) == (at(2014, 1, 14), at(2014, 1, 20))


# --- building the Query ----------------------------------------------------------------------------

def test_filter_value_is_everything_after_the_first_colon():
    assert parse("filter_by=url:http://x:80/a").filters == (Filter("url", "http://x:80/a"),)


def test_filter_true_and_false_become_booleans_and_other_values_stay_strings():
    query = parse("filter_by=eats_people:true&filter_by=tame:false&filter_by=value:3&filter_by=name:True")
    assert query.filters == (
        Filter("eats_people", True), Filter("tame", False), Filter("value", "3"), Filter("name", "True")
    )


def test_prefix_filters_keep_string_values_in_order():
    query = parse("filter_by_prefix=authority:Camd&filter_by_prefix=flag:true")
    assert query.filters == (
        Filter("authority", "Camd", prefix=True), Filter("flag", "true", prefix=True)
    )


def test_an_empty_filter_value_is_an_empty_string():
    assert parse("filter_by=name:").filters == (Filter("name", ""),)


@pytest.mark.parametrize(
    "value, sort",
    [
        ("value:ascending", Sort("value", False)),
        ("_timestamp:descending", Sort("_timestamp", True)),
        ("value:sum:descending", Sort("value:sum", True)),
    ],
)
def test_sort_by_splits_at_the_last_colon(value, sort):
    assert parse(f"group_by=type&sort_by={value}").sort_by == sort


def test_collect_without_a_method_uses_the_default_method():
    query = parse("group_by=type&collect=value:sum&collect=name&collect=value:mean")
    assert query.collect == (("value", "sum"), ("name", DEFAULT_METHOD), ("value", "mean"))


def test_group_by_keeps_every_value_in_order():
    assert parse("group_by=authority&group_by=licence_name").group_by == ("authority", "licence_name")


def test_limit_zero_means_no_limit():
    assert parse("limit=0").limit is None
    assert parse("limit=3").limit == 3


@pytest.mark.parametrize("value, expected", [("csv", "csv"), ("json", None), ("CSV", None), ("", None)])
def test_format_is_csv_or_nothing(value, expected):
    assert parse(f"format={value}").format == expected


def test_flatten_and_inclusive_become_booleans():
    query = parse(f"group_by=type&flatten=true&inclusive=true&{RANGE}")
    assert (query.flatten, query.inclusive) == (True, True)
    query = parse(f"group_by=type&flatten=false&inclusive=false&{RANGE}")
    assert (query.flatten, query.inclusive) == (False, False)


def test_period_names_become_period_objects():
    assert parse(f"period=week&{RANGE}").period is WEEK
    assert parse(f"period=month&{RANGE}").period is MONTH


def test_an_empty_query_is_a_raw_query_of_everything():
    assert parse("") == Query()


# --- repeated single-valued parameters: the first value is used --------------------------------

def test_first_period_is_used():
    assert parse(f"period=day&period=nonsense&{RANGE}").period is DAY


def test_first_limit_is_used():
    assert parse("limit=5&limit=x").limit == 5


def test_first_sort_by_is_used():
    assert parse("sort_by=name:descending&sort_by=bad").sort_by == Sort("name", True)


def test_first_start_at_is_used():
    query = parse("start_at=2013-04-01T00:00:00Z&start_at=garbage&end_at=2013-04-15T00:00:00Z")
    assert query.start_at == at(2013, 4, 1)


def test_first_of_flatten_format_and_duration_are_used():
    query = parse("group_by=type&flatten=true&flatten=maybe&format=csv&format=json")
    assert (query.flatten, query.format) == (True, "csv")
    assert parse("period=day&duration=2&duration=0").duration == 2


def test_a_bad_later_value_of_a_single_valued_parameter_is_ignored():
    assert parse("limit=3&limit=-1").limit == 3


# --- cache_key ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "one, other",
    [
        ("start_at=2013-04-01T01:00:00%2B01:00&end_at=2013-04-15T00:00:00Z",
         "start_at=2013-04-01T00:00:00Z&end_at=2013-04-15T00:00:00%2B0000"),
        ("group_by=type&filter_by=a_b:c&period=week&" + RANGE,
         RANGE + "&period=week&filter_by=a_b:c&group_by=type"),
        ("limit=0&group_by=type", "group_by=type"),
        ("inclusive=false&" + RANGE, RANGE),
        ("flatten=false&group_by=type", "group_by=type"),
        ("format=json&group_by=type", "group_by=type"),
        ("period=day&period=week&" + RANGE, "period=day&" + RANGE),
        ("period=day&duration=3", "period=day&duration=3&duration=9"),
    ],
)
def test_equivalent_queries_share_a_cache_key(one, other):
    assert parse(one).cache_key() == parse(other).cache_key()


def test_a_relative_range_is_keyed_by_its_resolved_instants():
    earlier = parse("period=day&duration=3", now=at(2014, 1, 9, 1))
    later = parse("period=day&duration=3", now=at(2014, 1, 9, 23))
    next_day = parse("period=day&duration=3", now=at(2014, 1, 10, 1))
    assert earlier.cache_key() == later.cache_key() != next_day.cache_key()


def test_different_queries_get_different_cache_keys():
    queries = [
        "",
        "limit=3",
        "group_by=type",
        "group_by=name",
        "group_by=type&group_by=name",
        "group_by=name&group_by=type",
        "filter_by=a_b:true",
        "filter_by=a_b:True",
        "filter_by_prefix=a_b:true",
        "filter_by=a_b:c&filter_by=d_e:f",
        "filter_by=a_b:c,d_e:f",
        "sort_by=a_b:ascending",
        "sort_by=a_b:descending",
        "group_by=type&collect=value",
        "group_by=type&collect=value:set",
        "group_by=type&collect=value:sum",
        "group_by=type&flatten=true",
        "format=csv",
        RANGE,
        "inclusive=true&" + RANGE,
        "period=week&" + RANGE,
        "period=day&" + RANGE,
        "start_at=2014-01-06T00:00:00Z&period=day&duration=3",
        "end_at=2014-01-09T00:00:00Z&period=day&duration=3",
        "start_at=2014-01-06T00:00:00Z&end_at=2014-01-09T00:00:00Z&period=day",
    ]
    keys = [parse(query).cache_key() for query in queries]
    assert len(set(keys)) == len(queries)


def test_cache_key_is_text():
    assert isinstance(parse(f"period=week&{RANGE}").cache_key(), str)


# --- hostile input: always a QueryError, never another exception -------------------------------------

def test_a_huge_limit_is_refused():
    assert error("limit=1000000000000") == "limit must be a positive integer"
    assert parse("limit=1000000000").limit == 1_000_000_000


def test_a_limit_of_thousands_of_digits_is_refused_without_converting_it():
    assert error("limit=" + "9" * 5000) == "limit must be a positive integer"


def test_a_huge_duration_is_too_many_periods():
    assert error("period=day&duration=" + "9" * 5000) == "Query would return too many periods"
    assert error("period=year&duration=100000000000000000000") == "Query would return too many periods"


def test_a_range_rounded_up_past_year_9999_is_refused():
    query = "period=year&start_at=9999-01-01T00:00:00Z&end_at=9999-06-01T00:00:00Z"
    assert error(query) == "Query range is outside the supported dates (years 1 to 9999)"


def test_a_duration_before_year_1_is_refused():
    query = "period=day&end_at=0001-01-02T00:00:00Z&duration=3"
    assert error(query) == "Query range is outside the supported dates (years 1 to 9999)"


def test_a_relative_range_without_room_to_shift_is_refused():
    query = "period=year&start_at=9990-01-01T00:00:00Z&duration=9"
    assert error(query) == "Query range is outside the supported dates (years 1 to 9999)"


def test_ranges_near_the_calendar_ends_work_when_they_fit():
    assert parse("period=year&start_at=9990-01-01T00:00:00Z&duration=5").end_at == at(9995, 1, 1)
    assert parse("start_at=0001-01-01T00:00:00Z&end_at=9999-12-31T23:59:59Z").end_at == at(
        9999, 12, 31, 23, 59, 59
    )


@pytest.mark.parametrize(
    "query, message",
    [
        ("group_by=$where", "Cannot group by an invalid field name"),
        ("group_by=a.b", "Cannot group by an invalid field name"),
        ("filter_by=a.b:c", "Cannot filter by an invalid field name"),
        ("filter_by=$or:[]", "Cannot filter by an invalid field name"),
        ("sort_by=$natural:ascending", "Cannot sort by an invalid field name"),
        ("group_by=type&collect=a.b", "Cannot collect an invalid field name"),
        ("group_by=type;DROP TABLE records", "Cannot group by an invalid field name"),
    ],
)
def test_dollar_dotted_and_sql_keys_are_refused(query, message):
    assert error(query) == message


def test_sql_in_a_filter_value_stays_a_plain_string_value():
    text = "x'; DROP TABLE records; --"
    query = parse_query([("filter_by", f"name:{text}")], raw_queries_allowed=True, now=NOW)
    assert query.filters == (Filter("name", text),)


_names = st.sampled_from(ALLOWED_PARAMETERS + ("other",))
_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["day", "week", "hour", "month", "year", "true", "0", "3", "100001",
                     "a_b:c", "value:sum:descending", "9999-12-31T23:59:59Z",
                     "0001-01-01T00:00:00Z", "2014-01-01T00:00:00+23:59"]),
)


@settings(deadline=None, derandomize=True, max_examples=300,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_names, _values), max_size=8), st.booleans())
def test_any_query_string_parses_or_raises_a_query_error(pairs, raw):
    try:
        query = parse_query(pairs, raw_queries_allowed=raw, now=NOW)
    except QueryError as problem:
        assert str(problem)
    else:
        assert isinstance(query.cache_key(), str)


def test_cache_key_is_ascii_whatever_the_values():
    query = parse_query([("filter_by", "name:caf\u00e9 \U0001f600 \ud800")], raw_queries_allowed=True, now=NOW)
    assert query.cache_key().isascii()


# --- page_token (not in the original; docs/query-language.md, "Paging") ---------------------

def test_an_empty_page_token_asks_for_the_first_page():
    query = parse("limit=10&page_token=")
    assert (query.paged, query.after, query.limit) == (True, None, 10)


def test_a_page_token_names_the_position_after_which_the_page_starts():
    token = paging.encode(Position(at(2014, 1, 2, 3, 4, 5), "é/1"))
    assert parse(f"limit=10&page_token={token}").after == Position(at(2014, 1, 2, 3, 4, 5), "é/1")
    assert parse("limit=1&page_token=" + paging.encode(Position(None, "x"))).after == Position(None, "x")


def test_a_query_without_page_token_is_not_paged_and_keeps_its_cache_key():
    query = parse("limit=10")
    assert not query.paged and "page" not in query.cache_key()


def test_pages_get_their_own_cache_keys():
    keys = {parse(q).cache_key() for q in ("limit=2", "limit=2&page_token=",
                                            "limit=2&page_token=" + paging.encode(Position(None, "a")),
                                            "limit=2&page_token=" + paging.encode(Position(None, "b")))}
    assert len(keys) == 4


@pytest.mark.parametrize("query", ["group_by=kind&limit=2&page_token=",
                                   f"period=day&{RANGE}&page_token="])
def test_page_token_is_for_raw_queries_only(query):
    assert error(query) == "page_token is only for raw queries: it cannot be used with group_by or period"


def test_page_token_cannot_be_sorted():
    assert error("sort_by=kind:ascending&limit=2&page_token=") == (
        "sort_by cannot be used with page_token: pages always follow _timestamp, then _id")


@pytest.mark.parametrize("query", ["page_token=", "limit=0&page_token="])
def test_page_token_needs_a_limit(query):
    assert error(query) == "page_token needs limit: the number of records per page, at least 1"


@pytest.mark.parametrize("token", ["x", "!!!!", "bm90IGpzb24", "WzEsMiwzXQ", "WyIxIiwiYSJd", "W251bGwsMV0",
                                   "Wzk5OTk5OTk5OTk5OTk5OTk5OTksImEiXQ", "W3RydWUsImEiXQ"])
def test_a_malformed_page_token_is_refused_saying_so(token):
    # not base64, not JSON, three items, a string time, a number id, an instant past year 9999, a boolean time
    assert error(f"limit=2&page_token={token}") == (
        "page_token is malformed: use an empty page_token for the first page, then the one in each next link")


def test_a_paged_raw_query_is_refused_where_raw_queries_are():
    assert error("limit=2&page_token=", raw=False) == "querying for raw data is not allowed"
