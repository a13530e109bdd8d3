"""A read app over a fresh temporary SQLite database per test, and helpers to fill it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backdrop.core.records import prepare_batch
from backdrop.core.registry import DataSetConfig
from backdrop.read.app import create_app
from backdrop.settings import Settings
from backdrop.web import get_storage

WRITTEN_AT = datetime(2014, 1, 1, tzinfo=timezone.utc)


def make_app(tmp_path, cache_size: int = 1024):
    environ = {
        "BACKDROP_ENV": "test",
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "BACKDROP_QUERY_CACHE_SIZE": str(cache_size),
    }
    return create_app(Settings.from_env(environ))


def pytest_configure(config):
    config.addinivalue_line("markers", "cache_size(n): entries in the read app's response cache")


@pytest.fixture
def app(tmp_path, request):
    marker = request.node.get_closest_marker("cache_size")
    app = make_app(tmp_path, *(marker.args if marker else ()))
    yield app
    get_storage(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def storage(app):
    return get_storage(app)


@pytest.fixture
def add_data_set(storage):
    def add(name: str, **settings) -> DataSetConfig:
        """A configuration named `name` (group and type default to the name too)."""
        settings.setdefault("data_group", name)
        settings.setdefault("data_type", name)
        config = DataSetConfig(name=name, **settings)
        storage.create_data_set(config.to_dict())
        return config

    return add


@pytest.fixture
def add_records(storage):
    def add(name: str, items: list[dict], now: datetime = WRITTEN_AT) -> None:
        """Store records the way the write API does, written at `now`."""
        storage.save_records(name, prepare_batch(items, auto_ids=None, schema=None, now=now))

    return add


class CallCounter:
    """Counts calls to the engine's record-reading methods while letting them run."""

    def __init__(self, storage, monkeypatch):
        self.calls = 0
        for method in ("find", "aggregate"):
            monkeypatch.setattr(storage, method, self._counting(getattr(storage, method)))

    def _counting(self, method):
        def counted(*args, **kwargs):
            self.calls += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def record_reads(storage, monkeypatch):
    return CallCounter(storage, monkeypatch)
