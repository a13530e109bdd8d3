"""Tokens at rest over HTTP: stored hashed, write-only in the admin API, rotated on demand."""
import json

from write_support import ADMIN, AUTH, TOKEN, audit_lines, audit_text, bearer

from backdrop.core import tokens

URL = "/data/dinosaur/droppings"


def admin_get(client, path):
    response = client.get(path, headers=ADMIN)
    assert response.status_code == 200
    return response


def test_the_token_is_stored_hashed_and_never_answered(client, storage, dinosaurs):
    stored = json.dumps(storage.list_data_sets())
    assert TOKEN not in stored and '"bearer_token_hash": "scrypt$' in stored
    for path in ("/data-sets", "/data-sets/dinosaurs", "/data-sets?data-group=dinosaur"):
        text = admin_get(client, path).get_data(as_text=True)
        assert TOKEN not in text and "scrypt" not in text and '"has_bearer_token":true' in text


def test_a_get_modify_put_with_has_bearer_token_keeps_the_token(client, dinosaurs):
    body = {**admin_get(client, "/data-sets/dinosaurs").json, "published": False}
    response = client.put("/data-sets/dinosaurs", json=body, headers=ADMIN)
    assert (response.status_code, response.json["has_bearer_token"]) == (200, True)
    assert client.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 200


def test_a_put_sending_the_same_token_back_is_accepted_and_keeps_the_hash(client, storage, dinosaurs):
    before = storage.get_data_set("dinosaurs")["bearer_token_hash"]
    body = {"data_group": "dinosaur", "data_type": "droppings", "bearer_token": TOKEN}
    assert client.put("/data-sets/dinosaurs", json=body, headers=ADMIN).status_code == 200
    assert storage.get_data_set("dinosaurs")["bearer_token_hash"] == before


def test_a_put_with_a_new_token_replaces_the_old_one_at_once(client, dinosaurs):
    assert client.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 200  # cached as verified
    body = {"data_group": "dinosaur", "data_type": "droppings", "bearer_token": "new-token"}
    assert client.put("/data-sets/dinosaurs", json=body, headers=ADMIN).status_code == 200
    assert client.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 401
    assert client.post(URL, json={"foo": "bar"}, headers=bearer("new-token")).status_code == 200


def test_an_explicit_null_clears_the_token(client, dinosaurs):
    body = {"data_group": "dinosaur", "data_type": "droppings", "bearer_token": None}
    response = client.put("/data-sets/dinosaurs", json=body, headers=ADMIN)
    assert (response.status_code, response.json["has_bearer_token"]) == (200, False)
    assert client.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 401


def test_the_stored_hash_cannot_be_set_through_the_api(client, dinosaurs):
    body = {"data_group": "dinosaur", "data_type": "droppings", "bearer_token_hash": tokens.hash_token("x")}
    response = client.put("/data-sets/dinosaurs", json=body, headers=ADMIN)
    assert response.status_code == 400 and response.json["message"] == "Unknown field: bearer_token_hash"


def test_rotating_answers_a_new_token_once_and_the_old_one_stops_working(client, storage, tmp_path, dinosaurs):
    response = client.post("/data-sets/dinosaurs/token", headers=ADMIN)
    assert response.status_code == 200
    token = response.json["bearer_token"]
    assert response.json["name"] == "dinosaurs" and len(token) >= 40
    assert token not in json.dumps(storage.list_data_sets())
    assert token not in admin_get(client, "/data-sets/dinosaurs").get_data(as_text=True)
    assert client.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 401
    assert client.post(URL, json={"foo": "bar"}, headers=bearer(token)).status_code == 200
    again = client.post("/data-sets/dinosaurs/token", headers=ADMIN).json["bearer_token"]
    assert again != token
    assert any(line["message"] == "Data set token rotated" for line in audit_lines(tmp_path))
    assert token not in audit_text(tmp_path) and again not in audit_text(tmp_path)


def test_rotating_needs_the_admin_token_and_an_existing_data_set(client, dinosaurs):
    assert client.post("/data-sets/dinosaurs/token", headers=AUTH).status_code == 401
    missing = client.post("/data-sets/nobody/token", headers=ADMIN)
    assert (missing.status_code, missing.json["message"]) == (404, "No data set named 'nobody'")
