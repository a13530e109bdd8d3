"""The read query a transform asks of its input (docs/transforms.md, "One run")."""
from __future__ import annotations

from datetime import datetime, timezone

from backdrop.transformers.runner import query_args


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_range_with_a_period_stops_before_the_unfinished_period():
    args = query_args({"period": "day"}, at(2014, 12, 10, 12), at(2014, 12, 14, 12), now=at(2014, 12, 14))
    assert args == [("period", "day"), ("flatten", "true"), ("start_at", "2014-12-10T00:00:00+00:00"),
                    ("end_at", "2014-12-14T00:00:00+00:00"), ("inclusive", "true")]


def test_a_single_instant_with_a_period_asks_for_the_period_holding_it():
    args = query_args({"period": "week"}, at(2014, 12, 14, 12), at(2014, 12, 14, 12), now=at(2015, 1, 1))
    assert args == [("period", "week"), ("flatten", "true"), ("duration", "1"),
                    ("start_at", "2014-12-08T00:00:00+00:00")]


def test_a_single_instant_without_a_period_is_an_inclusive_instant_range():
    args = query_args({}, at(2014, 12, 14, 12), at(2014, 12, 14, 12), now=at(2015, 1, 1))
    assert args == [("flatten", "true"), ("start_at", "2014-12-14T12:00:00+00:00"),
                    ("end_at", "2014-12-14T12:00:00+00:00"), ("inclusive", "true")]


def test_a_weekly_range_ends_with_the_last_finished_week():
    early, late = at(2015, 2, 10, 12), at(2015, 2, 17, 12)
    assert ("end_at", "2015-02-16T00:00:00+00:00") in query_args({"period": "week"}, early, late, now=at(2015, 2, 18))
    assert ("end_at", "2015-02-23T00:00:00+00:00") in query_args({"period": "week"}, early, late, now=at(2015, 2, 24))
    assert ("start_at", "2015-02-09T00:00:00+00:00") in query_args({"period": "week"}, early, late, now=at(2015, 2, 24))


def test_list_parameters_become_repeated_parameters():
    args = query_args({"period": "week", "collect": ["a:sum", "b:sum"]}, at(2015, 2, 9), at(2015, 2, 9), at(2016, 1, 1))
    assert args[:3] == [("period", "week"), ("collect", "a:sum"), ("collect", "b:sum")]


def test_the_stored_parameters_are_not_changed():
    parameters = {"period": "week"}
    query_args(parameters, at(2015, 2, 9), at(2015, 2, 10), at(2016, 1, 1))
    assert parameters == {"period": "week"}


def test_instants_with_fractions_widen_to_whole_seconds_the_read_api_accepts():
    args = query_args({}, at(2015, 1, 14, 12, 51, 45, 621000), at(2015, 1, 14, 12, 51, 46, 5), at(2016, 1, 1))
    assert ("start_at", "2015-01-14T12:51:45+00:00") in args
    assert ("end_at", "2015-01-14T12:51:47+00:00") in args
