"""A pooled connection broken under the engine (server restarted, backend terminated).

The engine replaces broken connections and runs the transaction once more when that is
safe (it never reached COMMIT); these terminate the engine's real backends with
`pg_terminate_backend` between calls and check the next calls succeed, exactly once.
"""
from __future__ import annotations

import pytest
from postgres_support import postgres_enabled
from storage_support import CONFIG, at, record

from backdrop.core.storage.base import AggregateQuery, ConnectionLost, RecordQuery
from backdrop.core.storage.postgres import _retried
from backdrop.testing import terminate_backends

POOLED = 3


@pytest.fixture
def pg(postgres_url):
    if not postgres_enabled():
        pytest.skip("SKIP postgres: BACKDROP_TEST_POSTGRES is not 1")
    from postgres_support import reset_postgres

    from backdrop.core.storage.postgres import PostgresStorage

    reset_postgres(postgres_url)
    storage = PostgresStorage.from_url(postgres_url, pool_size=POOLED)
    storage.create_data_set(CONFIG)
    yield storage
    storage.close()


def _fill_pool(storage) -> set[int]:
    """Check out POOLED connections at once so the pool holds that many; their backend pids."""
    pool = storage._get_pool()
    connections = [pool.getconn() for _ in range(POOLED)]
    pids = {connection.info.backend_pid for connection in connections}
    for connection in connections:
        pool.putconn(connection)
    return pids


def _pids(storage) -> set[int]:
    return _fill_pool(storage)


def test_reads_after_every_backend_was_terminated_succeed(pg, postgres_url):
    pg.save_records("ds", [record("a", _timestamp=at(2012, 1, 1), v=1)])
    before = _fill_pool(pg)
    assert terminate_backends(postgres_url) >= POOLED
    for _ in range(POOLED + 1):  # more calls than broken connections
        assert pg.get_data_set("ds")["name"] == "ds"
    assert [found["_id"] for found in pg.find("ds", RecordQuery())] == ["a"]
    assert pg.aggregate("ds", AggregateQuery())[0].count == 1
    assert not _pids(pg) & before  # every broken connection was replaced


def test_a_write_whose_connection_broke_before_commit_is_applied_once(pg, postgres_url):
    _fill_pool(pg)
    terminate_backends(postgres_url)
    pg.save_records("ds", [record("a", v=1), record("b", v=2)])
    assert sorted(found["_id"] for found in pg.find("ds", RecordQuery())) == ["a", "b"]
    _fill_pool(pg)
    terminate_backends(postgres_url)
    assert pg.delete_record("ds", "a") is True
    assert [found["_id"] for found in pg.find("ds", RecordQuery())] == ["b"]


class _Flaky:
    """Raises the given ConnectionLost on the first `failures` calls, then answers."""

    def __init__(self, failures: int, before_commit: bool, items=("x", "y")):
        self.calls, self.failures, self.before_commit, self.items = 0, failures, before_commit, items
        self.checked = 0

    def _replace_broken_connections(self):
        self.checked += 1

    def _fail(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionLost("PostgreSQL: lost", before_commit=self.before_commit)

    @_retried
    def call(self):
        self._fail()
        return "done"

    @_retried
    def stream(self):
        self.calls += 1
        for index, item in enumerate(self.items):
            if self.calls <= self.failures and index == self.fail_at:
                raise ConnectionLost("PostgreSQL: lost", before_commit=True)
            yield item

    fail_at = 0


def test_a_break_before_commit_is_retried_once_with_the_pool_checked():
    flaky = _Flaky(1, before_commit=True)
    assert flaky.call() == "done"
    assert (flaky.calls, flaky.checked) == (2, 1)
    twice = _Flaky(2, before_commit=True)
    with pytest.raises(ConnectionLost):
        twice.call()
    assert twice.calls == 2


def test_a_break_during_commit_is_not_retried():
    flaky = _Flaky(1, before_commit=False)
    with pytest.raises(ConnectionLost):
        flaky.call()
    assert flaky.calls == 1


def test_a_stream_is_retried_only_before_its_first_item():
    fresh = _Flaky(1, before_commit=True)
    assert list(fresh.stream()) == ["x", "y"]
    assert fresh.calls == 2
    started = _Flaky(1, before_commit=True)
    started.fail_at = 1
    with pytest.raises(ConnectionLost):
        list(started.stream())
    assert started.calls == 1
