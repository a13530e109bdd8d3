"""The table of storage engines: the URL schemes each serves, how to open it, what it can do.

Everything that chooses an engine reads this table: `open_storage` and `check_url` (the
apps, the worker, the command line), the storage contract suite, the behave runner,
`run_tests.sh` and the benchmark. Importing it imports no database driver: a row names its
class as "module:Class", imported when a URL first asks for it.

Adding an engine is one new row in ENGINES plus its files:

1. `backdrop/core/storage/<engine>.py`: a `Storage` subclass (see base.py) whose classmethod
   `from_url(url, **options)` accepts every name in OPTIONS as a keyword, ignoring those it
   has no use for. It may import its driver at module level: only a URL naming it imports it.
2. A row below: its name (how tests, BACKDROP_TEST_ENGINE and `--engines` call it), its URL
   schemes, its class, an example URL for error messages, and its capabilities.
3. Its test support in `backdrop/testing_engines.py`: how tests get a fresh, empty database
   of it and whether this machine has one. A test fails until that row exists.
4. If its scheme is in NOT_YET below, delete that entry (a test fails until you do).

The contract suite then runs against it, behave too when it is shared between processes,
and the benchmark accepts it in `--engines` (reporting it unmeasured until bench/engines.py
has a raw baseline for it).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING

from .base import StorageError

if TYPE_CHECKING:
    from .base import Storage


class UnsupportedDatabase(StorageError):
    """The URL names an engine this build does not have."""


class Capability(StrEnum):
    """What an engine can do beyond the storage interface every engine implements.

    Tests that rely on one say so with `@pytest.mark.needs(Capability.X)` and are skipped,
    with a reason naming the engine and the capability, on engines without it.
    """

    # A batch passed to save_records is stored whole or not at all, even when it fails
    # half way (a transaction around the whole batch).
    ATOMIC_BATCHES = "atomic batches"
    # Several processes (gunicorn workers, both apps, the Celery worker) opening the same
    # URL see one database. The memory engine lives inside one process.
    SHARED_BETWEEN_PROCESSES = "shared between processes"
    # The database computes percentiles and medians itself (PostgreSQL's percentile_cont),
    # so such reductions need not fetch every value.
    NATIVE_PERCENTILES = "native percentiles"
    # The database caps a collection's size itself (MongoDB's capped collections). No engine
    # has it today: capped data sets are trimmed by the engine after each write.
    CAPPED_COLLECTIONS = "capped collections"
    # A read's `timeout` cancels it inside the database (RecordQuery, AggregateQuery). Every
    # engine has it; a test double may not (mongomock ignores maxTimeMS).
    STATEMENT_TIMEOUT = "statement timeout"


# Options `open_storage(url, **options)` passes to every engine's `from_url`; an engine
# ignores those it has no use for. pool_size: connections per process (PostgreSQL);
# auto_migrate: apply pending schema migrations on first use (else refuse with SchemaError).
OPTIONS = ("pool_size", "auto_migrate")


@dataclass(frozen=True)
class Engine:
    """One row of the table."""

    name: str
    schemes: tuple[str, ...]
    factory: str  # "module:Class", a Storage subclass, imported on first use
    capabilities: frozenset[Capability]
    example_url: str | None  # shown when a URL is refused; None for an engine for tests only

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def storage_class(self) -> type["Storage"]:
        module, _, name = self.factory.partition(":")
        return getattr(import_module(module), name)

    def open(self, url: str, **options) -> "Storage":
        """The engine's storage for `url`; a TypeError names an option no engine knows."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise TypeError(f"unknown storage option {unknown[0]!r}: the options are {', '.join(OPTIONS)}")
        return self.storage_class().from_url(url, **options)


ENGINES: tuple[Engine, ...] = (
    # The reference engine: plain Python, obviously right; for tests (one process only).
    Engine("memory", ("memory",), "backdrop.core.storage.memory:MemoryStorage",
           frozenset({Capability.ATOMIC_BATCHES, Capability.STATEMENT_TIMEOUT}), None),
    Engine("sqlite", ("sqlite",), "backdrop.core.storage.sqlite:SQLiteStorage",
           frozenset({Capability.ATOMIC_BATCHES, Capability.SHARED_BETWEEN_PROCESSES,
                      Capability.STATEMENT_TIMEOUT}),
           "sqlite:///path"),
    Engine("postgres", ("postgresql", "postgres"), "backdrop.core.storage.postgres:PostgresStorage",
           frozenset({Capability.ATOMIC_BATCHES, Capability.SHARED_BETWEEN_PROCESSES,
                      Capability.NATIVE_PERCENTILES, Capability.STATEMENT_TIMEOUT}),
           "postgresql://…"),
    # Capped data sets are trimmed by the engine after each write, as the contract counts
    # them, not by MongoDB's capped collections; percentiles come from a sorted $push.
    Engine("mongo", ("mongodb", "mongodb+srv"), "backdrop.core.storage.mongo:MongoStorage",
           frozenset({Capability.ATOMIC_BATCHES, Capability.SHARED_BETWEEN_PROCESSES,
                      Capability.STATEMENT_TIMEOUT}),
           "mongodb://HOST:PORT/DBNAME?replicaSet=rs0"),
)

# Schemes of engines that are planned but not here yet, with the reason given at start-up.
NOT_YET: dict[str, str] = {}


def engine_named(name: str) -> Engine:
    """The row called `name`; ValueError listing the names otherwise."""
    for engine in ENGINES:
        if engine.name == name:
            return engine
    raise ValueError(f"unknown engine {name!r}: choose from {', '.join(e.name for e in ENGINES)}")


def engines_with(capability: Capability) -> tuple[Engine, ...]:
    return tuple(engine for engine in ENGINES if engine.has(capability))


def engine_for_url(url: str) -> Engine:
    """The row serving the URL's scheme; UnsupportedDatabase with a clear message otherwise."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    for engine in ENGINES:
        if scheme in engine.schemes:
            return engine
    choices = " or ".join(engine.example_url for engine in ENGINES if engine.example_url)
    if scheme in NOT_YET:
        raise UnsupportedDatabase(f"{scheme}:// URLs are not supported yet: {NOT_YET[scheme]}. "
                                  f"Use {choices} for BACKDROP_DATABASE_URL.")
    raise UnsupportedDatabase(f"Unsupported BACKDROP_DATABASE_URL {url.split('://')[0]!r}: use {choices}")
