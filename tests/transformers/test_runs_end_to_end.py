"""The run history end to end: a real write app under gunicorn, a real Celery worker, a real broker,
on SQLite and on PostgreSQL.

Runs are observed only through the admin API, as an operator would: a run from a write is
recorded `ok` with the records it wrote, a run that fails on its source data is recorded
`failed on source data` (Celery calls that task a success), and a manual trigger's runs
carry the trigger `manual`.
"""
from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest
import requests
from click.testing import CliRunner
from visas import LATEST_VALUE, RATE

from backdrop.cli import main
from backdrop.testing import Stack, app_environment, fresh_postgres_database, start_app, start_worker, wait_until_up
from backdrop.testing_engines import support_for

README = Path(__file__).resolve().parents[2] / "README.md"

ADMIN = {"Authorization": "Bearer runs-admin-token", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer visas-token", "Content-Type": "application/json"}
RECORDS = [
    {"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
    {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1},
    {"_timestamp": "2014-01-14T10:00:00Z", "channel": "digital", "count": 2},
]


@contextmanager
def _database(engine: str, tmp_path: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
        return
    unavailable = support_for("postgres").unavailable()
    if unavailable:
        pytest.skip(f"SKIP postgres: {unavailable}")
    with fresh_postgres_database(prefix="backdrop_test_runs") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def write_url(request, tmp_path):
    with _database(request.param, tmp_path) as database:
        environ = app_environment(tmp_path, database, BACKDROP_ADMIN_TOKEN="runs-admin-token")
        stack = Stack()
        try:
            write = stack.add(start_app("write", environ, tmp_path))
            worker = stack.add(start_worker(environ, tmp_path))
            wait_until_up([write])
            yield write.url, worker, database
        finally:
            stack.stop()


def _post(url: str, body, headers=ADMIN) -> requests.Response:
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30)


def _runs_until(url: str, done, worker, timeout: float = 60) -> list[dict]:
    """GET the runs until `done(runs)`; fails with the worker's log otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        runs = requests.get(url, headers=ADMIN, timeout=30).json()
        if done(runs):
            return runs
        assert time.monotonic() < deadline, f"runs never settled: {runs}\n{worker.log_text()}"
        time.sleep(0.2)


def _settled(count: int):
    return lambda runs: len(runs) == count and all(run["outcome"] not in ("running", "retrying") for run in runs)


def test_runs_from_writes_and_the_manual_trigger_are_recorded_with_their_outcome(write_url):
    url, worker, database = write_url
    assert _post(url + "/data-sets", {"data_group": "visas", "data_type": "transactions",
                                      "bearer_token": "visas-token"}).status_code == 201
    rate, failing = (_post(url + "/transforms", body).json()["id"] for body in (RATE, LATEST_VALUE))
    listed = requests.get(url + "/transforms", headers=ADMIN, timeout=30).json()
    assert {transform["id"]: transform["last_run"] for transform in listed} == {rate: None, failing: None}

    assert _post(url + "/data/visas/transactions", RECORDS, WRITER).status_code == 200
    [ok] = _runs_until(f"{url}/transforms/{rate}/runs", _settled(1), worker)
    assert (ok["outcome"], ok["trigger"], ok["records_written"], ok["error"]) == ("ok", "write", 2, None), ok
    assert (ok["data_set"], ok["earliest"], ok["latest"]) == (
        "visas_transactions", "2014-01-06T10:00:00+00:00", "2014-01-14T10:00:00+00:00")
    assert ok["started_at"] <= ok["ended_at"]
    [failed] = _runs_until(f"{url}/transforms/{failing}/runs", _settled(1), worker)
    assert (failed["outcome"], failed["records_written"], failed["error"]) == (
        "failed on source data", 0, "latest_dataset_value cannot read data type 'transactions'"), failed

    trigger = _post(url + "/data/visas/transactions/transform",
                    {"_start_at": "2014-01-06T00:00:00Z", "_end_at": "2014-01-20T00:00:00Z"}, WRITER)
    assert trigger.status_code == 200, trigger.text
    newest, older = _runs_until(f"{url}/transforms/{rate}/runs", _settled(2), worker)
    assert (newest["trigger"], newest["outcome"], older["id"]) == ("manual", "ok", ok["id"])
    assert [run["id"] for run in requests.get(f"{url}/transforms/{rate}/runs?limit=1", headers=ADMIN,
                                              timeout=30).json()] == [newest["id"]]

    summary = {key: newest[key] for key in ("outcome", "started_at", "ended_at", "records_written", "error")}
    assert requests.get(f"{url}/transforms/{rate}", headers=ADMIN, timeout=30).json()["last_run"] == summary
    listed = {transform["id"]: transform["last_run"]
              for transform in requests.get(url + "/transforms", headers=ADMIN, timeout=30).json()}
    assert listed[rate] == summary
    assert listed[failing]["outcome"] == "failed on source data"

    assert_readme_examples(url, rate, database)


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("### Transform runs"):text.index("\n## ", text.index("### Transform runs"))]


def _unstable(run: dict) -> dict:
    """A run without what differs between two runs of the same example: ids and clock times."""
    for key in ("started_at", "ended_at"):
        datetime.fromisoformat(run[key])
    return {key: value for key, value in run.items() if key not in ("id", "transform_id", "started_at", "ended_at")}


def _status_line(line: str) -> list[str]:
    """A status line with its transform id and start time blanked out."""
    fields = line.split("\t")
    assert re.fullmatch(r"[0-9a-f]{32}", fields[0]), line
    return ["ID", fields[1], "TIME", *fields[3:]] if fields[1] != "never run" else ["ID", *fields[1:]]


def assert_readme_examples(url: str, rate: str, database: str) -> None:
    """The README's "Transform runs" examples answer as documented, ids and clock times aside."""
    section = _readme_section()
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    answer = requests.get(f"{url}/transforms/{rate}/runs?limit=2", headers=ADMIN, timeout=30).json()
    assert [_unstable(run) for run in answer] == [_unstable(run) for run in example]
    assert all(run["transform_id"] == rate for run in answer)
    status_block = re.search(r"backdrop transforms status\n(.*?)```", section, re.S).group(1)
    documented = [_status_line(line.removeprefix("# ")) for line in status_block.splitlines()]
    printed = CliRunner().invoke(main, ["transforms", "status"],
                                 env={"BACKDROP_DATABASE_URL": database, "BACKDROP_ENV": "test"})
    assert printed.exit_code == 0, printed.output
    assert sorted(map(_status_line, printed.output.splitlines())) == sorted(documented)
