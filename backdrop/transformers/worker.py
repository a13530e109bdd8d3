"""The Celery worker: `celery -A backdrop.transformers.worker worker -l info`.

The write app enqueues `backdrop.entrypoint(name, earliest, latest)` once a batch has
committed; the entry task fans out one `backdrop.run_transform` per transform whose input
names the data set. Tasks are acknowledged late and retried (at most 5 times, with
exponential back-off) only when storage or the broker fails; bad source data is logged and
not retried, leaving the output as it was. Each run's output triggers the output data
set's own transforms, carrying the data sets already visited so that a cycle stops.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from kombu.exceptions import OperationalError as BrokerError

from backdrop.core import transforms
from backdrop.core.query import QueryError
from backdrop.core.records import BatchError
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import StorageError
from backdrop.settings import Settings
from backdrop.transformers import runner
from backdrop.transformers.celery_app import make_celery
from backdrop.transformers.dispatch import ENTRYPOINT
from backdrop.transformers.tasks.util import BadSourceData, instant

log = logging.getLogger(__name__)

settings = Settings.from_env()
app = make_celery(settings)
RUN_TRANSFORM = "backdrop.run_transform"
RETRY = {"autoretry_for": (StorageError, BrokerError), "max_retries": 5, "retry_backoff": True,
         "retry_backoff_max": 60, "retry_jitter": False}

_storage = None


def storage():
    """One engine per worker process, opened on first use (never at import)."""
    global _storage
    if _storage is None:
        _storage = open_storage(settings.database_url, pool_size=settings.db_pool_size,
                                auto_migrate=settings.auto_migrate)
    return _storage


@app.task(name=ENTRYPOINT, **RETRY)
def entrypoint(data_set_name: str, earliest: str, latest: str, visited: list | None = None) -> int:
    """Enqueue one run per transform of the data set; returns how many were enqueued."""
    visited = list(visited or [data_set_name])
    config = storage().get_data_set(data_set_name)
    if config is None:
        log.warning("transforms requested for %s from %s to %s: no such data set", data_set_name, earliest, latest)
        return 0
    chosen = runner.planned(storage(), config, visited)
    for transform in chosen:
        app.send_task(RUN_TRANSFORM, args=[data_set_name, transform["id"], earliest, latest, visited])
    enqueued = len(chosen)
    log.info("transforms requested for %s from %s to %s: %d enqueued", data_set_name, earliest, latest, enqueued)
    return enqueued


@app.task(name=RUN_TRANSFORM, **RETRY)
def run_transform(data_set_name: str, transform_id: str, earliest: str, latest: str, visited: list) -> int:
    """Run one transform and chain to its output's transforms; returns the records stored."""
    source = storage().get_data_set(data_set_name)
    transform = storage().get_document(transforms.KIND, transform_id)
    if source is None or transform is None:
        log.warning("transform %s of %s no longer exists", transform_id, data_set_name)
        return 0
    try:
        outcome = runner.run(storage(), source, transform, instant(earliest), instant(latest),
                             datetime.now(timezone.utc))
    except (BadSourceData, BatchError, QueryError) as error:
        detail = getattr(error, "messages", None) or str(error)
        log.error("transform %s of %s failed on its source data, output unchanged: %s",
                  transform_id, data_set_name, detail)
        return 0
    log.info("transform %s of %s stored %d records in %s", transform_id, data_set_name,
             outcome.stored, outcome.output)
    if outcome.bounds:
        first, last = outcome.bounds
        app.send_task(ENTRYPOINT, args=[outcome.output, first.isoformat(), last.isoformat(),
                                        visited + [outcome.output]])
    return outcome.stored
