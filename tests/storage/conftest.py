"""The engines the storage contract suite runs against, each fresh for every test.

`engine` is parametrised over every engine of the table (backdrop/core/storage/engines.py)
this machine has: `memory` (the reference), `sqlite` (a new file under tmp_path),
`postgres` (when BACKDROP_TEST_POSTGRES=1: one database per run, emptied before each test)
and `mongo` (a new database per test, on BACKDROP_TEST_MONGO_URL's server or else on
mongomock, opened through the support's `open`), and `columnar`: SQLite read through the
columnar copies (core/storage/columnar.py), every grouped query answered by DuckDB.
Databases come from the test support of each engine (backdrop/testing_engines.py). An
engine left out is named, with the reason, in a `SKIP <engine>: <why>` line at the end of
the run.

`@pytest.mark.needs(Capability.X)` skips a test on the engines without that capability,
and on those whose test double here lacks it (mongomock for MongoDB: not shared between
processes); the reason names both, and the end of the run counts such skips per engine.
"""
from __future__ import annotations

from collections import Counter
from contextlib import ExitStack, contextmanager

import pytest

from backdrop.core.storage.engines import ENGINES
from backdrop.testing_engines import READ_PATHS, REFERENCE, support_for, unavailable

UNAVAILABLE = {engine.name: reason for engine in ENGINES if (reason := unavailable(engine))}
ENGINE_NAMES = [engine.name for engine in ENGINES if engine.name not in UNAVAILABLE] + READ_PATHS
REAL_ENGINES = [name for name in ENGINE_NAMES if name != REFERENCE]
ENGINE_PARAMETERS = ("engine_database", "real_engine", "plain_engine")
NEEDS_PREFIX = "needs a capability:"
# Why a test double lacks a capability -> its engine (the reason engine-specific tests skip with).
DOUBLED = {why: name for name in ENGINE_NAMES for why in support_for(name).lacking().values()}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs(capability): skip on engines of the table that lack the capability")


def pytest_collection_modifyitems(config, items):
    """Mark `needs` tests skipped on each engine lacking one of the capabilities they name."""
    for item in items:
        wanted = [capability for mark in item.iter_markers("needs") for capability in mark.args]
        if not wanted:
            continue
        params = getattr(item, "callspec", None)
        names = [params.params[key] for key in ENGINE_PARAMETERS if params and key in params.params]
        if not names:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.needs is for tests of an engine fixture")
        reason = _lacking(names[0], wanted)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"{NEEDS_PREFIX} {names[0]} lacks {reason}"))


def _lacking(name: str, wanted) -> str | None:
    """The capabilities of `wanted` that the engine, or its test double here, lacks (and why)."""
    lacking = [capability.name for capability in wanted if not support_for(name).row.has(capability)]
    if lacking:
        return ", ".join(lacking)
    doubled = support_for(name).lacking()
    lacking = [f"{capability.name} ({doubled[capability]})" for capability in wanted if capability in doubled]
    return ", ".join(lacking) or None


def pytest_terminal_summary(terminalreporter):
    for name, reason in UNAVAILABLE.items():
        terminalreporter.write_line(f"SKIP {name}: {reason}")
    skipped, doubled = Counter(), Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        if NEEDS_PREFIX in reason:
            skipped[reason.split(NEEDS_PREFIX, 1)[1].strip()] += 1
        elif (why := reason.removeprefix("Skipped: ")) in DOUBLED:
            doubled[DOUBLED[why], why] += 1
    for reason, count in sorted(skipped.items()):
        engine, _, capabilities = reason.partition(" lacks ")
        tests = f"{count} test{'s' if count > 1 else ''}"
        terminalreporter.write_line(f"SKIP {engine}: {tests} need{'' if count > 1 else 's'} {capabilities}")
    for (engine, why), count in sorted(doubled.items()):  # engine-specific tests skipped for the same reason
        terminalreporter.write_line(f"SKIP {engine}: {count} test{'s' if count > 1 else ''}: {why}")


@pytest.fixture(scope="session")
def shared_database(tmp_path_factory):
    """`shared_database(engine)`: one database per run of an engine its support can empty
    between tests (cheaper than a new one), made on first use and removed at the end."""
    made: dict[str, str] = {}
    with ExitStack() as stack:
        def get(name: str) -> str:
            if name not in made:
                folder = tmp_path_factory.mktemp(name)
                made[name] = stack.enter_context(support_for(name).database(folder, "test", None))
            return made[name]

        yield get


@pytest.fixture(scope="session")
def postgres_url(shared_database):
    return shared_database("postgres")


@contextmanager
def _fresh_database(name: str, shared_database, tmp_path):
    """(engine, URL of an empty database of it) for one test."""
    support = support_for(name)
    if support.empty is None:
        with support.database(tmp_path, "storage", None) as url:
            yield name, url
    else:
        url = shared_database(name)
        support.empty(url)
        yield name, url


@contextmanager
def _opened(name: str, url: str):
    storage = support_for(name).open(url, pool_size=4)
    try:
        yield storage
        # The columnar read path is tested only if its copies answered: none may leave it to the engine.
        assert getattr(storage, "answers", {}).get("database", 0) == 0, "a grouped query fell back to the engine"
    finally:
        storage.close()


@pytest.fixture(params=ENGINE_NAMES)
def engine_database(request, shared_database, tmp_path):
    """(engine, URL) of the database behind `engine`, for tests that open it again."""
    with _fresh_database(request.param, shared_database, tmp_path) as database:
        yield database


@pytest.fixture
def engine(engine_database):
    with _opened(*engine_database) as storage:
        yield storage


@pytest.fixture(params=REAL_ENGINES)
def real_engine(request, shared_database, tmp_path):
    """Every engine but the reference, for comparing answers against the memory engine."""
    with _fresh_database(request.param, shared_database, tmp_path) as database, _opened(*database) as storage:
        yield storage


@pytest.fixture(params=[name for name in ENGINE_NAMES if name not in READ_PATHS])
def plain_engine(request, shared_database, tmp_path):
    """Every engine of the table, without the read paths over them (tests of those paths)."""
    with _fresh_database(request.param, shared_database, tmp_path) as database, _opened(*database) as storage:
        yield storage
