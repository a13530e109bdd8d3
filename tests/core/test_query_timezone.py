"""parse_query and `timezone`: names, the messages, local boundary rules, the cache key."""
from datetime import datetime, timezone
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest

from backdrop.core.query import Query, QueryError, parse_query
from backdrop.core.timeseries import UTC

NOW = datetime(2026, 4, 15, 12, 30, tzinfo=timezone.utc)
LONDON = ZoneInfo("Europe/London")
# The week of 2026-03-23 … 03-30 in London: BST begins on Sunday 29 March.
WEEK = "period=week&start_at=2026-03-23T00:00:00Z&end_at=2026-03-30T00:00:00%2B01:00"


def parse(query_string: str, *, raw: bool = True, default: str | None = None) -> Query:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return parse_query(pairs, raw_queries_allowed=raw, now=NOW, default_timezone=default)


def error(query_string: str, *, raw: bool = True) -> str:
    with pytest.raises(QueryError) as caught:
        parse(query_string, raw=raw)
    return str(caught.value)


@pytest.mark.parametrize("name", ["Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC",
                                  "Etc/GMT%2B5", "US/Eastern"])
def test_iana_names_are_accepted(name):
    assert parse(f"{WEEK}&timezone={name}").zone in (UTC, ZoneInfo(name.replace("%2B", "+")))


@pytest.mark.parametrize("name", ["europe/london", "EUROPE/LONDON", "London", "../x", "Etc/../UTC",
                                  "/usr/share/zoneinfo/UTC", "localtime", "", "BST", "Europe/London "])
def test_unknown_names_cases_paths_and_aliases_are_refused(name):
    assert error(f"{WEEK}&timezone={name}") == "timezone must be a valid IANA time zone name"


def test_timezone_without_period_is_refused():
    assert error("group_by=authority&timezone=Europe/London") == "timezone needs period"


def test_the_first_of_repeated_values_is_used():
    assert parse(f"{WEEK}&timezone=Europe/London&timezone=nowhere").zone == LONDON
    assert error(f"{WEEK}&timezone=nowhere&timezone=Europe/London") == "timezone must be a valid IANA time zone name"


def test_no_timezone_and_no_default_is_the_original_utc():
    query = parse("period=day&start_at=2026-03-23T00:00:00Z&end_at=2026-03-30T00:00:00Z")
    assert query.zone is UTC and "timezone" not in query.cache_key()


def test_timezone_utc_is_the_original_utc_and_overrides_a_default():
    query = parse("period=day&start_at=2026-03-23T00:00:00Z&end_at=2026-03-30T00:00:00Z&timezone=UTC",
                  default="Europe/London")
    assert query.zone is UTC
    assert query.cache_key() == parse("period=day&start_at=2026-03-23T00:00:00Z&end_at=2026-03-30T00:00:00Z").cache_key()


def test_a_data_set_default_applies_to_period_queries_only():
    assert parse(WEEK, default="Europe/London").zone == LONDON
    assert parse("group_by=authority", default="Europe/London").zone is UTC


def test_the_cache_key_includes_the_zone():
    assert parse(f"{WEEK}&timezone=Europe/London").cache_key() != parse(
        f"{WEEK}&timezone=Europe/Dublin").cache_key()


def test_duration_counts_local_periods_back_from_now():
    query = parse("period=day&duration=2&timezone=Europe/London")
    assert (query.start_at, query.end_at) == (datetime(2026, 4, 12, 23, tzinfo=UTC), datetime(2026, 4, 14, 23, tzinfo=UTC))


def test_a_local_day_may_have_23_hours():
    query = parse("period=day&duration=1&start_at=2026-03-29T00:00:00Z&timezone=Europe/London")
    assert query.end_at - query.start_at == datetime(2026, 3, 30) - datetime(2026, 3, 29, 1)


# --- data sets without raw queries: boundaries judged on the zone's clocks -----------------

def test_local_midnights_on_mondays_pass_across_a_dst_change():
    assert parse(f"{WEEK}&timezone=Europe/London", raw=False).zone == LONDON


def test_seven_local_days_of_167_hours_are_seven_days():
    assert parse(f"{WEEK}&timezone=Europe/London", raw=False).end_at == datetime(2026, 3, 29, 23, tzinfo=UTC)


def test_utc_midnight_is_not_local_midnight_in_summer():
    query = "period=week&start_at=2026-06-01T00:00:00Z&end_at=2026-06-15T00:00:00Z&timezone=Europe/London"
    assert error(query, raw=False) == "start_at must be midnight"


def test_monday_is_judged_on_local_clocks():
    # 2026-06-07T23:00Z is Monday 00:00 in London but a Sunday in UTC.
    query = "period=week&start_at=2026-06-07T23:00:00Z&end_at=2026-06-21T23:00:00Z&timezone=Europe/London"
    assert parse(query, raw=False).zone == LONDON
    assert error(query.replace("&timezone=Europe/London", ""), raw=False) == "start_at must be midnight"


def test_first_of_month_is_judged_on_local_clocks():
    query = "period=month&start_at=2026-05-31T23:00:00Z&end_at=2026-07-31T23:00:00Z&timezone=Europe/London"
    assert parse(query, raw=False).zone == LONDON
    query = "period=month&start_at=2026-06-01T00:00:00%2B01:00&end_at=2026-08-02T00:00:00%2B01:00&timezone=Europe/London"
    assert error(query, raw=False) == "'end_at' must be the first of the month for period=month queries"


def test_a_midnight_the_clocks_skip_is_the_moment_they_jump():
    # São Paulo skipped 2018-11-04 00:00 (to 01:00 -02:00): that day starts at 03:00 UTC.
    query = "period=day&start_at=2018-11-04T03:00:00Z&end_at=2018-11-11T02:00:00Z&timezone=America/Sao_Paulo"
    assert parse(query, raw=False).start_at == datetime(2018, 11, 4, 3, tzinfo=UTC)
