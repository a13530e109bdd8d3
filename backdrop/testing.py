"""Running Backdrop's real processes for tests and benchmarks: apps, workers, databases.

The behave features, the end-to-end pytest tests and the benchmark all start the apps the
way an operator does (`start-app.sh` under gunicorn, the Celery worker command) on free
ports against throw-away databases; this module is the one place that knows how. It is
test support, not runtime: it needs the `test` extras (requests), which no app process loads.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on right now (all bound at once, so they are distinct)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Process:
    """A started process group with its log file; `stop` ends the whole group."""

    name: str
    popen: subprocess.Popen
    log: Path
    url: str | None = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self, tail: int = 20000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else "(no log)"

    def stop(self, grace: float = 5) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def _spawn(name: str, command: list[str], environ: dict, folder: Path) -> Process:
    log = folder / f"{name}.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen(command, cwd=REPOSITORY, env=environ, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    return Process(name, popen, log)


def start_app(app: str, environ: dict, folder: Path, port: int | None = None, name: str | None = None) -> Process:
    """`start-app.sh read|write PORT` as a process group; call `wait_until_up` next."""
    port = port or free_ports(1)[0]
    process = _spawn(name or app, [str(REPOSITORY / "start-app.sh"), app, str(port)], environ, folder)
    process.url = f"http://127.0.0.1:{port}"
    return process


def worker_node_name() -> str:
    """A node name of its own: workers sharing one RabbitMQ (parallel test runs) must not share
    the exclusive remote-control queue Celery names after the node (`celery@host` by default)."""
    return f"backdrop-test-{uuid.uuid4().hex[:12]}@%h"


def start_worker(environ: dict, folder: Path, name: str = "worker") -> Process:
    celery = str(Path(sys.executable).with_name("celery"))
    command = [celery, "-A", "backdrop.transformers.worker", "worker", "-l", "info", "-n", worker_node_name(),
               "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return _spawn(name, command, environ, folder)


def wait_until_up(processes: list[Process], timeout: float = 60) -> None:
    """Wait for every app's GET /_status; RuntimeError with their logs if one never answers."""
    pending = [p for p in processes if p.url]
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for process in list(pending):
            try:
                if requests.get(process.url + "/_status", timeout=2).status_code == 200:
                    pending.remove(process)
            except requests.RequestException:
                pass
        if any(not p.alive() for p in processes):
            break
        time.sleep(0.1)
    if pending or any(not p.alive() for p in processes):
        logs = "\n".join(f"----- {p.name} -----\n{p.log_text()}" for p in processes)
        raise RuntimeError(f"processes did not come up:\n{logs}")


def wait_for_log(process: Process, text: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in process.log_text(tail=10**7):
            return True
        time.sleep(0.2)
    return False


def app_environment(folder: Path, database_url: str, **extra: str) -> dict:
    """The environment of every process of one test run: its own database, broker folder, logs."""
    environ = dict(os.environ)
    environ.update({
        "BACKDROP_ENV": "test",
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_BROKER_URL": "filesystem://",
        "BACKDROP_BROKER_FOLDER": str(folder / "broker"),
        "BACKDROP_AUDIT_LOG": str(folder / "audit.log"),
        "WEB_CONCURRENCY": "2",
    })
    environ.update(extra)
    return environ


@contextmanager
def fresh_postgres_database(server_url: str | None = None, prefix: str = "backdrop_test"):
    """A new, empty PostgreSQL database for one run, dropped afterwards; yields its URL."""
    import psycopg

    server_url = server_url or os.environ.get("BACKDROP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    """Started processes of one run, stopped together."""

    processes: list[Process] = field(default_factory=list)

    def add(self, process: Process) -> Process:
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.processes.clear()
