"""Databases for the schema-version tests: never used ones, legacy ones, and a peek inside.

Each test gets a database of its own (a file under tmp_path, or a new PostgreSQL database
dropped afterwards), because these tests leave schemas at versions other tests must
never meet. The helpers read the version table with plain SQL rather than through the
engine, so they see what is really stored.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from postgres_support import postgres_enabled

from backdrop.core.storage import open_storage
from backdrop.core.storage.migrations import Migration
from backdrop.core.storage.postgres_schema import MIGRATIONS as POSTGRES_MIGRATIONS
from backdrop.core.storage.sqlite_schema import MIGRATIONS as SQLITE_MIGRATIONS

LEGACY = Path(__file__).resolve().parent.parent / "fixtures" / "legacy"
VERSION_TABLES = {"sqlite": "schema_versions", "postgresql": "backdrop_schema_versions"}
# The engines with a schema; postgres only when the run has a server (conftest names the skip).
SQL_ENGINES = ["sqlite"] + (["postgres"] if postgres_enabled() else [])


def kind_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@contextmanager
def never_used(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of `kind` (an engine name as in conftest: sqlite, postgres)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.db"
        return
    from backdrop.testing import fresh_postgres_database

    with fresh_postgres_database(prefix="backdrop_test_schema") as url:
        yield url


@contextmanager
def legacy(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a copy of the legacy fixture of `kind`, made by the release before schema versions."""
    if kind == "sqlite":
        shutil.copy(LEGACY / "legacy.db", tmp_path / "legacy.db")
        yield f"sqlite:///{tmp_path}/legacy.db"
        return
    with never_used(kind, tmp_path) as url:
        subprocess.run(["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "--dbname", url,
                        "--file", str(LEGACY / "legacy-postgres.sql")],
                       check=True, capture_output=True, text=True)
        yield url


def sql(url: str, statement: str) -> list[tuple]:
    """Run one statement outside any engine; the rows it answers."""
    if kind_of(url) == "sqlite":
        with sqlite3.connect(url[len("sqlite:///"):]) as connection:
            return connection.execute(statement).fetchall()
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def has_table(url: str, name: str) -> bool:
    if kind_of(url) == "sqlite":
        return bool(sql(url, f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{name}'"))
    return sql(url, f"SELECT to_regclass('{name}') IS NOT NULL")[0][0]


def recorded_versions(url: str) -> list[int] | None:
    """Every version in the version table, in order; None when there is no version table."""
    table = VERSION_TABLES[kind_of(url)]
    if not has_table(url, table):
        return None
    return [version for (version,) in sql(url, f"SELECT version FROM {table} ORDER BY version")]


def record_version(url: str, version: int) -> None:
    """Mark the database as migrated to `version` by some other release."""
    table = VERSION_TABLES[kind_of(url)]
    now = "'2030-01-01T00:00:00Z'"
    sql(url, f"INSERT INTO {table} (version, description, applied_at)"
             f" VALUES ({version}, 'made by a newer release', {now})")


def knowing(url: str, *extra: Migration, auto_migrate: bool = True):
    """An engine for `url` whose code knows `extra` migrations beyond this release's."""
    base = type(open_storage(url))  # opening connects to nothing
    newer = type(f"Newer{base.__name__}", (base,), {"MIGRATIONS": tuple(base.MIGRATIONS) + extra})
    return newer.from_url(url, auto_migrate=auto_migrate)


LATEST = SQLITE_MIGRATIONS[-1].version  # this release's schema version, the same on both SQL engines
assert POSTGRES_MIGRATIONS[-1].version == LATEST
ALL = list(range(1, LATEST + 1))  # every version this release records
NEXT = LATEST + 1  # the next release's first migration

NOTES = Migration(NEXT, "add a table of notes", (
    "CREATE TABLE backdrop_notes (note TEXT NOT NULL)",
    f"INSERT INTO backdrop_notes (note) VALUES ('written by migration {NEXT}')",
))
BROKEN = Migration(NEXT, "a migration that fails half way", (
    "CREATE TABLE backdrop_notes (note TEXT NOT NULL)",
    "INSERT INTO backdrop_no_such_table VALUES (1)",
))
