"""The apps refuse to start on a schema they must not use, instead of answering 500s.

Started the way an operator starts them (start-app.sh, gunicorn): gunicorn exits, and its
log carries the one-line reason.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backdrop.core.storage import open_storage
from backdrop.core.storage.base import MigrationsPending, SchemaTooNew
from backdrop.core.storage.sqlite_schema import MIGRATIONS
from backdrop.read.app import create_app as create_read_app
from backdrop.settings import Settings, SettingsError
from backdrop.testing import Process, app_environment, fresh_postgres_database, start_app, wait_until_up
from backdrop.write.app import create_app as create_write_app

LATEST = MIGRATIONS[-1].version  # this release's schema version
TOO_NEW = ("The database's schema is at version 9, newer than this release of Backdrop knows"
           f" (up to version {LATEST})")
PENDING = "BACKDROP_AUTO_MIGRATE is off, so run `backdrop migrate` first."
VERSION_TABLES = {"sqlite": "schema_versions", "postgresql": "backdrop_schema_versions"}


def from_a_newer_release(url: str) -> None:
    """Make the database's schema one this release does not know (version 9)."""
    engine = open_storage(url, pool_size=1)
    engine.migrate()
    engine.close()
    table = VERSION_TABLES["sqlite" if url.startswith("sqlite") else "postgresql"]
    statement = f"INSERT INTO {table} (version, description, applied_at) VALUES (9, 'newer', '2030-01-01')"
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url[len("sqlite:///"):]) as connection:
            connection.execute(statement)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def exit_log(process: Process, timeout: float = 90) -> str:
    """The log of a process expected to stop by itself; fails if it is still running at the deadline."""
    try:
        code = process.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.stop()
        pytest.fail(f"{process.name} still running after {timeout} s:\n{process.log_text()}")
    assert code != 0, process.log_text()
    return process.log_text()


def settings(url: str, **extra: str) -> Settings:
    return Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": url, **extra})


@pytest.mark.parametrize("create_app", [create_read_app, create_write_app], ids=["read", "write"])
def test_create_app_fails_on_a_schema_newer_than_the_code(tmp_path, create_app):
    url = f"sqlite:///{tmp_path}/new.db"
    from_a_newer_release(url)
    with pytest.raises(SchemaTooNew, match=r"at version 9, newer than this release"):
        create_app(settings(url, BACKDROP_AUDIT_LOG=str(tmp_path / "audit.log")))


def test_create_app_fails_on_pending_migrations_with_auto_migrate_off(tmp_path):
    with pytest.raises(MigrationsPending, match="run `backdrop migrate`"):
        create_read_app(settings(f"sqlite:///{tmp_path}/fresh.db", BACKDROP_AUTO_MIGRATE="0"))


def test_create_app_migrates_a_new_database_by_default(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    create_read_app(settings(url))
    engine = open_storage(url, auto_migrate=False)
    assert (engine.schema_version(), engine.pending_migrations()) == (LATEST, [])
    engine.close()


def test_an_unreachable_database_does_not_stop_start_up(tmp_path):
    create_read_app(settings("postgresql://nobody@127.0.0.1:1/none"))


def test_auto_migrate_is_on_unless_turned_off():
    assert Settings.from_env({"BACKDROP_ENV": "test"}).auto_migrate is True
    assert Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_AUTO_MIGRATE": "0"}).auto_migrate is False
    assert Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_AUTO_MIGRATE": "false"}).auto_migrate is False
    with pytest.raises(SettingsError, match="BACKDROP_AUTO_MIGRATE"):
        Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_AUTO_MIGRATE": "later"})


def test_gunicorn_exits_with_the_message_on_a_newer_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/new.db"
    from_a_newer_release(url)
    log = exit_log(start_app("read", app_environment(tmp_path, url), tmp_path))
    assert TOO_NEW in log


@pytest.mark.skipif(os.environ.get("BACKDROP_TEST_POSTGRES") != "1",
                    reason="SKIP postgres: BACKDROP_TEST_POSTGRES is not 1")
def test_gunicorn_exits_with_the_message_on_a_newer_postgres_schema(tmp_path):
    with fresh_postgres_database(prefix="backdrop_test_start") as url:
        from_a_newer_release(url)
        log = exit_log(start_app("write", app_environment(tmp_path, url), tmp_path))
    assert TOO_NEW in log


def test_with_auto_migrate_off_the_app_starts_only_after_backdrop_migrate(tmp_path):
    environ = app_environment(tmp_path, f"sqlite:///{tmp_path}/fresh.db", BACKDROP_AUTO_MIGRATE="0")
    assert PENDING in exit_log(start_app("write", environ, tmp_path, name="refused"))
    backdrop = Path(sys.executable).with_name("backdrop")
    check = subprocess.run([str(backdrop), "migrate", "--check"], env=environ, capture_output=True, text=True)
    assert check.returncode == 1 and f"{LATEST} migration(s) pending" in check.stderr
    migrated = subprocess.run([str(backdrop), "migrate"], env=environ, capture_output=True, text=True)
    assert migrated.returncode == 0 and migrated.stdout.startswith(f"migrated from version 0 to {LATEST}: ")
    app = start_app("write", environ, tmp_path, name="started")
    try:
        wait_until_up([app])
        assert requests.get(app.url + "/_status", timeout=10).status_code == 200
    finally:
        app.stop()
