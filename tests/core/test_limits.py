"""The read limits (core/limits.py) as reading.py applies them: what is refused, with which
message, and that nothing larger than the limit is asked of the engine or built."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backdrop.core.limits import NO_LIMITS, Limits
from backdrop.core.query import QueryError, parse_query
from backdrop.core.reading import execute, page
from backdrop.core.storage.memory import MemoryStorage

from normalised import at, record

NOW = datetime(2014, 2, 1, tzinfo=timezone.utc)
FIVE = Limits(rows=5)
ROWS = "the limit set by BACKDROP_QUERY_MAX_ROWS"


class Counting(MemoryStorage):
    """The reference engine, remembering the queries it was asked."""

    def __init__(self):
        super().__init__()
        self.asked = []

    def find(self, name, query):
        self.asked.append(query)
        return super().find(name, query)

    def aggregate(self, name, query):
        self.asked.append(query)
        return super().aggregate(name, query)


@pytest.fixture
def storage():
    storage = Counting()
    # 12 records: days 1..12 of January 2014, kinds k0..k2, sizes s0/s1, number 0..11 (all distinct)
    storage.save_records("ds", [record(f"r{n:02}", at(2014, 1, 1 + n), kind=f"k{n % 3}", size=f"s{n % 2}", number=n)
                                for n in range(12)])
    return storage


def ask(storage, text: str, limits: Limits = FIVE) -> list[dict]:
    pairs = [tuple(part.split("=", 1)) for part in text.split("&")] if text else []
    return execute(storage, "ds", parse_query(pairs, raw_queries_allowed=True, now=NOW), limits)


def refusal(storage, text: str, limits: Limits = FIVE) -> str:
    with pytest.raises(QueryError) as refused:
        ask(storage, text, limits)
    return str(refused.value)


# --- raw reads ------------------------------------------------------------------------------


def test_a_raw_read_of_more_records_than_the_limit_is_refused_with_paging_suggested(storage):
    message = refusal(storage, "")
    assert message.startswith(f"Query would return more than 5 rows, {ROWS}: ")
    assert "page_token" in message and "limit" in message
    assert storage.asked[-1].limit == 6  # one more than the limit, never the whole data set


def test_a_raw_read_within_the_limit_is_answered(storage):
    assert len(ask(storage, "limit=5")) == 5
    assert storage.asked[-1].limit == 5
    assert len(ask(storage, "filter_by=kind:k0")) == 4  # no limit, but only 4 match


def test_a_limit_above_the_row_limit_is_answered_when_fewer_records_match(storage):
    assert len(ask(storage, "limit=1000&filter_by=kind:k1")) == 4
    assert storage.asked[-1].limit == 6


def test_a_page_longer_than_the_row_limit_is_refused_before_reading(storage):
    query = parse_query([("page_token", ""), ("limit", "6")], raw_queries_allowed=True, now=NOW)
    with pytest.raises(QueryError, match="Pages hold at most 5 records .BACKDROP_QUERY_MAX_ROWS."):
        page(storage, "ds", query, FIVE)
    assert storage.asked == []
    query = parse_query([("page_token", ""), ("limit", "5")], raw_queries_allowed=True, now=NOW)
    assert len(page(storage, "ds", query, FIVE).records) == 5


# --- grouped and period reads ------------------------------------------------------------------


def test_more_groups_than_the_limit_are_refused_by_the_engine_cap(storage):
    message = refusal(storage, "group_by=number")
    assert message.startswith(f"Query would return more than 5 rows, {ROWS}: ")
    assert "fewer group_by fields" in message
    assert storage.asked[-1].row_cap == 5
    assert len(ask(storage, "group_by=kind")) == 3


def test_a_series_longer_than_the_limit_is_refused_before_the_engine_is_asked(storage):
    message = refusal(storage, "period=day&start_at=2014-01-01T00:00:00Z&end_at=2014-01-08T00:00:00Z")
    assert "a shorter range, a longer period" in message
    assert storage.asked == []
    assert len(ask(storage, "period=week&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z")) == 2


def test_nested_groups_times_periods_over_the_limit_are_refused_before_filling(storage, monkeypatch):
    from backdrop.core import results

    monkeypatch.setattr(results, "nested", lambda *args: pytest.fail("the series were filled"))
    # 3 kinds × 2 weeks = 6 entries > 5
    message = refusal(storage, "period=week&group_by=kind&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z")
    assert message.startswith("Query would return more than 5 rows")


def test_flattened_combinations_times_periods_over_the_limit_are_refused_before_filling(storage, monkeypatch):
    from backdrop.core import results

    monkeypatch.setattr(results, "flattened", lambda *args: pytest.fail("the rows were built"))
    # kind (3) × size (2) = 6 combinations, in one week: 6 > 5, although only 5 records fall in it
    query = ("period=week&group_by=kind&group_by=size&flatten=true"
             "&start_at=2014-01-06T00:00:00Z&end_at=2014-01-13T00:00:00Z")
    assert refusal(storage, query).startswith("Query would return more than 5 rows")


def test_within_the_limit_nested_and_flattened_answers_are_unchanged(storage):
    week = "period=week&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z"
    for text in (f"{week}&group_by=size", f"{week}&group_by=size&flatten=true", "group_by=kind&collect=number:sum"):
        assert ask(storage, text, Limits(rows=4)) == ask(storage, text, NO_LIMITS)


def test_no_limits_are_what_transforms_read_with(storage):
    assert len(ask(storage, "", NO_LIMITS)) == 12
    assert storage.asked[-1].limit is None and storage.asked[-1].timeout is None
    ask(storage, "group_by=number", NO_LIMITS)
    assert storage.asked[-1].row_cap is None and storage.asked[-1].timeout is None


def test_the_timeout_is_handed_to_every_engine_call(storage):
    limits = Limits(rows=100, timeout=3.0)
    ask(storage, "", limits)
    ask(storage, "group_by=kind", limits)
    ask(storage, "page_token=&limit=2", limits)
    assert [query.timeout for query in storage.asked] == [3.0, 3.0, 3.0]


# --- the settings' values and the bytes of an answer -------------------------------------------


def test_zero_turns_a_setting_off():
    assert Limits.from_settings(0, 0, 0) == NO_LIMITS
    assert Limits.from_settings(10, 20, 1.5) == Limits(10, 20, 1.5)


def test_an_answer_larger_than_the_byte_limit_is_refused_naming_the_setting():
    Limits(bytes=100).check_bytes(100)
    with pytest.raises(QueryError) as refused:
        Limits(bytes=100).check_bytes(101)
    assert str(refused.value).startswith(
        "Query answer would be larger than 100 bytes, the limit set by BACKDROP_QUERY_MAX_BYTES: ")
    assert "page_token" in str(refused.value)
