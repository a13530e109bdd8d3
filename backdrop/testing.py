"""Running Backdrop's real processes for tests and benchmarks: apps, workers, databases.

The behave features, the end-to-end pytest tests and the benchmark all start the apps the
way an operator does (`start-app.sh` under gunicorn, the Celery worker command) on free
ports against throw-away databases; this module is the one place that knows how. It is
test support, not runtime: it needs the `test` extras (requests, mongomock), which no app
process loads. It also holds the one test double the project allows, mongomock standing
in for a MongoDB server where none can be had (see MongomockClient).
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
from functools import cache
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
        "BACKDROP_METRICS_FOLDER": str(folder / "metrics"),
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


def empty_postgres_database(url: str) -> None:
    """Remove every record, configuration, document, transform run and record removal (the
    schema and sequence stay)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")  # a leaked transaction fails the test, never hangs it
        exists = conn.execute("SELECT to_regclass('backdrop_records') IS NOT NULL").fetchone()[0]
        if exists:
            conn.execute("TRUNCATE backdrop_records, backdrop_data_sets, backdrop_documents")
        if conn.execute("SELECT to_regclass('backdrop_transform_outbox') IS NOT NULL").fetchone()[0]:
            conn.execute("TRUNCATE backdrop_transform_outbox")
        if conn.execute("SELECT to_regclass('backdrop_transform_runs') IS NOT NULL").fetchone()[0]:
            conn.execute("TRUNCATE backdrop_transform_runs")
        if conn.execute("SELECT to_regclass('backdrop_record_floors') IS NOT NULL").fetchone()[0]:
            conn.execute("TRUNCATE backdrop_deleted_records, backdrop_record_floors")


def terminate_backends(database_url: str) -> int:
    """End every other session on the database of `database_url` (as a restart would), waiting
    up to 5 s for each to be gone; the number ended. Needs a superuser (`postgres` in tests)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    return sum(1 for (ended,) in rows if ended)


# --- MongoDB: a fresh database on a real server, or of mongomock when there is none ----------

MONGOMOCK_HOST = "mongomock.invalid"  # the host of URLs naming a database of this process's mongomock
REPLICA_SET_HELLO = {"isWritablePrimary": True, "setName": "mongomock", "ok": 1.0}
STANDALONE_HELLO = {"isWritablePrimary": True, "ok": 1.0}


def mongo_server_url() -> str | None:
    """The real MongoDB server of this run (BACKDROP_TEST_MONGO_URL), if there is one."""
    return os.environ.get("BACKDROP_TEST_MONGO_URL") or None


def mongo_unavailable() -> str | None:
    """Why this machine cannot test the MongoDB engine (on the server, or else on mongomock)."""
    try:
        import backdrop.core.storage.mongo  # noqa: F401
        if mongo_server_url() is None:
            import mongomock  # noqa: F401
    except ImportError as error:
        return f"the engine or mongomock does not import ({error})"
    return None


@contextmanager
def fresh_mongo_database(server_url: str | None = None, prefix: str = "backdrop_test"):
    """A new, empty database for one run, dropped afterwards; yields its URL.

    On the server `server_url` (default: BACKDROP_TEST_MONGO_URL) when there is one, else
    in this process's mongomock (a `mongodb://mongomock.invalid/NAME` URL, which only
    `open_mongo_database` opens).
    """
    server_url = server_url or mongo_server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    if server_url is None:
        try:
            yield f"mongodb://{MONGOMOCK_HOST}/{name}"
        finally:
            mongomock_server().drop_database(name)
        return
    import pymongo

    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with pymongo.MongoClient(server_url, serverSelectionTimeoutMS=10_000) as client:
            client.drop_database(name)


def open_mongo_database(url: str, **options):
    """The MongoDB engine on `url`: through open_storage for a real server, or on mongomock."""
    from backdrop.core.storage import open_storage
    from backdrop.core.storage.mongo import MongoStorage

    if urlsplit(url).hostname != MONGOMOCK_HOST:
        return open_storage(url, **options)
    return MongoStorage(url, urlsplit(url).path.lstrip("/"), auto_migrate=options.get("auto_migrate", True),
                        client_factory=lambda: MongomockClient(mongomock_server()))


@cache
def mongomock_server():
    """This process's mongomock "server": every engine opened on it sees the same databases."""
    import mongomock

    return mongomock.MongoClient()


class MongomockClient:
    """mongomock's client given the two things the MongoDB engine needs and mongomock lacks.

    * `admin.command("hello")` answers as a replica-set member would (REPLICA_SET_HELLO),
      or as `hello` says (STANDALONE_HELLO: the engine must refuse to start).
    * `start_session()` gives a session whose transaction runs its callback once, directly.
      So on mongomock a batch is whole or nothing only because the engine checks and encodes
      it before writing anything (tests/storage/test_storage_saving.py: a batch that fails
      midway); that a failure during the writes is rolled back is tested only on a real
      server (tests/storage/test_mongo_engine.py, with BACKDROP_TEST_MONGO_URL).

    mongomock hands back Python values as they went in, so the engine's BSON codec options
    (64-bit integers decoded as int) are not passed on: mongomock refuses type registries.
    """

    def __init__(self, server, hello: dict | None = None) -> None:
        self._server = server
        self.admin = _MongomockAdmin(REPLICA_SET_HELLO if hello is None else hello)

    def get_database(self, name: str, codec_options=None):
        return self._server.get_database(name)

    def start_session(self) -> "_TransactionStandIn":
        return _TransactionStandIn()

    def close(self) -> None:
        """Nothing: the mock server outlives every engine opened on it, as a real one does."""


class _MongomockAdmin:
    def __init__(self, hello: dict) -> None:
        self._hello = hello

    def command(self, name: str) -> dict:
        if name != "hello":
            raise NotImplementedError(f"the mongomock stand-in answers only hello, not {name}")
        return dict(self._hello)


class _TransactionStandIn:
    """A session whose transaction just runs the callback (mongomock has no transactions).

    It is false in a boolean test: mongomock refuses any true `session` argument ("does not
    handle sessions yet"), and this one stands for no session at all.
    """

    def __enter__(self) -> "_TransactionStandIn":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __bool__(self) -> bool:
        return False

    def with_transaction(self, callback, **_options):
        return callback(self)


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


@contextmanager
def apps_on_fresh_postgres(folder: Path, **extra: str):
    """Both apps under gunicorn over a new PostgreSQL database, up and answering; yields
    (read, write, database URL) and stops them, then drops the database, afterwards."""
    with fresh_postgres_database() as url:
        environ = app_environment(folder, url, **extra)
        stack = Stack()
        try:
            read = stack.add(start_app("read", environ, folder))
            write = stack.add(start_app("write", environ, folder))
            wait_until_up([read, write])
            yield read, write, url
        finally:
            stack.stop()
