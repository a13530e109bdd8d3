"""schemathesis against both apps under gunicorn, on SQLite and PostgreSQL: no answer is a 5xx
and every answer conforms to the app's own /openapi.json (status code, content type, headers,
body schema), and routes needing a token refuse requests without one.

Bounded and repeatable: a fixed number of examples per operation, derandomised, no example
database. Each generated request to a data route is sent twice: as generated (mostly data
sets that do not exist) and aimed at a real data set with a token and raw queries allowed,
so the query parser, the engines and the write paths are reached.
"""
from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backdrop.testing import Stack, app_environment, start_app, wait_until_up
from backdrop.testing_engines import support_for

EXAMPLES = 6
ADMIN_TOKEN = "fuzz-admin-token"
DATA_SET_TOKEN = "fuzz-data-set-token"
DATA_SET = {"name": "fuzzed", "data_group": "fuzz", "data_type": "things", "bearer_token": DATA_SET_TOKEN,
            "raw_queries_allowed": True}
REAL = {"data_group": "fuzz", "data_type": "things", "name": "fuzzed"}
RECORDS = [{"_id": f"r{index}", "_timestamp": f"2014-01-{index + 1:02d}T10:00:00Z", "kind": "ab"[index % 2],
            "count": index} for index in range(6)]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
BOUNDED = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                   phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def apps(request, tmp_path_factory):
    """Both apps on one new database of the engine, with one data set holding a few records."""
    support = support_for(request.param)
    unavailable = support.unavailable()
    if unavailable:
        pytest.skip(f"SKIP {request.param}: {unavailable}")
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with support.database(folder, "fuzz", None) as url:
        stack = Stack()
        try:
            # The fuzzer sends hundreds of wrong tokens on purpose: the per-address limit
            # (tested in tests/write/test_write_guesses.py) would answer 429 to the rest.
            environ = app_environment(folder, url, BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN, BACKDROP_TOKEN_FAILURES="0")
            read = stack.add(start_app("read", environ, folder))
            write = stack.add(start_app("write", environ, folder))
            wait_until_up([read, write])
            _seed(write.url)
            yield read.url, write.url
        finally:
            stack.stop()


def _seed(write_url: str) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    created = requests.post(f"{write_url}/data-sets", data=json.dumps(DATA_SET), headers=admin, timeout=30)
    assert created.status_code == 201, created.text
    writer = {"Authorization": f"Bearer {DATA_SET_TOKEN}", "Content-Type": "application/json"}
    stored = requests.post(f"{write_url}/data/fuzz/things", data=json.dumps(RECORDS), headers=writer, timeout=30)
    assert stored.status_code == 200, stored.text


@pytest.fixture
def read_schema(apps):
    return schemathesis.openapi.from_url(f"{apps[0]}/openapi.json")


@pytest.fixture
def write_schema(apps):
    return schemathesis.openapi.from_url(f"{apps[1]}/openapi.json")


def _headers(case) -> dict:
    """The token each operation's security scheme names: the admin token or the data set's."""
    schemes = {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}
    if "adminToken" in schemes:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if "dataSetToken" in schemes:
        return {"Authorization": f"Bearer {DATA_SET_TOKEN}"}
    return {}


def _call_twice(case, checks: tuple) -> None:
    """As generated, then (for a data route) aimed at the real data set."""
    headers = _headers(case)
    case.call_and_validate(headers=headers, checks=checks)
    real = {key: value for key, value in REAL.items() if key in (case.path_parameters or {})}
    if real and not case.path.startswith("/data-sets"):
        case.path_parameters = {**case.path_parameters, **real}
        case.call_and_validate(headers=headers, checks=checks)


read = schemathesis.pytest.from_fixture("read_schema")
write = schemathesis.pytest.from_fixture("write_schema")


@read.parametrize()
@BOUNDED
def test_read_app_answers_conform_and_are_never_5xx(case):
    _call_twice(case, CHECKS)


@write.parametrize()
@BOUNDED
def test_write_app_answers_conform_and_are_never_5xx(case):
    _call_twice(case, CHECKS + [ignored_auth])
