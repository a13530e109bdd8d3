"""Metrics, request ids and log lines of both apps, seen from outside: real gunicorn apps
(two workers each, so `/_metrics` must add up every worker's counts), JSON logs on.

One stack serves the whole module; each test uses data sets and request ids of its own, so
the counts it checks are its own whatever ran before it.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from backdrop.testing import Stack, app_environment, fresh_postgres_database, start_app, wait_until_up

ADMIN_TOKEN = "observe-admin"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
RECORDS = [{"_timestamp": "2014-01-06T10:00:00Z", "kind": "a", "count": 3},
           {"_timestamp": "2014-01-07T10:00:00Z", "kind": "b", "count": 1}]


@contextmanager
def _database(folder: Path):
    """PostgreSQL when the run has it (run_tests.sh), else a SQLite file: the metrics and
    logs are the web layer's and the same on every engine."""
    if os.environ.get("BACKDROP_TEST_POSTGRES") == "1":
        with fresh_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'observe.db'}"


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("observe")
    with _database(folder) as url:
        environ = app_environment(folder, url, BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN, BACKDROP_LOG_FORMAT="json",
                                  BACKDROP_LOG_LEVEL="INFO")
        stack = Stack()
        try:
            read, write = stack.add(start_app("read", environ, folder)), stack.add(start_app("write", environ, folder))
            wait_until_up([read, write])
            yield read, write, folder
        finally:
            stack.stop()


def _data_set(write_url: str) -> tuple[str, str, dict]:
    """A new data set (name, path, writer's headers) with raw queries allowed."""
    name = f"obs_{uuid.uuid4().hex[:10]}"
    config = {"name": name, "data_group": "obs", "data_type": name.replace("_", "-"),
              "bearer_token": f"{name}-token", "raw_queries_allowed": True}
    created = requests.post(f"{write_url}/data-sets", data=json.dumps(config), headers=ADMIN, timeout=30)
    assert created.status_code == 201, created.text
    writer = {"Authorization": f"Bearer {name}-token", "Content-Type": "application/json"}
    return name, f"/data/obs/{config['data_type']}", writer


