"""The processes the benchmark starts: the read and write apps under gunicorn.

Apps are started exactly as an operator starts them (`./start-app.sh read|write PORT`), on
free ports, against the benchmark's own temporary database, each in its own process group
so that stopping one stops its workers and nothing else.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from backdrop import testing
from bench import procfs

ADMIN_TOKEN = "bench-admin-token"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
WORKER_TIMEOUT_SECONDS = 900


def app_environment(database_url: str, folder: Path, *, workers: int, cache_size: int,
                    extra: dict | None = None) -> dict:
    """The environment of one app: production settings, everything else inside `folder`.

    Columnar copies (issue 16) are off unless `extra` turns them on (bench/columnar.py), so
    the engine's figures stay the engine's.
    """
    return testing.app_environment(
        folder, database_url,
        BACKDROP_ENV="production",
        BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN,
        BACKDROP_QUERY_CACHE_SIZE=str(cache_size),
        BACKDROP_LOG_LEVEL="WARNING",
        WEB_CONCURRENCY=str(workers),
        # Slow queries are measured, not killed at gunicorn's default 30 s worker timeout.
        GUNICORN_CMD_ARGS=f"--timeout {WORKER_TIMEOUT_SECONDS}",
        **{"BACKDROP_COLUMNAR": "0", **(extra or {})},
    )


@dataclass
class App:
    """One running gunicorn (the master's pid is the Popen's: start-app.sh execs gunicorn)."""

    kind: str
    process: testing.Process
    workers: int
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def log_path(self) -> Path:
        return self.process.log

    def worker_pids(self) -> list[int]:
        return procfs.children(self.process.popen.pid)

    def stop(self) -> None:
        """SIGTERM to the app's own process group (master and workers), SIGKILL if it lingers."""
        self.session.close()
        self.process.stop(grace=STOP_TIMEOUT_SECONDS)


def start_app(kind: str, environ: dict, folder: Path, label: str | None = None) -> App:
    """Start an app and return once it answers /_status with every worker forked."""
    app = App(kind, testing.start_app(kind, environ, folder, name=label), int(environ.get("WEB_CONCURRENCY", "2")))
    try:
        testing.wait_until_up([app.process], timeout=START_TIMEOUT_SECONDS)
        _wait_for_workers(app)
    except BaseException:
        app.stop()
        raise
    return app


def _wait_for_workers(app: App) -> None:
    """Every gunicorn worker forked, so memory and CPU readings cover them all."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while len(app.worker_pids()) < app.workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {app.kind} app did not fork its workers; see {app.log_path}")
        time.sleep(0.2)
