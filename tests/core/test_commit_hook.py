"""The DataSet's after-commit hook: one call per committed write, none for a refused one."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backdrop.core import registry
from backdrop.core.data_set import Commit, DataSet, RecordNotFound, WriteKind
from backdrop.core.records import BatchError
from backdrop.core.storage import open_storage


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    engine = open_storage("memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/hook.db")
    yield engine
    engine.close()


@pytest.fixture
def commits() -> list[Commit]:
    return []


@pytest.fixture
def data_set(storage, commits) -> DataSet:
    config = registry.create(storage, {"data_group": "visas", "data_type": "transactions"})
    return DataSet(storage, config, on_commit=commits.append)


def test_a_stored_batch_calls_the_listener_once_with_its_timestamp_bounds(data_set, commits):
    data_set.store([{"_timestamp": "2014-01-02T00:00:00Z", "count": 1}, {"_timestamp": "2014-01-01T10:00:00+01:00"},
                    {"count": 3}])
    assert commits == [Commit("visas_transactions", WriteKind.STORE, (utc(2014, 1, 1, 9), utc(2014, 1, 2)))]


def test_the_listener_runs_after_the_commit(data_set, storage):
    seen = []
    def listener(commit: Commit) -> None:
        seen.append(storage.get_record(commit.data_set, "a"))

    DataSet(storage, data_set.config, on_commit=listener).store([{"_id": "a", "_timestamp": "2014-01-02T00:00:00Z"}])
    assert [record["_id"] for record in seen] == ["a"]


def test_a_batch_without_timestamps_commits_without_bounds(data_set, commits):
    data_set.store([{"count": 1}])
    assert commits == [Commit("visas_transactions", WriteKind.STORE, None)]


def test_a_refused_batch_and_an_empty_one_call_nothing(data_set, commits):
    with pytest.raises(BatchError):
        data_set.store([{"_timestamp": "2014-01-02T00:00:00Z"}, {"_foo": 1}])
    data_set.store([])
    assert commits == []


def test_a_patch_reports_the_records_time_before_and_after(data_set, commits):
    data_set.store([{"_id": "a", "_timestamp": "2014-03-01T00:00:00Z"}])
    data_set.patch("a", {"_timestamp": "2014-01-01T00:00:00Z"})
    data_set.patch("a", {"count": 2})
    assert commits[1:] == [Commit("visas_transactions", WriteKind.PATCH, (utc(2014, 1, 1), utc(2014, 3, 1))),
                           Commit("visas_transactions", WriteKind.PATCH, (utc(2014, 1, 1), utc(2014, 1, 1)))]


def test_a_refused_patch_calls_nothing(data_set, commits):
    data_set.store([{"_id": "a", "count": 1}])
    with pytest.raises(RecordNotFound):
        data_set.patch("missing", {"count": 2})
    with pytest.raises(BatchError):
        data_set.patch("a", {"_foo": 2})
    assert [commit.kind for commit in commits] == [WriteKind.STORE]


def test_deleting_and_emptying_commit_without_bounds(data_set, commits):
    data_set.store([{"_id": "a", "_timestamp": "2014-03-01T00:00:00Z"}])
    data_set.delete("a")
    with pytest.raises(RecordNotFound):
        data_set.delete("a")
    data_set.empty()
    assert commits[1:] == [Commit("visas_transactions", WriteKind.DELETE, None),
                           Commit("visas_transactions", WriteKind.EMPTY, None)]


def test_a_data_set_without_a_listener_writes_as_before(storage):
    config = registry.create(storage, {"data_group": "visas", "data_type": "transactions"})
    DataSet(storage, config).store([{"_id": "a"}])
    assert storage.get_record(config.name, "a")["_id"] == "a"
