"""The data-set administration API."""
import pytest
from write_support import ADMIN, ADMIN_TOKEN, AUTH, TOKEN, audit_text, bearer, build_app, stored

from backdrop.web import get_storage

DEFAULTS = {
    "has_bearer_token": False, "raw_queries_allowed": False, "queryable": True, "published": True,
    "realtime": False, "max_age_expected": 2678400, "capped_size": 0, "auto_ids": None,
    "schema": None, "upload_format": "csv", "upload_filters": [],
}
EXPECTED_HEADER = "Expected header of form: Authorization: Bearer <token>"


def create(client, **body):
    body.setdefault("data_group", "carers-allowance")
    body.setdefault("data_type", "customer-satisfaction")
    return client.post("/data-sets", json=body, headers=ADMIN)


def error(response):
    return response.status_code, response.json


# ---------------------------------------------------------------------------- authentication

ROUTES = [("post", "/data-sets"), ("get", "/data-sets"), ("get", "/data-sets/some-set"),
          ("put", "/data-sets/some-set"), ("delete", "/data-sets/some-set")]


@pytest.mark.parametrize("method, url", ROUTES)
def test_every_admin_route_is_403_without_an_admin_token_configured(tmp_path, method, url):
    app = build_app(tmp_path, BACKDROP_ADMIN_TOKEN="")
    response = getattr(app.test_client(), method)(url, json={}, headers=ADMIN)
    get_storage(app).close()
    assert error(response) == (403, {"status": "error",
                                     "message": "Admin API disabled: BACKDROP_ADMIN_TOKEN is not set"})


@pytest.mark.parametrize("method, url", ROUTES)
def test_every_admin_route_asks_for_a_bearer_header(client, method, url):
    response = getattr(client, method)(url, json={})
    assert error(response) == (401, {"status": "error", "message": EXPECTED_HEADER})
    assert response.headers["WWW-Authenticate"] == "bearer"


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", f"bearer {ADMIN_TOKEN}", f"Basic {ADMIN_TOKEN}"])
def test_a_malformed_header_asks_for_a_bearer_header(client, header):
    response = client.get("/data-sets", headers={"Authorization": header})
    assert error(response) == (401, {"status": "error", "message": EXPECTED_HEADER})


@pytest.mark.parametrize("method, url", ROUTES)
def test_a_wrong_admin_token_is_refused(client, method, url):
    response = getattr(client, method)(url, json={}, headers=bearer("not-the-admin-token"))
    assert error(response) == (401, {"status": "error", "message": "Unauthorized: invalid admin token"})
    assert response.headers["WWW-Authenticate"] == "bearer"
    assert b"not-the-admin-token" not in response.data


def test_a_data_sets_token_is_not_an_admin_token(client, dinosaurs):
    response = client.get("/data-sets", headers=AUTH)
    assert error(response) == (401, {"status": "error", "message": "Unauthorized: invalid admin token"})


def test_admin_refusals_are_audited_without_the_token(client, tmp_path):
    client.delete("/data-sets/some-set", headers=bearer("guessed-admin-token"))
    text = audit_text(tmp_path)
    assert '"Bad auth"' in text and '"some-set"' in text
    assert "guessed-admin-token" not in text


# ---------------------------------------------------------------------------- POST


def test_create_answers_201_with_every_field_filled_in(client):
    response = create(client, bearer_token="secret")
    assert response.status_code == 201
    assert response.json == {**DEFAULTS, "name": "carers_allowance_customer_satisfaction",
                             "data_group": "carers-allowance", "data_type": "customer-satisfaction",
                             "has_bearer_token": True}


def test_created_data_set_takes_writes(client, storage):
    create(client, name="sat", bearer_token=TOKEN)
    response = client.post("/data/carers-allowance/customer-satisfaction", json={"foo": "bar"}, headers=AUTH)
    assert response.status_code == 200
    assert len(stored(storage, "sat")) == 1


def test_create_keeps_every_given_field(client):
    body = {"name": "realtime-set", "data_group": "g1", "data_type": "t1", "bearer_token": "tok",
            "raw_queries_allowed": True, "queryable": False, "published": False, "realtime": True,
            "max_age_expected": None, "capped_size": 4096, "auto_ids": ["_timestamp", "foo"],
            "schema": {"type": "object"}, "upload_format": "excel", "upload_filters": ["a.b"]}
    response = client.post("/data-sets", json=body, headers=ADMIN)
    assert response.status_code == 201
    assert response.json == {**{k: v for k, v in body.items() if k != "bearer_token"}, "has_bearer_token": True}


