"""Both apps, seeded with two data sets, on every engine the catalogue can run on.

SQLite and PostgreSQL (and MongoDB on a real server, BACKDROP_TEST_MONGO_URL) run the
apps under gunicorn as an operator would; stored state is read straight from the
database by an engine opened in this process. mongomock cannot be shared between
processes, so on it both apps run in this process and requests go through Flask's test
client, given the same raw path, query and header bytes a server would pass on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import unquote_to_bytes

import pytest
from hostile_cases import ADMIN_TOKEN, AS_ADMIN, AS_TARGET, OTHER, OTHER_TOKEN, SEED, TARGET, bearer
from hostile_http import Answer, Streamed, send

from backdrop.core.storage.base import RecordQuery, Storage
from backdrop.core.storage.engines import Capability
from backdrop.testing import Stack, app_environment, start_app, wait_until_up
from backdrop.testing_engines import support_for

ENGINES = ["sqlite", "postgres", "mongo"]


@dataclass
class Served:
    """Where the apps of one engine answer: `send(app, method, path, headers, body)`."""

    engine: str
    send: Callable[..., Answer]
    storage: Storage
    over_http: bool = True
    why_not_http: str = ""
    apps: dict = field(default_factory=dict)  # over HTTP: {"read"|"write": its gunicorn Process}
    url: str = ""
    last_snapshot: dict | None = None  # the catalogue's, taken after its latest case

    def snapshot(self) -> dict:
        """Everything a hostile request could change: configurations (token hashes included),
        every data set's records, transforms and dashboards."""
        configs = sorted(self.storage.list_data_sets(), key=lambda config: config["name"])
        records = {config["name"]: sorted(self.storage.find(config["name"], RecordQuery()), key=lambda r: r["_id"])
                   for config in configs}
        documents = {kind: self.storage.list_documents(kind) for kind in ("transforms", "dashboards")}
        return json.loads(json.dumps({"configs": configs, "records": records, "documents": documents},
                                     default=str, sort_keys=True))


def _environ(folder, url: str) -> dict:
    # Many wrong tokens on purpose: the per-address limit (tests/write/test_write_guesses.py)
    # would answer 429 to the rest. No read cache: nothing can answer from before a change.
    return app_environment(folder, url, BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN, BACKDROP_TOKEN_FAILURES="0",
                           BACKDROP_QUERY_CACHE_SIZE="0")


@pytest.fixture(scope="session", params=ENGINES)
def served(request, tmp_path_factory):
    """The apps of one engine, seeded: under gunicorn, or for mongomock in this process.
    One set per engine for the whole run (pytest groups the tests by engine)."""
    engine = request.param
    support = support_for(engine)
    unavailable = support.unavailable()
    if unavailable:
        pytest.skip(f"SKIP {engine}: {unavailable}")
    in_process = support.lacking().get(Capability.SHARED_BETWEEN_PROCESSES)
    folder = tmp_path_factory.mktemp(f"hostile-{engine}")
    with support.database(folder, "hostile", None) as url:
        if in_process:
            print(f"\n{engine}: on mongomock (not a real server), both apps in this process "
                  "through Flask's test client")
            with _in_process(folder, url, support, in_process) as served:
                yield served
            return
        with _over_http(folder, url, support, engine) as served:
            yield served


class _over_http:
    def __init__(self, folder, url, support, engine):
        self.folder, self.url, self.support, self.engine = folder, url, support, engine

    def __enter__(self) -> Served:
        self.stack = Stack()
        environ = _environ(self.folder, self.url)
        try:
            apps = {app: self.stack.add(start_app(app, environ, self.folder)) for app in ("read", "write")}
            wait_until_up(list(apps.values()))
        except BaseException:
            self.stack.stop()
            raise
        self.storage = self.support.open(self.url)

        def send_to(app: str, method: str, path: str, headers: tuple = (), body=None) -> Answer:
            return send(apps[app].url, method, path, headers, body)

        served = Served(self.engine, send_to, self.storage, apps=apps, url=self.url)
        _seed(served)
        return served

    def __exit__(self, *exc):
        self.storage.close()
        self.stack.stop()


class _in_process:
    def __init__(self, folder, url, support, why_not_http: str):
        self.folder, self.url, self.support, self.why_not_http = folder, url, support, why_not_http

    def __enter__(self) -> Served:
        import backdrop.web
        from backdrop.read.app import create_app as read_app
        from backdrop.settings import Settings
        from backdrop.web import get_storage
        from backdrop.write.app import create_app as write_app

        settings = Settings.from_env(_environ(self.folder, self.url))
        # The apps open their engine through backdrop.web.open_storage (at start-up for the
        # schema check, then lazily): on mongomock, only while they start, then given theirs.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(backdrop.web, "open_storage", self.support.open)
            self.apps = {"read": read_app(settings), "write": write_app(settings)}
        for flask_app in self.apps.values():
            flask_app.extensions["backdrop_storage"] = self.support.open(self.url)
        clients = {app: flask_app.test_client() for app, flask_app in self.apps.items()}

        def send_to(app: str, method: str, path: str, headers: tuple = (), body=None) -> Answer:
            return _through_client(clients[app], method, path, headers, body)

        served = Served("mongo", send_to, get_storage(self.apps["write"]), over_http=False,
                        why_not_http=self.why_not_http)
        _seed(served)
        return served

    def __exit__(self, *exc):
        from backdrop.web import get_storage

        for app in self.apps.values():
            get_storage(app).close()


class _ChunkReader:
    """A WSGI input stream over a Streamed body, never holding more than one chunk."""

    def __init__(self, body: Streamed):
        self._chunks, self._pending = body.chunks(), b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        size = len(self._pending) if size < 0 else size
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _through_client(client, method: str, path: str, headers: tuple, body) -> Answer:
    """The WSGI environ gunicorn would build: PATH_INFO as percent-decoded bytes read as
    Latin-1, the query string as sent, header bytes as Latin-1 text."""
    raw_path, _, query = path.partition("?")
    overrides = {"PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"), "QUERY_STRING": query}
    header_list = [(name, value.decode("latin-1") if isinstance(value, bytes) else value) for name, value in headers]
    for name, value in header_list:
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
        overrides[key] = f"{overrides[key]},{value}" if key in overrides else value
    if isinstance(body, Streamed):
        overrides["wsgi.input"] = _ChunkReader(body)
        if body.length is None:
            overrides["wsgi.input_terminated"] = True
            overrides.pop("CONTENT_LENGTH", None)
        else:
            overrides["CONTENT_LENGTH"] = str(body.length)
    elif body is not None:
        overrides["CONTENT_LENGTH"] = str(len(body))
    response = client.open("/", method=method, data=None if isinstance(body, Streamed) else body,
                           environ_overrides=overrides)
    return Answer(response.status_code, response.headers.get("Content-Type", ""), response.get_data())


def _seed(served: Served) -> None:
    for config in (TARGET, OTHER):
        created = served.send("write", "POST", "/data-sets", AS_ADMIN, json.dumps(config).encode())
        assert created.status == 201, created.body
    for config, token in ((TARGET, AS_TARGET), (OTHER, (bearer(OTHER_TOKEN), AS_TARGET[1]))):
        stored = served.send("write", "POST", f"/data/{config['data_group']}/{config['data_type']}", token,
                             json.dumps(SEED).encode())
        assert stored.status == 200, stored.body


@pytest.fixture
def over_http(served):
    """The apps under gunicorn: these tests kill and load real processes."""
    if not served.over_http:
        pytest.skip(f"SKIP {served.engine}: {served.why_not_http}")
    return served
