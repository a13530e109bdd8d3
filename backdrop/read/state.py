"""What one read worker process keeps between requests: its response cache and config lookup."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from backdrop.read.cache import ResponseCache
from backdrop.read.lookup import DataSetLookup
from backdrop.settings import Settings

_KEY = "backdrop_read"


@dataclass
class ReadState:
    cache: ResponseCache
    lookup: DataSetLookup

    @classmethod
    def install(cls, app: Flask, settings: Settings) -> None:
        app.extensions[_KEY] = cls(ResponseCache(settings.query_cache_size), DataSetLookup())

    @classmethod
    def of(cls, app: Flask | None = None) -> "ReadState":
        return (app or current_app).extensions[_KEY]
