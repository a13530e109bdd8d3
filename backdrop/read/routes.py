"""The data routes: `/data/<group>/<type>` and the legacy `/<name>`, one pipeline for both.

Order: find the data set (version first), refuse it if not queryable (the same 404),
answer a pre-flight, parse the query, then answer from the cache or from the records.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, request

from backdrop.core import reading
from backdrop.core.query import QueryError, parse_query
from backdrop.core.reading import execute
from backdrop.core.storage.base import UnsupportedQuery
from backdrop.read.cache import CachedResponse, CacheKey
from backdrop.read.headers import ALLOWED_METHODS, preflight
from backdrop.read.lookup import Found
from backdrop.read.paging import next_link
from backdrop.read.render import render
from backdrop.read.state import ReadState
from backdrop.web import ApiError, error_response, get_storage

blueprint = Blueprint("read", __name__)
METHODS = list(ALLOWED_METHODS)


@blueprint.errorhandler(QueryError)
@blueprint.errorhandler(UnsupportedQuery)
def _bad_query(error: QueryError | UnsupportedQuery):
    return error_response(400, str(error))


@blueprint.route("/data/<data_group>/<data_type>", methods=METHODS)
def by_group_and_type(data_group: str, data_type: str):
    storage = get_storage(current_app)
    return _serve(ReadState.of().lookup.by_group_and_type(storage, data_group, data_type))


@blueprint.route("/<name>", methods=METHODS)
def by_name(name: str):
    storage = get_storage(current_app)
    return _serve(ReadState.of().lookup.by_name(storage, name))


def _serve(found: Found | None):
    if found is None or not found.config.queryable:
        raise ApiError(404, "data_set not found")
    if request.method == "OPTIONS":
        return preflight()
    return _answer(found).response(request.if_none_match)


def _answer(found: Found) -> CachedResponse:
    """The cached answer for this query at this version, or a freshly computed one."""
    config = found.config
    query = parse_query(
        list(request.args.items(multi=True)),
        raw_queries_allowed=config.raw_queries_allowed,
        now=datetime.now(timezone.utc),
        default_timezone=config.timezone,
    )
    path = request.script_root + request.path
    # A page's body holds a link to the path it was asked on: the path is part of its key.
    key = CacheKey(config.name, f"{path} {query.cache_key()}" if query.paged else query.cache_key(),
                   found.version)
    cache = ReadState.of().cache
    entry = cache.get(key)
    if entry is None:
        entry = _computed(config, query, key, path)
        cache.put(key, entry)
    return entry


def _computed(config, query, key: CacheKey, path: str) -> CachedResponse:
    """The answer, within the read app's limits (core/limits.py): rows while it is built,
    bytes once it is rendered."""
    storage = get_storage(current_app)
    limits = ReadState.of().limits
    if not query.paged:
        entry = render(config, query, execute(storage, config.name, query, limits), key.etag())
    else:
        page = reading.page(storage, config.name, query, limits)
        link = None if page.next_token is None else next_link(path, query, page.next_token)
        entry = render(config, query, page.records, key.etag(), link)
    limits.check_bytes(len(entry.body))
    return entry
