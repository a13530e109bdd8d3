"""The relay: sends the outbox's transform requests to the broker, after the commit.

A write that tells a time stores its transform request (an outbox entry) in the same
transaction as its records (core/data_set.py), so nothing here can lose one: the relay
only sends unsent entries as the worker's entry task `backdrop.entrypoint(name, earliest,
latest)` and then marks them sent. It runs in two places:

* the write app, as every DataSet's commit listener: right after each commit it sends a
  small batch of unsent entries (its own and any left behind), one indexed query when none
  is pending;
* the worker, on start-up and then every BACKDROP_RELAY_INTERVAL seconds (a timer
  thread), sending everything unsent: what a write app killed after its commit, or one
  that found the broker down, left behind.

A send that fails (broker down) leaves the entry unsent and stops the batch; the write has
committed and still answers 200. Delivery is at least once: two relays may send one entry
twice, and a relay killed between sending and marking sends it again later. Transform
runs are idempotent over their time range, so a duplicate costs time, never correctness.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Callable

from celery import Celery

from backdrop.core.data_set import Commit
from backdrop.core.storage.base import Storage, TransformRequest
from backdrop.transformers.celery_app import REQUEST_ID_HEADER, ensure_broker_folders, make_celery

log = logging.getLogger(__name__)

ENTRYPOINT = "backdrop.entrypoint"
AFTER_COMMIT_BATCH = 20  # entries the write app sends after a commit: bounded, so a backlog never slows a write
BATCH = 100  # entries the worker's relay reads at a time
BROKER_CHECK_SECONDS = 3  # how long the readiness check waits for the broker


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Relay:
    """Sends outbox entries through one Celery app, built (with the broker folders) on first send."""

    def __init__(self, settings, storage: Callable[[], Storage]):
        self._settings = settings
        self._storage = storage
        self._celery: Celery | None = None
        # The write app's threads commit at once: one of them relays at a time, or each
        # would send the same unsent entries (see `committed`).
        self._sending = threading.Lock()
        self._more = False

    def _app(self) -> Celery:
        if self._celery is None:
            ensure_broker_folders(self._settings)
            self._celery = make_celery(self._settings)
        return self._celery

    def broker_problem(self) -> str | None:
        """None when the broker takes a connection now, else why not (the write app's readiness)."""
        try:
            with self._app().connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                             timeout=BROKER_CHECK_SECONDS)
        except Exception as error:  # whatever the transport raises, the answer is "not reachable"
            return f"the task broker cannot be reached: {error}"
        return None

    def committed(self, commit: Commit) -> None:
        """The write app's commit listener: send a batch of unsent entries, never failing the write.

        Nothing is sent when BACKDROP_RELAY_AFTER_COMMIT is off: the worker's relay sends
        everything then (and tests use it to stand for a process killed after its commit).
        """
        if not self._settings.relay_after_commit:
            return
        # A thread finding another one relaying leaves its entry to it, which runs a batch
        # again after its own since `_more` was set after it began: no entry waits for the
        # worker's relay, no write waits for another's sends, and no entry is sent twice.
        self._more = True
        while self._sending.acquire(blocking=False):
            try:
                self._more = False
                self.send_batch(AFTER_COMMIT_BATCH)
            except Exception:  # storage or broker: the write has committed and must stand
                log.exception("could not relay transform requests after a commit to %s", commit.data_set)
            finally:
                self._sending.release()
            if not self._more:
                return

    def send_batch(self, limit: int) -> tuple[int, bool]:
        """Send up to `limit` unsent entries, oldest first; (how many were sent, whether all were)."""
        storage = self._storage()
        entries = storage.unsent_transform_requests(limit)
        sent = []
        for entry in entries:
            if not self._send(entry):
                storage.mark_transform_requests([entry.id], sent=False, now=_now())
                break
            sent.append(entry.id)
        if sent:
            storage.mark_transform_requests(sent, sent=True, now=_now())
        return len(sent), len(sent) == len(entries)

    def send_all(self) -> int:
        """Send every unsent entry, batch by batch, until none is left or the broker fails."""
        total = 0
        while True:
            sent, complete = self.send_batch(BATCH)
            total += sent
            if not complete or sent < BATCH:
                return total

    def _send(self, entry: TransformRequest) -> bool:
        """Enqueue the entry task; False (and a log line naming the range) if the broker failed."""
        try:
            self._app().send_task(
                ENTRYPOINT, args=[entry.data_set, entry.earliest.isoformat(), entry.latest.isoformat()],
                kwargs={"trigger": entry.trigger},
                headers={REQUEST_ID_HEADER: entry.request_id} if entry.request_id else None)
            return True
        except Exception as error:  # any broker failure: the entry stays in the outbox
            log.warning("could not send transforms of %s from %s to %s to the broker (%s); the request stays"
                        " in the outbox and is sent later", entry.data_set, entry.earliest.isoformat(),
                        entry.latest.isoformat(), error)
            return False


class RelayTimer:
    """The worker's relay: everything unsent at start-up, then again every `interval` seconds.

    A daemon thread of the worker's main process, so it needs no beat process and stops
    with the worker; an interval of 0 relays at start-up only.
    """

    def __init__(self, relay: Relay, interval: float):
        self._relay = relay
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="backdrop-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                sent = self._relay.send_all()
                if sent:
                    log.info("relayed %d transform request(s) from the outbox", sent)
            except Exception:  # storage down for a moment: try again at the next tick
                log.exception("could not relay the outbox's transform requests")
            if not self._interval or self._stopped.wait(self._interval):
                return
