"""Transforms end to end: real apps under gunicorn, a real Celery worker, a real broker.

Records posted to the write app reach the worker through the broker; the worker computes a
rate, writes it into the output data set, and that output's own transform publishes the
latest value — all observed only through the read API, as a dashboard would.
"""
from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import requests
from visas import RATE

from backdrop.testing import Stack, app_environment, start_app, start_worker, wait_until_up

ADMIN = {"Authorization": "Bearer e2e-admin-token", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer visas-token", "Content-Type": "application/json"}
RECORDS = [
    {"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
    {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1},
    {"_timestamp": "2014-01-14T10:00:00Z", "channel": "digital", "count": 2},
    {"_timestamp": "2014-01-15T10:00:00Z", "channel": "paper", "count": 2},
]


def _brokers():
    yield pytest.param("filesystem://", id="filesystem")
    if os.environ.get("BACKDROP_TEST_RABBITMQ") == "1":
        yield pytest.param(os.environ.get("BACKDROP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
                           id="rabbitmq")
    else:
        yield pytest.param("amqp://", id="rabbitmq", marks=pytest.mark.skip(
            reason="SKIP rabbitmq: BACKDROP_TEST_RABBITMQ is not 1 (run_tests.sh sets it when RabbitMQ is up)"))


@pytest.fixture(params=list(_brokers()))
def stack(request, tmp_path):
    queue = f"backdrop-e2e-{uuid.uuid4().hex[:12]}"
    environ = app_environment(tmp_path, f"sqlite:///{tmp_path / 'e2e.db'}", BACKDROP_BROKER_URL=request.param,
                              BACKDROP_ADMIN_TOKEN="e2e-admin-token", BACKDROP_TASK_QUEUE=queue)
    stack = Stack()
    try:
        read, write = stack.add(start_app("read", environ, tmp_path)), stack.add(start_app("write", environ, tmp_path))
        worker = stack.add(start_worker(environ, tmp_path))
        wait_until_up([read, write])
        yield read.url, write.url, worker
    finally:
        stack.stop()
        if request.param.startswith("amqp"):
            from kombu import Connection

            with Connection(request.param) as connection:
                connection.default_channel.queue_delete(queue)


def _admin(write_url: str, path: str, body: dict) -> dict:
    response = requests.post(write_url + path, data=json.dumps(body), headers=ADMIN, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def _configure(write_url: str) -> None:
    _admin(write_url, "/data-sets", {"data_group": "visas", "data_type": "transactions",
                                     "bearer_token": "visas-token"})
    _admin(write_url, "/data-sets", {"data_group": "visas", "data_type": "digital-takeup",
                                     "bearer_token": "visas-token", "raw_queries_allowed": True})
    _admin(write_url, "/dashboards", {"slug": "visas", "data_sets": ["visas_digital_takeup"]})
    _admin(write_url, "/transforms", RATE)
    _admin(write_url, "/transforms", {
        "type": "latest_dataset_value", "input": {"data-group": "*", "data-type": "digital-takeup"},
        "output": {"data-group": "aggregates", "data-type": "latest-values"}})


def _poll(url: str, want, timeout: float = 90):
    """GET url until `want(json)` is true; the last answer otherwise."""
    deadline, body = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        response = requests.get(url, timeout=30)
        body = response.json() if response.status_code == 200 else {"status": response.status_code}
        if want(body):
            return body
        time.sleep(0.5)
    return body


def test_posted_records_flow_through_the_worker_into_derived_data_sets(stack):
    read_url, write_url, worker = stack
    _configure(write_url)
    posted = requests.post(write_url + "/data/visas/transactions", data=json.dumps(RECORDS), headers=WRITER, timeout=30)
    assert posted.status_code == 200, posted.text

    rates = _poll(read_url + "/data/visas/digital-takeup?sort_by=_timestamp:ascending",
                  lambda body: len(body.get("data", [])) == 2)
    assert [(r["_timestamp"], r["rate"]) for r in rates.get("data", [])] == [
        ("2014-01-06T00:00:00+00:00", 0.75), ("2014-01-13T00:00:00+00:00", 0.5)], worker.log_text()

    latest = _poll(read_url + "/data/aggregates/latest-values?group_by=dashboard_slug&collect=digital_takeup",
                   lambda body: len(body.get("data", [])) == 1)
    assert latest.get("data") == [{"dashboard_slug": "visas", "_count": 1, "digital_takeup": [0.5],
                                   "digital_takeup:set": [0.5]}], worker.log_text()


def test_the_manual_trigger_recomputes_after_an_edit(stack):
    read_url, write_url, worker = stack
    _configure(write_url)
    requests.post(write_url + "/data/visas/transactions", data=json.dumps(RECORDS), headers=WRITER, timeout=30)
    _poll(read_url + "/data/visas/digital-takeup", lambda body: len(body.get("data", [])) == 2)
    requests.put(write_url + "/data/visas/transactions", data="[]", headers=WRITER, timeout=30)
    more = [{**record, "count": 1} for record in RECORDS]
    requests.post(write_url + "/visas_transactions", data=json.dumps(more), headers=WRITER, timeout=30)
    trigger = requests.post(write_url + "/data/visas/transactions/transform", headers=WRITER, timeout=30,
                            data=json.dumps({"_start_at": "2014-01-06T00:00:00Z", "_end_at": "2014-01-20T00:00:00Z"}))
    assert trigger.status_code == 200, trigger.text
    rates = _poll(read_url + "/data/visas/digital-takeup?sort_by=_timestamp:ascending",
                  lambda body: [r["rate"] for r in body.get("data", [])] == [0.5, 0.5])
    assert [r["rate"] for r in rates.get("data", [])] == [0.5, 0.5], worker.log_text()
