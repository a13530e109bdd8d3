"""A throw-away PostgreSQL database for one test run.

Tests never touch a database they did not create: `fresh_postgres_url()` makes
`backdrop_test_<random hex>` on the server named by BACKDROP_TEST_POSTGRES_URL and drops it
(even with connections still open) when the block ends; `reset_postgres(url)` empties it
between tests so each test starts from nothing without paying for a new database.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import psycopg

from backdrop.testing import fresh_postgres_database


def postgres_enabled() -> bool:
    return os.environ.get("BACKDROP_TEST_POSTGRES") == "1"


@contextmanager
def fresh_postgres_url() -> Iterator[str]:
    """The URL of a new, empty database on BACKDROP_TEST_POSTGRES_URL's server, dropped on exit."""
    with fresh_postgres_database(prefix="backdrop_test") as url:
        yield url


def reset_postgres(url: str) -> None:
    """Remove every record, configuration and document (the schema and sequence stay)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")  # a leaked transaction fails the test, never hangs it
        exists = conn.execute("SELECT to_regclass('backdrop_records') IS NOT NULL").fetchone()[0]
        if exists:
            conn.execute("TRUNCATE backdrop_records, backdrop_data_sets, backdrop_documents")


def drop_schema(url: str) -> None:
    """Remove the engine's tables (its schema versions too) and sequence, as on a database it has never used."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DROP TABLE IF EXISTS backdrop_records, backdrop_data_sets, backdrop_documents,"
            " backdrop_schema_versions;"
            " DROP SEQUENCE IF EXISTS backdrop_version_seq"
        )