def test_create_of_a_taken_name_is_409(client):
    create(client, name="taken")
    response = create(client, name="taken", data_type="other")
    assert error(response) == (409, {"status": "error", "message": "Data set 'taken' already exists"})


def test_create_of_a_taken_group_and_type_is_409(client):
    create(client, name="first")
    response = create(client, name="second")
    assert error(response) == (409, {
        "status": "error",
        "message": "A data set for carers-allowance/customer-satisfaction already exists"})


@pytest.mark.parametrize("missing", ["data_group", "data_type"])
def test_create_without_group_or_type_is_400_naming_it(client, missing):
    body = {"data_group": "g1", "data_type": "t1"}
    del body[missing]
    response = client.post("/data-sets", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert missing in response.json["message"]


@pytest.mark.parametrize("key", ["transforms", "colour"])
def test_create_with_an_unknown_key_is_400_naming_it(client, key):
    response = create(client, **{key: []})
    assert response.status_code == 400
    assert f"Unknown field: {key}" in response.json["message"]


@pytest.mark.parametrize("field, value", [
    ("raw_queries_allowed", "true"), ("published", 1), ("max_age_expected", -1),
    ("max_age_expected", "90000"), ("capped_size", -5), ("capped_size", 1.5),
    ("auto_ids", "foo"), ("auto_ids", ["bad-name"]), ("schema", {"type": 5}), ("schema", "x"),
    ("upload_format", "pdf"), ("upload_filters", "x"), ("bearer_token", 5),
    ("name", "Bad Name"), ("name", "data"), ("data_group", "-leading-dash"), ("data_type", "x" * 101),
])
def test_create_with_an_invalid_value_is_400_naming_the_field(client, field, value):
    response = create(client, **{field: value})
    assert response.status_code == 400
    assert response.json["status"] == "error"
    assert field in response.json["message"]


def test_configurations_keep_todays_answer_to_a_huge_integer(client):
    body = b'{"data_group": "g", "data_type": "t", "max_age_expected": 100000000000000000000000000000}'
    response = client.post("/data-sets", data=body, content_type="application/json", headers=ADMIN)
    assert error(response) == (400, {"status": "error", "message":
                                     "max_age_expected must be a whole number of seconds >= 0, or null"})


def test_create_of_a_non_object_is_400(client):
    response = client.post("/data-sets", json=["a"], headers=ADMIN)
    assert response.status_code == 400


def test_create_of_invalid_json_is_400(client):
    response = client.post("/data-sets", data=b"{", content_type="application/json", headers=ADMIN)
    assert response.status_code == 400
    assert response.json["message"].startswith("Error parsing JSON: ")


# ---------------------------------------------------------------------------- GET


def test_list_is_sorted_by_name(client):
    for name, group in (("zebra", "z1"), ("apple", "a1"), ("mango", "m1")):
        create(client, name=name, data_group=group)
    response = client.get("/data-sets", headers=ADMIN)
    assert response.status_code == 200
    assert [config["name"] for config in response.json] == ["apple", "mango", "zebra"]
    assert response.json[0] == {**DEFAULTS, "name": "apple", "data_group": "a1",
                                "data_type": "customer-satisfaction"}


def test_list_of_nothing_is_an_empty_array(client):
    assert client.get("/data-sets", headers=ADMIN).json == []


@pytest.fixture
def three_data_sets(client):
    for name, group, data_type in (("a_x", "a", "x"), ("a_y", "a", "y"), ("b_x", "b", "x")):
        assert create(client, name=name, data_group=group, data_type=data_type).status_code == 201


def listed(client, query):
    response = client.get(f"/data-sets?{query}", headers=ADMIN)
    assert response.status_code == 200
    return [config["name"] for config in response.json]


@pytest.mark.parametrize("query, names", [
    ("data-group=a&data-type=y", ["a_y"]),
    ("data-type=x&data-group=b", ["b_x"]),
    ("data-group=a", ["a_x", "a_y"]),
    ("data-type=x", ["a_x", "b_x"]),
    ("data-group=a&data-type=z", []),
    ("data-group=nobody", []),
    ("data-group=", []),
    ("data-group=A", []),
])
def test_list_filters_by_group_and_type(client, three_data_sets, query, names):
    assert listed(client, query) == names


def test_a_filter_holding_nul_is_refused_before_any_lookup(client, three_data_sets):
    response = client.get("/data-sets?data-group=a%00", headers=ADMIN)
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Paths and query parameters cannot contain the NUL character (U+0000)")


def test_list_filtered_answers_whole_configurations(client, three_data_sets):
    response = client.get("/data-sets?data-group=a&data-type=y", headers=ADMIN)
    assert response.json == [{**DEFAULTS, "name": "a_y", "data_group": "a", "data_type": "y"}]


@pytest.mark.parametrize("query", ["data_group=a", "group=a&type=x", "colour=blue", "data-groups=a"])
def test_list_ignores_other_query_parameters(client, three_data_sets, query):
    assert listed(client, query) == ["a_x", "a_y", "b_x"]


def test_list_with_another_parameter_still_filters(client, three_data_sets):
    assert listed(client, "limit=1&data-type=y") == ["a_y"]


def test_show_answers_the_configuration(client):
    created = create(client, name="shown").json
    response = client.get("/data-sets/shown", headers=ADMIN)
    assert (response.status_code, response.json) == (200, created)


def test_show_of_an_unknown_name_is_404(client):
    response = client.get("/data-sets/nobody", headers=ADMIN)
    assert error(response) == (404, {"status": "error", "message": "No data set named 'nobody'"})


# ---------------------------------------------------------------------------- PUT


def test_replace_keeps_the_records(client, storage):
    create(client, name="kept", bearer_token=TOKEN, capped_size=100000)
    client.post("/data/carers-allowance/customer-satisfaction", json={"foo": "bar"}, headers=AUTH)
    body = {"data_group": "new-group", "data_type": "new-type", "bearer_token": TOKEN, "published": False}
    response = client.put("/data-sets/kept", json=body, headers=ADMIN)
    assert response.status_code == 200
    assert response.json == {**DEFAULTS, "data_group": "new-group", "data_type": "new-type", "published": False,
                             "name": "kept", "capped_size": 100000, "has_bearer_token": True}
    assert client.get("/data-sets/kept", headers=ADMIN).json == response.json
    assert len(stored(storage, "kept")) == 1
    assert client.post("/data/new-group/new-type", json={"foo": "baz"}, headers=AUTH).status_code == 200


def test_replace_of_an_unknown_name_is_404(client):
    response = client.put("/data-sets/nobody", json={"data_group": "g1", "data_type": "t1"}, headers=ADMIN)
    assert error(response) == (404, {"status": "error", "message": "No data set named 'nobody'"})


def test_replace_cannot_change_the_name(client):
    create(client, name="fixed")
    body = {"name": "renamed", "data_group": "g1", "data_type": "t1"}
    response = client.put("/data-sets/fixed", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert "name" in response.json["message"]


def test_replace_cannot_change_the_capped_size(client):
    create(client, name="fixed", capped_size=4096)
    body = {"data_group": "g1", "data_type": "t1", "capped_size": 8192}
    response = client.put("/data-sets/fixed", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert "capped_size" in response.json["message"]


def test_replace_may_repeat_the_name_and_capped_size(client):
    create(client, name="fixed", capped_size=4096)
    body = {"name": "fixed", "data_group": "g1", "data_type": "t1", "capped_size": 4096}
    assert client.put("/data-sets/fixed", json=body, headers=ADMIN).status_code == 200


def test_replace_onto_a_taken_group_and_type_is_409(client):
    create(client, name="one", data_group="g1", data_type="t1")
    create(client, name="two", data_group="g2", data_type="t2")
    response = client.put("/data-sets/two", json={"data_group": "g1", "data_type": "t1"}, headers=ADMIN)
    assert error(response) == (409, {"status": "error", "message": "A data set for g1/t1 already exists"})


def test_replace_validates_like_create(client):
    create(client, name="fixed")
    body = {"data_group": "g1", "data_type": "t1", "realtime": "yes"}
    response = client.put("/data-sets/fixed", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert "realtime" in response.json["message"]


# ---------------------------------------------------------------------------- DELETE


def test_delete_removes_the_configuration_and_its_records(client, storage):
    create(client, name="some-dataset", data_group="data-group", data_type="data-type", bearer_token=TOKEN)
    client.post("/data/data-group/data-type", json={"_timestamp": "2014-09-10T12:00:00Z", "foo": "bar"},
                headers=AUTH)
    response = client.delete("/data-sets/some-dataset", headers=ADMIN)
    assert error(response) == (200, {"status": "ok", "message": "Deleted some-dataset"})
    assert stored(storage, "some-dataset") == []
    assert client.get("/data-sets/some-dataset", headers=ADMIN).status_code == 404
    assert client.post("/data/data-group/data-type", json={"foo": "bar"}, headers=AUTH).status_code == 404


def test_delete_of_an_unknown_name_is_404(client):
    response = client.delete("/data-sets/some-dataset", headers=ADMIN)
    assert error(response) == (404, {"status": "error", "message": 'No collection exists with name "some-dataset"'})
