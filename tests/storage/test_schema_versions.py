"""Schema versions on every SQL engine: recorded, migrated once under a lock, refused when newer.

A migration beyond this release's (schema_support.NOTES) stands in for the next release's
first one, so the runner is exercised on a real upgrade and not only on creating tables.
"""
from __future__ import annotations

import multiprocessing

import pytest
from schema_support import (
    ALL,
    BROKEN,
    LATEST,
    NEXT,
    NOTES,
    SQL_ENGINES,
    has_table,
    knowing,
    never_used,
    record_version,
    recorded_versions,
    sql,
)
from storage_support import CONFIG, record

from backdrop.core.storage import open_storage
from backdrop.core.storage.base import MigrationsPending, SchemaTooNew, StorageError
from backdrop.core.storage.migrations import Migration, check_order, listed


@pytest.fixture(params=SQL_ENGINES)
def fresh(request, tmp_path):
    """The URL of a database no process has used yet."""
    with never_used(request.param, tmp_path) as url:
        yield url


def _open(url: str, **options):
    return open_storage(url, pool_size=2, **options)


@pytest.fixture
def at_version_1(fresh):
    """A database made by this release, holding one data set with one record."""
    engine = _open(fresh)
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("kept", note="before the upgrade")])
    engine.close()
    return fresh


def test_a_new_database_records_every_version_on_first_use(fresh):
    engine = _open(fresh)
    assert engine.schema_version() == 0
    assert [m.version for m in engine.pending_migrations()] == ALL
    engine.create_data_set(CONFIG)
    assert engine.schema_version() == LATEST and engine.pending_migrations() == []
    engine.close()
    assert recorded_versions(fresh) == ALL


def test_migrate_says_what_it_did_and_then_that_there_is_nothing_to_do(fresh):
    engine = _open(fresh)
    first = engine.migrate()
    assert (first.before, first.after, [m.version for m in first.applied]) == (0, LATEST, ALL)
    assert first.summary().startswith(f"migrated from version 0 to {LATEST}: 1 create the tables")
    assert first.summary().endswith("; " + listed(type(engine).MIGRATIONS[1:]))
    assert engine.migrate().summary() == f"schema is up to date at version {LATEST}"
    engine.close()


def test_with_auto_migrate_off_a_new_database_is_refused_until_migrated(fresh):
    engine = _open(fresh, auto_migrate=False)
    with pytest.raises(MigrationsPending) as refused:
        engine.list_data_sets()
    message = str(refused.value)
    assert "\n" not in message and "version 0" in message and "run `backdrop migrate`" in message
    assert recorded_versions(fresh) is None and not has_table(fresh, "data_sets") \
        and not has_table(fresh, "backdrop_data_sets")
    assert engine.migrate().after == LATEST
    assert engine.list_data_sets() == []
    engine.close()


def test_the_next_release_migrates_an_old_database_keeping_its_data(at_version_1):
    newer = knowing(at_version_1, NOTES)
    assert newer.pending_migrations() == [NOTES]
    assert newer.get_record("ds", "kept")["note"] == "before the upgrade"  # first use migrates
    assert recorded_versions(at_version_1) == ALL + [NEXT]
    assert sql(at_version_1, "SELECT note FROM backdrop_notes") == [(f"written by migration {NEXT}",)]
    newer.close()


def test_with_auto_migrate_off_the_next_release_refuses_then_migrate_works(at_version_1):
    newer = knowing(at_version_1, NOTES, auto_migrate=False)
    with pytest.raises(MigrationsPending, match=rf"at version {LATEST} and this release needs version {NEXT} "
                                                rf"\(pending: {NEXT} add a table of notes\)"):
        newer.get_record("ds", "kept")
    assert recorded_versions(at_version_1) == ALL
    assert newer.migrate().summary() == f"migrated from version {LATEST} to {NEXT}: {NEXT} add a table of notes"
    assert newer.get_record("ds", "kept")["note"] == "before the upgrade"
    newer.close()


