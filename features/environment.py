"""Behave harness: the real read and write apps, started once per run over real HTTP.

The features talk to Backdrop the way its users do: through `start-app.sh` under gunicorn,
against a throw-away database of the engine BACKDROP_TEST_ENGINE names (sqlite by default;
any engine of the table shared between processes, e.g. postgres), made by its test support
(backdrop/testing_engines.py). Storage is emptied through the admin API before every
scenario, so scenarios never see each other's data sets and never touch the database
directly.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import parse
import requests
from behave import register_type

from backdrop import testing, testing_engines
from backdrop.core.storage.engines import Capability, engine_named

FEATURES = Path(__file__).resolve().parent
REPOSITORY = FEATURES.parent
FIXTURES = FEATURES / "fixtures"
ADMIN_TOKEN = "dev-create-endpoint-token"
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
        """POST /data-sets with the features' defaults: uncapped and without a schema, so that
        fixture data is neither refused nor evicted (the original's defaults were a 5040-byte
        cap and a schema requiring `_timestamp`)."""
        config = {"name": name, "data_group": name, "data_type": name,
                  "bearer_token": f"{name}-bearer-token", "capped_size": 0, "schema": None}
        config.update(settings)
        response = self.admin("POST", "/data-sets", config)
        if response.status_code != 201:
            raise AssertionError(f"creating data set {name!r} answered {response.status_code}: {response.text}")
        return {**response.json(), "bearer_token": config["bearer_token"]}  # write-only: kept to post with

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

    # -- fixtures (features/fixtures: everything a scenario reads is in the repository) --
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


# -- processes and databases (shared with the end-to-end tests: backdrop/testing.py) -----
def _choose_database(context) -> str:
    """A fresh database of BACKDROP_TEST_ENGINE (default sqlite): any engine shared between processes."""
    context.engine = os.environ.get("BACKDROP_TEST_ENGINE", "sqlite")
    engine = engine_named(context.engine)
    if not engine.has(Capability.SHARED_BETWEEN_PROCESSES):
        raise RuntimeError(f"BACKDROP_TEST_ENGINE={engine.name!r} lives in one process;"
                           " the apps run as separate processes")
    support = testing_engines.support_for(engine.name)
    doubled = support.lacking().get(Capability.SHARED_BETWEEN_PROCESSES)
    if doubled:
        raise RuntimeError(f"BACKDROP_TEST_ENGINE={engine.name!r} {doubled}")
    database = support.database(context.tmp, "features", None)
    url = database.__enter__()
    context.database = database
    return url


def _print_logs(context) -> None:
    for process in context.stack.processes:
        sys.stderr.write(f"\n----- {process.name} app log ({process.log}) -----\n{process.log_text()}\n")


# -- behave hooks ---------------------------------------------------------------------
def before_all(context):
    context.tmp = Path(tempfile.mkdtemp(prefix="backdrop-features-"))
    context.stack = testing.Stack()
    context.database = None
    context.logs_printed = []
    try:
        database_url = _choose_database(context)
        print(f"Backdrop features: engine {context.engine} ({database_url})", flush=True)
        (context.tmp / "broker").mkdir()
        environ = testing.app_environment(context.tmp, database_url, BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN,
                                          BACKDROP_TOKEN_FAILURES="1000")  # scenarios send many wrong tokens
        read = context.stack.add(testing.start_app("read", environ, context.tmp))
        write = context.stack.add(testing.start_app("write", environ, context.tmp))
        testing.wait_until_up([read, write], timeout=START_TIMEOUT_SECONDS)
        context.api = ApiClient(read.url, write.url)
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
        if getattr(context, "stack", None):
            context.stack.stop()
        if getattr(context, "database", None):
            database, context.database = context.database, None
            database.__exit__(None, None, None)
    finally:
        if getattr(context, "tmp", None):
            shutil.rmtree(context.tmp, ignore_errors=True)
            context.tmp = None
