"""Behave harness: the real read and write apps, started once per run over real HTTP.

The features talk to Backdrop the way its users do: through `start-app.sh` under gunicorn,
against a throw-away database (SQLite file by default, a fresh PostgreSQL database with
BACKDROP_TEST_ENGINE=postgres). Storage is emptied through the admin API before every
scenario, so scenarios never see each other's data sets and never touch the database
directly.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import parse
import requests
from behave import register_type

FEATURES = Path(__file__).resolve().parent
REPOSITORY = FEATURES.parent
FIXTURES = FEATURES / "fixtures"
ADMIN_TOKEN = "dev-create-endpoint-token"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
START_TIMEOUT_SECONDS = 30
HTTP_TIMEOUT_SECONDS = 60
# Period keys the write API computes itself; fixtures' copies are dropped before posting.
DERIVED_PERIOD_KEY = re.compile(r"^_[a-z]+_start_at$")


@parse.with_pattern(r'[^"]*')
def _quoted(text: str) -> str:
    """`"{x:q}"` in a step pattern: a quoted value that cannot swallow the rest of the step."""
    return text


register_type(q=_quoted)


class ApiClient:
    """What the steps share: requests to either app, data-set creation, fixture loading."""

    def __init__(self, read_url: str, write_url: str):
        self.read_url = read_url
        self.write_url = write_url
        self.session = requests.Session()

    # -- plain HTTP ---------------------------------------------------------------
    def request(self, app: str, method: str, path: str, **kwargs) -> requests.Response:
        base = self.read_url if app == "read" else self.write_url
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, base + path, **kwargs)

    def admin(self, method: str, path: str, body=None) -> requests.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            return self.request("write", method, path, data=json.dumps(body), headers=headers)
        return self.request("write", method, path, headers=headers)

    # -- data sets and records --------------------------------------------------------
    def create_data_set(self, name: str, settings: dict) -> dict:
        """POST /data-sets with the features' defaults (scenarios.md §0, "In our features")."""
        config = {"name": name, "data_group": name, "data_type": name,
                  "bearer_token": f"{name}-bearer-token", "capped_size": 0, "schema": None}
        config.update(settings)
        response = self.admin("POST", "/data-sets", config)
        if response.status_code != 201:
            raise AssertionError(f"creating data set {name!r} answered {response.status_code}: {response.text}")
        return response.json()

    def post_records(self, config: dict, records, *, path: str | None = None) -> requests.Response:
        path = path or f"/data/{config['data_group']}/{config['data_type']}"
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {config['bearer_token']}"}
        return self.request("write", "POST", path, data=json.dumps(records), headers=headers)

    def raw_records(self, name: str) -> list:
        """Every record of a data set, read back through the read API (raw queries allowed)."""
        response = self.request("read", "GET", f"/{name}")
        if response.status_code != 200:
            raise AssertionError(f"reading back {name!r} answered {response.status_code}: {response.text}")
        return response.json()["data"]

    # -- fixtures (features/fixtures, never the shared spec folder) ----------------------
    @staticmethod
    def fixture_bytes(name: str) -> bytes:
        return fixture_bytes(name)

    @staticmethod
    def fixture_records(name: str) -> list:
        return fixture_records(name)

    def delete_every_data_set(self) -> None:
        listing = self.admin("GET", "/data-sets")
        if listing.status_code != 200:
            raise RuntimeError(f"GET /data-sets answered {listing.status_code}: {listing.text}")
        for config in listing.json():
            response = self.admin("DELETE", f"/data-sets/{config['name']}")
            if response.status_code != 200:
                raise RuntimeError(f"DELETE /data-sets/{config['name']} answered {response.status_code}")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_records(name: str) -> list:
    """A fixture's records as a client would post them: without the server-computed keys."""
    data = json.loads(fixture_bytes(name))
    records = data if isinstance(data, list) else [data]
    return [{k: v for k, v in record.items() if k != "_updated_at" and not DERIVED_PERIOD_KEY.match(k)}
            for record in records]


