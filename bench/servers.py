"""The processes the benchmark starts: the read and write apps under gunicorn.

Apps are started exactly as an operator starts them (`./start-app.sh read|write PORT`), on
free ports, against the benchmark's own temporary database, each in its own process group
so that stopping one stops its workers and nothing else.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import procfs

REPOSITORY = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "bench-admin-token"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
WORKER_TIMEOUT_SECONDS = 900


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(database_url: str, folder: Path, *, workers: int, cache_size: int) -> dict:
    """The environment of one app: production settings, everything else inside `folder`."""
    environ = dict(os.environ)
    environ.update({
        "BACKDROP_ENV": "production",
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BACKDROP_BROKER_URL": "filesystem://",
        "BACKDROP_BROKER_FOLDER": str(folder / "broker"),
        "BACKDROP_AUDIT_LOG": str(folder / "audit.log"),
        "BACKDROP_QUERY_CACHE_SIZE": str(cache_size),
        "BACKDROP_LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": str(workers),
        # Slow queries are measured, not killed at gunicorn's default 30 s worker timeout.
        "GUNICORN_CMD_ARGS": f"--timeout {WORKER_TIMEOUT_SECONDS}",
    })
    return environ


@dataclass
class App:
    """One running gunicorn (the master's pid is the Popen's: start-app.sh execs gunicorn)."""

    kind: str
    port: int
    process: subprocess.Popen
    log_path: Path
    workers: int
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        return procfs.children(self.process.pid)

    def stop(self) -> None:
        """SIGTERM to the app's own process group (master and workers), SIGKILL if it lingers."""
        self.session.close()
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_app(kind: str, environ: dict, folder: Path, label: str | None = None) -> App:
    """Start an app and return once it answers /_status with every worker forked."""
    port = free_port()
    log_path = folder / f"{label or kind}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(REPOSITORY / "start-app.sh"), kind, str(port)],
                                   cwd=REPOSITORY, env=environ, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    app = App(kind, port, process, log_path, int(environ.get("WEB_CONCURRENCY", "2")))
    try:
        _wait_until_up(app)
    except BaseException:
        app.stop()
        raise
    return app


def _wait_until_up(app: App) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"the {app.kind} app exited at start-up; see {app.log_path}:\n"
                               + app.log_path.read_text(errors="replace")[-2000:])
        try:
            up = requests.get(app.url + "/_status", timeout=2).status_code == 200
        except requests.RequestException:
            up = False
        if up and len(app.worker_pids()) >= app.workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the {app.kind} app did not answer within {START_TIMEOUT_SECONDS}s; "
                       f"see {app.log_path}")
