"""The engines the storage contract suite runs against, each fresh for every test.

`engine` is parametrised over every engine this machine has: `memory` (the reference),
`sqlite` (a new file under tmp_path) and `postgres` (when BACKDROP_TEST_POSTGRES=1 and the
engine imports: one database per run, emptied before each test). An engine left out is
named, with the reason, in a `SKIP <engine>: <why>` line at the end of the run.
"""
from __future__ import annotations

import os

import pytest

from backdrop.core.storage.memory import MemoryStorage
from backdrop.core.storage.sqlite import SQLiteStorage


def _postgres_unavailable() -> str | None:
    if os.environ.get("BACKDROP_TEST_POSTGRES") != "1":
        return "BACKDROP_TEST_POSTGRES is not 1 (run_tests.sh sets it when a server is up)"
    try:
        import backdrop.core.storage.postgres  # noqa: F401
        import postgres_support  # noqa: F401
    except ImportError as error:
        return f"the engine does not import ({error})"
    return None


POSTGRES_UNAVAILABLE = _postgres_unavailable()
ENGINES = ["memory", "sqlite"] + ([] if POSTGRES_UNAVAILABLE else ["postgres"])
REAL_ENGINES = [name for name in ENGINES if name != "memory"]


def pytest_terminal_summary(terminalreporter):
    if POSTGRES_UNAVAILABLE:
        terminalreporter.write_line(f"SKIP postgres: {POSTGRES_UNAVAILABLE}")


@pytest.fixture(scope="session")
def postgres_url():
    from postgres_support import fresh_postgres_url

    with fresh_postgres_url() as url:
        yield url


def open_engine(kind: str, request, tmp_path):
    """A new, empty engine of `kind`; sqlite gets a file of its own under tmp_path."""
    if kind == "memory":
        return MemoryStorage()
    if kind == "sqlite":
        return SQLiteStorage.from_url(f"sqlite:///{tmp_path}/storage.db")
    from postgres_support import reset_postgres

    from backdrop.core.storage.postgres import PostgresStorage

    url = request.getfixturevalue("postgres_url")
    reset_postgres(url)
    return PostgresStorage.from_url(url, pool_size=4)


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    storage = open_engine(request.param, request, tmp_path)
    yield storage
    storage.close()


@pytest.fixture(params=REAL_ENGINES)
def real_engine(request, tmp_path):
    """Every engine but the reference, for comparing answers against the memory engine."""
    storage = open_engine(request.param, request, tmp_path)
    yield storage
    storage.close()
