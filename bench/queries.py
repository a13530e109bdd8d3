"""The queries the benchmark asks, and how it asks them over real HTTP.

Each query has a read-API query string and a way to reduce the API's answer to a small
fingerprint (records returned, or non-empty cells, their total `_count` and collected sum),
which raw_queries.py computes the same way from its hand-written SQL: a baseline that
answered a different question would be no baseline.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

ONE_YEAR = ("2023-01-02T00:00:00Z", "2024-01-01T00:00:00Z")  # Monday to Monday, 52 weeks
TWO_YEARS = ("2022-01-01T00:00:00Z", "2024-01-01T00:00:00Z")
NINETY_DAYS = ("2023-10-03T00:00:00Z", "2024-01-01T00:00:00Z")
ONE_WEEK = ("2023-06-05T00:00:00Z", "2023-06-12T00:00:00Z")
ONE_MONTH = ("2023-12-01T00:00:00Z", "2024-01-01T00:00:00Z")
RAW_LIMIT = 1000


def _range(bounds: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("start_at", bounds[0]), ("end_at", bounds[1]))


@dataclass(frozen=True)
class QuerySpec:
    name: str
    params: tuple[tuple[str, str], ...]
    raw: bool = False  # a raw query answers records, not aggregated cells
    sum_key: str | None = None  # the collected key whose total the fingerprint checks

    @property
    def text(self) -> str:
        """The query string as a person reads it (unencoded)."""
        return "&".join(f"{key}={value}" for key, value in self.params)

    def fingerprint(self, data: list[dict]) -> tuple:
        """(records,) for a raw answer; (non-empty cells, total count, total sum) otherwise."""
        if self.raw:
            return (len(data),)
        cells = count = total = 0
        for row in data:
            for cell in row.get("values", [row]):
                if cell["_count"]:
                    cells += 1
                    count += cell["_count"]
                    total += (cell.get(self.sum_key) or 0) if self.sum_key else 0
        return (cells, count, total)


QUERIES = (
    QuerySpec("raw_filter_limit", (("filter_by", "region:region-07"), ("limit", str(RAW_LIMIT))),
              raw=True),
    QuerySpec("group_by_one_key", (("group_by", "department"),)),
    QuerySpec("week_one_year", (("period", "week"), *_range(ONE_YEAR))),
    QuerySpec("month_group_sum_two_years", (("period", "month"), ("group_by", "channel"),
                                            ("collect", "cost:sum"), *_range(TWO_YEARS)),
              sum_key="cost:sum"),
    QuerySpec("filter_day_90_days", (("filter_by", "channel:phone"), ("period", "day"),
                                     *_range(NINETY_DAYS))),
    QuerySpec("flatten_week_group_one_year", (("period", "week"), ("group_by", "channel"),
                                              ("flatten", "true"), *_range(ONE_YEAR))),
)
BY_NAME = {spec.name: spec for spec in QUERIES}

CACHED_QUERY = BY_NAME["week_one_year"]
"""The dashboard-style query repeated against the read app with its response cache on."""

WEEK_QUERY = QuerySpec("one_week_day_by_channel", (("period", "day"), ("group_by", "channel"),
                                                   *_range(ONE_WEEK)))
"""The one-week query asked of the large and the small data set (cost ∝ records touched)."""

MEMORY_QUERIES = (
    BY_NAME["month_group_sum_two_years"],  # touches every record
    QuerySpec("raw_one_month", _range(ONE_MONTH), raw=True),  # the largest answer
)


def data_path(data_group: str, data_type: str) -> str:
    return f"/data/{data_group}/{data_type}"


def get(session: requests.Session, url: str, spec: QuerySpec, headers: dict | None = None):
    """One GET with the whole body read; a non-2xx/304 answer is a broken benchmark."""
    response = session.get(url, params=list(spec.params), headers=headers, timeout=600)
    if response.status_code not in (200, 304):
        raise RuntimeError(f"{spec.name}: GET {response.url} answered {response.status_code}: "
                           f"{response.text[:500]}")
    return response
