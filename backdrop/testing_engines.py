"""How tests get a database of each engine in the table, and whether this machine has one.

One row per engine of `backdrop.core.storage.engines.ENGINES` (a test fails when an engine
has none). The storage contract suite, the behave runner, `run_tests.sh` and the benchmark
take their databases from here, so none of them names an engine.

    python -m backdrop.testing_engines http

prints, one a line, the engines this machine can run the HTTP tests (behave) on: those
shared between processes, since the apps run as separate processes. For each other engine
it prints `SKIP <engine>: <reason>` on standard error.

A test double may stand in for an engine's server where none can be had (mongomock for
MongoDB, the only one the project allows): the row then says how tests open its databases
(`open`) and which capabilities of the engine they lack (`lacking`, with the reason), so
the tests needing those are skipped with that reason instead of failing.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator

from backdrop.core.storage import open_storage
from backdrop.core.storage.base import Storage
from backdrop.core.storage.engines import ENGINES, Capability, Engine, engine_named

# The engine every other one is compared with in the contract suite.
REFERENCE = "memory"

# (folder for files, label naming the database, server URL or None for the test default)
# -> a context yielding the URL of a new, empty database, removed when it ends.
DatabaseMaker = Callable[[Path, str, "str | None"], ContextManager[str]]


@dataclass(frozen=True)
class EngineSupport:
    engine: str
    database: DatabaseMaker
    unavailable: Callable[[], str | None] = lambda: None  # why this machine cannot test it
    # Empties a database for the next test, when that is cheaper than a new database
    # (None: tests take a new database each).
    empty: Callable[[str], None] | None = None
    # Opens a URL that `database` yielded, with open_storage's options.
    open: Callable[..., Storage] = open_storage
    # Capabilities of the engine that the databases tests get here lack: {capability: why}.
    lacking: Callable[[], dict[Capability, str]] = dict
    # A read path over another engine (the columnar copies): the row of ENGINES it reads.
    reads: str | None = None

    @property
    def row(self) -> Engine:
        """The row of the engine table whose capabilities this support's databases have."""
        return engine_named(self.reads or self.engine)


@contextmanager
def _memory_database(folder: Path, label: str, server_url: str | None = None) -> Iterator[str]:
    yield "memory://"  # every open is a new, empty store


@contextmanager
def _sqlite_database(folder: Path, label: str, server_url: str | None = None) -> Iterator[str]:
    path = Path(folder) / f"{label}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _postgres_database(folder: Path, label: str, server_url: str | None = None) -> Iterator[str]:
    from backdrop.testing import fresh_postgres_database

    with fresh_postgres_database(server_url, prefix=f"backdrop_{label}") as url:
        yield url


def _postgres_unavailable() -> str | None:
    if os.environ.get("BACKDROP_TEST_POSTGRES") != "1":
        return "BACKDROP_TEST_POSTGRES is not 1 (run_tests.sh sets it when a server is up)"
    try:
        import backdrop.core.storage.postgres  # noqa: F401
    except ImportError as error:
        return f"the engine does not import ({error})"
    return None


def empty_postgres(url: str) -> None:
    from backdrop.testing import empty_postgres_database

    empty_postgres_database(url)


@contextmanager
def _mongo_database(folder: Path, label: str, server_url: str | None = None) -> Iterator[str]:
    from backdrop.testing import fresh_mongo_database

    with fresh_mongo_database(server_url, prefix=f"backdrop_{label}") as url:
        yield url


def _open_mongo(url: str, **options) -> Storage:
    from backdrop.testing import open_mongo_database

    return open_mongo_database(url, **options)


def _mongo_unavailable() -> str | None:
    from backdrop.testing import mongo_unavailable

    return mongo_unavailable()


MONGOMOCK = "needs a real MongoDB server: mongomock stands in for one inside this process (set BACKDROP_TEST_MONGO_URL)"


MONGOMOCK_TIMEOUT = "needs a real MongoDB server: mongomock accepts maxTimeMS and ignores it (set BACKDROP_TEST_MONGO_URL)"


def _mongo_lacking() -> dict[Capability, str]:
    if os.environ.get("BACKDROP_TEST_MONGO_URL"):
        return {}
    return {Capability.SHARED_BETWEEN_PROCESSES: MONGOMOCK, Capability.STATEMENT_TIMEOUT: MONGOMOCK_TIMEOUT}


COLUMNAR = "columnar"
"""The columnar read path (core/storage/columnar.py) over SQLite, with every data set copied
and every copy brought current before it answers: the contract suite's extra "engine"."""


def _open_columnar(url: str, **options) -> Storage:
    from backdrop.core.storage.columnar import ColumnarSettings, ColumnarStorage

    return ColumnarStorage(open_storage(url, **options), ColumnarSettings(min_records=0, background=False, fall_back=False))


SUPPORT: dict[str, EngineSupport] = {
    support.engine: support for support in (
        EngineSupport("memory", _memory_database),
        EngineSupport("sqlite", _sqlite_database),
        EngineSupport("postgres", _postgres_database, _postgres_unavailable, empty_postgres),
        EngineSupport("mongo", _mongo_database, _mongo_unavailable, open=_open_mongo, lacking=_mongo_lacking),
        EngineSupport(COLUMNAR, _sqlite_database, open=_open_columnar, reads="sqlite"),
    )
}
READ_PATHS = [name for name, support in SUPPORT.items() if support.reads]
"""Supports that are not rows of the engine table but ways of reading one: the contract
suite runs on them as on the engines."""


def support_for(engine: str) -> EngineSupport:
    if engine not in SUPPORT:
        engine_named(engine)  # a ValueError listing the engines for a wrong name
    return SUPPORT[engine]


def unavailable(engine: Engine) -> str | None:
    """Why this machine cannot test `engine`, or None when it can."""
    return support_for(engine.name).unavailable()


def http_engines() -> tuple[list[str], dict[str, str]]:
    """(engines the HTTP tests can run on here, {other engine: why not})."""
    usable, skipped = [], {}
    for engine in ENGINES:
        reason = None
        if not engine.has(Capability.SHARED_BETWEEN_PROCESSES):
            reason = "one process only; the HTTP tests run the apps as separate processes"
        reason = reason or unavailable(engine) or support_for(engine.name).lacking().get(
            Capability.SHARED_BETWEEN_PROCESSES)
        if reason:
            skipped[engine.name] = reason
        else:
            usable.append(engine.name)
    return usable, skipped


def main(argv: list[str]) -> int:
    if argv != ["http"]:
        print("usage: python -m backdrop.testing_engines http", file=sys.stderr)
        return 2
    usable, skipped = http_engines()
    for name, reason in skipped.items():
        print(f"SKIP {name}: {reason}", file=sys.stderr)
    for name in usable:
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
