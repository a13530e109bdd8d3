"""The response cache: finished responses filed under (data set, query, data-set version).

It is never stale, so it needs no expiry: every change to a data set's records or
configuration takes a new version, and the version is read before anything else in a
request, so an entry can only be filed under a version at most as new as its data.
Old versions' entries simply stop being asked for and age out of the LRU.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Response

from backdrop import metrics

MAX_CACHED_BYTES = 128 * 1024 * 1024
"""Body bytes one worker's cache may hold: a count of entries alone does not bound memory
when some queries return megabytes of raw records."""


@dataclass(frozen=True)
class CacheKey:
    name: str
    query: str
    version: int

    def etag(self) -> str:
        """A strong tag: equal keys give equal bodies, so equal tags mean equal bytes."""
        text = json.dumps([self.name, self.query, self.version], ensure_ascii=False)
        return '"' + hashlib.sha1(text.encode("utf-8")).hexdigest() + '"'


@dataclass(frozen=True)
class CachedResponse:
    """A finished 200 answer; a fresh Response is built from it for every request."""

    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    etag: str

    def response(self, if_none_match=None) -> Response:
        """The 200, or a bodyless 304 when the client already holds this tag."""
        headers = [*self.headers, ("ETag", self.etag)]
        if if_none_match is not None and if_none_match.contains_weak(self.etag.strip('"')):
            not_modified = Response(status=304, headers=headers)
            del not_modified.headers["Content-Type"]  # a 304 has no entity to describe
            return not_modified
        return Response(self.body, status=200, content_type=self.content_type, headers=headers)


class ResponseCache:
    """A thread-safe LRU of at most `size` entries (0: caching is off)."""

    def __init__(self, size: int, max_bytes: int = MAX_CACHED_BYTES):
        self.size = size
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedResponse | None:
        if self.size == 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        metrics.count(metrics.CACHE_LOOKUPS, "miss" if entry is None else "hit")
        return entry

    def put(self, key: CacheKey, entry: CachedResponse) -> None:
        if self.size == 0 or len(entry.body) > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while len(self._entries) > self.size or self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)
