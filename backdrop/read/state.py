"""What one read worker process keeps between requests: its response cache, config lookup and query limits."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from backdrop.core.limits import Limits
from backdrop.read.cache import ResponseCache
from backdrop.read.lookup import DataSetLookup
from backdrop.settings import Settings

_KEY = "backdrop_read"


@dataclass
class ReadState:
    cache: ResponseCache
    lookup: DataSetLookup
    limits: Limits

    @classmethod
    def install(cls, app: Flask, settings: Settings) -> None:
        limits = Limits.from_settings(settings.query_max_rows, settings.query_max_bytes, settings.query_timeout)
        app.extensions[_KEY] = cls(ResponseCache(settings.query_cache_size), DataSetLookup(), limits)

    @classmethod
    def of(cls, app: Flask | None = None) -> "ReadState":
        return (app or current_app).extensions[_KEY]
