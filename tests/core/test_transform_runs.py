"""The run history's core functions: outcomes, the summary shape, retries under one entry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backdrop.core import transform_runs
from backdrop.core.storage import open_storage

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
RANGE = {"earliest": datetime(2014, 1, 6, tzinfo=timezone.utc), "latest": datetime(2014, 1, 7, tzinfo=timezone.utc)}


@pytest.fixture
def storage():
    return open_storage("memory://")


def start(storage, now=T0, **options):
    return transform_runs.started(storage, 10, transform_id="t1", data_set="visas_transactions", trigger="write",
                                  now=now, **RANGE, **options)


def test_a_run_is_running_from_its_start_then_ends_with_its_outcome(storage):
    run = start(storage)
    assert transform_runs.history(storage, "t1") == [run.as_json()]
    assert run.as_json()["outcome"] == "running" and run.as_json()["ended_at"] is None
    transform_runs.finished(storage, 10, run, transform_runs.OK, T0 + timedelta(seconds=2), records_written=4)
    [entry] = transform_runs.history(storage, "t1")
    assert entry == {"id": run.id, "transform_id": "t1", "data_set": "visas_transactions",
                     "earliest": "2014-01-06T00:00:00+00:00", "latest": "2014-01-07T00:00:00+00:00",
                     "trigger": "write", "started_at": "2026-01-05T09:00:00+00:00",
                     "outcome": "ok", "ended_at": "2026-01-05T09:00:02+00:00", "records_written": 4, "error": None}


def test_the_summary_is_the_last_runs_outcome_times_records_and_error(storage):
    assert transform_runs.summary(None) is None and transform_runs.last_runs(storage) == {}
    start(storage)
    failed = start(storage, now=T0 + timedelta(minutes=1))
    transform_runs.finished(storage, 10, failed, transform_runs.FAILED_ON_SOURCE_DATA, T0 + timedelta(minutes=2),
                            error="rate must be a number")
    assert transform_runs.last_runs(storage) == {"t1": {
        "outcome": "failed on source data", "started_at": "2026-01-05T09:01:00+00:00",
        "ended_at": "2026-01-05T09:02:00+00:00", "records_written": 0, "error": "rate must be a number"}}


def test_a_retry_under_the_same_id_keeps_its_entry_and_first_start(storage):
    first = start(storage, run_id="task-1")
    transform_runs.finished(storage, 10, first, transform_runs.RETRYING, T0 + timedelta(seconds=1), error="gone")
    again = start(storage, now=T0 + timedelta(seconds=5), run_id="task-1")
    assert again.started_at == T0
    assert [(run["id"], run["outcome"]) for run in transform_runs.history(storage, "t1")] == [("task-1", "running")]


def test_the_history_is_newest_first_and_limited(storage):
    ids = [start(storage, now=T0 + timedelta(minutes=minutes)).id for minutes in range(3)]
    assert [run["id"] for run in transform_runs.history(storage, "t1", limit=2)] == ids[::-1][:2]


@pytest.mark.parametrize("trigger", ["", "cron", None])
def test_an_unknown_trigger_is_a_programming_error(storage, trigger):
    with pytest.raises(ValueError, match="trigger must be one of write, manual, command"):
        transform_runs.started(storage, 10, transform_id="t1", data_set="d", trigger=trigger, now=T0, **RANGE)


@pytest.mark.parametrize("outcome", ["running", "succeeded"])
def test_a_run_cannot_end_as_running_or_an_unknown_outcome(storage, outcome):
    with pytest.raises(ValueError):
        transform_runs.finished(storage, 10, start(storage), outcome, T0)
