"""Transforms requested by writes and by the transform endpoint, seen in the real filesystem broker."""
from datetime import datetime, timedelta, timezone

import pytest
from write_support import AUTH, build_app, queued_tasks, stored

from backdrop.core import registry
from backdrop.web import get_storage

URL = "/data/dinosaur/droppings"
NEED_START = {"status": "error", "message": "You must specify a _start_at timestamp"}


def post(client, body, url=URL):
    return client.post(url, json=body, headers=AUTH)


def test_a_post_requests_transforms_over_the_batchs_timestamps(client, tmp_path, dinosaurs):
    post(client, [{"_timestamp": "2014-01-02T00:00:00Z", "name": "b2"},
                  {"_timestamp": "2014-01-01T10:00:00+01:00", "name": "a1"},
                  {"name": "no-time"}])
    assert queued_tasks(tmp_path) == [{
        "task": "backdrop.entrypoint",
        "args": ["dinosaurs", "2014-01-01T09:00:00+00:00", "2014-01-02T00:00:00+00:00"],
        "kwargs": {"trigger": "write"},
    }]


def test_a_batch_without_timestamps_requests_nothing(client, tmp_path, dinosaurs):
    assert post(client, [{"name": "t-rex"}]).status_code == 200
    assert queued_tasks(tmp_path) == []


def test_an_empty_batch_requests_nothing(client, tmp_path, dinosaurs):
    post(client, [])
    assert queued_tasks(tmp_path) == []


def test_a_refused_batch_requests_nothing(client, tmp_path, dinosaurs):
    post(client, [{"_timestamp": "2014-01-02T00:00:00Z"}, {"_foo": 1}])
    assert queued_tasks(tmp_path) == []


def test_the_legacy_post_requests_transforms_too(client, tmp_path, dinosaurs):
    post(client, {"_timestamp": "2014-01-02T00:00:00Z"}, url="/dinosaurs")
    assert [task["args"] for task in queued_tasks(tmp_path)] == [
        ["dinosaurs", "2014-01-02T00:00:00+00:00", "2014-01-02T00:00:00+00:00"]]


def test_put_patch_and_delete_request_nothing(client, tmp_path, dinosaurs):
    client.put(URL, json=[], headers=AUTH)
    client.patch(f"{URL}/x", json={"_timestamp": "2014-01-02T00:00:00Z"}, headers=AUTH)
    client.delete(f"{URL}/x", headers=AUTH)
    assert queued_tasks(tmp_path) == []


def test_a_patch_of_a_timed_record_requests_transforms_over_its_old_and_new_time(client, tmp_path, dinosaurs):
    post(client, {"_id": "x", "_timestamp": "2014-03-01T00:00:00Z"})
    response = client.patch(f"{URL}/x", json={"_timestamp": "2014-01-02T00:00:00Z"}, headers=AUTH)
    assert response.status_code == 200
    assert [task["args"] for task in queued_tasks(tmp_path)][1:] == [
        ["dinosaurs", "2014-01-02T00:00:00+00:00", "2014-03-01T00:00:00+00:00"]]


def test_a_patch_of_an_untimed_record_and_a_delete_request_nothing(client, tmp_path, dinosaurs):
    post(client, {"_id": "x", "name": "t-rex"})
    assert client.patch(f"{URL}/x", json={"name": "raptor"}, headers=AUTH).status_code == 200
    assert client.delete(f"{URL}/x", headers=AUTH).status_code == 200
    assert queued_tasks(tmp_path) == []


# ---------------------------------------------------------------------------- the endpoint


def test_the_transform_endpoint_requests_the_given_range(client, tmp_path, dinosaurs):
    response = post(client, {"_start_at": "2014-12-17 00:00:00", "_end_at": "2015-03-20T00:00:00Z"},
                    url=f"{URL}/transform")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert [task["args"] for task in queued_tasks(tmp_path)] == [
        ["dinosaurs", "2014-12-17T00:00:00+00:00", "2015-03-20T00:00:00+00:00"]]
    assert [task["kwargs"] for task in queued_tasks(tmp_path)] == [{"trigger": "manual"}]


