"""The table of engines: every choice of engine reads it, so its rows must be complete."""
from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from backdrop.core.storage import UnsupportedDatabase, check_url, open_storage
from backdrop.core.storage.engines import ENGINES, NOT_YET, OPTIONS, Capability, engine_named
from backdrop.testing_engines import REFERENCE, SUPPORT, http_engines

CHOICES = "sqlite:///path or postgresql://… or mongodb://HOST:PORT/DBNAME?replicaSet=rs0"


def test_every_engine_has_test_support_and_every_support_an_engine():
    assert sorted(name for name, support in SUPPORT.items() if not support.reads) == \
        sorted(engine.name for engine in ENGINES)


def test_every_read_path_reads_an_engine_of_the_table():
    paths = {name: support.reads for name, support in SUPPORT.items() if support.reads}
    assert paths == {"columnar": "sqlite"}
    assert all(engine_named(engine) for engine in paths.values())


def test_engine_names_and_schemes_are_unique():
    schemes = [scheme for engine in ENGINES for scheme in engine.schemes]
    assert len(schemes) == len(set(schemes))
    assert len({engine.name for engine in ENGINES}) == len(ENGINES)


def test_the_reference_engine_is_a_row():
    assert engine_named(REFERENCE).name == REFERENCE


@pytest.mark.parametrize("engine", ENGINES, ids=lambda engine: engine.name)
def test_every_scheme_of_a_row_opens_that_rows_class(engine, tmp_path):
    for scheme in engine.schemes:
        url = f"{scheme}:///{tmp_path}/table.db"
        assert check_url(url) == engine.name
        storage = open_storage(url)  # nothing connects yet
        try:
            assert type(storage) is engine.storage_class()
        finally:
            storage.close()


@pytest.mark.parametrize("engine", ENGINES, ids=lambda engine: engine.name)
def test_every_engine_accepts_every_option(engine):
    signature = inspect.signature(engine.storage_class().from_url)
    signature.bind("url", **{option: None for option in OPTIONS})  # a TypeError fails the test


def test_an_unknown_option_is_refused_by_name():
    with pytest.raises(TypeError, match="'pool_sise'"):
        open_storage("memory://", pool_sise=1)


def test_a_planned_scheme_stops_start_up_with_its_reason(monkeypatch):
    monkeypatch.setitem(NOT_YET, "cassandra", "the Cassandra engine has not landed")
    with pytest.raises(UnsupportedDatabase) as raised:
        check_url("cassandra://localhost/backdrop")
    assert str(raised.value) == (
        "cassandra:// URLs are not supported yet: the Cassandra engine has not landed. "
        f"Use {CHOICES} for BACKDROP_DATABASE_URL.")


def test_an_unknown_scheme_is_refused_naming_the_engines_to_use():
    with pytest.raises(UnsupportedDatabase) as raised:
        check_url("mysql://localhost/backdrop")
    assert str(raised.value) == f"Unsupported BACKDROP_DATABASE_URL 'mysql': use {CHOICES}"


def test_no_planned_scheme_is_served_by_a_row():
    """A landed engine's scheme must leave NOT_YET, or its start-up message would linger in the code."""
    assert not set(NOT_YET) & {scheme for engine in ENGINES for scheme in engine.schemes}


def test_reading_the_table_imports_no_engine_and_no_driver():
    code = ("import sys, backdrop.core.storage, backdrop.testing_engines;"
            " backdrop.core.storage.check_url('postgresql://x/y');"
            " print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool', 'sqlite3',"
            " 'pymongo', 'bson') or m.startswith('backdrop.core.storage.') and m.rsplit('.', 1)[1] in"
            " ('memory', 'sqlite', 'postgres', 'mongo')))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_the_http_tests_run_only_on_engines_shared_between_processes():
    usable, skipped = http_engines()
    assert all(engine_named(name).has(Capability.SHARED_BETWEEN_PROCESSES) for name in usable)
    assert "sqlite" in usable
    assert "one process only" in skipped["memory"]
    assert sorted(usable + list(skipped)) == sorted(engine.name for engine in ENGINES)
