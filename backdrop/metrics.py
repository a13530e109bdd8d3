"""Every metric Backdrop exports, named once here, and how a process exports them.

The README's "Operating" table lists exactly METRICS (a test compares the two). The
prometheus_client objects are made on first use, not at import: prometheus_client picks
its single-process or multiprocess storage when a value is made, from
PROMETHEUS_MULTIPROC_DIR, which the gunicorn configuration and the worker's listener set
before anything is counted. Under gunicorn every worker process writes its own files in
that folder and `/_metrics` adds them up, so any worker answers for the whole app.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from backdrop.core import transform_runs

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PATH = "/_metrics"


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "counter" or "histogram"
    labels: tuple[str, ...]
    meaning: str


HTTP_REQUESTS = Metric("backdrop_http_requests_total", "counter", ("route", "method", "status"),
                       "requests answered, by URL rule (`none` when no route matched), method and status")
HTTP_DURATION = Metric("backdrop_http_request_duration_seconds", "histogram", ("route", "method", "status"),
                       "time from the request's first hook to its answer")
RECORDS_STORED = Metric("backdrop_records_stored_total", "counter", ("data_set",),
                        "records committed by the write app")
BATCHES_REJECTED = Metric("backdrop_batches_rejected_total", "counter", ("data_set",),
                          "POSTed batches refused by record validation (nothing of them stored)")
CACHE_LOOKUPS = Metric("backdrop_response_cache_lookups_total", "counter", ("result",),
                       "read app response-cache lookups, `hit` or `miss` (none while the cache is off)")
STORAGE_DURATION = Metric("backdrop_storage_call_duration_seconds", "histogram", ("kind",),
                          "time in the storage engine by call (`find`, `aggregate`, `get_data_set`, "
                          "`save_records`…), a `find` until its last record was read")
TRANSFORM_RUNS = Metric("backdrop_transform_runs_total", "counter", ("type", "outcome"),
                        "transform runs in the worker by transform type and outcome (`ok`, "
                        "`failed on source data`, `error`)")
TRANSFORM_DURATION = Metric("backdrop_transform_run_duration_seconds", "histogram", ("type", "outcome"),
                            "time of one transform run in the worker")
COLUMNAR_ANSWERS = Metric("backdrop_columnar_answers_total", "counter", ("source",),
                          "grouped and period queries of the read app answered from the process's "
                          "`columnar` copies or by the `database` (BACKDROP_COLUMNAR)")

METRICS = (HTTP_REQUESTS, HTTP_DURATION, RECORDS_STORED, BATCHES_REJECTED, CACHE_LOOKUPS, STORAGE_DURATION,
           TRANSFORM_RUNS, TRANSFORM_DURATION, COLUMNAR_ANSWERS)

_made: dict[str, object] = {}
_lock = threading.Lock()


def _instrument(metric: Metric):
    """The prometheus_client object of `metric`, made on first use (see the module's docstring)."""
    instrument = _made.get(metric.name)
    if instrument is None:
        with _lock:
            instrument = _made.get(metric.name)
            if instrument is None:
                import prometheus_client

                cls = prometheus_client.Counter if metric.kind == "counter" else prometheus_client.Histogram
                instrument = cls(metric.name, metric.meaning, metric.labels)
                _made[metric.name] = instrument
    return instrument


def count(metric: Metric, *labels: str, amount: float = 1) -> None:
    _instrument(metric).labels(*labels).inc(amount)


def observe(metric: Metric, seconds: float, *labels: str) -> None:
    _instrument(metric).labels(*labels).observe(seconds)


@contextmanager
def transform_run(transform_type: str, source_errors: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Count and time one transform run by its outcome: `ok`, `failed on source data` when
    it raises one of `source_errors`, else `error` (the task is retried when that can help)."""
    started, outcome = time.perf_counter(), transform_runs.ERROR
    try:
        yield
        outcome = transform_runs.OK
    except source_errors:
        outcome = transform_runs.FAILED_ON_SOURCE_DATA
        raise
    finally:
        count(TRANSFORM_RUNS, transform_type, outcome)
        observe(TRANSFORM_DURATION, time.perf_counter() - started, transform_type, outcome)


def exposition() -> bytes:
    """This app's metrics in Prometheus text format: every process's, under multiprocess mode."""
    import prometheus_client
    from prometheus_client import multiprocess

    for metric in METRICS:  # in one process, every family appears even before its first sample
        _instrument(metric)
    if not os.environ.get(MULTIPROC_VARIABLE):
        return prometheus_client.generate_latest()
    registry = prometheus_client.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return prometheus_client.generate_latest(registry)


def prepare_folder(folder: str | Path) -> str:
    """Empty `folder` (counts of an earlier run must not add up with ours) and make it this
    process's and its children's multiprocess folder."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    os.environ[MULTIPROC_VARIABLE] = str(folder)
    return str(folder)


def process_ended(pid: int) -> None:
    """Tell the multiprocess files that a worker process has gone (gunicorn's child_exit)."""
    if os.environ.get(MULTIPROC_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def serve(port: int, address: str = "127.0.0.1") -> threading.Thread:
    """Answer GET /_metrics on `port` from a daemon thread (the worker's listener); 404 elsewhere."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    def app(environ, start_response):
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found: metrics are at /_metrics\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
        return [exposition()]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            """No line per scrape."""

    server = make_server(address, port, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="backdrop-metrics", daemon=True)
    thread.start()
    return thread
