"""What the PostgreSQL engine's own tests need beyond the contract suite's fixtures.

Tests never touch a database they did not create: the `postgres_url` fixture
(tests/storage/conftest.py) is a database made for the run and dropped at its end;
`reset_postgres(url)` empties it between tests so each test starts from nothing without
paying for a new database.
"""
from __future__ import annotations

import psycopg

from backdrop.testing_engines import empty_postgres as reset_postgres  # noqa: F401 (for the tests)
from backdrop.testing_engines import support_for


def postgres_enabled() -> bool:
    return support_for("postgres").unavailable() is None


def drop_schema(url: str) -> None:
    """Remove the engine's tables (its schema versions too) and sequence, as on a database it has never used."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DROP TABLE IF EXISTS backdrop_records, backdrop_data_sets, backdrop_documents,"
            " backdrop_schema_versions, backdrop_transform_runs, backdrop_deleted_records, backdrop_record_floors;"
            " DROP SEQUENCE IF EXISTS backdrop_version_seq"
        )
