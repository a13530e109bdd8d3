"""Routing of the write app: status, unknown routes and methods, the legacy name route, headers."""
import pytest
from write_support import AUTH, build_app

from backdrop.core.storage import UnsupportedDatabase
from backdrop.core.storage.base import ConnectionLost


def test_status_is_up_and_not_cached(client):
    response = client.get("/_status")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "message": "app is up"}
    assert response.headers["Cache-Control"] == "no-cache"


def test_post_to_status_is_405_json(client):
    response = client.post("/_status", json={})
    assert response.status_code == 405
    assert response.json == {"status": "error", "message": "Method Not Allowed"}


def test_unknown_route_is_404_json(client):
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "Not Found"}


def test_get_of_a_data_route_is_405(client, dinosaurs):
    assert client.get("/data/dinosaur/droppings", headers=AUTH).status_code == 405


def test_post_to_a_record_path_is_405(client, dinosaurs):
    assert client.post("/data/dinosaur/droppings/some-id", json={}, headers=AUTH).status_code == 405


def test_legacy_route_refuses_a_name_starting_with_underscore(client):
    response = client.post("/_data_set", json={"foo": "bar"})
    assert response.status_code == 404


def test_legacy_route_refuses_uppercase_names(client, dinosaurs):
    assert client.post("/Dinosaurs", json={"foo": "bar"}, headers=AUTH).status_code == 404


def test_reserved_names_never_reach_the_legacy_route(client, dinosaurs):
    assert client.post("/data", json={"foo": "bar"}, headers=AUTH).status_code == 404
    assert client.get("/data").status_code == 404
    for name in ("transforms", "dashboards"):  # administration routes, not data sets
        response = client.post(f"/{name}", json={"foo": "bar"}, headers=AUTH)
        assert response.status_code in (401, 403), name
        assert "admin" in response.json["message"], name


def test_unknown_legacy_name_is_404_before_auth(client):
    response = client.post("/no_such_set", json={"foo": "bar"})
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "Could not find data_set_config"}


def test_unknown_data_set_is_404_before_auth(client):
    response = client.post("/data/no/such", json={"foo": "bar"})
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "Could not find data_set_config"}


def test_no_cors_headers_on_writes(client, dinosaurs):
    response = client.post("/data/dinosaur/droppings", json={"foo": "bar"}, headers=AUTH)
    assert response.status_code == 200
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control")]


def test_errors_are_not_cached_either(client):
    assert client.post("/data/no/such", json={}).headers["Cache-Control"] == "no-cache"


def test_a_storage_failure_is_a_503_json_error_with_retry_after(tmp_path):
    app = build_app(tmp_path, BACKDROP_DATABASE_URL=f"sqlite:///{tmp_path}")  # a folder: no database opens there
    response = app.test_client().post("/data/dinosaur/droppings", json={"foo": "bar"}, headers=AUTH)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json == {"status": "error",
                             "message": "Service Unavailable: the database could not answer; try again shortly"}


def test_a_connection_lost_beyond_its_retry_is_a_503_saying_so(client, storage, monkeypatch):
    def lost(*args, **kwargs):
        raise ConnectionLost("PostgreSQL: server closed the connection unexpectedly", before_commit=False)

    monkeypatch.setattr(storage, "find_data_set", lost)
    response = client.post("/data/dinosaur/droppings", json={"foo": "bar"}, headers=AUTH)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["message"] == ("Service Unavailable: the connection to the database was lost; "
                                        "try again shortly")


def test_an_unsupported_database_url_stops_the_write_app_from_starting(tmp_path):
    with pytest.raises(UnsupportedDatabase, match="Unsupported BACKDROP_DATABASE_URL 'mysql'"):
        build_app(tmp_path, BACKDROP_DATABASE_URL="mysql://localhost:3306/backdrop")
