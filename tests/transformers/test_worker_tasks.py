"""The worker's tasks run eagerly: what is retried, what is logged and dropped, what chains."""
from __future__ import annotations

import logging

import pytest

from backdrop.core import registry, transforms
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import StorageError
from backdrop.settings import Settings
from backdrop.transformers import runner
from backdrop.transformers.dispatch import ENTRYPOINT
from backdrop.transformers.tasks.util import BadSourceData
from backdrop.transformers.worker import create_worker_app
from backdrop.transformers.worker_tasks import RUN_TRANSFORM

EARLY, LATE = "2014-01-06T00:00:00+00:00", "2014-01-13T00:00:00+00:00"


@pytest.fixture
def storage(tmp_path):
    engine = open_storage(f"sqlite:///{tmp_path}/w.db")
    registry.create(engine, {"data_group": "visas", "data_type": "transactions", "bearer_token": "t"})
    yield engine
    engine.close()


@pytest.fixture
def app(tmp_path, storage):
    """The worker's app as `celery -A` builds it, its tasks given the test's engine."""
    settings = Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
                                  "BACKDROP_BROKER_FOLDER": str(tmp_path / "broker")})
    return create_worker_app(settings, storage=lambda: storage)


@pytest.fixture
def tasks(app):
    """The app's registered tasks by name."""
    return app.tasks


@pytest.fixture
def transform(storage):
    return transforms.create(storage, {"type": "debug", "input": {"data-group": "visas", "data-type": "transactions"},
                                       "output": {"data-type": "debugged"}})


@pytest.fixture
def sent(app, monkeypatch):
    """Tasks the worker would enqueue, recorded instead of sent to a broker."""
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args, kwargs=None: calls.append((name, args)))
    return calls


def test_tasks_are_acknowledged_late_and_not_lost_with_their_worker(app):
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_the_entry_task_enqueues_one_run_per_transform(storage, transform, sent, tasks):
    assert tasks[ENTRYPOINT].apply(args=["visas_transactions", EARLY, LATE]).get() == 1
    assert sent == [(RUN_TRANSFORM, ["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])]


def test_the_entry_task_drops_a_transform_whose_output_is_already_in_the_chain(storage, transform, sent, caplog, tasks):
    with caplog.at_level(logging.WARNING):
        result = tasks[ENTRYPOINT].apply(args=["visas_transactions", EARLY, LATE, ["visas_debugged", "visas_transactions"]])
    assert result.get() == 0 and sent == []
    assert "already in the chain" in caplog.text


def test_bad_source_data_is_logged_and_not_retried(storage, transform, monkeypatch, caplog, tasks):
    calls = []

    def failing(*args):
        calls.append(args)
        raise BadSourceData("rate must be a number, not 'many'")

    monkeypatch.setattr(runner, "run", failing)
    with caplog.at_level(logging.ERROR):
        result = tasks[RUN_TRANSFORM].apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])
    assert result.get() == 0 and len(calls) == 1
    assert "failed on its source data" in caplog.text and "not 'many'" in caplog.text


def test_storage_failures_are_retried_five_times(storage, transform, monkeypatch, tasks):
    calls = []

    def failing(*args):
        calls.append(args)
        raise StorageError("database is gone")

    monkeypatch.setattr(runner, "run", failing)
    result = tasks[RUN_TRANSFORM].apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])
    with pytest.raises(StorageError):
        result.get()
    assert len(calls) == 6  # the first try and five retries


def test_a_run_that_stored_records_chains_to_the_outputs_transforms(storage, sent, monkeypatch, tasks):
    from datetime import datetime, timezone

    created = transforms.create(storage, {"type": "debug", "input": {"data-group": "visas", "data-type": "transactions"},
                                          "output": {"data-type": "debugged"}})
    moment = datetime(2014, 1, 6, tzinfo=timezone.utc)
    monkeypatch.setattr(runner, "run", lambda *args: runner.Outcome("visas_debugged", 2, (moment, moment)))
    tasks[RUN_TRANSFORM].apply(args=["visas_transactions", created["id"], EARLY, LATE, ["visas_transactions"]]).get()
    assert sent == [(ENTRYPOINT, ["visas_debugged", moment.isoformat(), moment.isoformat(),
                                  ["visas_transactions", "visas_debugged"]])]


# --- the run history ------------------------------------------------------------------------


def _runs(storage, transform):
    return [(run.outcome, run.trigger, run.records_written, run.error) for run in storage.list_runs(transform["id"])]


def test_a_run_is_recorded_ok_with_the_records_it_wrote_and_its_trigger(storage, transform, sent, monkeypatch, tasks):
    monkeypatch.setattr(runner, "run", lambda *args: runner.Outcome("visas_debugged", 3, None))
    tasks[RUN_TRANSFORM].apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]],
                               kwargs={"trigger": "manual"}).get()
    assert _runs(storage, transform) == [("ok", "manual", 3, None)]
    [run] = storage.list_runs(transform["id"])
    assert (run.data_set, run.earliest.isoformat(), run.latest.isoformat()) == ("visas_transactions", EARLY, LATE)
    assert run.started_at <= run.ended_at


def test_the_entry_task_passes_its_trigger_to_every_run(storage, transform, app, monkeypatch, tasks):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args, kwargs=None: calls.append(kwargs))
    tasks[ENTRYPOINT].apply(args=["visas_transactions", EARLY, LATE], kwargs={"trigger": "manual"}).get()
    tasks[ENTRYPOINT].apply(args=["visas_transactions", EARLY, LATE]).get()
    assert calls == [{"trigger": "manual"}, {"trigger": "write"}]


def test_a_run_failing_on_its_source_data_is_recorded_so_whatever_celery_says(storage, transform, monkeypatch, tasks):
    def failing(*args):
        raise BadSourceData("rate must be a number, not 'many'")

    monkeypatch.setattr(runner, "run", failing)
    result = tasks[RUN_TRANSFORM].apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])
    assert result.state == "SUCCESS"
    assert _runs(storage, transform) == [("failed on source data", "write", 0, "rate must be a number, not 'many'")]


def test_a_retried_run_is_one_entry_retrying_until_the_last_retry_fails_as_error(storage, transform, monkeypatch,
                                                                                 tasks):
    seen = []

    def failing(*args):
        seen.append(_runs(storage, transform))
        raise StorageError("database is gone")

    saved, save = [], storage.save_run
    monkeypatch.setattr(storage, "save_run", lambda run, keep: saved.append(run.outcome) or save(run, keep))
    monkeypatch.setattr(runner, "run", failing)
    result = tasks[RUN_TRANSFORM].apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]])
    with pytest.raises(StorageError):
        result.get()
    assert saved == ["running", "retrying"] * 5 + ["running", "error"]
    assert seen[0] == [("running", "write", 0, None)]
    assert seen[1] == [("running", "write", 0, None)]  # the retry runs again under the same entry
    assert _runs(storage, transform) == [("error", "write", 0, "StorageError: database is gone")]


def test_a_retried_run_that_then_succeeds_ends_ok(storage, transform, monkeypatch, tasks):
    attempts = []

    def flaky(*args):
        attempts.append(_runs(storage, transform))
        if len(attempts) == 1:
            raise StorageError("database is gone")
        return runner.Outcome("visas_debugged", 1, None)

    monkeypatch.setattr(runner, "run", flaky)
    tasks[RUN_TRANSFORM].apply(args=["visas_transactions", transform["id"], EARLY, LATE, ["visas_transactions"]]).get()
    assert _runs(storage, transform) == [("ok", "write", 1, None)]
