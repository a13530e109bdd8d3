"""Enqueue the worker's entry task after a committed write.

The write app hands `Dispatcher.committed` to every DataSet it builds as the commit
listener, so transforms are requested only by the core's after-commit hook: no route can
queue them before its data is committed. Dispatch never fails a write: the records are
already stored when it runs, so a broker that cannot be reached is logged and the client
still gets its answer.
"""
from __future__ import annotations

import logging
from datetime import datetime

from celery import Celery

from backdrop.core.data_set import Commit
from backdrop.transformers.celery_app import ensure_broker_folders, make_celery

log = logging.getLogger(__name__)

ENTRYPOINT = "backdrop.entrypoint"


class Dispatcher:
    """Sends entry tasks through one Celery app, built (with the broker folders) on first send."""

    def __init__(self, settings):
        self._settings = settings
        self._celery: Celery | None = None

    def _app(self) -> Celery:
        if self._celery is None:
            ensure_broker_folders(self._settings)
            self._celery = make_celery(self._settings)
        return self._celery

    def committed(self, commit: Commit) -> None:
        """The commit listener: a write that touched known times requests their transforms.

        Stored batches and patches carry the `_timestamp` bounds of what they wrote; deletes,
        emptying and writes of records without a `_timestamp` carry none and request nothing.
        """
        if commit.bounds is not None:
            self.transforms_requested(commit.data_set, *commit.bounds)

    def transforms_requested(self, data_set_name: str, earliest: datetime, latest: datetime,
                             trigger: str = "write") -> bool:
        """Enqueue `entrypoint(name, earliest, latest, trigger=…)`; False (and a log line) if the broker failed.

        The trigger (`write`, or `manual` from the trigger route) travels with the tasks into
        the run history (core/transform_runs.py).
        """
        try:
            self._app().send_task(
                ENTRYPOINT, args=[data_set_name, earliest.isoformat(), latest.isoformat()],
                kwargs={"trigger": trigger},
            )
            return True
        except Exception:  # any broker failure: the write has committed and must stand
            log.exception("could not enqueue transforms for %s", data_set_name)
            return False