@pytest.mark.parametrize("auto_migrate", [True, False])
def test_a_schema_newer_than_the_code_is_always_refused(at_version_1, auto_migrate):
    record_version(at_version_1, NEXT + 4)
    engine = _open(at_version_1, auto_migrate=auto_migrate)
    expected = (f"The database's schema is at version {NEXT + 4}, newer than this release of Backdrop knows"
                f" (up to version {LATEST})")
    for attempt in (engine.list_data_sets, engine.pending_migrations, engine.migrate):
        with pytest.raises(SchemaTooNew) as refused:
            attempt()
        assert str(refused.value).startswith(expected)
    assert engine.schema_version() == NEXT + 4
    engine.close()
    assert recorded_versions(at_version_1) == ALL + [NEXT + 4]


def test_an_older_release_refuses_a_database_the_next_one_migrated(at_version_1):
    knowing(at_version_1, NOTES).migrate()
    engine = _open(at_version_1)
    with pytest.raises(SchemaTooNew, match=f"at version {NEXT}, newer than this release of Backdrop knows"):
        engine.get_data_set("ds")
    engine.close()


def test_a_failing_migration_leaves_the_database_as_it_was(at_version_1):
    broken = knowing(at_version_1, BROKEN)
    with pytest.raises(StorageError):
        broken.migrate()
    assert recorded_versions(at_version_1) == ALL
    assert not has_table(at_version_1, "backdrop_notes")
    broken.close()
    engine = _open(at_version_1)
    assert engine.get_record("ds", "kept")["note"] == "before the upgrade"
    engine.close()


def _start_in_child(url: str, start, results) -> None:
    engine = _open(url)
    start.wait()
    engine.list_data_sets()  # the first use of a process: the start-up check
    results.put("ok")
    engine.close()


def _migrate_in_child(url: str, start, results) -> None:
    engine = knowing(url, NOTES)
    start.wait()
    results.put(engine.migrate().summary())
    engine.close()


def _run_children(target, url: str, count: int = 5) -> list[str]:
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(count), context.Queue()
    children = [context.Process(target=target, args=(url, start, results)) for _ in range(count)]
    [child.start() for child in children]
    [child.join(120) for child in children]
    assert [child.exitcode for child in children] == [0] * count
    return sorted(results.get(timeout=10) for _ in range(count))


def test_processes_starting_at_once_on_a_new_database_create_it_once(fresh):
    assert _run_children(_start_in_child, fresh) == ["ok"] * 5
    assert recorded_versions(fresh) == ALL


def test_processes_upgrading_at_once_apply_each_migration_exactly_once(at_version_1):
    summaries = _run_children(_migrate_in_child, at_version_1)
    assert summaries == [f"migrated from version {LATEST} to {NEXT}: {NEXT} add a table of notes"] + \
        [f"schema is up to date at version {NEXT}"] * 4
    assert sql(at_version_1, "SELECT count(*) FROM backdrop_notes") == [(1,)]


def test_a_database_of_version_4_gains_the_change_feed_keeping_its_records(fresh):
    """Migration 5 on a database in use: the tables of removals appear, empty, and the
    change feed answers every record stored before from cursor 0, then each removal."""
    base = type(open_storage(fresh))  # opening connects to nothing
    release_4 = type(f"Release4{base.__name__}", (base,), {"MIGRATIONS": tuple(base.MIGRATIONS)[:4]})
    old = release_4.from_url(fresh)
    old.create_data_set(CONFIG)
    old.save_records("ds", [record("a"), record("b")])
    old.close()
    assert recorded_versions(fresh) == [1, 2, 3, 4]
    engine = _open(fresh)
    before = engine.changes("ds", 0, 10)
    assert recorded_versions(fresh) == ALL and 5 in ALL
    assert [found["_id"] for _, found in before.records] == ["a", "b"] and before.complete
    assert (before.deleted, before.floor) == ((), None)
    engine.delete_record("ds", "a")
    after = engine.changes("ds", before.cursor, 10)
    assert (after.records, after.deleted, after.version) == ((), ("a",), engine.data_set_version("ds"))
    engine.close()


def test_migrations_must_be_numbered_from_one_without_gaps():
    step = Migration(1, "one", ())
    assert check_order((step,)) == (step,)
    with pytest.raises(ValueError):
        check_order((step, Migration(3, "three", ())))


def test_the_memory_engine_is_always_current():
    engine = open_storage("memory://")
    assert (engine.schema_version(), engine.pending_migrations()) == (0, [])
    assert engine.migrate().summary() == "schema is up to date at version 0"
