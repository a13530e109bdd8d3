"""The PostgreSQL engine's schema: its migrations and how the runner reads and locks it.

Version 1 is the schema every release before schema versions created; add a migration at
the end of MIGRATIONS for any change (never edit one that has shipped). DDL is
transactional in PostgreSQL, so the pending migrations run in one transaction, begun
once the process holds an advisory lock: processes starting at once wait for each other
and, once inside, find the migration already done.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.types.json import Jsonb

from ..tokens import hashed_config
from .migrations import Migration, SqlSchemaStore, check_order

SCHEMA_LOCK = 0x6261636B64726F70  # "backdrop": serialises schema changes across processes


def _hash_bearer_tokens(connection: psycopg.Connection) -> None:
    """Replace every clear `bearer_token` by its salted hash (scrypt runs here, in Python)."""
    rows = connection.execute("SELECT name, config FROM backdrop_data_sets").fetchall()
    for name, config in rows:
        converted = hashed_config(config)
        if converted is not None:
            connection.execute("UPDATE backdrop_data_sets SET config = %s WHERE name = %s", (Jsonb(converted), name))

MIGRATIONS = check_order((
    Migration(1, "create the tables of configurations, records and documents, and the version sequence", (
        "CREATE SEQUENCE IF NOT EXISTS backdrop_version_seq",
        """CREATE TABLE IF NOT EXISTS backdrop_data_sets (
            name TEXT PRIMARY KEY,
            data_group TEXT NOT NULL,
            data_type TEXT NOT NULL,
            config JSONB NOT NULL,
            version BIGINT NOT NULL,
            UNIQUE (data_group, data_type))""",
        """CREATE TABLE IF NOT EXISTS backdrop_records (
            data_set TEXT NOT NULL,
            id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            ts TIMESTAMPTZ NULL,
            updated_at TIMESTAMPTZ NULL,
            size INT NOT NULL,
            body JSONB NOT NULL,
            PRIMARY KEY (data_set, id))""",
        "CREATE INDEX IF NOT EXISTS backdrop_records_ts ON backdrop_records (data_set, ts)",
        "CREATE INDEX IF NOT EXISTS backdrop_records_seq ON backdrop_records (data_set, seq) INCLUDE (size)",
        "CREATE INDEX IF NOT EXISTS backdrop_records_updated"
        " ON backdrop_records (data_set, updated_at)",
        """CREATE TABLE IF NOT EXISTS backdrop_documents (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            body JSONB NOT NULL,
            PRIMARY KEY (kind, key))""",
    )),
    Migration(2, "store data-set bearer tokens as salted scrypt hashes; count wrong tokens per address", (
        _hash_bearer_tokens,
        """CREATE TABLE IF NOT EXISTS backdrop_auth_failures (
            address TEXT NOT NULL,
            minute BIGINT NOT NULL,
            count INT NOT NULL,
            PRIMARY KEY (address, minute))""",
        "CREATE INDEX IF NOT EXISTS backdrop_auth_failures_minute ON backdrop_auth_failures (minute)",
    )),
    Migration(3, "keep an outbox of transform requests, written with the records they concern", (
        """CREATE TABLE IF NOT EXISTS backdrop_transform_outbox (
            id BIGSERIAL PRIMARY KEY,
            data_set TEXT NOT NULL,
            earliest TIMESTAMPTZ NOT NULL,
            latest TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            request_id TEXT NULL,
            trigger TEXT NOT NULL DEFAULT 'write',
            attempts INT NOT NULL DEFAULT 0,
            sent_at TIMESTAMPTZ NULL)""",
        "CREATE INDEX IF NOT EXISTS backdrop_transform_outbox_unsent"
        " ON backdrop_transform_outbox (created_at, id) WHERE sent_at IS NULL",
        "CREATE INDEX IF NOT EXISTS backdrop_transform_outbox_sent"
        " ON backdrop_transform_outbox (sent_at) WHERE sent_at IS NOT NULL",
    )),
    Migration(4, "keep a history of transform runs", (
        """CREATE TABLE IF NOT EXISTS backdrop_transform_runs (
            id TEXT PRIMARY KEY,
            transform_id TEXT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            body JSONB NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS backdrop_transform_runs_start"
        " ON backdrop_transform_runs (transform_id, started_at, id)",
    )),
    Migration(5, "record removals for the change feed", (
        """CREATE TABLE IF NOT EXISTS backdrop_deleted_records (
            data_set TEXT NOT NULL,
            record_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            PRIMARY KEY (data_set, record_id))""",
        "CREATE INDEX IF NOT EXISTS backdrop_deleted_records_version ON backdrop_deleted_records (data_set, version)",
        """CREATE TABLE IF NOT EXISTS backdrop_record_floors (
            data_set TEXT PRIMARY KEY,
            floor BIGINT NOT NULL,
            version BIGINT NOT NULL)""",
    )),
))


class PostgresSchemaStore(SqlSchemaStore):
    """The runner's view of one PostgreSQL connection in autocommit mode."""

    VERSION_TABLE = "backdrop_schema_versions"
    LEGACY_TABLE = "backdrop_data_sets"
    CREATE_VERSION_TABLE = f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
        version INT PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
    RECORD_VERSION = f"INSERT INTO {VERSION_TABLE} (version, description) VALUES (%s, %s)"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The lock is taken before the transaction begins, so that the transaction's view
        of the catalog includes whatever the previous holder committed."""
        self.connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            with self.connection.transaction():
                yield
        finally:
            if not self.connection.broken:  # a lost connection has released the lock already
                self.connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    def snapshot(self):
        return self.connection.transaction()

    def _has_table(self, name: str) -> bool:
        return self.connection.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


@contextmanager
def schema_store(conninfo: str, connect_timeout: float) -> Iterator[PostgresSchemaStore]:
    """A store on a connection of its own (not from the engine's pool), closed afterwards."""
    with psycopg.connect(conninfo, autocommit=True,
                         connect_timeout=max(2, round(connect_timeout))) as conn:
        yield PostgresSchemaStore(conn)
