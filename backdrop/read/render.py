"""Turning a query's result rows into the finished (cacheable) 200 answer."""
from __future__ import annotations

from backdrop.core.query import Query
from backdrop.core.registry import DataSetConfig
from backdrop.core.results import to_csv
from backdrop.read.cache import CachedResponse
from backdrop.read.headers import cache_control
from backdrop.read.paging import link_header
from backdrop.web import JSON, dumps

UNPUBLISHED_WARNING = "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."
CSV = "text/csv; charset=utf-8"


def render(config: DataSetConfig, query: Query, rows: list[dict], etag: str,
           next_link: str | None = None) -> CachedResponse:
    """JSON, or CSV when asked for and published (an export must not outlive a draft).

    A page that has a next one says where it is, in a `Link` header and, in JSON, as `next`.
    """
    headers = (("Cache-Control", cache_control(config)),)
    if next_link is not None:
        headers += (link_header(next_link),)
    if query.format == "csv" and config.published:
        disposition = ("Content-Disposition", "attachment; filename=export.csv")
        return CachedResponse(to_csv(rows).encode("utf-8"), CSV, headers + (disposition,), etag)
    body = {"data": rows}
    if next_link is not None:
        body["next"] = next_link
    if not config.published:
        body["warning"] = UNPUBLISHED_WARNING
    return CachedResponse(dumps(body), JSON, headers, etag)