def test_a_missing_end_is_now_without_microseconds(client, tmp_path, dinosaurs):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    post(client, {"_start_at": "2014-12-17T00:00:00Z"}, url=f"{URL}/transform")
    after = datetime.now(timezone.utc)
    [task] = queued_tasks(tmp_path)
    end = datetime.fromisoformat(task["args"][2])
    assert before <= end <= after and end.microsecond == 0


def test_the_start_is_required(client, tmp_path, dinosaurs):
    response = post(client, {"_end_at": "2015-03-20T00:00:00Z"}, url=f"{URL}/transform")
    assert response.status_code == 400
    assert response.json == NEED_START
    assert queued_tasks(tmp_path) == []


def test_a_list_body_lacks_the_start(client, dinosaurs):
    response = post(client, [{"_start_at": "2014-12-17T00:00:00Z"}], url=f"{URL}/transform")
    assert response.status_code == 400
    assert response.json == NEED_START


@pytest.mark.parametrize("body, message", [
    ({"_start_at": "yesterday"}, "_start_at must be a date in the format yyyy-MM-ddT00:00:00Z"),
    ({"_start_at": 5}, "_start_at must be a date in the format yyyy-MM-ddT00:00:00Z"),
    ({"_start_at": "2014-12-17T00:00:00Z", "_end_at": "2015-02-30T00:00:00Z"},
     "2015-02-30T00:00:00Z in the _end_at field is not a valid date"),
])
def test_an_unparseable_date_is_400(client, tmp_path, dinosaurs, body, message):
    response = post(client, body, url=f"{URL}/transform")
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": message}
    assert queued_tasks(tmp_path) == []


def test_the_transform_endpoint_needs_a_body(client, dinosaurs):
    response = client.post(f"{URL}/transform", data=b"", content_type="application/json", headers=AUTH)
    assert response.status_code == 400
    assert response.json["message"] == "Expected JSON request body but received zero bytes."


def test_the_transform_endpoint_of_an_unknown_data_set_is_404(client):
    response = client.post("/data/no/such/transform", json={"_start_at": "2014-12-17T00:00:00Z"}, headers=AUTH)
    assert response.status_code == 404


def test_the_end_may_be_given_with_an_offset(client, tmp_path, dinosaurs):
    post(client, {"_start_at": "2014-12-17", "_end_at": "2014-12-18T01:00:00+0100"}, url=f"{URL}/transform")
    [task] = queued_tasks(tmp_path)
    assert datetime.fromisoformat(task["args"][2]) - datetime.fromisoformat(task["args"][1]) == timedelta(days=1)


# ---------------------------------------------------------------------------- broker down

UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:9//"  # the discard port: nothing listens there


@pytest.fixture
def brokerless(tmp_path):
    app = build_app(tmp_path, BACKDROP_BROKER_URL=UNREACHABLE_BROKER)
    storage = get_storage(app)
    registry.create(storage, {"name": "dinosaurs", "data_group": "dinosaur", "data_type": "droppings",
                              "bearer_token": AUTH["Authorization"][7:]})
    yield app.test_client(), storage
    storage.close()


def test_a_write_stands_when_the_broker_is_down(brokerless):
    client, storage = brokerless
    response = post(client, {"_timestamp": "2014-01-02T00:00:00Z", "name": "t-rex"})
    assert response.status_code == 200
    assert [r["name"] for r in stored(storage, "dinosaurs")] == ["t-rex"]


def test_the_transform_endpoint_is_503_when_the_broker_is_down(brokerless):
    client, _ = brokerless
    response = post(client, {"_start_at": "2014-12-17T00:00:00Z"}, url=f"{URL}/transform")
    assert response.status_code == 503
    assert response.json == {"status": "error",
                             "message": "Could not enqueue the transforms: the task broker is unavailable"}
