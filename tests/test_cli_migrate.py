"""`backdrop migrate` and the schema check every other command makes first (SQLite databases)."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from backdrop.cli import main
from backdrop.core.storage import open_storage
from backdrop.core.storage.migrations import listed as migrations_listed
from backdrop.core.storage.sqlite_schema import MIGRATIONS

LEGACY_DB = Path(__file__).resolve().parent / "fixtures" / "legacy" / "legacy.db"
CREATE_TABLES = "1 create the tables of configurations, records and documents, and the version counter"
HASH_TOKENS = "2 store data-set bearer tokens as salted scrypt hashes; count wrong tokens per address"
LATEST = MIGRATIONS[-1].version  # this release's schema version
EVERY = migrations_listed(MIGRATIONS)  # "1 create …; 2 store …; …"


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def run(path):
    runner = CliRunner()

    def invoke(*args, auto_migrate: str = "1"):
        return runner.invoke(main, list(args), env={
            "BACKDROP_DATABASE_URL": f"sqlite:///{path}", "BACKDROP_ENV": "test",
            "BACKDROP_AUTO_MIGRATE": auto_migrate})

    return invoke


def one_line(result) -> str:
    assert result.output.count("\n") == 1, result.output
    return result.output.strip()


def versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as connection:
        return [v for (v,) in connection.execute("SELECT version FROM schema_versions ORDER BY version")]


def test_with_auto_migrate_off_commands_refuse_a_new_database_until_migrate_runs(run, path):
    refused = run("data-sets", "list", auto_migrate="0")
    assert refused.exit_code == 1
    assert one_line(refused).endswith("BACKDROP_AUTO_MIGRATE is off, so run `backdrop migrate` first.")
    check = run("migrate", "--check", auto_migrate="0")
    assert check.exit_code == 1
    assert EVERY.startswith(f"{CREATE_TABLES}; {HASH_TOKENS}")
    assert one_line(check) == (f"Error: schema is at version 0, {LATEST} migration(s) pending: {EVERY};"
                               " run `backdrop migrate`")
    migrated = run("migrate", auto_migrate="0")
    assert migrated.exit_code == 0
    assert one_line(migrated) == f"migrated from version 0 to {LATEST}: {EVERY}"
    assert versions(path) == list(range(1, LATEST + 1))
    assert run("data-sets", "list", auto_migrate="0").exit_code == 0
    check = run("migrate", "--check", auto_migrate="0")
    assert (check.exit_code, one_line(check)) == (0, f"schema is up to date at version {LATEST}")


def test_migrate_on_an_up_to_date_database_says_so(run):
    run("migrate")
    again = run("migrate")
    assert (again.exit_code, one_line(again)) == (0, f"schema is up to date at version {LATEST}")


def test_a_legacy_database_needs_its_tokens_hashed_and_migrate_records_both_versions(run, path):
    shutil.copy(LEGACY_DB, path)
    check = run("migrate", "--check", auto_migrate="0")
    assert (check.exit_code, one_line(check)) == (
        1, f"Error: schema is at version 1, {LATEST - 1} migration(s) pending: {migrations_listed(MIGRATIONS[1:])};"
           " run `backdrop migrate`")
    assert (run("migrate").exit_code, versions(path)) == (0, list(range(1, LATEST + 1)))
    listed = run("data-sets", "list", "--json", auto_migrate="0").output
    assert "carers_allowance_transactions" in listed and "ca-token" not in listed


@pytest.mark.parametrize("command", [("data-sets", "list"), ("dashboards", "list"), ("migrate",),
                                     ("migrate", "--check")])
@pytest.mark.parametrize("auto_migrate", ["1", "0"])
def test_every_command_refuses_a_schema_newer_than_the_code(run, path, command, auto_migrate):
    engine = open_storage(f"sqlite:///{path}")
    engine.migrate()
    engine.close()
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO schema_versions VALUES (?, 'from a newer release', '2030-01-01')",
                           (LATEST + 3,))
    result = run(*command, auto_migrate=auto_migrate)
    assert result.exit_code == 1
    assert one_line(result) == (f"Error: The database's schema is at version {LATEST + 3}, newer than this release"
                                f" of Backdrop knows (up to version {LATEST}): upgrade Backdrop to a release that"
                                f" knows version {LATEST + 3}.")


def test_a_bad_auto_migrate_setting_is_named(run):
    result = run("migrate", auto_migrate="sometimes")
    assert result.exit_code == 1
    assert "BACKDROP_AUTO_MIGRATE must be one of 1, true, yes, on, 0, false, no, off" in one_line(result)
