"""The Query value object, and its parsing and validation from query-string arguments.

`parse_query` turns the read API's query string into a Query (or raises QueryError with
the message the API answers with); relative ranges (`duration`) are resolved against the
`now` it is given, so a Query always holds absolute instants and can key a cache.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from backdrop.core.storage.base import Filter, Sort
from backdrop.core.timeseries import Period

COLLECT_METHODS = ("sum", "count", "set", "mean")
DEFAULT_METHOD = "default"  # `collect=field` without a method: `field:set` and `field`


class QueryError(ValueError):
    """A query string the read API refuses; str(error) is the 400 message."""


@dataclass(frozen=True)
class Query:
    """A validated read query, with any `duration` already resolved to absolute instants.

    `anchor` says which end a `duration` counted from ("start" when `start_at` was given,
    "end" for `end_at` or now) and so which way results shift (read-api.md §6.6).
    `collect` holds (field, method) pairs, method one of COLLECT_METHODS or DEFAULT_METHOD.
    """

    start_at: datetime | None = None
    end_at: datetime | None = None
    inclusive: bool = False
    period: Period | None = None
    duration: int | None = None
    anchor: Literal["start", "end"] | None = None
    filters: tuple[Filter, ...] = ()
    group_by: tuple[str, ...] = ()
    sort_by: Sort | None = None
    limit: int | None = None
    collect: tuple[tuple[str, str], ...] = ()
    flatten: bool = False
    format: str | None = None

    @property
    def is_raw(self) -> bool:
        return not self.group_by and self.period is None

    def shifted(self, periods: int) -> "Query":
        """The same query with its range moved by `periods` periods (negative: earlier)."""
        assert self.period is not None and self.start_at is not None and self.end_at is not None
        return replace(
            self,
            start_at=self.period.add(self.start_at, periods),
            end_at=self.period.add(self.end_at, periods),
        )
