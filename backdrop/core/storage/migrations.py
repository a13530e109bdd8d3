"""Schema versions: the runner that brings a database's schema up to what the code expects.

Each SQL engine keeps an ordered list of migrations (sqlite_schema.py, postgres_schema.py)
and records in the database, in a small table, every version it has applied. Version 1 is
the schema of the release before schema versions existed, so a database that has the
tables but no version table is adopted as version 1, untouched; a database with neither
is at version 0.

Every process checks the schema when it first connects (`start_up`): pending migrations
run there, under the engine's lock, unless auto-migration is off, in which case the
process refuses to start until an operator runs `backdrop migrate`. A database whose
version is newer than any migration this code knows is always refused: an old release
must not write into a schema it does not understand.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, Union

from .base import MigrationsPending, SchemaTooNew

if TYPE_CHECKING:
    from .base import Storage

LEGACY_VERSION = 1  # the schema of every database made before schema versions were recorded

# SQL text, or (for changes SQL cannot make, like hashing tokens) a function of the connection
Statement = Union[str, Callable[[Any], None]]


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its version, what it is for, and the statements that make it."""

    version: int
    description: str
    statements: tuple[Statement, ...]

    def __str__(self) -> str:
        return f"{self.version} {self.description}"


@dataclass(frozen=True)
class Migrated:
    """What `migrate` did: the version before and after, and the migrations applied."""

    before: int
    after: int
    applied: tuple[Migration, ...] = ()

    def summary(self) -> str:
        """One line for the operator, as `backdrop migrate` prints it."""
        if not self.applied:
            return f"schema is up to date at version {self.after}"
        return f"migrated from version {self.before} to {self.after}: {listed(self.applied)}"


class SchemaStore(Protocol):
    """What the runner needs of an engine: one connection and a few engine-specific statements."""

    def locked(self) -> AbstractContextManager[None]:
        """A write transaction holding the engine's schema lock: one process migrates at a time."""

    def snapshot(self) -> AbstractContextManager[None]:
        """A read transaction without the lock, for the cheap check every start-up makes."""

    def recorded_version(self) -> int | None:
        """The newest version in the version table; None when there is no version table."""

    def has_legacy_tables(self) -> bool:
        """Whether the tables of version 1 exist (a database made before schema versions)."""

    def execute(self, statement: str) -> None: ...

    def record(self, version: int, description: str) -> None:
        """Add a row to the version table, creating the table first if needed."""


class SqlSchemaStore:
    """A SchemaStore over one DB-API connection (sqlite3's and psycopg's `execute` alike).

    An engine names its tables and statements and says how to find a table and to lock;
    the rest is the same SQL everywhere.
    """

    VERSION_TABLE = ""
    LEGACY_TABLE = ""  # a table every database made by version 1 has
    CREATE_VERSION_TABLE = ""
    RECORD_VERSION = ""  # (version, description) as parameters

    def __init__(self, connection) -> None:
        self.connection = connection

    def _has_table(self, name: str) -> bool:
        raise NotImplementedError

    def recorded_version(self) -> int | None:
        if not self._has_table(self.VERSION_TABLE):
            return None
        statement = f"SELECT COALESCE(MAX(version), 0) FROM {self.VERSION_TABLE}"
        return self.connection.execute(statement).fetchone()[0]

    def has_legacy_tables(self) -> bool:
        return self._has_table(self.LEGACY_TABLE)

    def execute(self, statement: Statement) -> None:
        if callable(statement):
            statement(self.connection)
        else:
            self.connection.execute(statement)

    def record(self, version: int, description: str) -> None:
        self.connection.execute(self.CREATE_VERSION_TABLE)
        self.connection.execute(self.RECORD_VERSION, (version, description))


def listed(migrations: Sequence[Migration]) -> str:
    """Migrations on one line, as messages name them: `2 add …; 3 index …`."""
    return "; ".join(str(migration) for migration in migrations)


def check_order(migrations: Sequence[Migration]) -> Sequence[Migration]:
    """The list itself, once checked: versions 1, 2, 3… with none missing or repeated."""
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3… in order, not {versions}")
    return migrations


def current_version(store: SchemaStore) -> int:
    recorded = store.recorded_version()
    if recorded is not None:
        return recorded
    return LEGACY_VERSION if store.has_legacy_tables() else 0


def too_new_message(version: int, latest: int) -> str:
    return (f"The database's schema is at version {version}, newer than this release of Backdrop"
            f" knows (up to version {latest}): upgrade Backdrop to a release that knows version {version}.")


def pending_message(version: int, pending: Sequence[Migration]) -> str:
    return (f"The database's schema is at version {version} and this release needs version"
            f" {pending[-1].version} (pending: {listed(pending)}); BACKDROP_AUTO_MIGRATE is off,"
            " so run `backdrop migrate` first.")


def _pending(store: SchemaStore, migrations: Sequence[Migration]) -> tuple[int, list[Migration]]:
    version = current_version(store)
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise SchemaTooNew(too_new_message(version, latest))
    return version, [migration for migration in migrations if migration.version > version]


def pending(store: SchemaStore, migrations: Sequence[Migration]) -> list[Migration]:
    """The migrations this database still needs, in order; SchemaTooNew if it is ahead of the code."""
    with store.snapshot():
        return _pending(store, migrations)[1]


def schema_version(store: SchemaStore) -> int:
    with store.snapshot():
        return current_version(store)


def migrate(store: SchemaStore, migrations: Sequence[Migration]) -> Migrated:
    """Apply every pending migration in one locked transaction: all of them or none.

    The unlocked look first keeps an up-to-date start-up from queueing for the write lock;
    the check is made again under the lock, so of several processes starting at once on
    an old database exactly one migrates and the others find the work done. A legacy
    database gets its version recorded (adopted) without any other change.
    """
    with store.snapshot():
        before, todo = _pending(store, migrations)
        recorded = store.recorded_version() is not None
    if recorded and not todo:
        return Migrated(before, before)
    with store.locked():
        before, todo = _pending(store, migrations)
        if store.recorded_version() is None and before == LEGACY_VERSION:
            store.record(LEGACY_VERSION, "adopted: a database made before schema versions")
        for migration in todo:
            for statement in migration.statements:
                store.execute(statement)
            store.record(migration.version, migration.description)
    return Migrated(before, todo[-1].version if todo else before, tuple(todo))


class VersionedSchema:
    """The schema methods of the Storage interface, for an engine with a list of migrations.

    The engine supplies `MIGRATIONS` and `_schema_store()`, a context giving a SchemaStore
    on a connection of its own: one that skips the start-up check, so an operator can
    inspect and migrate a database the engine's other methods would refuse.
    """

    MIGRATIONS: Sequence[Migration] = ()

    def _schema_store(self) -> AbstractContextManager[SchemaStore]:
        raise NotImplementedError

    def schema_version(self) -> int:
        with self._schema_store() as store:
            return schema_version(store)

    def pending_migrations(self) -> list[Migration]:
        with self._schema_store() as store:
            return pending(store, self.MIGRATIONS)

    def migrate(self) -> Migrated:
        with self._schema_store() as store:
            return migrate(store, self.MIGRATIONS)


def start_up(storage: "Storage", auto_migrate: bool) -> None:
    """What every process does before its first use of the database.

    Auto-migrating: bring the schema up to date. Otherwise: refuse (MigrationsPending) while
    migrations are pending. Either way a schema newer than the code is refused (SchemaTooNew).
    """
    if auto_migrate:
        storage.migrate()
        return
    todo = storage.pending_migrations()
    if todo:
        raise MigrationsPending(pending_message(todo[0].version - 1, todo))
