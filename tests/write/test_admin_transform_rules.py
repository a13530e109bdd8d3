"""Transform creation rules (duplicates, output keys) and the data set's own transform and
dashboard lists, the calls the original's client library makes (issue 13, items 3 and 4)."""
from __future__ import annotations

import pytest
from write_support import ADMIN, AUTH

RATE = {"type": "rate", "input": {"data-group": "dinosaur", "data-type": "droppings"},
        "query-parameters": {"period": "week", "group_by": "kind", "collect": ["count:sum"]},
        "options": {"denominatorMatcher": ".+", "numeratorMatcher": "big", "matchingAttribute": "kind",
                    "valueAttribute": "count:sum"},
        "output": {"data-type": "big-rate"}}
MAPPING = {"type": "mapping", "input": {"data-group": "dinosaur", "data-type": "droppings"},
           "query-parameters": {"period": "week", "group_by": "kind", "collect": ["count:sum"]},
           "options": {"mapping-keys": ["kind"], "mappings": {"Big": ["big"]},
                       "mapped-attribute": "size_group", "value-attribute": "count"},
           "output": {"data-type": "sizes"}}


def post(client, body):
    return client.post("/transforms", json=body, headers=ADMIN)


# ---------------------------------------------------------------------------- duplicates


def test_an_identical_transform_is_409_naming_the_existing_one(client, dinosaurs):
    first = post(client, RATE).json
    again = post(client, {**RATE, "type": {"function": "backdrop.transformers.tasks.rate.compute"}})
    assert again.status_code == 409
    assert again.json == {"status": "error", "message": f"An identical transform already exists: {first['id']}"}
    assert client.get("/transforms", headers=ADMIN).json == [{**first, "last_run": None}]


def test_query_parameters_asking_the_same_query_string_are_the_same(client, dinosaurs):
    first = post(client, RATE).json
    same_query = {**RATE["query-parameters"], "period": ["week"], "collect": "count:sum"}
    again = post(client, {**RATE, "query-parameters": same_query})
    assert (again.status_code, again.json["message"]) == (409, f"An identical transform already exists: {first['id']}")


@pytest.mark.parametrize("change", [
    {"output": {"data-type": "other-rate"}},
    {"query-parameters": {**RATE["query-parameters"], "period": "month"}},
    {"options": {**RATE["options"], "numeratorMatcher": "small"}},
    {"input": {"data-group": "*", "data-type": "droppings"}},
])
def test_a_transform_differing_in_anything_is_not_a_duplicate(client, dinosaurs, change):
    assert post(client, RATE).status_code == 201
    assert post(client, {**RATE, **change}).status_code == 201


def test_replacing_a_transform_by_a_copy_of_another_is_409_but_by_itself_is_not(client, dinosaurs):
    first = post(client, RATE).json
    second = post(client, {**RATE, "output": {"data-type": "other-rate"}}).json
    copied = client.put(f"/transforms/{second['id']}", json=RATE, headers=ADMIN)
    assert copied.status_code == 409 and copied.json["message"].endswith(first["id"])
    assert client.put(f"/transforms/{first['id']}", json=RATE, headers=ADMIN).status_code == 200
    assert client.get(f"/transforms/{second['id']}", headers=ADMIN).json == {**second, "last_run": None}


# ---------------------------------------------------------------------------- output keys


@pytest.mark.parametrize("option, value, problem", [
    ("mapped-attribute", "browser-group", "browser-group is not a valid key"),
    ("value-attribute", "sessions:sum", "sessions:sum is not a valid key"),
    ("mapped-attribute", "_group", "_group is not a recognised internal field"),
])
def test_mapping_options_that_would_make_refused_output_keys_are_400_naming_the_option(
        client, dinosaurs, option, value, problem):
    response = post(client, {**MAPPING, "options": {**MAPPING["options"], option: value}})
    assert response.status_code == 400
    assert response.json["message"] == (f"Invalid options: options.{option} {value!r} would be a key of the "
                                        f"output records, which record validation refuses: {problem}")
    assert client.get("/transforms", headers=ADMIN).json == []


def test_additional_fields_must_be_valid_output_keys_too(client, dinosaurs):
    response = post(client, {**RATE, "options": {**RATE["options"], "additionalFields": {"service-id": "x"}}})
    assert response.status_code == 400
    assert response.json["message"].startswith("Invalid options: options.additionalFields 'service-id' would be")


def test_valid_output_keys_are_accepted(client, dinosaurs):
    assert post(client, MAPPING).status_code == 201
    ok = post(client, {**RATE, "options": {**RATE["options"], "additionalFields": {"service_id": "x"}}})
    assert ok.status_code == 201


# ---------------------------------------------------------------------------- a data set's transforms and dashboards


def test_a_data_sets_transforms_are_those_of_its_group_and_of_any_group(client, add_data_set):
    add_data_set(name="dinosaurs")
    add_data_set(name="others", data_group="other")
    concrete = post(client, RATE).json
    any_group = post(client, {**RATE, "input": {"data-group": "*", "data-type": "droppings"}}).json
    post(client, {**RATE, "input": {"data-group": "other", "data-type": "droppings"}})
    post(client, {**RATE, "input": {"data-group": "*", "data-type": "footprints"}})
    response = client.get("/data-sets/dinosaurs/transform", headers=ADMIN)
    assert response.status_code == 200
    expected = [{**transform, "last_run": None} for transform in (concrete, any_group)]  # as GET /transforms
    assert sorted(response.json, key=lambda t: t["id"]) == sorted(expected, key=lambda t: t["id"])
    assert client.get("/data-sets/dinosaurs/transform", headers=ADMIN).json == response.json


def test_a_data_set_without_transforms_or_dashboards_answers_empty_lists(client, dinosaurs):
    assert client.get("/data-sets/dinosaurs/transform", headers=ADMIN).json == []
    assert client.get("/data-sets/dinosaurs/dashboard", headers=ADMIN).json == []


def test_a_data_sets_dashboards_are_those_showing_it(client, add_data_set):
    add_data_set(name="dinosaurs")
    add_data_set(name="others", data_group="other")
    client.post("/dashboards", json={"slug": "dino", "data_sets": ["dinosaurs", "others"]}, headers=ADMIN)
    client.post("/dashboards", json={"slug": "hidden", "published": False, "data_sets": ["dinosaurs"]},
                headers=ADMIN)
    client.post("/dashboards", json={"slug": "elsewhere", "data_sets": ["others"]}, headers=ADMIN)
    response = client.get("/data-sets/dinosaurs/dashboard", headers=ADMIN)
    assert response.status_code == 200
    assert [(d["slug"], d["published"]) for d in response.json] == [("dino", True), ("hidden", False)]


@pytest.mark.parametrize("suffix", ["transform", "dashboard"])
def test_an_unknown_data_set_is_404(client, suffix):
    response = client.get(f"/data-sets/nope/{suffix}", headers=ADMIN)
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "No data set named 'nope'"}


@pytest.mark.parametrize("suffix", ["transform", "dashboard"])
def test_the_lists_need_the_admin_token(client, dinosaurs, suffix):
    assert client.get(f"/data-sets/dinosaurs/{suffix}").status_code == 401
    refused = client.get(f"/data-sets/dinosaurs/{suffix}", headers=AUTH)
    assert refused.status_code == 401 and refused.json["message"] == "Unauthorized: invalid admin token"
