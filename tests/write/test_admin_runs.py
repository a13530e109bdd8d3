"""The run-history routes of the admin API: GET /transforms/ID/runs and `last_run`, through the write app."""
from datetime import datetime, timedelta, timezone

import pytest
from write_support import ADMIN, AUTH

from backdrop.core import transform_runs

RATE = {"type": "rate", "input": {"data-group": "dinosaur", "data-type": "droppings"},
        "query-parameters": {"period": "week", "group_by": "kind", "collect": "count:sum"},
        "options": {"matchingAttribute": "kind", "valueAttribute": "count:sum",
                    "numeratorMatcher": "big", "denominatorMatcher": ".+"},
        "output": {"data-type": "big-rate"}}
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def rate(client, dinosaurs):
    return client.post("/transforms", json=RATE, headers=ADMIN).json["id"]


def record_runs(storage, transform_id: str, count: int) -> list[dict]:
    """`count` finished runs, a minute apart; their entries newest first."""
    for minute in range(count):
        run = transform_runs.started(storage, 100, transform_id=transform_id, data_set="dinosaurs", trigger="manual",
                                     earliest=T0, latest=T0, now=T0 + timedelta(minutes=minute))
        transform_runs.finished(storage, 100, run, transform_runs.OK, T0 + timedelta(minutes=minute, seconds=1),
                                records_written=minute)
    return transform_runs.history(storage, transform_id)


def test_the_runs_of_a_transform_never_run_are_an_empty_list(client, rate):
    response = client.get(f"/transforms/{rate}/runs", headers=ADMIN)
    assert (response.status_code, response.json) == (200, [])


def test_runs_are_answered_newest_first_and_limited(client, storage, rate):
    entries = record_runs(storage, rate, 3)
    assert [entry["records_written"] for entry in entries] == [2, 1, 0]
    assert client.get(f"/transforms/{rate}/runs", headers=ADMIN).json == entries
    assert client.get(f"/transforms/{rate}/runs?limit=2", headers=ADMIN).json == entries[:2]


def test_last_run_summarises_the_newest_run_in_show_and_list(client, storage, rate):
    newest = record_runs(storage, rate, 2)[0]
    summary = {"outcome": "ok", "started_at": newest["started_at"], "ended_at": newest["ended_at"],
               "records_written": 1, "error": None}
    assert client.get(f"/transforms/{rate}", headers=ADMIN).json["last_run"] == summary
    assert [transform["last_run"] for transform in client.get("/transforms", headers=ADMIN).json] == [summary]


def test_a_transform_sent_back_with_its_last_run_is_accepted_and_last_run_is_not_stored(client, storage, rate):
    record_runs(storage, rate, 1)
    shown = client.get(f"/transforms/{rate}", headers=ADMIN).json
    response = client.put(f"/transforms/{rate}", json=shown, headers=ADMIN)
    assert response.status_code == 200, response.json
    assert "last_run" not in storage.get_document("transforms", rate)


def test_deleting_a_transform_deletes_its_runs(client, storage, rate):
    record_runs(storage, rate, 2)
    assert client.delete(f"/transforms/{rate}", headers=ADMIN).status_code == 200
    assert storage.list_runs(rate) == []
    assert client.get(f"/transforms/{rate}/runs", headers=ADMIN).status_code == 404


def test_an_unknown_transform_is_404(client, dinosaurs):
    response = client.get("/transforms/no-such-id/runs", headers=ADMIN)
    assert (response.status_code, response.json) == (404, {"status": "error",
                                                          "message": "No transform with id 'no-such-id'"})


@pytest.mark.parametrize("limit", ["0", "-1", "two", "1.5", "", "٣"])
def test_a_bad_limit_is_400_naming_it(client, rate, limit):
    response = client.get(f"/transforms/{rate}/runs?limit={limit}", headers=ADMIN)
    assert (response.status_code, response.json) == (400, {"status": "error",
                                                          "message": "limit must be a whole number of at least 1"})


def test_the_runs_need_the_admin_token(client, rate):
    assert client.get(f"/transforms/{rate}/runs").status_code == 401
    assert client.get(f"/transforms/{rate}/runs", headers=AUTH).status_code == 401
