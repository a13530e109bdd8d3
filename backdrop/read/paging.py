"""The links between pages of a paged raw query (see core/paging.py for the tokens).

Links are root-relative (`/data/g/t?…`): they stay right behind any proxy, whatever host
name or scheme the client used, and a cached page can serve every client. A link repeats
the query's own parameters, written from the parsed Query (not the client's text), so
every request that shares a cached page would have been given the same link.
"""
from __future__ import annotations

from urllib.parse import urlencode

from backdrop.core.query import Query
from backdrop.core.timeseries import as_utc


def _instant(moment) -> str:
    return as_utc(moment).isoformat()[:19] + "Z"


def next_args(query: Query, token: str) -> list[tuple[str, str]]:
    """The parameters of the next page: the same records, from `token` on."""
    args: list[tuple[str, str]] = []
    for condition in query.filters:
        name = "filter_by_prefix" if condition.prefix else "filter_by"
        value = condition.value
        if isinstance(value, bool):  # `filter_by=f:true` made it a boolean: no string can be "true"
            value = "true" if value else "false"
        args.append((name, f"{condition.field}:{value}"))
    if query.start_at is not None:
        args.append(("start_at", _instant(query.start_at)))
    if query.end_at is not None:
        args.append(("end_at", _instant(query.end_at)))
    if query.inclusive:
        args.append(("inclusive", "true"))
    if query.format == "csv":
        args.append(("format", "csv"))
    args += [("limit", str(query.limit)), ("page_token", token)]
    return args


def next_link(path: str, query: Query, token: str) -> str:
    """The root-relative URL of the next page; `path` is the one the client asked for."""
    return f"{path}?{urlencode(next_args(query, token))}"


def link_header(link: str) -> tuple[str, str]:
    return "Link", f'<{link}>; rel="next"'
