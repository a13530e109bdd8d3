"""The write app's `/_status/ready`: the database, the broker and the outbox's age, each named
when it fails, with a 503 a load balancer can act on; liveness (`/_status`) unaffected."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from write_support import AUTH, build_app

from backdrop.core.storage.base import TransformRequest
from backdrop.web import get_storage

URL = "/data/dinosaur/droppings"
CLOSED_BROKER = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1


def _stale_request(storage, age: timedelta) -> None:
    now = datetime.now(timezone.utc)
    storage.request_transforms(TransformRequest("dinosaur_droppings", now - age, now - age, created_at=now - age))


def test_a_working_app_is_ready(client):
    answer = client.get("/_status/ready")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "message": "app is ready",
                           "checks": {"database": "ok", "broker": "ok", "outbox": "ok"}}
    assert answer.headers["Cache-Control"] == "no-cache"


def test_a_request_waiting_longer_than_the_outbox_allows_is_not_ready_until_a_commit_relays_it(
        client, storage, dinosaurs):
    _stale_request(storage, timedelta(minutes=10))
    answer = client.get("/_status/ready")
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.json["checks"]["database"] == "ok" and answer.json["checks"]["broker"] == "ok"
    assert answer.json["checks"]["outbox"].startswith("a transform request has waited unsent in the outbox for 6")
    assert answer.json["message"] == "not ready: " + answer.json["checks"]["outbox"]
    assert "BACKDROP_OUTBOX_MAX_AGE, 300 s" in answer.json["message"]
    assert client.get("/_status").status_code == 200  # still alive: only readiness fails

    # the next write's relay sends the backlog, and the app is ready again
    written = client.post(URL, json={"_timestamp": "2014-01-01T00:00:00Z", "count": 1}, headers=AUTH)
    assert written.status_code == 200, written.json
    assert storage.oldest_unsent_transform_request() is None
    assert client.get("/_status/ready").status_code == 200


def test_a_request_younger_than_the_limit_is_fine(client, storage):
    _stale_request(storage, timedelta(seconds=1))
    assert client.get("/_status/ready").json["checks"]["outbox"] == "ok"


def test_the_outbox_limit_is_a_setting(tmp_path):
    app = build_app(tmp_path, BACKDROP_OUTBOX_MAX_AGE="3600")
    try:
        _stale_request(get_storage(app), timedelta(minutes=10))
        assert app.test_client().get("/_status/ready").status_code == 200
    finally:
        get_storage(app).close()


def test_a_broker_that_cannot_be_reached_is_not_ready(tmp_path):
    app = build_app(tmp_path, BACKDROP_BROKER_URL=CLOSED_BROKER)
    try:
        answer = app.test_client().get("/_status/ready")
        assert answer.status_code == 503
        assert answer.json["checks"]["database"] == "ok" and answer.json["checks"]["outbox"] == "ok"
        assert answer.json["checks"]["broker"].startswith("the task broker cannot be reached: ")
        assert "guest:guest" not in answer.get_data(as_text=True)  # no credentials in the answer
    finally:
        get_storage(app).close()
