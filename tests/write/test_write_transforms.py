"""Transforms requested by writes and by the transform endpoint, seen in the outbox and in the
real filesystem broker."""
from datetime import datetime, timedelta, timezone

import pytest
from write_support import AUTH, build_app, queued_tasks, stored

from backdrop.core import registry, transforms
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
    assert sorted(task["args"] for task in queued_tasks(tmp_path)) == [  # the post's, then the patch's
        ["dinosaurs", "2014-01-02T00:00:00+00:00", "2014-03-01T00:00:00+00:00"],
        ["dinosaurs", "2014-03-01T00:00:00+00:00", "2014-03-01T00:00:00+00:00"]]


def test_a_patch_of_an_untimed_record_and_a_delete_request_nothing(client, tmp_path, dinosaurs):
    post(client, {"_id": "x", "name": "t-rex"})
    assert client.patch(f"{URL}/x", json={"name": "raptor"}, headers=AUTH).status_code == 200
    assert client.delete(f"{URL}/x", headers=AUTH).status_code == 200
    assert queued_tasks(tmp_path) == []


# ---------------------------------------------------------------------------- the endpoint

DEBUG_OF = {"type": "debug", "output": {"data-type": "debugged"}}


@pytest.fixture
def dinosaur_transforms(storage, dinosaurs):
    """Two transforms take the dinosaurs as input: one by group, one by `*`."""
    transforms.create(storage, {**DEBUG_OF, "input": {"data-group": "dinosaur", "data-type": "droppings"}})
    transforms.create(storage, {**DEBUG_OF, "input": {"data-group": "*", "data-type": "droppings"},
                                "output": {"data-type": "debugged-too"}})


def test_the_transform_endpoint_requests_the_given_range(client, tmp_path, dinosaur_transforms, storage):
    response = post(client, {"_start_at": "2014-12-17 00:00:00", "_end_at": "2015-03-20T00:00:00Z"},
                    url=f"{URL}/transform")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "queued": 2}
    assert [task["args"] for task in queued_tasks(tmp_path)] == [
        ["dinosaurs", "2014-12-17T00:00:00+00:00", "2015-03-20T00:00:00+00:00"]]
    assert storage.unsent_transform_requests(10) == []
    assert [task["kwargs"] for task in queued_tasks(tmp_path)] == [{"trigger": "manual"}]


def test_the_endpoint_of_a_data_set_without_transforms_queues_nothing(client, tmp_path, dinosaurs, storage):
    response = post(client, {"_start_at": "2014-12-17T00:00:00Z"}, url=f"{URL}/transform")
    assert (response.status_code, response.json) == (200, {"status": "ok", "queued": 0})
    assert queued_tasks(tmp_path) == [] and storage.oldest_unsent_transform_request() is None


def test_a_start_after_the_end_is_400(client, tmp_path, dinosaur_transforms):
    response = post(client, {"_start_at": "2015-01-02T00:00:00Z", "_end_at": "2015-01-01T00:00:00Z"},
                    url=f"{URL}/transform")
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": "_start_at must be before _end_at"}
    assert queued_tasks(tmp_path) == []


def test_a_start_equal_to_the_end_is_one_instant(client, tmp_path, dinosaur_transforms):
    response = post(client, {"_start_at": "2015-01-02T00:00:00Z", "_end_at": "2015-01-02T00:00:00Z"},
                    url=f"{URL}/transform")
    assert (response.status_code, response.json["queued"]) == (200, 2)
    assert len(queued_tasks(tmp_path)) == 1


def test_a_missing_end_is_now_without_microseconds(client, tmp_path, dinosaur_transforms):
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


def test_the_end_may_be_given_with_an_offset(client, tmp_path, dinosaur_transforms):
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


def _unsent(storage) -> list[tuple]:
    return [(entry.data_set, entry.earliest.isoformat(), entry.latest.isoformat(), entry.attempts)
            for entry in storage.unsent_transform_requests(10)]


def test_a_write_stands_when_the_broker_is_down_and_its_request_stays_in_the_outbox(brokerless):
    client, storage = brokerless
    response = post(client, {"_timestamp": "2014-01-02T00:00:00Z", "name": "t-rex"})
    assert response.status_code == 200
    assert [r["name"] for r in stored(storage, "dinosaurs")] == ["t-rex"]
    assert _unsent(storage) == [("dinosaurs", "2014-01-02T00:00:00+00:00", "2014-01-02T00:00:00+00:00", 1)]
    assert storage.oldest_unsent_transform_request() is not None


def test_the_transform_endpoint_answers_200_when_the_broker_is_down(brokerless):
    client, storage = brokerless
    transforms.create(storage, {**DEBUG_OF, "input": {"data-group": "dinosaur", "data-type": "droppings"}})
    response = post(client, {"_start_at": "2014-12-17T00:00:00Z", "_end_at": "2014-12-18T00:00:00Z"},
                    url=f"{URL}/transform")
    assert (response.status_code, response.json) == (200, {"status": "ok", "queued": 1})
    assert _unsent(storage) == [("dinosaurs", "2014-12-17T00:00:00+00:00", "2014-12-18T00:00:00+00:00", 1)]


def test_the_next_commit_of_an_app_reaching_the_broker_sends_what_was_left(brokerless, tmp_path):
    """A write app on the same database whose broker works sends the backlog with its own write."""
    down, storage = brokerless
    post(down, {"_timestamp": "2014-01-02T00:00:00Z"})
    post(down, {"_timestamp": "2014-01-03T00:00:00Z"})
    up = build_app(tmp_path)
    try:
        assert post(up.test_client(), {"_timestamp": "2014-01-04T00:00:00Z"}).status_code == 200
    finally:
        get_storage(up).close()
    assert sorted(task["args"][1] for task in queued_tasks(tmp_path)) == [  # files do not keep the sending order
        "2014-01-02T00:00:00+00:00", "2014-01-03T00:00:00+00:00", "2014-01-04T00:00:00+00:00"]
    assert _unsent(storage) == []


def test_with_relaying_after_commit_off_the_request_waits_in_the_outbox(tmp_path):
    app = build_app(tmp_path, BACKDROP_RELAY_AFTER_COMMIT="0")
    storage = get_storage(app)
    try:
        registry.create(storage, {"name": "dinosaurs", "data_group": "dinosaur", "data_type": "droppings",
                                  "bearer_token": AUTH["Authorization"][7:]})
        assert post(app.test_client(), {"_timestamp": "2014-01-02T00:00:00Z"}).status_code == 200
        assert queued_tasks(tmp_path) == []
        assert _unsent(storage) == [("dinosaurs", "2014-01-02T00:00:00+00:00", "2014-01-02T00:00:00+00:00", 0)]
    finally:
        storage.close()