# -- processes, ports, databases --------------------------------------------------------
def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _create_postgres_database(server_url: str) -> tuple[str, str]:
    import psycopg

    name = f"backdrop_features_{uuid.uuid4().hex}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def _drop_postgres_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _choose_database(context, tmp: Path) -> str:
    engine = os.environ.get("BACKDROP_TEST_ENGINE", "sqlite")
    context.engine = engine
    if engine == "sqlite":
        return f"sqlite:///{tmp / 'features.db'}"
    if engine == "postgres":
        server_url = os.environ.get("BACKDROP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        name, url = _create_postgres_database(server_url)
        context.postgres = (server_url, name)
        return url
    raise RuntimeError(f"BACKDROP_TEST_ENGINE must be sqlite or postgres, not {engine!r}")


def _app_environment(tmp: Path, database_url: str) -> dict:
    environ = dict(os.environ)
    environ.update({
        "BACKDROP_ENV": "test",
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BACKDROP_BROKER_URL": "filesystem://",
        "BACKDROP_BROKER_FOLDER": str(tmp / "broker"),
        "BACKDROP_AUDIT_LOG": str(tmp / "audit.log"),
        "WEB_CONCURRENCY": "2",
    })
    return environ


def _start_app(context, app: str, port: int, environ: dict) -> None:
    log_path = context.tmp / f"{app}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(REPOSITORY / "start-app.sh"), app, str(port)], cwd=REPOSITORY,
                                   env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    context.processes.append((app, process, log_path))


def _wait_until_up(context, urls: dict) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        for app, url in list(pending.items()):
            try:
                if requests.get(url + "/_status", timeout=2).status_code == 200:
                    del pending[app]
            except requests.RequestException:
                pass
        if any(process.poll() is not None for _, process, _ in context.processes):
            break
        time.sleep(0.1)
    if pending:
        _print_logs(context)
        raise RuntimeError(f"the {', '.join(pending)} app(s) did not answer GET /_status")


def _print_logs(context) -> None:
    for app, _, log_path in context.processes:
        text = log_path.read_text(errors="replace") if log_path.exists() else "(no log)"
        sys.stderr.write(f"\n----- {app} app log ({log_path}) -----\n{text[-20000:]}\n")


def _stop_apps(context) -> None:
    for _, process, _ in context.processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for _, process, _ in context.processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- behave hooks ---------------------------------------------------------------------
def before_all(context):
    context.tmp = Path(tempfile.mkdtemp(prefix="backdrop-features-"))
    context.processes = []
    context.postgres = None
    context.logs_printed = []
    try:
        database_url = _choose_database(context, context.tmp)
        print(f"Backdrop features: engine {context.engine} ({database_url})", flush=True)
        (context.tmp / "broker").mkdir()
        read_port, write_port = _free_ports(2)
        environ = _app_environment(context.tmp, database_url)
        _start_app(context, "read", read_port, environ)
        _start_app(context, "write", write_port, environ)
        urls = {"read": f"http://127.0.0.1:{read_port}", "write": f"http://127.0.0.1:{write_port}"}
        _wait_until_up(context, urls)
        context.api = ApiClient(urls["read"], urls["write"])
    except BaseException:
        after_all(context)
        raise


def before_scenario(context, scenario):
    context.response = None
    context.headers = {}
    context.data_sets = {}
    context.last_data_set = None
    try:
        context.api.delete_every_data_set()
    except Exception:
        if not context.logs_printed:
            context.logs_printed.append(True)   # once per run, not once per scenario
            _print_logs(context)
        raise


def after_all(context):
    """Stop what before_all started; safe to call twice (before_all calls it on failure)."""
    try:
        _stop_apps(context)
        context.processes = []
        if getattr(context, "postgres", None):
            postgres, context.postgres = context.postgres, None
            _drop_postgres_database(*postgres)
    finally:
        if getattr(context, "tmp", None):
            shutil.rmtree(context.tmp, ignore_errors=True)
            context.tmp = None
