"""The data routes: finding the data set, the processing order, and the error answers."""
from __future__ import annotations

import pytest

DINOSAURS = [
    {"_timestamp": "2013-03-20T10:10:10+00:00", "name": "t-rex", "size": "big", "eats_people": True},
    {"_timestamp": "2013-03-20T10:10:11+00:00", "name": "sarcosuchus", "size": "big", "eats_people": True},
    {"_timestamp": "2013-03-20T10:10:12+00:00", "name": "pterodactyl", "size": "medium", "eats_people": True},
    {"_timestamp": "2013-03-20T10:10:13+00:00", "name": "microraptor", "size": "small", "eats_people": False},
]
CORS = "Access-Control-Allow-Origin"


@pytest.fixture
def rawr(add_data_set, add_records):
    add_data_set("rawr", data_group="dinosaurs", data_type="taxonomy", raw_queries_allowed=True)
    add_records("rawr", DINOSAURS)


def error(response) -> str:
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_json()["status"] == "error"
    return response.get_json()["message"]


# --- finding the data set ------------------------------------------------------------------


def test_legacy_route_answers_every_record_of_a_raw_data_set(client, rawr):
    response = client.get("/rawr")
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == 4


def test_group_and_type_route_applies_the_query(client, rawr):
    response = client.get("/data/dinosaurs/taxonomy?filter_by=eats_people:true")
    assert response.status_code == 200
    assert sorted(r["name"] for r in response.get_json()["data"]) == ["pterodactyl", "sarcosuchus", "t-rex"]


def test_grouped_query_is_computed_and_shaped(client, rawr):
    response = client.get("/rawr?group_by=size")
    assert response.get_json()["data"] == [
        {"size": "big", "_count": 2},
        {"size": "medium", "_count": 1},
        {"size": "small", "_count": 1},
    ]


def test_period_results_carry_utc_dates_with_an_explicit_offset(client, rawr):
    response = client.get("/rawr?period=day&start_at=2013-03-20T01:00:00%2B01:00&end_at=2013-03-21T00:00:00Z")
    assert response.get_json()["data"] == [
        {"_start_at": "2013-03-20T00:00:00+00:00", "_end_at": "2013-03-21T00:00:00+00:00", "_count": 4}
    ]


def test_raw_records_carry_utc_timestamps(client, add_data_set, add_records):
    add_data_set("zoned", raw_queries_allowed=True)
    add_records("zoned", [{"_timestamp": "2014-04-29T02:00:00+01:00"}])
    assert client.get("/zoned").get_json()["data"][0]["_timestamp"] == "2014-04-29T01:00:00+00:00"


@pytest.mark.parametrize("path", ["/data/dinosaurs/unknown", "/data/unknown/taxonomy", "/nothing", "/favicon.ico", "/data"])
def test_unknown_data_set_is_404_data_set_not_found_with_cors(client, rawr, path):
    response = client.get(path)
    assert response.status_code == 404
    assert error(response) == "data_set not found"
    assert response.headers[CORS] == "*"


@pytest.mark.parametrize("path", ["/hidden", "/data/secret/things"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_non_queryable_data_set_is_indistinguishable_from_a_missing_one(client, add_data_set, path, method):
    add_data_set("hidden", data_group="secret", data_type="things", queryable=False, raw_queries_allowed=True)
    response = client.open(path, method=method)
    assert response.status_code == 404
    assert response.headers[CORS] == "*"
    if method == "GET":
        assert error(response) == "data_set not found"


@pytest.mark.parametrize("path", ["/data/a", "/data/a/b/c"])
def test_paths_of_other_shapes_are_404_not_found_with_cors(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert error(response) == "Not Found"
    assert response.headers[CORS] == "*"


@pytest.mark.parametrize("method, path", [("POST", "/rawr"), ("PUT", "/data/dinosaurs/taxonomy"), ("DELETE", "/_status")])
def test_wrong_method_is_405_json_with_cors(client, rawr, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert error(response) == "Method Not Allowed"
    assert response.headers[CORS] == "*"


# --- processing order ------------------------------------------------------------------


def test_invalid_query_is_400_with_the_validation_message(client, rawr):
    response = client.get("/rawr?callback=x")
    assert response.status_code == 400
    assert error(response) == "An unrecognised parameter was provided"
    assert response.headers[CORS] == "*"


def test_raw_query_on_a_protected_data_set_is_400(client, add_data_set):
    add_data_set("some_data_set", data_group="group", data_type="type")
    response = client.get("/data/group/type?filter_by=name:foo")
    assert response.status_code == 400
    assert error(response) == "querying for raw data is not allowed"


def test_query_refused_while_running_is_400(client, rawr):
    response = client.get("/rawr?group_by=size&sort_by=nope:ascending")
    assert response.status_code == 400
    assert "nope" in error(response)
    assert response.headers[CORS] == "*"


def test_unknown_data_set_is_reported_before_an_invalid_query(client):
    assert error(client.get("/nothing?callback=x")) == "data_set not found"


# --- OPTIONS and HEAD ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/rawr", "/data/dinosaurs/taxonomy"])
def test_options_is_an_empty_cors_preflight(client, rawr, path):
    response = client.options(path)
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers[CORS] == "*"
    assert response.headers["Access-Control-Max-Age"] == "86400"
    assert response.headers["Access-Control-Allow-Headers"] == "cache-control, govuk-request-id, request-id"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_options_does_not_validate_the_query(client, rawr):
    assert client.options("/rawr?callback=x").status_code == 200


def test_head_is_get_without_a_body(client, rawr):
    get = client.get("/rawr?group_by=size")
    head = client.head("/rawr?group_by=size")
    assert head.status_code == 200
    assert head.data == b""
    for name in ("Content-Type", "Cache-Control", "ETag", "Content-Length"):
        assert head.headers[name] == get.headers[name]


# --- unexpected failures ---------------------------------------------------------------


def test_engine_failure_is_500_json_with_cors(client, rawr, storage, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "find", broken)
    response = client.get("/rawr")
    assert response.status_code == 500
    assert error(response) == "Internal Server Error: RuntimeError"
    assert response.headers[CORS] == "*"
    assert "ETag" not in response.headers


def test_a_query_the_engine_cannot_answer_is_a_400_saying_why(client, add_data_set, storage, monkeypatch):
    """A time zone the database server's rules lack (engines keep their own tz databases)."""
    from backdrop.core.storage.base import UnsupportedQuery

    add_data_set("zoned", raw_queries_allowed=True)

    def refuse(*args, **kwargs):
        raise UnsupportedQuery("timezone Europe/Kyiv is not in this database server's time zone rules")

    monkeypatch.setattr(storage, "aggregate", refuse)
    response = client.get("/zoned?period=day&start_at=2024-03-25T00:00:00Z&end_at=2024-04-01T00:00:00Z"
                          "&timezone=Europe/Kyiv")
    assert response.status_code == 400
    assert response.get_json() == {"status": "error", "message":
                                   "timezone Europe/Kyiv is not in this database server's time zone rules"}
