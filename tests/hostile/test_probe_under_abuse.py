"""A probe client keeps being served while others abuse the read app (issue 14, item 5).

Against the real apps under gunicorn (start-app.sh as shipped), on SQLite and PostgreSQL:
for ABUSE_SECONDS, one thread per ABUSIVE query loops over it (a group_by over a field
with a distinct value per record, flattened over two fields, a `limit` of a billion),
while SLOW_CLIENTS connections trickle their headers a byte at a time, and a writer keeps
adding small batches (SQLite's mixed load). Meanwhile a probe asks `/_status` and a small
query in turn, each with a generous deadline (bench/abuse.py, which the benchmark also
uses for its figures). It asserts what the probe got (no more than one failure, and enough
tries to mean something) and that no abuser was answered a 500: a query too costly for the
configured limits is refused (400) or cancelled (503), never crashes a worker. It asserts
no time: the latencies are printed, and measured by `python -m bench`.

Small on purpose (RECORDS records, seconds of abuse): the issue's sizes take gigabytes.
"""
from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import requests
from hostile_data_sets import new_data_set

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ runs from the checkout
from bench import abuse  # noqa: E402

RECORDS = 5000
ABUSE_SECONDS = 5.0
SLOW_CLIENTS = 2
ABUSIVE = ("group_by=unique&collect=value:sum", "group_by=unique&group_by=kind&flatten=true",
           "limit=1000000000")
PROBE_QUERY = "limit=5"
MOST_PROBE_FAILURES = 1
FEWEST_PROBE_TRIES = 2


def _seed(url: str, headers: dict) -> None:
    for first in range(0, RECORDS, 1000):
        batch = [{"_timestamp": f"2014-{1 + n % 12:02d}-{1 + n % 28:02d}T00:00:00Z", "unique": f"u{n}",
                  "kind": f"k{n % 50}", "value": n} for n in range(first, min(first + 1000, RECORDS))]
        answer = requests.post(url, data=json.dumps(batch), headers=headers, timeout=120)
        assert answer.status_code == 200, answer.text


def _writer(url: str, headers: dict, stop: threading.Event, statuses: list) -> None:
    with requests.Session() as session:
        sent = 0
        while not stop.is_set():
            batch = [{"_timestamp": "2014-06-01T00:00:00Z", "unique": f"w{sent + i}", "kind": "written", "value": i}
                     for i in range(10)]
            statuses.append(session.post(url, data=json.dumps(batch), headers=headers, timeout=120).status_code)
            sent += 10


def test_a_probe_is_served_while_abusive_queries_and_slow_clients_run(over_http):
    with new_data_set(over_http, "abuse") as (url, headers):
        _seed(url, headers)
        stop, written = threading.Event(), []
        writer = threading.Thread(target=_writer, args=(url, headers, stop, written))
        writer.start()
        started = time.monotonic()
        try:
            outcome = abuse.abuse(over_http.apps["read"].url, "/data/hostile/abuse", ABUSIVE, PROBE_QUERY,
                                  ABUSE_SECONDS, slow_clients=SLOW_CLIENTS)
        finally:
            stop.set()
            writer.join(120)
        took = time.monotonic() - started
    summary = outcome.summary()
    print(f"\n{over_http.engine}: {took:.1f} s of abuse: {summary}; writes {sorted(set(written))} x{len(written)}")
    assert len(outcome.probe_failures) <= MOST_PROBE_FAILURES, outcome.probe_failures
    assert outcome.probe_tries >= FEWEST_PROBE_TRIES, summary
    assert sum(outcome.abuser_statuses.values()) >= len(ABUSIVE), summary
    assert not [status for status in outcome.abuser_statuses if status == 500 or isinstance(status, str)], summary
    assert outcome.slow_connections >= SLOW_CLIENTS, summary
    assert written and set(written) <= {200, 503}, written
