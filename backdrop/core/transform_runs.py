"""The transform run history: what each run of a transform did, kept in the database.

Without it, whether a transform ran, failed or wrote anything is visible only in the
worker's log (and Celery calls a run that failed on bad source data `succeeded`). Both
runners (the worker's task and `backdrop transform`) record a run here when it starts and
again when it ends; the admin API and the command line read it back. The outcome is
Backdrop's own verdict, never Celery's task state.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from backdrop.core import transforms
from backdrop.core.registry import ConfigError
from backdrop.core.storage.base import Storage, TransformRun

RUNNING = "running"
OK = "ok"
FAILED_ON_SOURCE_DATA = "failed on source data"  # the input could not be transformed: not retried
RETRYING = "retrying"  # storage or the broker failed; Celery tries the run again
ERROR = "error"  # the last retry failed too, or the run met a fault of Backdrop's own
OUTCOMES = (RUNNING, OK, FAILED_ON_SOURCE_DATA, RETRYING, ERROR)

# What started a run: a write (the after-commit hook), the manual trigger route, or `backdrop transform`.
WRITE, MANUAL, COMMAND = "write", "manual", "command"
TRIGGERS = (WRITE, MANUAL, COMMAND)

SUMMARY_FIELDS = ("outcome", "started_at", "ended_at", "records_written", "error")


def started(storage: Storage, keep: int, *, transform_id: str, data_set: str, earliest: datetime,
            latest: datetime, trigger: str, now: datetime, run_id: str | None = None) -> TransformRun:
    """Record a run as running and return it; `run_id` (a Celery task's id) makes a retry update its run.

    A retried run starts again under the same id: its entry goes back to `running`, keeping
    its place in the history, rather than adding one entry per attempt.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}, not {trigger!r}")
    run = TransformRun(id=run_id or uuid.uuid4().hex, transform_id=transform_id, data_set=data_set,
                       earliest=earliest, latest=latest, trigger=trigger, started_at=now, outcome=RUNNING)
    previous = next((old for old in storage.list_runs(transform_id) if old.id == run.id), None) if run_id else None
    if previous is not None:
        run = replace(run, started_at=previous.started_at)
    storage.save_run(run, keep)
    return run


def finished(storage: Storage, keep: int, run: TransformRun, outcome: str, now: datetime, *,
             records_written: int = 0, error: str | None = None) -> TransformRun:
    """Record how a run ended (RETRYING too: the attempt ended, the run goes on)."""
    if outcome not in OUTCOMES or outcome == RUNNING:
        raise ValueError(f"a run cannot end as {outcome!r}")
    ended = replace(run, outcome=outcome, ended_at=now, records_written=records_written, error=error)
    storage.save_run(ended, keep)
    return ended


def summary(run: TransformRun | None) -> dict | None:
    """The `last_run` of a transform as the admin API shows it (None: never run)."""
    if run is None:
        return None
    body = run.as_json()
    return {key: body[key] for key in SUMMARY_FIELDS}


def history(storage: Storage, transform_id: str, limit: int | None = None) -> list[dict]:
    """The transform's runs, newest first, as the admin API answers them."""
    return [run.as_json() for run in storage.list_runs(transform_id, limit)]


def runs_of(storage: Storage, transform_id: str, limit: int | None = None) -> list[dict]:
    """`history` of an existing transform: Missing (404) for an unknown id, even one that once ran."""
    transforms.get(storage, transform_id)
    return history(storage, transform_id, limit)


def parse_limit(text: str | None) -> int | None:
    """The `limit` query parameter of the runs route: absent, or a whole number of at least 1."""
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ConfigError("limit must be a whole number of at least 1")
    return int(text)


def last_runs(storage: Storage) -> dict[str, dict]:
    """The `last_run` summary of every transform that has run, by transform id."""
    return {transform_id: summary(run) for transform_id, run in storage.last_runs().items()}


def with_last_run(storage: Storage, transform: dict) -> dict:
    """A transform as `GET /transforms/ID` answers it: with its `last_run` (null: never run)."""
    newest = storage.list_runs(transform["id"], 1)
    return {**transform, "last_run": summary(newest[0] if newest else None)}


def with_last_runs(storage: Storage, listed: list[dict]) -> list[dict]:
    """Transforms as `GET /transforms` answers them: each with its `last_run`, in one query."""
    last = last_runs(storage)
    return [{**transform, "last_run": last.get(transform["id"])} for transform in listed]
