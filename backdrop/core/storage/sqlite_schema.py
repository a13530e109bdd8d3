"""The SQLite engine's schema: its migrations and how the runner reads and locks the file.

Version 1 is the schema every release before schema versions created; add a migration at
the end of MIGRATIONS for any change (never edit one that has shipped). The lock is the
database's write lock: `BEGIN IMMEDIATE` takes it up front, so processes starting at once
queue on `busy_timeout` and, once inside, find the migration already done.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from typing import Callable, Iterator

from ..tokens import hashed_config
from .migrations import Migration, SqlSchemaStore, check_order


def _hash_bearer_tokens(connection: sqlite3.Connection) -> None:
    """Replace every clear `bearer_token` by its salted hash (scrypt runs here, in Python)."""
    rows = connection.execute("SELECT name, config FROM data_sets").fetchall()
    for name, config in rows:
        converted = hashed_config(json.loads(config))
        if converted is not None:
            connection.execute("UPDATE data_sets SET config = ? WHERE name = ?",
                               (json.dumps(converted, separators=(",", ":")), name))

MIGRATIONS = check_order((
    Migration(1, "create the tables of configurations, records and documents, and the version counter", (
        """CREATE TABLE IF NOT EXISTS counter (
               id INTEGER PRIMARY KEY CHECK (id = 1),
               value INTEGER NOT NULL)""",
        "INSERT OR IGNORE INTO counter (id, value) VALUES (1, 0)",
        """CREATE TABLE IF NOT EXISTS data_sets (
               name TEXT PRIMARY KEY,
               data_group TEXT NOT NULL,
               data_type TEXT NOT NULL,
               config TEXT NOT NULL,
               version INTEGER NOT NULL,
               UNIQUE (data_group, data_type))""",
        """CREATE TABLE IF NOT EXISTS records (
               data_set TEXT NOT NULL,
               id TEXT NOT NULL,
               seq INTEGER NOT NULL,
               ts INTEGER,
               updated_at INTEGER,
               size INTEGER NOT NULL,
               body TEXT NOT NULL,
               PRIMARY KEY (data_set, id))""",
        "CREATE INDEX IF NOT EXISTS records_by_ts ON records (data_set, ts)",
        "CREATE INDEX IF NOT EXISTS records_by_seq ON records (data_set, seq)",
        "CREATE INDEX IF NOT EXISTS records_by_updated_at ON records (data_set, updated_at)",
        """CREATE TABLE IF NOT EXISTS documents (
               kind TEXT NOT NULL,
               key TEXT NOT NULL,
               body TEXT NOT NULL,
               PRIMARY KEY (kind, key))""",
    )),
    Migration(2, "store data-set bearer tokens as salted scrypt hashes; count wrong tokens per address", (
        _hash_bearer_tokens,
        """CREATE TABLE IF NOT EXISTS auth_failures (
               address TEXT NOT NULL,
               minute INTEGER NOT NULL,
               count INTEGER NOT NULL,
               PRIMARY KEY (address, minute))""",
        "CREATE INDEX IF NOT EXISTS auth_failures_by_minute ON auth_failures (minute)",
    )),
    Migration(3, "keep an outbox of transform requests, written with the records they concern", (
        """CREATE TABLE IF NOT EXISTS transform_outbox (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               data_set TEXT NOT NULL,
               earliest INTEGER NOT NULL,
               latest INTEGER NOT NULL,
               created_at INTEGER NOT NULL,
               request_id TEXT,
               trigger TEXT NOT NULL DEFAULT 'write',
               attempts INTEGER NOT NULL DEFAULT 0,
               sent_at INTEGER)""",
        "CREATE INDEX IF NOT EXISTS transform_outbox_unsent ON transform_outbox (created_at, id)"
        " WHERE sent_at IS NULL",
        "CREATE INDEX IF NOT EXISTS transform_outbox_sent ON transform_outbox (sent_at)"
        " WHERE sent_at IS NOT NULL",
    )),
    Migration(4, "keep a history of transform runs", (
        """CREATE TABLE IF NOT EXISTS transform_runs (
               id TEXT PRIMARY KEY,
               transform_id TEXT NOT NULL,
               started_at INTEGER NOT NULL,
               body TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS transform_runs_by_start ON transform_runs (transform_id, started_at, id)",
    )),
    Migration(5, "record removals for the change feed", (
        """CREATE TABLE IF NOT EXISTS deleted_records (
               data_set TEXT NOT NULL,
               record_id TEXT NOT NULL,
               version INTEGER NOT NULL,
               PRIMARY KEY (data_set, record_id))""",
        "CREATE INDEX IF NOT EXISTS deleted_records_by_version ON deleted_records (data_set, version)",
        """CREATE TABLE IF NOT EXISTS record_floors (
               data_set TEXT PRIMARY KEY,
               floor INTEGER NOT NULL,
               version INTEGER NOT NULL)""",
    )),
))


class SQLiteSchemaStore(SqlSchemaStore):
    """The runner's view of one SQLite connection (in autocommit mode, as the engine opens them)."""

    VERSION_TABLE = "schema_versions"
    LEGACY_TABLE = "data_sets"
    CREATE_VERSION_TABLE = f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TEXT NOT NULL)"""
    RECORD_VERSION = (f"INSERT INTO {VERSION_TABLE} (version, description, applied_at)"
                      " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        self.connection.execute(begin)
        try:
            yield
            self.connection.execute("COMMIT")
        except BaseException:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise

    def locked(self):
        return self._transaction("BEGIN IMMEDIATE")

    def snapshot(self):
        return self._transaction("BEGIN")

    def _has_table(self, name: str) -> bool:
        return self.connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


@contextmanager
def schema_store(connect: Callable[[], sqlite3.Connection]) -> Iterator[SQLiteSchemaStore]:
    """A store on a connection of its own from `connect`, closed afterwards."""
    connection = connect()
    try:
        yield SQLiteSchemaStore(connection)
    finally:
        connection.close()
