"""The Celery worker: `celery -A backdrop.transformers.worker worker -l info`.

The entry task receives what the write app dispatches after a committed batch (the data
set's name and the batch's earliest and latest `_timestamp`, as ISO strings). Running the
transforms themselves lands with the transforms issue; until then the entry task logs the
batch and returns.
"""
from __future__ import annotations

import logging

from backdrop.settings import Settings
from backdrop.transformers.celery_app import make_celery

log = logging.getLogger(__name__)

app = make_celery(Settings.from_env())


@app.task(name="backdrop.entrypoint")
def entrypoint(data_set_name: str, earliest: str, latest: str, visited: list | None = None) -> int:
    """Fan out one task per transform of the data set (none are run yet): returns how many."""
    log.info("transforms requested for %s from %s to %s", data_set_name, earliest, latest)
    return 0
