"""Readiness: `GET /_status/ready`, which says whether an app can do its work now.

`/_status` stays the cheap liveness check (the process serves); readiness asks what the
app depends on (the database, and for the write app the broker and the outbox), so a load
balancer or an orchestrator takes an app out of service while they fail and back once
they recover, without restarting it. Each check answers None when all is well, else one
line saying what is wrong; the route answers 200 when every check passes and 503, with
every check's answer and a message joining the failures, when one does not.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from flask import Flask

from backdrop.core.storage.base import Storage, StorageError
from backdrop.web import RETRY_AFTER_SECONDS, json_response

log = logging.getLogger(__name__)

PATH = "/_status/ready"
NEEDS_DATABASE = {"outbox"}  # checks skipped when the database check fails
NOT_CHECKED = "not checked: the database cannot be used"
Check = Callable[[], "str | None"]


def database(storage: Callable[[], Storage]) -> Check:
    """The database answers, with the schema this release expects (no migration pending)."""

    def check() -> str | None:
        try:
            pending = storage().pending_migrations()
        except StorageError as error:
            return f"the database cannot be used: {error}"
        if pending:
            return f"the database's schema has {len(pending)} migration(s) pending: run `backdrop migrate`"
        return None

    return check


def outbox(storage: Callable[[], Storage], max_age: int, now: Callable[[], datetime]) -> Check:
    """No transform request has waited in the outbox longer than `max_age` seconds.

    An old unsent request means the relays (this app's after each commit, the worker's on
    its timer) have not reached the broker for that long: the writes still store, but their
    transforms wait.
    """

    def check() -> str | None:
        try:
            oldest = storage().oldest_unsent_transform_request()
        except StorageError as error:
            return f"the outbox cannot be read: {error}"
        if oldest is None:
            return None
        waited = now() - oldest
        if waited <= timedelta(seconds=max_age):
            return None
        return (f"a transform request has waited unsent in the outbox for {int(waited.total_seconds())} s"
                f" (more than BACKDROP_OUTBOX_MAX_AGE, {max_age} s): the broker has not been reached")

    return check


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def install(app: Flask, checks: dict[str, Check]) -> None:
    """Add `GET /_status/ready` to `app`, answering the `checks` in the order given."""

    def ready():
        problems: dict[str, str | None] = {}
        answers: dict[str, str] = {}
        for name, check in checks.items():
            if name in NEEDS_DATABASE and problems.get("database"):
                answers[name] = NOT_CHECKED  # it would wait out the pool's timeout to fail the same way
                continue
            problems[name] = check()
            answers[name] = problems[name] or "ok"
        failed = [problem for problem in problems.values() if problem]
        headers = {"Cache-Control": "no-cache"}
        if not failed:
            return json_response({"status": "ok", "message": "app is ready", "checks": answers}, headers=headers)
        log.warning("not ready: %s", "; ".join(failed))
        return json_response({"status": "error", "message": "not ready: " + "; ".join(failed), "checks": answers},
                             503, {**headers, "Retry-After": RETRY_AFTER_SECONDS})

    app.add_url_rule(PATH, "ready", ready, methods=["GET"])
