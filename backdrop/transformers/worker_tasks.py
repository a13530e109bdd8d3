"""The worker's two Celery tasks, registered on an app by `register_tasks`.

The write app enqueues `backdrop.entrypoint(name, earliest, latest)` once a batch has
committed (with `trigger="manual"` from the trigger route: the trigger travels with the tasks
into the run history); the entry task fans out one `backdrop.run_transform` per transform whose input
names the data set. Tasks are acknowledged late and retried (at most 5 times, with
exponential back-off) only when storage or the broker fails; bad source data is logged and
not retried, leaving the output as it was. Every run is recorded (core/transform_runs.py)
under its Celery task id, so a retried run updates one entry: `retrying`, then `ok`, or
`error` after the last retry. Each run's output triggers the output data
set's own transforms, carrying the data sets already visited so that a cycle stops.

The tasks reach storage through the factory they are given, never through a module-level
engine, so registering them opens nothing and tests give them any engine they like.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from celery import Celery, Task
from kombu.exceptions import OperationalError as BrokerError

from backdrop import metrics
from backdrop.core import transform_runs, transforms
from backdrop.core.storage.base import Storage, StorageError
from backdrop.transformers import runner
from backdrop.transformers.dispatch import ENTRYPOINT
from backdrop.transformers.tasks.util import instant

log = logging.getLogger(__name__)

RUN_TRANSFORM = "backdrop.run_transform"
RETRY = {"autoretry_for": (StorageError, BrokerError), "max_retries": 5, "retry_backoff": True,
         "retry_backoff_max": 60, "retry_jitter": False}


@dataclass(frozen=True)
class WorkerTasks:
    entrypoint: Task
    run_transform: Task


def register_tasks(app: Celery, storage: Callable[[], Storage], *, runs_kept: int) -> WorkerTasks:
    """Register the entry and run tasks on `app`; `storage()` gives this process's engine.

    The tasks are not shared (Celery would otherwise add them to every app created later
    in the process, bound to this app's storage). Each run is recorded in the run history,
    which keeps `runs_kept` runs per transform.
    """

    @app.task(name=ENTRYPOINT, shared=False, **RETRY)
    def entrypoint(data_set_name: str, earliest: str, latest: str, visited: list | None = None,
                   trigger: str = transform_runs.WRITE) -> int:
        """Enqueue one run per transform of the data set; returns how many were enqueued."""
        visited = list(visited or [data_set_name])
        config = storage().get_data_set(data_set_name)
        if config is None:
            log.warning("transforms requested for %s from %s to %s: no such data set", data_set_name, earliest, latest)
            return 0
        chosen = runner.planned(storage(), config, visited)
        for transform in chosen:
            app.send_task(RUN_TRANSFORM, args=[data_set_name, transform["id"], earliest, latest, visited],
                          kwargs={"trigger": trigger})
        log.info("transforms requested for %s from %s to %s: %d enqueued", data_set_name, earliest, latest,
                 len(chosen))
        return len(chosen)

    @app.task(name=RUN_TRANSFORM, shared=False, bind=True, **RETRY)
    def run_transform(task: Task, data_set_name: str, transform_id: str, earliest: str, latest: str, visited: list,
                      trigger: str = transform_runs.WRITE) -> int:
        """Run one transform, record the run, and chain to its output's transforms; returns the records stored."""
        source = storage().get_data_set(data_set_name)
        transform = storage().get_document(transforms.KIND, transform_id)
        if source is None or transform is None:
            log.warning("transform %s of %s no longer exists", transform_id, data_set_name)
            return 0
        run = transform_runs.started(storage(), runs_kept, run_id=task.request.id, transform_id=transform_id,
                                     data_set=data_set_name, earliest=instant(earliest), latest=instant(latest),
                                     trigger=trigger, now=runner.now())
        try:
            with metrics.transform_run(transform.get("type", "-"), runner.SOURCE_ERRORS):
                outcome = runner.run(storage(), source, transform, instant(earliest), instant(latest), runner.now())
            if outcome.bounds:
                # The output's own transforms, chained here rather than by a commit listener:
                # the chain carries the data sets visited so far, which is what stops a cycle.
                first, last = outcome.bounds
                app.send_task(ENTRYPOINT, args=[outcome.output, first.isoformat(), last.isoformat(),
                                                visited + [outcome.output]], kwargs={"trigger": trigger})
        except runner.SOURCE_ERRORS as error:
            detail = runner.source_problem(error)
            log.error("transform %s of %s failed on its source data, output unchanged: %s",
                      transform_id, data_set_name, detail)
            transform_runs.finished(storage(), runs_kept, run, transform_runs.FAILED_ON_SOURCE_DATA, runner.now(),
                                    error=detail)
            return 0
        except Exception as error:
            retried = isinstance(error, RETRY["autoretry_for"]) and task.request.retries < task.max_retries
            runner.record_failure(storage(), runs_kept, run,
                                  transform_runs.RETRYING if retried else transform_runs.ERROR, error)
            raise
        log.info("transform %s of %s stored %d records in %s", transform_id, data_set_name,
                 outcome.stored, outcome.output)
        transform_runs.finished(storage(), runs_kept, run, transform_runs.OK, runner.now(),
                                records_written=outcome.stored)
        return outcome.stored

    return WorkerTasks(entrypoint, run_transform)

