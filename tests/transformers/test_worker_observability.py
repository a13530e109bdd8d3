"""The worker's metrics listener and log lines, on a real Celery worker fed by a real write app.

Tasks run in the worker's pool process while the listener answers from the main process,
so the transform counts it shows can only come through the multiprocess files.
"""
from __future__ import annotations

import json
import time
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

from backdrop.testing import Stack, app_environment, free_ports, start_app, start_worker, wait_until_up

ADMIN = {"Authorization": "Bearer worker-obs-admin", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer worker-obs-token", "Content-Type": "application/json"}
RECORDS = [{"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
           {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1}]
TRANSFORM = {"type": "rate", "input": {"data-group": "obs", "data-type": "transactions"},
             "query-parameters": {"period": "week", "group_by": "channel", "collect": "count:sum"},
             "options": {"matchingAttribute": "channel", "valueAttribute": "count:sum",
                         "numeratorMatcher": "^digital$", "denominatorMatcher": ".+"},
             "output": {"data-type": "digital-takeup"}}


def _poll(probe, timeout: float = 90):
    """`probe()` until it answers something true; its last answer otherwise."""
    deadline, answer = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        answer = probe()
        if answer:
            return answer
        time.sleep(0.3)
    return answer


def _answers(url: str) -> bool:
    """Whether the listener answers 200 yet (it starts after the worker's pool: poll it)."""
    try:
        return requests.get(url, timeout=10).ok
    except requests.RequestException:
        return False


def _runs(metrics_url: str, outcome: str) -> float:
    try:
        text = requests.get(metrics_url, timeout=10).text
    except requests.RequestException:
        return 0.0
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "backdrop_transform_runs_total"
               and sample.labels == {"type": "rate", "outcome": outcome})


def _json_lines(text: str) -> list[dict]:
    """The log's JSON lines (Celery's start-up banner is printed, not logged)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_the_worker_exports_transform_runs_and_logs_the_request_id_of_the_write(tmp_path):
    port = free_ports(1)[0]
    environ = app_environment(tmp_path, f"sqlite:///{tmp_path / 'worker.db'}",
                              BACKDROP_ADMIN_TOKEN="worker-obs-admin", BACKDROP_LOG_FORMAT="json",
                              BACKDROP_WORKER_METRICS_PORT=str(port),
                              BACKDROP_TASK_QUEUE=f"obs-{uuid.uuid4().hex[:8]}")
    metrics_url = f"http://127.0.0.1:{port}/_metrics"
    stack = Stack()
    try:
        write = stack.add(start_app("write", environ, tmp_path))
        worker = stack.add(start_worker(environ, tmp_path))
        wait_until_up([write])
        assert _poll(lambda: _answers(metrics_url)), worker.log_text()
        assert _runs(metrics_url, "ok") == 0
        assert requests.get(metrics_url.replace("/_metrics", "/other"), timeout=10).status_code == 404
        assert _poll(lambda: f"metrics at {metrics_url}" in worker.log_text(), timeout=30), worker.log_text()
        for config in ({"data_group": "obs", "data_type": "transactions", "bearer_token": "worker-obs-token"},):
            assert requests.post(write.url + "/data-sets", data=json.dumps(config), headers=ADMIN,
                                 timeout=30).status_code == 201
        assert requests.post(write.url + "/transforms", data=json.dumps(TRANSFORM), headers=ADMIN,
                             timeout=30).status_code == 201

        given = f"worker-{uuid.uuid4().hex}"
        posted = requests.post(write.url + "/data/obs/transactions", data=json.dumps(RECORDS),
                               headers={**WRITER, "Request-Id": given}, timeout=30)
        assert posted.status_code == 200, posted.text

        assert _poll(lambda: _runs(metrics_url, "ok") >= 1) >= 1, worker.log_text()
        stored = _poll(lambda: [line for line in _json_lines(worker.log_text(tail=10**8))
                                if line["request_id"] == given and " stored " in line["message"]])
        assert stored, worker.log_text()
        assert (stored[0]["role"], stored[0]["data_set"]) == ("worker", "obs_transactions")
        assert "No hostname was supplied" not in worker.log_text(tail=10**8)
    finally:
        stack.stop()
