"""The outbox: no transform request is lost when the write app dies after its commit or the broker is down.

The relay is tested on its own against the real filesystem broker (what it sends, what it
marks), then end to end: real apps under gunicorn, a real Celery worker, the transform's
output observed through the read API.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from visas import RATE

from backdrop.core.data_set import Commit, WriteKind
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import TransformRequest
from backdrop.settings import Settings
from backdrop.testing import Stack, app_environment, fresh_postgres_database, start_app, start_worker, wait_until_up
from backdrop.transformers import dispatch
from backdrop.transformers.dispatch import REQUEST_ID_HEADER, Relay, RelayTimer

UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:9//"  # the discard port: nothing listens there
ADMIN = {"Authorization": "Bearer outbox-admin-token", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer visas-token", "Content-Type": "application/json"}
RECORDS = [{"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
           {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1}]
RATES = "/data/visas/digital-takeup"
NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------- the relay alone


@pytest.fixture
def storage():
    engine = open_storage("memory://")
    yield engine
    engine.close()


def _settings(tmp_path: Path, broker_url: str = "filesystem://") -> Settings:
    return Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_BROKER_URL": broker_url,
                              "BACKDROP_BROKER_FOLDER": str(tmp_path / "broker")})


def _request(day: int, request_id: str | None = None) -> TransformRequest:
    moment = datetime(2014, 1, day, tzinfo=timezone.utc)
    return TransformRequest("visas_transactions", moment, moment, created_at=NOW.replace(second=day),
                            request_id=request_id)


def _messages(tmp_path: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((tmp_path / "broker" / "out").glob("*.msg"))]


def test_the_relay_sends_everything_unsent_in_batches_with_the_request_id(tmp_path, storage, monkeypatch):
    monkeypatch.setattr(dispatch, "BATCH", 2)
    for day in (1, 2, 3, 4, 5):
        storage.request_transforms(_request(day, request_id=f"req-{day}" if day == 2 else None))
    assert Relay(_settings(tmp_path), lambda: storage).send_all() == 5
    sent = sorted((json.loads(base64.b64decode(message["body"]))[0][1][:10], message["headers"].get(REQUEST_ID_HEADER))
                  for message in _messages(tmp_path))  # the broker's files do not keep the order of sending
    assert sent == [(f"2014-01-0{day}", "req-2" if day == 2 else None) for day in (1, 2, 3, 4, 5)]
    assert storage.unsent_transform_requests(10) == [] and storage.oldest_unsent_transform_request() is None


def test_commits_on_many_threads_at_once_send_each_request_once(tmp_path, storage):
    """The write app's threads commit together: each request is sent once, none is left
    for the worker's relay, whichever thread sends it."""
    relay, threads = Relay(_settings(tmp_path), lambda: storage), 12
    start = threading.Barrier(threads)

    def write(day: int) -> None:
        storage.request_transforms(_request(day))
        start.wait()
        relay.committed(Commit("visas_transactions", WriteKind.STORE, None))

    workers = [threading.Thread(target=write, args=(day,)) for day in range(1, threads + 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    sent = sorted(json.loads(base64.b64decode(message["body"]))[0][1][:10] for message in _messages(tmp_path))
    assert sent == [f"2014-01-{day:02d}" for day in range(1, threads + 1)]
    assert storage.unsent_transform_requests(100) == []


def test_with_the_broker_down_the_relay_stops_at_the_first_failure_and_keeps_everything(tmp_path, storage):
    for day in (1, 2, 3):
        storage.request_transforms(_request(day))
    relay = Relay(_settings(tmp_path, UNREACHABLE_BROKER), lambda: storage)
    relay._app().conf.broker_connection_max_retries = 0
    assert relay.send_all() == 0
    assert [entry.attempts for entry in storage.unsent_transform_requests(10)] == [1, 0, 0]
    assert storage.oldest_unsent_transform_request() == NOW.replace(second=1)


def _wait_until(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_worker_timer_relays_at_start_and_then_every_interval(tmp_path, storage):
    storage.request_transforms(_request(1))
    timer = RelayTimer(Relay(_settings(tmp_path), lambda: storage), interval=1)
    timer.start()
    try:
        assert _wait_until(lambda: len(_messages(tmp_path)) == 1)
        storage.request_transforms(_request(2))  # written after the start-up run
        assert _wait_until(lambda: len(_messages(tmp_path)) == 2)
    finally:
        timer.stop()
    assert storage.unsent_transform_requests(10) == []


# ---------------------------------------------------------------------------- end to end


def _admin(write_url: str, path: str, body: dict) -> None:
    response = requests.post(write_url + path, data=json.dumps(body), headers=ADMIN, timeout=30)
    assert response.status_code == 201, response.text


def _configure(write_url: str) -> None:
    _admin(write_url, "/data-sets", {"data_group": "visas", "data_type": "transactions",
                                     "bearer_token": "visas-token"})
    _admin(write_url, "/data-sets", {"data_group": "visas", "data_type": "digital-takeup",
                                     "bearer_token": "visas-token", "raw_queries_allowed": True})
    _admin(write_url, "/transforms", RATE)


def _rates(read_url: str, timeout: float = 60) -> list:
    """The output's rates, polled until there are some (or the deadline passes)."""
    deadline, rates = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        response = requests.get(read_url + RATES, timeout=30)
        rates = [record["rate"] for record in response.json().get("data", [])] if response.ok else []
        if rates:
            return rates
        time.sleep(0.3)
    return rates


def _unsent(database_url: str) -> list[TransformRequest]:
    engine = open_storage(database_url)
    try:
        return engine.unsent_transform_requests(10)
    finally:
        engine.close()


@pytest.fixture
def stack():
    stack = Stack()
    yield stack
    stack.stop()


def _engines():
    yield pytest.param("sqlite", id="sqlite")
    if os.environ.get("BACKDROP_TEST_POSTGRES") == "1":
        yield pytest.param("postgres", id="postgres")
    else:
        yield pytest.param("postgres", id="postgres", marks=pytest.mark.skip(
            reason="SKIP postgres: BACKDROP_TEST_POSTGRES is not 1 (run_tests.sh sets it when PostgreSQL is up)"))


@pytest.fixture(params=list(_engines()))
def database(request, tmp_path):
    """The URL of an empty database of the engine: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox.db'}"
        return
    with fresh_postgres_database(prefix="backdrop_test_outbox") as url:
        yield url


def test_a_write_app_killed_after_its_commit_leaves_a_request_the_worker_sends_on_start_up(tmp_path, database,
                                                                                           stack):
    """BACKDROP_RELAY_AFTER_COMMIT=0 stands for the moment between commit and enqueue: the app is
    SIGKILLed there, and only then is a worker started."""
    environ = app_environment(tmp_path, database, BACKDROP_ADMIN_TOKEN="outbox-admin-token",
                              BACKDROP_RELAY_AFTER_COMMIT="0", BACKDROP_RELAY_INTERVAL="0")
    read, write = stack.add(start_app("read", environ, tmp_path)), stack.add(start_app("write", environ, tmp_path))
    wait_until_up([read, write])
    _configure(write.url)
    posted = requests.post(write.url + "/data/visas/transactions", data=json.dumps(RECORDS), headers=WRITER,
                           timeout=30)
    assert posted.status_code == 200, posted.text
    os.killpg(write.popen.pid, signal.SIGKILL)
    write.popen.wait(timeout=30)
    assert [(entry.data_set, entry.attempts) for entry in _unsent(database)] == [("visas_transactions", 0)]

    worker = stack.add(start_worker(environ, tmp_path))
    assert _rates(read.url) == [0.75], worker.log_text()
    assert _unsent(database) == []


def test_records_written_while_the_broker_is_down_are_transformed_once_it_is_reachable(tmp_path, stack):
    """The write app's broker cannot be reached: writes and the trigger answer 200 and their
    requests wait in the outbox; the worker's periodic relay, on a broker that works, sends them."""
    database = f"sqlite:///{tmp_path / 'outbox.db'}"
    environ = app_environment(tmp_path, database, BACKDROP_ADMIN_TOKEN="outbox-admin-token",
                              BACKDROP_RELAY_INTERVAL="1")
    read = stack.add(start_app("read", environ, tmp_path))
    write = stack.add(start_app("write", {**environ, "BACKDROP_BROKER_URL": UNREACHABLE_BROKER}, tmp_path))
    wait_until_up([read, write])
    _configure(write.url)
    posted = requests.post(write.url + "/data/visas/transactions", data=json.dumps(RECORDS), headers=WRITER,
                           timeout=60)
    assert posted.status_code == 200, posted.text
    trigger = requests.post(write.url + "/data/visas/transactions/transform", headers=WRITER, timeout=60,
                            data=json.dumps({"_start_at": "2014-01-06T00:00:00Z", "_end_at": "2014-01-13T00:00:00Z"}))
    assert (trigger.status_code, trigger.json()) == (200, {"status": "ok", "queued": 1})
    unsent = _unsent(database)
    assert [(entry.earliest.isoformat(), entry.attempts) for entry in unsent] == [
        ("2014-01-06T10:00:00+00:00", 2), ("2014-01-06T00:00:00+00:00", 0)]  # retried first, and stopped there

    worker = stack.add(start_worker(environ, tmp_path))
    assert _rates(read.url) == [0.75], worker.log_text()
    deadline = time.monotonic() + 30
    while _unsent(database) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _unsent(database) == []
