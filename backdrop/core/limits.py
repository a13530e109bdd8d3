"""How much one read may cost: rows of its answer, bytes of its body, seconds in the engine.

The read API is public, so a single query string must not be able to fill a worker's
memory or hold it for minutes (issue 14). reading.py checks the rows before it builds
them (an engine is asked for one row more than the limit, and a period series is
counted before it is filled); the read app checks the bytes of the rendered body; the
engines enforce the timeout (QueryTimeout). Each refusal is a QueryError (400) that
names the setting and says how to narrow the query (docs/query-language.md, "Limits").

Transforms and the command line read with NO_LIMITS: they are not a client's request,
and cutting a back-fill half way would only make it fail.
"""
from __future__ import annotations

from dataclasses import dataclass

from backdrop.core.query import Query, QueryError

ROWS_SETTING = "BACKDROP_QUERY_MAX_ROWS"
BYTES_SETTING = "BACKDROP_QUERY_MAX_BYTES"
TIMEOUT_SETTING = "BACKDROP_QUERY_TIMEOUT"


@dataclass(frozen=True)
class Limits:
    """`rows`: entries of an answer (raw records; groups; or, for a period query, periods
    times groups); `bytes`: size of the body; `timeout`: seconds in the engine. None: no limit."""

    rows: int | None = None
    bytes: int | None = None
    timeout: float | None = None

    @classmethod
    def from_settings(cls, max_rows: int, max_bytes: int, timeout: float) -> "Limits":
        """The settings' values, where 0 turns a limit off."""
        return cls(max_rows or None, max_bytes or None, timeout or None)

    def engine_cap(self, limit: int | None) -> int | None:
        """What a raw query asks the engine for: its own limit, or one record more than the
        row limit when that is smaller (or there is none), so the answer shows it was passed."""
        if self.rows is None or (limit and limit <= self.rows):
            return limit
        return self.rows + 1

    def check_rows(self, count: int, query: Query) -> None:
        if self.rows is not None and count > self.rows:
            raise QueryError(too_many_rows(self.rows, query))

    def check_page(self, query: Query) -> None:
        """A page longer than the row limit is refused before anything is read."""
        if self.rows is not None and query.limit and query.limit > self.rows:
            raise QueryError(f"Pages hold at most {self.rows} records ({ROWS_SETTING}): ask for limit={self.rows} "
                             "or fewer with page_token")

    def check_bytes(self, size: int) -> None:
        if self.bytes is not None and size > self.bytes:
            raise QueryError(
                f"Query answer would be larger than {self.bytes} bytes, the limit set by {BYTES_SETTING}: "
                "narrow it with filter_by, a shorter range, fewer group_by or collect fields, or a limit; "
                "raw records can be read in pages with page_token and limit")


NO_LIMITS = Limits()


def too_many_rows(rows: int, query: Query) -> str:
    """The 400 message: the limit, its setting, and the narrowing that suits the kind of query."""
    if query.is_raw:
        how = ("add a limit, filter_by or a shorter start_at/end_at range, or read the records in pages "
               "with page_token and limit")
    elif query.period is not None:
        how = "narrow it with a shorter range, a longer period, filter_by or fewer group_by fields"
    else:
        how = "narrow it with filter_by, a shorter range or fewer group_by fields"
    return f"Query would return more than {rows} rows, the limit set by {ROWS_SETTING}: {how}"
