"""The write app's relay reaches a real Celery worker process through a real broker."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backdrop.core.storage import open_storage
from backdrop.core.storage.base import TransformRequest
from backdrop.settings import Settings
from backdrop.testing import worker_node_name
from backdrop.transformers.dispatch import Relay

CELERY = str(Path(sys.executable).with_name("celery"))


def _start_worker(environ: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [CELERY, "-A", "backdrop.transformers.worker", "worker", "-l", "info", "--pool", "solo",
         "-n", worker_node_name()],
        env=environ, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def _wait_for(log: Path, text: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        time.sleep(0.3)
    return False


def _broker_environ(tmp_path: Path, broker_url: str) -> dict:
    environ = dict(os.environ)
    environ.update(
        BACKDROP_ENV="test",
        BACKDROP_DATABASE_URL=f"sqlite:///{tmp_path / 'worker.db'}",
        BACKDROP_BROKER_URL=broker_url,
        BACKDROP_BROKER_FOLDER=str(tmp_path / "broker"),
        BACKDROP_TASK_QUEUE=f"backdrop-test-{tmp_path.name}-{os.getpid()}",
    )
    return environ


def _dispatch_and_consume(tmp_path: Path, broker_url: str) -> str:
    environ = _broker_environ(tmp_path, broker_url)
    name = f"worker_probe_{os.getpid()}_{int(time.time() * 1000)}"
    moment = datetime(2014, 1, 6, tzinfo=timezone.utc)
    assert _relay(environ, TransformRequest(name, moment, moment, created_at=moment)) == 1
    log = tmp_path / "worker.log"
    worker = _start_worker(environ, log)
    try:
        found = _wait_for(log, f"transforms requested for {name}")
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    if broker_url.startswith("amqp"):
        _delete_queue(broker_url, environ["BACKDROP_TASK_QUEUE"])
    assert found, log.read_text(errors="replace")[-3000:]
    return log.read_text(errors="replace")


def _relay(environ: dict, request: TransformRequest) -> int:
    """Store `request` in the outbox of the environment's database and relay it: how many were sent."""
    storage = open_storage(environ["BACKDROP_DATABASE_URL"])
    try:
        storage.request_transforms(request)
        relay = Relay(Settings.from_env(environ), lambda: storage)
        relay._app().conf.broker_connection_timeout = 1
        relay._app().conf.broker_connection_max_retries = 0
        return relay.send_all()
    finally:
        storage.close()


def _delete_queue(broker_url: str, queue: str) -> None:
    """Leave the shared RabbitMQ as we found it: the test's own queue goes."""
    from kombu import Connection

    with Connection(broker_url) as connection:
        connection.default_channel.queue_delete(queue)


def test_entry_task_dispatched_on_the_filesystem_broker_runs_in_a_worker(tmp_path):
    output = _dispatch_and_consume(tmp_path, "filesystem://")
    assert "2014-01-06T00:00:00+00:00" in output


@pytest.mark.skipif(os.environ.get("BACKDROP_TEST_RABBITMQ") != "1",
                    reason="SKIP rabbitmq: BACKDROP_TEST_RABBITMQ is not 1 (run_tests.sh sets it when RabbitMQ is up)")
def test_entry_task_dispatched_through_rabbitmq_runs_in_a_worker(tmp_path):
    url = os.environ.get("BACKDROP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    output = _dispatch_and_consume(tmp_path, url)
    assert "2014-01-06T00:00:00+00:00" in output


def test_relaying_to_an_unreachable_broker_reports_failure_instead_of_raising(tmp_path):
    environ = _broker_environ(tmp_path, "amqp://guest:guest@127.0.0.1:1//")
    moment = datetime(2014, 1, 6, tzinfo=timezone.utc)
    assert _relay(environ, TransformRequest("nowhere", moment, moment, created_at=moment)) == 0


# ---------------------------------------------------------------------------- start-up


def _run_worker_until_exit(environ: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CELERY, "-A", "backdrop.transformers.worker", "worker", "-l", "info", "--pool", "solo"],
                          env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_a_worker_on_a_database_it_cannot_use_stops_with_one_line(tmp_path):
    (tmp_path / "worker.db").write_bytes(b"not a database, " * 512)
    result = _run_worker_until_exit(_broker_environ(tmp_path, "filesystem://"), tmp_path)
    assert result.returncode != 0
    assert _last_line(result.stderr) == "backdrop worker: cannot use the database: SQLite: file is not a database"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "broker").exists()


def test_a_worker_with_a_bad_setting_stops_with_one_line(tmp_path):
    environ = {**_broker_environ(tmp_path, "filesystem://"), "BACKDROP_ENV": "staging"}
    result = _run_worker_until_exit(environ, tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip() == ("backdrop worker: BACKDROP_ENV must be one of development, test, production, "
                                     "not 'staging'")


def test_the_broker_folders_are_made_when_the_worker_starts(tmp_path):
    environ = _broker_environ(tmp_path, "filesystem://")
    log = tmp_path / "worker.log"
    worker = _start_worker(environ, log)
    try:
        ready = _wait_for(log, "ready.")
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    assert ready, log.read_text(errors="replace")[-3000:]
    assert sorted(p.name for p in (tmp_path / "broker").iterdir()) == ["control", "out", "processed"]
