"""The worker's tasks run eagerly: what is retried, what is logged and dropped, what chains."""
from __future__ import annotations

import logging

import pytest

from backdrop.core import registry, transforms
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import StorageError
from backdrop.transformers import runner, worker
from backdrop.transformers.tasks.util import BadSourceData

EARLY, LATE = "2014-01-06T00:00:00+00:00", "2014-01-13T00:00:00+00:00"


@pytest.fixture
def storage(tmp_path, monkeypatch):
    engine = open_storage(f"sqlite:///{tmp_path}/w.db")
    monkeypatch.setattr(worker, "_storage", engine)
    registry.create(engine, {"data_group": "visas", "data_type": "transactions", "bearer_token": "t"})
    yield engine
    engine.close()


@pytest.fixture
def transform(storage):
    return transforms.create(storage, {"type": "debug", "input": {"data-group": "visas", "data-type": "transactions"},
                                       "output": {"data-type": "debugged"}})


@pytest.fixture
def sent(monkeypatch):
    """Tasks the worker would enqueue, recorded instead of sent to a broker."""
    calls = []
    monkeypatch.setattr(worker.app, "send_task", lambda name, args: calls.append((name, args)))
    return calls


def test_tasks_are_acknowledged_late_and_not_lost_with_their_worker():
    assert worker.app.conf.task_acks_late is True
    assert worker.app.conf.task_reject_on_worker_lost is True


def test_the_entry_task_enqueues_one_run_per_transform(storage, transform, sent):
    assert worker.entrypoint.apply(args=["visas_transactions", EARLY, LATE]).get() == 1
    assert sent == [(worker.RUN_TRANSFORM, ["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])]


def test_the_entry_task_drops_a_transform_whose_output_is_already_in_the_chain(storage, transform, sent, caplog):
    with caplog.at_level(logging.WARNING):
        result = worker.entrypoint.apply(args=["visas_transactions", EARLY, LATE, ["visas_debugged", "visas_transactions"]])
    assert result.get() == 0 and sent == []
    assert "already in the chain" in caplog.text


def test_bad_source_data_is_logged_and_not_retried(storage, transform, monkeypatch, caplog):
    calls = []

    def failing(*args):
        calls.append(args)
        raise BadSourceData("rate must be a number, not 'many'")

    monkeypatch.setattr(runner, "run", failing)
    with caplog.at_level(logging.ERROR):
        result = worker.run_transform.apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])
    assert result.get() == 0 and len(calls) == 1
    assert "failed on its source data" in caplog.text and "not 'many'" in caplog.text


def test_storage_failures_are_retried_five_times(storage, transform, monkeypatch):
    calls = []

    def failing(*args):
        calls.append(args)
        raise StorageError("database is gone")

    monkeypatch.setattr(runner, "run", failing)
    result = worker.run_transform.apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])
    with pytest.raises(StorageError):
        result.get()
    assert len(calls) == 6  # the first try and five retries


def test_a_run_that_stored_records_chains_to_the_outputs_transforms(storage, sent, monkeypatch):
    from datetime import datetime, timezone

    created = transforms.create(storage, {"type": "debug", "input": {"data-group": "visas", "data-type": "transactions"},
                                          "output": {"data-type": "debugged"}})
    moment = datetime(2014, 1, 6, tzinfo=timezone.utc)
    monkeypatch.setattr(runner, "run", lambda *args: runner.Outcome("visas_debugged", 2, (moment, moment)))
    worker.run_transform.apply(args=["visas_transactions", created["id"], EARLY, LATE, ["visas_transactions"]]).get()
    assert sent == [(worker.ENTRYPOINT, ["visas_debugged", moment.isoformat(), moment.isoformat(),
                                         ["visas_transactions", "visas_debugged"]])]