def _metrics(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of `url`'s /_metrics, keyed by (sample name, its labels)."""
    answer = requests.get(url + "/_metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _lines(process, request_id: str) -> list[dict]:
    """The JSON log lines of `process` that carry `request_id` (every line must be JSON)."""
    lines = [line for line in process.log_text(tail=10**8).splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line of {process.name} is not JSON: {line!r}")
    return [entry for entry in parsed if entry.get("request_id") == request_id]


def _access_line_and_before(process, request_id: str) -> list[dict]:
    """The lines with the id, once the access line is there: the request's last line,
    written by gunicorn after the answer was sent."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = _lines(process, request_id)
        if any(line["logger"] == "gunicorn.access" for line in found):
            return found
        time.sleep(0.1)
    pytest.fail(f"no access line with request id {request_id}:\n{process.log_text()}")


def test_requests_are_counted_by_url_rule_method_and_status(apps):
    read, write, _ = apps
    name, path, writer = _data_set(write.url)
    route = "/data/<data_group>/<data_type>"
    before = _metrics(read.url)
    assert requests.post(write.url + path, data=json.dumps(RECORDS), headers=writer, timeout=30).status_code == 200
    for _ in range(3):
        assert requests.get(read.url + path + "?group_by=kind&collect=count:sum", timeout=30).status_code == 200
    assert requests.get(read.url + "/data/obs/no-such-thing", timeout=30).status_code == 404
    after = _metrics(read.url)
    labels = {"route": route, "method": "GET"}
    assert _value(after, "backdrop_http_requests_total", status="200", **labels) - \
        _value(before, "backdrop_http_requests_total", status="200", **labels) == 3
    assert _value(after, "backdrop_http_requests_total", status="404", **labels) - \
        _value(before, "backdrop_http_requests_total", status="404", **labels) == 1
    assert _value(after, "backdrop_http_request_duration_seconds_count", status="200", **labels) - \
        _value(before, "backdrop_http_request_duration_seconds_count", status="200", **labels) == 3
    assert not any(dict(labels_).get("route", "").startswith("/data/obs/") for _, labels_ in after), \
        "routes are labelled by rule, never by raw path"
    # The first read of the new data was a miss; each gunicorn worker misses at most once.
    misses = _value(after, "backdrop_response_cache_lookups_total", result="miss") - \
        _value(before, "backdrop_response_cache_lookups_total", result="miss")
    hits = _value(after, "backdrop_response_cache_lookups_total", result="hit") - \
        _value(before, "backdrop_response_cache_lookups_total", result="hit")
    assert (misses + hits, 1 <= misses <= 2) == (3, True)
    assert _value(after, "backdrop_storage_call_duration_seconds_count", kind="aggregate") > \
        _value(before, "backdrop_storage_call_duration_seconds_count", kind="aggregate")


def test_records_stored_and_batches_rejected_are_counted_by_data_set(apps):
    _, write, _ = apps
    name, path, writer = _data_set(write.url)
    assert requests.post(write.url + path, data=json.dumps(RECORDS), headers=writer, timeout=30).status_code == 200
    refused = requests.post(write.url + path, data=json.dumps([{"_timestamp": "not a time"}]), headers=writer,
                            timeout=30)
    assert refused.status_code == 400
    samples = _metrics(write.url)
    assert _value(samples, "backdrop_records_stored_total", data_set=name) == len(RECORDS)
    assert _value(samples, "backdrop_batches_rejected_total", data_set=name) == 1
    assert _value(samples, "backdrop_storage_call_duration_seconds_count", kind="save_records") >= 1


def test_metrics_add_up_every_gunicorn_worker(apps):
    """Both workers answer and count; whichever answers /_metrics reports the sum of both."""
    read, _, folder = apps
    route = {"route": "/openapi.json", "method": "GET", "status": "200"}
    before = _value(_metrics(read.url), "backdrop_http_requests_total", **route)
    counting = folder / "metrics" / f"backdrop-read-{read.url.rsplit(':', 1)[1]}"
    sent, deadline = 0, time.monotonic() + 30
    while len(_pids_counting(counting)) < 2 and time.monotonic() < deadline:
        for _ in range(5):  # a new connection each time: the workers take turns accepting
            assert requests.get(read.url + "/openapi.json", timeout=30, headers={"Connection": "close"}).ok
            sent += 1
    assert len(_pids_counting(counting)) == 2, "both gunicorn workers should have served requests"
    for _ in range(6):  # answered by either worker: always the total
        assert _value(_metrics(read.url), "backdrop_http_requests_total", **route) - before == sent


def _pids_counting(folder: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}


@pytest.mark.parametrize("header", ["Govuk-Request-Id", "Request-Id", "X-Request-Id"])
def test_a_sane_request_id_is_echoed_and_logged(apps, header):
    read, _, _ = apps
    given = f"req-{uuid.uuid4().hex}.1:a_b"
    answer = requests.get(read.url + "/_status", headers={header: given}, timeout=30)
    assert answer.headers["X-Request-Id"] == given
    [line] = _access_line_and_before(read, given)
    assert (line["role"], line["logger"], line["level"]) == ("read", "gunicorn.access", "INFO")


@pytest.mark.parametrize("insane", ["two words", "x" * 129, "semi;colon", "caf\u00e9"])
def test_an_insane_request_id_is_replaced_by_a_generated_one(apps, insane):
    read, _, _ = apps
    answer = requests.get(read.url + "/_status", headers={"X-Request-Id": insane.encode("utf-8")}, timeout=30)
    assert answer.headers["X-Request-Id"] != insane
    assert len(answer.headers["X-Request-Id"]) == 32 and int(answer.headers["X-Request-Id"], 16) >= 0


def test_a_request_without_an_id_gets_a_new_one_and_errors_carry_it_too(apps):
    read, write, _ = apps
    ids = set()
    for url in (read.url + "/_status", read.url + "/data/a/b%00", write.url + "/data-sets", write.url + "/nowhere/x"):
        answer = requests.get(url, timeout=30)
        ids.add(answer.headers["X-Request-Id"])
    assert len(ids) == 4


def test_one_json_log_line_per_write_request_with_the_data_set_and_no_kombu_warning(apps):
    _, write, folder = apps
    name, path, writer = _data_set(write.url)
    given = f"write-{uuid.uuid4().hex}"
    broker = folder / "broker" / "out"
    queued_before = len(list(broker.glob("*"))) if broker.exists() else 0
    answer = requests.post(write.url + path, data=json.dumps(RECORDS), headers={**writer, "Request-Id": given},
                           timeout=30)
    assert (answer.status_code, answer.headers["X-Request-Id"]) == (200, given)
    assert len(list(broker.glob("*"))) == queued_before + 1, "the write should have queued its transforms"
    [line] = _access_line_and_before(write, given)
    assert line["role"] == "write" and f"POST {path}" in line["message"]
    assert set(line) >= {"time", "level", "role", "request_id", "data_set", "logger", "message"}
    assert line["data_set"] == path.removeprefix("/data/")
    assert "No hostname was supplied" not in write.log_text(tail=10**8)


def test_every_line_a_request_causes_carries_its_id_and_data_set(tmp_path):
    """A write whose transforms cannot be queued (no broker listens) logs why, inside the
    request: that line and the access line both carry the request's id."""
    environ = app_environment(tmp_path, f"sqlite:///{tmp_path / 'nobroker.db'}", BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN,
                              BACKDROP_LOG_FORMAT="json", BACKDROP_LOG_LEVEL="INFO",
                              BACKDROP_BROKER_URL="amqp://guest:guest@127.0.0.1:1//")
    stack = Stack()
    try:
        write = stack.add(start_app("write", environ, tmp_path))
        wait_until_up([write])
        name, path, writer = _data_set(write.url)
        given = f"nobroker-{uuid.uuid4().hex}"
        answer = requests.post(write.url + path, data=json.dumps(RECORDS), headers={**writer, "Request-Id": given},
                               timeout=60)
        assert answer.status_code == 200, answer.text  # the records are stored all the same
        lines = _access_line_and_before(write, given)
        failure = [line for line in lines if "could not send transforms" in line["message"]]
        assert len(failure) == 1 and failure[0]["level"] == "WARNING", lines
        assert failure[0]["data_set"] == path.removeprefix("/data/")
        assert failure[0]["logger"] == "backdrop.transformers.dispatch"
    finally:
        stack.stop()
