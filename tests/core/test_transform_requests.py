"""The core decides what to request: writes that tell a time store an outbox entry with their records."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backdrop.core import registry, transforms
from backdrop.core.data_set import Commit, DataSet, WriteKind
from backdrop.core.records import BatchError
from backdrop.core.storage import open_storage


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    engine = open_storage("memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/requests.db")
    yield engine
    engine.close()


@pytest.fixture
def config(storage):
    return registry.create(storage, {"data_group": "visas", "data_type": "transactions"})


@pytest.fixture
def commits() -> list[Commit]:
    return []


@pytest.fixture
def data_set(storage, config, commits) -> DataSet:
    return DataSet(storage, config, on_commit=commits.append, request_transforms=True, request_id=lambda: "req-7")


def requested(storage) -> list[tuple]:
    return [(entry.data_set, entry.earliest, entry.latest, entry.request_id)
            for entry in storage.unsent_transform_requests(10)]


def test_a_stored_batch_requests_its_time_range_with_the_request_id(data_set, storage):
    data_set.store([{"_timestamp": "2014-01-02T00:00:00Z"}, {"_timestamp": "2014-01-01T10:00:00+01:00"}, {"count": 1}])
    assert requested(storage) == [("visas_transactions", utc(2014, 1, 1, 9), utc(2014, 1, 2), "req-7")]


def test_untimed_refused_and_empty_batches_request_nothing(data_set, storage):
    data_set.store([{"count": 1}])
    data_set.store([])
    with pytest.raises(BatchError):
        data_set.store([{"_timestamp": "2014-01-02T00:00:00Z"}, {"_foo": 1}])
    assert requested(storage) == []


def test_a_patch_requests_the_records_time_before_and_after_and_deletes_nothing(data_set, storage):
    data_set.store([{"_id": "a", "_timestamp": "2014-03-01T00:00:00Z"}, {"_id": "b"}])
    data_set.patch("a", {"_timestamp": "2014-01-01T00:00:00Z"})
    data_set.patch("b", {"count": 2})
    data_set.delete("a")
    data_set.empty()
    assert requested(storage)[1:] == [("visas_transactions", utc(2014, 1, 1), utc(2014, 3, 1), "req-7")]


def test_without_request_transforms_nothing_is_requested(storage, config):
    DataSet(storage, config).store([{"_timestamp": "2014-01-02T00:00:00Z"}])
    assert requested(storage) == []


def test_the_manual_rerun_counts_the_transforms_and_requests_only_when_there_are_some(data_set, storage, commits):
    assert data_set.rerun_transforms(utc(2014, 1, 1), utc(2014, 2, 1)) == 0
    assert requested(storage) == [] and commits == []
    for group in ("visas", "*"):
        transforms.create(storage, {"type": "debug", "input": {"data-group": group, "data-type": "transactions"},
                                    "output": {"data-type": f"debugged-{len(group)}"}})
    registry.create(storage, {"data_group": "other", "data_type": "transactions"})
    transforms.create(storage, {"type": "debug", "input": {"data-group": "other", "data-type": "transactions"},
                                "output": {"data-type": "unrelated"}})
    assert data_set.rerun_transforms(utc(2014, 1, 1), utc(2014, 2, 1)) == 2
    assert requested(storage) == [("visas_transactions", utc(2014, 1, 1), utc(2014, 2, 1), "req-7")]
    assert commits == [Commit("visas_transactions", WriteKind.TRIGGER, (utc(2014, 1, 1), utc(2014, 2, 1)))]
