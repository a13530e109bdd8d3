"""The admin calls of the original's clients, transform creation rules and the audit log, over
real HTTP: both apps under gunicorn (start-app.sh) on a fresh PostgreSQL database, and the
`backdrop transform` command as an operator runs it (issue 13, items 3, 4 and 8)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backdrop.testing import Stack, app_environment, fresh_postgres_database, start_app, wait_until_up
from backdrop.testing_engines import support_for

ADMIN = {"Authorization": "Bearer audit-admin", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer audit-token", "Content-Type": "application/json"}
DATA = "/data/audited/transactions"
RATE = {"type": "rate", "input": {"data-group": "visas", "data-type": "transactions"},
        "query-parameters": {"period": "week", "group_by": "channel", "collect": "count:sum"},
        "options": {"matchingAttribute": "channel", "valueAttribute": "count:sum",
                    "numeratorMatcher": "^digital$", "denominatorMatcher": ".+"},
        "output": {"data-type": "digital-takeup"}}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """One read and one write app for the module (each test uses data sets of its own)."""
    if support_for("postgres").unavailable():
        pytest.skip(f"SKIP postgres: {support_for('postgres').unavailable()}")
    folder, stack = tmp_path_factory.mktemp("admin_http"), Stack()
    with fresh_postgres_database(prefix="backdrop_test_audit") as url:
        environ = app_environment(folder, url, BACKDROP_ADMIN_TOKEN="audit-admin")
        try:
            started = [stack.add(start_app(app, environ, folder)) for app in ("read", "write")]
            wait_until_up(started)
            yield started[0].url, started[1].url, environ
        finally:
            stack.stop()


def _send(method: str, url: str, headers: dict, body=None) -> requests.Response:
    data = None if body is None else json.dumps(body)
    return requests.request(method, url, data=data, headers=headers, timeout=30)


def _audit(environ: dict) -> list[dict]:
    path = Path(environ["BACKDROP_AUDIT_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_admin_calls_of_the_original_clients_and_transform_rules(apps):
    read_url, write_url, environ = apps
    config = {"data_group": "visas", "data_type": "transactions", "bearer_token": "audit-token",
              "raw_queries_allowed": True}
    assert _send("POST", write_url + "/data-sets", ADMIN, config).status_code == 201
    assert _send("POST", write_url + "/dashboards", ADMIN, {"slug": "visas", "data_sets": ["visas_transactions"]}
                 ).status_code == 201
    created = _send("POST", write_url + "/transforms", ADMIN, RATE)
    assert created.status_code == 201, created.text
    transform = created.json()

    duplicate = _send("POST", write_url + "/transforms", ADMIN, RATE)
    assert (duplicate.status_code, duplicate.json()["message"]) == (
        409, f"An identical transform already exists: {transform['id']}")
    refused = _send("POST", write_url + "/transforms", ADMIN, {
        **RATE, "type": "mapping", "options": {"mapping-keys": ["channel"], "mappings": {"Web": ["digital"]},
                                               "mapped-attribute": "browser-group", "value-attribute": "count"}})
    assert refused.status_code == 400 and "options.mapped-attribute 'browser-group'" in refused.json()["message"]

    transforms = _send("GET", write_url + "/data-sets/visas_transactions/transform", ADMIN)
    shown = _send("GET", write_url + f"/transforms/{transform['id']}", ADMIN).json()  # with its last_run
    assert (transforms.status_code, transforms.json()) == (200, [shown])
    dashboards = _send("GET", write_url + "/data-sets/visas_transactions/dashboard", ADMIN)
    assert [d["slug"] for d in dashboards.json()] == ["visas"]
    assert _send("GET", write_url + "/data-sets/nope/transform", ADMIN).status_code == 404
    assert _send("GET", write_url + "/data-sets/visas_transactions/dashboard", WRITER).status_code == 401

    records = [{"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
               {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1}]
    assert _send("POST", write_url + "/data/visas/transactions", WRITER, records).status_code == 200
    ran = subprocess.run([str(Path(sys.executable).with_name("backdrop")), "transform", "visas", "transactions",
                          "--start", "2014-01-06T10:00:00Z", "--end", "2014-01-07T10:00:00Z"],
                         env=environ, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    raw = requests.get(read_url + "/data/visas/digital-takeup", timeout=30)  # raw: copied from the input
    assert raw.status_code == 200, raw.text
    assert [record["rate"] for record in raw.json()["data"]] == [0.75]


def test_the_audit_log_records_what_each_request_did(apps):
    _, write_url, environ = apps
    config = {"data_group": "audited", "data_type": "transactions", "bearer_token": "audit-token"}
    assert _send("POST", write_url + "/data-sets", ADMIN, config).status_code == 201
    answers = {
        "rejected": _send("POST", write_url + DATA, WRITER, [{"$x": 1}, {"ok": 1}, {"$y": 2}]),
        "stored": _send("POST", write_url + DATA, WRITER, [{"_id": "a", "_timestamp": "2014-01-06T10:00:00Z"},
                                                           {"_id": "b", "_timestamp": "2014-01-07T10:00:00Z"}]),
        "patched": _send("PATCH", write_url + DATA + "/a", WRITER, {"size": 2}),
        "deleted": _send("DELETE", write_url + DATA + "/b", WRITER),
        "missing": _send("DELETE", write_url + DATA + "/b", WRITER),
    }
    assert [answer.status_code for answer in answers.values()] == [400, 200, 200, 200, 400]
    assert len(answers["rejected"].json()["messages"]) == 2

    lines = [line for line in _audit(environ) if line.get("data_set") == "audited_transactions"]
    summary = [(line["message"], line.get("record_id"), line.get("datapoints"), line.get("problems"))
               for line in lines]
    assert summary == [("Data set created", None, None, None),
                       ("Data append rejected", None, 3, 2),
                       ("Data append action", None, 2, None),
                       ("Data patch action", "a", None, None),
                       ("Data delete action", "b", None, None),
                       ("Data delete rejected", "b", None, 1)]
    # each entry carries the id of the request that caused it, as the answer echoed it
    for line, answer in zip(lines[1:], answers.values()):
        assert answer.headers["X-Request-Id"] and line["request_id"] == answer.headers["X-Request-Id"], line
    assert "audit-token" not in json.dumps(lines)
