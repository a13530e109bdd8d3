"""The metric names, the storage timer, the transform-run counter and the log formats, in one
process (the HTTP-level behaviour is in test_observability_http.py and
transformers/test_worker_observability.py)."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from backdrop import logs, metrics, request_id
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery
from backdrop.settings import Settings, SettingsError
from backdrop.storage_timing import TimedStorage

README = Path(__file__).resolve().parent.parent / "README.md"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_readme_metrics_table_lists_exactly_the_metrics():
    section = re.search(r"^## Operating\n(.*?)^## ", README.read_text(encoding="utf-8"), re.S | re.M).group(1)
    rows = re.findall(r"^\s*\| `(backdrop_[a-z_]+)` \| (\w+) \| ([^|]*) \| ([^|]*) \|$", section, re.M)
    assert rows == [(m.name, m.kind, ", ".join(f"`{label}`" for label in m.labels), m.meaning)
                    for m in metrics.METRICS]
    assert len({m.name for m in metrics.METRICS}) == len(metrics.METRICS)


class SourceError(Exception):
    pass


@pytest.mark.parametrize("raised, outcome", [(None, "ok"), (SourceError, "failed on source data"),
                                             (RuntimeError, "error")])
def test_a_transform_run_is_counted_and_timed_by_its_outcome(raised, outcome):
    labels = {"type": "test-kind", "outcome": outcome}
    before = (_sample("backdrop_transform_runs_total", **labels),
              _sample("backdrop_transform_run_duration_seconds_count", **labels))
    with pytest.raises(raised) if raised else _nothing():
        with metrics.transform_run("test-kind", (SourceError,)):
            if raised:
                raise raised("boom")
    assert (_sample("backdrop_transform_runs_total", **labels),
            _sample("backdrop_transform_run_duration_seconds_count", **labels)) == (before[0] + 1, before[1] + 1)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_storage_timer_counts_stored_records_and_times_a_stream_until_it_is_read(tmp_path):
    storage = TimedStorage(open_storage(f"sqlite:///{tmp_path / 'timed.db'}"))
    try:
        storage.create_data_set({"name": "timed", "data_group": "t", "data_type": "timed"})
        stored = _sample("backdrop_records_stored_total", data_set="timed")
        storage.save_records("timed", [{"_id": "1", "n": 1}, {"_id": "2", "n": 2}])
        assert _sample("backdrop_records_stored_total", data_set="timed") == stored + 2
        finds = _sample("backdrop_storage_call_duration_seconds_count", kind="find")
        rows = storage.find("timed", RecordQuery())
        assert _sample("backdrop_storage_call_duration_seconds_count", kind="find") == finds  # not read yet
        assert len(list(rows)) == 2
        assert _sample("backdrop_storage_call_duration_seconds_count", kind="find") == finds + 1
    finally:
        storage.close()


def _record(message: str = "hello %s", *args) -> logging.LogRecord:
    return logging.LogRecord("backdrop.test", logging.WARNING, __file__, 1, message, args or ("world",), None)


def test_a_json_line_carries_the_bound_request_id_data_set_and_role():
    record = _record()
    token = logs.bind_data_set("visas/transactions")
    try:
        with request_id.bound("abc-123"):
            logs.ContextFilter("write").filter(record)
    finally:
        logs.unbind_data_set(token)
    line = json.loads(logs.formatter("json").format(record))
    assert {key: line[key] for key in ("level", "role", "request_id", "data_set", "logger", "message")} == {
        "level": "WARNING", "role": "write", "request_id": "abc-123", "data_set": "visas/transactions",
        "logger": "backdrop.test", "message": "hello world"}
    assert line["time"].endswith("+00:00")


def test_a_text_line_carries_the_request_id_or_a_dash():
    outside, inside = _record(), _record()
    logs.ContextFilter("read").filter(outside)
    with request_id.bound("xyz"):
        logs.ContextFilter("read").filter(inside)
    text = logs.formatter("text")
    assert text.format(outside).endswith("WARNING backdrop.test request_id=- hello world")
    assert text.format(inside).endswith("WARNING backdrop.test request_id=xyz hello world")


@pytest.mark.parametrize("environ, message", [
    ({"BACKDROP_LOG_FORMAT": "xml"}, "BACKDROP_LOG_FORMAT must be text or json, not 'xml'"),
    ({"BACKDROP_WORKER_METRICS_PORT": "70000"},
     "BACKDROP_WORKER_METRICS_PORT must be a port number (1 to 65535), not 70000"),
])
def test_bad_log_format_or_metrics_port_is_refused(environ, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value) == message
