"""Storing, emptying, patching and deleting records through the write API."""
import base64

import pytest
from write_support import AUTH, audit_lines, stored

URL = "/data/dinosaur/droppings"
TIMESTAMP_SCHEMA = {
    "type": "object",
    "properties": {"_timestamp": {"type": "string", "format": "date-time"}},
    "required": ["_timestamp"],
}


def post(client, body, url=URL):
    return client.post(url, json=body, headers=AUTH)


# ---------------------------------------------------------------------------- POST


def test_one_object_is_stored_as_one_record(client, storage, dinosaurs):
    response = post(client, {"name": "t-rex", "size": "big"})
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    [record] = stored(storage, "dinosaurs")
    assert (record["name"], record["size"]) == ("t-rex", "big")


def test_a_list_is_stored_in_order(client, storage, dinosaurs):
    post(client, [{"name": "t-rex"}, {"name": "microraptor"}, {"name": "diplodocus"}])
    assert [r["name"] for r in stored(storage, "dinosaurs")] == ["t-rex", "microraptor", "diplodocus"]


def test_stored_records_get_ids_period_keys_and_updated_at(client, storage, dinosaurs):
    post(client, {"_timestamp": "2013-03-13T12:00:00+01:00", "name": "t-rex"})
    [record] = stored(storage, "dinosaurs")
    assert record["_timestamp"] == "2013-03-13T11:00:00+00:00"
    assert record["_week_start_at"] == "2013-03-11T00:00:00+00:00"
    assert record["_id"] and "_updated_at" in record


def test_an_empty_list_is_accepted_and_stores_nothing(client, storage, dinosaurs):
    assert post(client, []).status_code == 200
    assert stored(storage, "dinosaurs") == []


def test_a_batch_with_one_bad_record_stores_nothing(client, storage, dinosaurs):
    response = post(client, [{"name": "ok"}, {"_foo": "bar"}, {"thing": {}}])
    assert response.status_code == 400
    assert response.json == {
        "messages": ["_foo is not a recognised internal field", "thing has an invalid value"],
        "errors": [{"index": 1, "message": "_foo is not a recognised internal field"},
                   {"index": 2, "message": "thing has an invalid value"}],
    }
    assert stored(storage, "dinosaurs") == []


def post_text(client, text: str, url=URL):
    """A body written by hand: integer literals exactly as a client's JSON library writes them."""
    return client.post(url, data=text, content_type="application/json", headers=AUTH)


def out_of_range(field: str) -> str:
    return (f"{field} has an integer outside the 64-bit range: integers must lie between "
            "-9223372036854775808 and 9223372036854775807 (send a larger number as a double, "
            "such as 1e30, or as a string)")


@pytest.mark.parametrize("literal", [
    "9223372036854775808", "18446744073709551615", "18446744073709551616",
    "-9223372036854775809", "1000000000000000000000000000000", "-10000000000000000000000000000000000000000",
])
@pytest.mark.parametrize("url", [URL, "/dinosaurs"])
def test_a_batch_with_an_integer_beyond_64_bits_stores_nothing(client, storage, dinosaurs, literal, url):
    response = post_text(client, f'[{{"count": 1}}, {{"name": "x", "count": {literal}}}]', url)
    assert response.status_code == 400
    assert response.json == {"messages": [out_of_range("count")],
                             "errors": [{"index": 1, "message": out_of_range("count")}]}
    assert stored(storage, "dinosaurs") == []


def test_the_64_bit_bounds_and_doubles_are_stored_exactly(client, storage, dinosaurs):
    text = ('{"top": 9223372036854775807, "bottom": -9223372036854775808, "huge": 1e30, '
            '"wide": 12345678901234567890.5, "whole": 2.0, "digits": "123456789012345678901234567890"}')
    assert post_text(client, text).status_code == 200
    [record] = stored(storage, "dinosaurs")
    values = {key: (record[key], type(record[key])) for key in ("top", "bottom", "huge", "wide", "whole", "digits")}
    assert values == {"top": (2**63 - 1, int), "bottom": (-(2**63), int), "huge": (1e30, float),
                      "wide": (12345678901234567890.5, float), "whole": (2.0, float),
                      "digits": ("123456789012345678901234567890", str)}


def test_a_patch_with_an_integer_beyond_64_bits_changes_nothing(client, storage, dinosaurs, tmp_path):
    post(client, {"_id": "rex", "teeth": 60})
    before = stored(storage, "dinosaurs")
    response = client.patch(f"{URL}/rex", json={"teeth": 10**30}, headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"messages": [out_of_range("teeth")],
                             "errors": [{"index": 0, "message": out_of_range("teeth")}]}
    assert stored(storage, "dinosaurs") == before
    [patched] = [line for line in audit_lines(tmp_path) if line["message"] == "Data patch rejected"]
    assert (patched["data"], patched["problems"]) == ({"teeth": 10**30}, 1)


def test_an_invalid_id_is_refused(client, storage, dinosaurs):
    response = post(client, {"_id": "f o o"})
    assert response.status_code == 400
    assert response.json["messages"] == ['_id "f o o" is not a valid id']


def test_an_empty_key_is_refused(client, dinosaurs):
    assert post(client, {"": ""}).json["messages"] == [" is not a valid key"]


def test_a_given_id_is_kept(client, storage, dinosaurs):
    assert post(client, {"_id": "foo", "name": "t-rex"}).status_code == 200
    assert [r["_id"] for r in stored(storage, "dinosaurs")] == ["foo"]


def test_a_repeated_id_replaces_the_record(client, storage, dinosaurs):
    post(client, {"_id": "first", "foo": "bar", "extra": 1})
    post(client, {"_id": "first", "foo": "foo"})
    [record] = stored(storage, "dinosaurs")
    assert record["foo"] == "foo" and "extra" not in record


def test_auto_ids_make_the_id_from_the_listed_fields(client, storage, add_data_set):
    add_data_set(name="places", auto_ids=["postcode", "number"])
    post(client, [{"postcode": "WC2B 6SE", "number": "125"}, {"postcode": "WC2B 6SE", "number": "125", "extra": 1}])
    [record] = stored(storage, "places")
    assert record["_id"] == base64.b64encode(b"WC2B 6SE.125").decode()
    assert record["extra"] == 1


def test_auto_ids_missing_a_field_is_one_message(client, storage, add_data_set):
    add_data_set(name="places", auto_ids=["postcode", "number"])
    response = post(client, [{"postcode": "A"}, {"number": "1"}])
    assert response.json["messages"] == ["The following required id fields are missing: number"]
    assert stored(storage, "places") == []


def test_the_schema_is_enforced(client, storage, add_data_set):
    add_data_set(name="checked", schema=TIMESTAMP_SCHEMA)
    response = post(client, [{"_timestamp": "2014-01-01T00:00:00Z"}, {"foo": "bar"}])
    assert response.status_code == 400
    assert response.json["messages"] == ["'_timestamp' is a required property"]
    assert response.json["errors"] == [{"index": 1, "message": "'_timestamp' is a required property"}]
    assert stored(storage, "checked") == []


def test_a_record_matching_the_schema_is_stored(client, storage, add_data_set):
    add_data_set(name="checked", schema=TIMESTAMP_SCHEMA)
    assert post(client, {"_timestamp": "2014-06-12T00:00:00+0000"}).status_code == 200
    assert len(stored(storage, "checked")) == 1


def test_capped_size_evicts_the_oldest_records(client, storage, add_data_set):
    add_data_set(name="capped", capped_size=300)
    for number in range(20):
        assert post(client, {"_id": f"id{number:02}", "number": number}).status_code == 200
    kept = [r["_id"] for r in stored(storage, "capped")]
    assert 0 < len(kept) < 20
    assert kept == [f"id{number:02}" for number in range(20 - len(kept), 20)]


def test_legacy_post_stores_and_warns(client, storage, dinosaurs):
    response = post(client, {"name": "t-rex"}, url="/dinosaurs")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "message": "Deprecation Warning: accessing by data-set name is deprecated, "
                   "Please use the /data-group/data-type form",
    }
    assert [r["name"] for r in stored(storage, "dinosaurs")] == ["t-rex"]


def test_legacy_post_validates_like_the_data_route(client, storage, dinosaurs):
    response = post(client, [{"_foo": 1}], url="/dinosaurs")
    assert response.status_code == 400
    assert response.json["messages"] == ["_foo is not a recognised internal field"]


# ---------------------------------------------------------------------------- PUT


def test_put_of_an_empty_list_empties_the_data_set(client, storage, dinosaurs):
    post(client, [{"name": "a1"}, {"name": "b2"}])
    response = client.put(URL, json=[], headers=AUTH)
    assert response.status_code == 200
    assert response.json == {"status": "ok", "message": "dinosaurs now contains 0 records"}
    assert stored(storage, "dinosaurs") == []


def test_put_of_anything_but_an_empty_list_is_not_implemented(client, storage, dinosaurs):
    post(client, {"name": "kept"})
    for body in ([{"name": "x1"}], {}, {"name": "x1"}, 5):
        response = client.put(URL, json=body, headers=AUTH)
        assert response.status_code == 400, body
        assert response.json == {"status": "error",
                                 "message": "Not implemented: you can only pass an empty JSON list"}
    assert len(stored(storage, "dinosaurs")) == 1


# ---------------------------------------------------------------------------- PATCH


def test_patch_merges_fields_into_the_record(client, storage, dinosaurs):
    post(client, {"_id": "rex", "name": "t-rex", "size": "big"})
    response = client.patch(f"{URL}/rex", json={"size": "huge", "teeth": 60}, headers=AUTH)
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    [record] = stored(storage, "dinosaurs")
    assert (record["_id"], record["name"], record["size"], record["teeth"]) == ("rex", "t-rex", "huge", 60)


def test_patch_recomputes_period_keys(client, storage, dinosaurs):
    post(client, {"_id": "rex", "_timestamp": "2013-03-13T00:00:00Z"})
    client.patch(f"{URL}/rex", json={"_timestamp": "2013-03-20T00:00:00Z"}, headers=AUTH)
    [record] = stored(storage, "dinosaurs")
    assert record["_week_start_at"] == "2013-03-18T00:00:00+00:00"


def test_patch_validates_the_merged_record(client, storage, dinosaurs):
    post(client, {"_id": "rex", "name": "t-rex"})
    response = client.patch(f"{URL}/rex", json={"_foo": "bar"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json["messages"] == ["_foo is not a recognised internal field"]
    assert "_foo" not in stored(storage, "dinosaurs")[0]


def test_patch_of_an_unknown_id_is_400(client, dinosaurs):
    response = client.patch(f"{URL}/nobody", json={"size": "big"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"messages": "No record found with id nobody"}


def test_patch_body_must_be_an_object(client, dinosaurs):
    post(client, {"_id": "rex", "name": "t-rex"})
    response = client.patch(f"{URL}/rex", json=[{"size": "big"}], headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": "Expected a JSON object of the fields to change"}


def test_patch_addresses_a_record_named_transform(client, storage, dinosaurs):
    post(client, {"_id": "transform", "name": "t-rex"})
    assert client.patch(f"{URL}/transform", json={"name": "x-rex"}, headers=AUTH).status_code == 200
    assert stored(storage, "dinosaurs")[0]["name"] == "x-rex"


def test_patch_reaches_an_id_holding_a_slash(client, storage, dinosaurs):
    post(client, {"_id": "a/b+c=", "name": "t-rex"})
    assert client.patch(f"{URL}/a%2Fb+c=", json={"name": "x-rex"}, headers=AUTH).status_code == 200
    assert stored(storage, "dinosaurs")[0]["name"] == "x-rex"


# ---------------------------------------------------------------------------- DELETE


def test_delete_removes_one_record(client, storage, dinosaurs):
    post(client, [{"_id": "one", "number": 1}, {"_id": "two", "number": 2}])
    response = client.delete(f"{URL}/one", headers=AUTH)
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert [r["_id"] for r in stored(storage, "dinosaurs")] == ["two"]


def test_delete_of_an_id_holding_a_slash(client, storage, dinosaurs):
    post(client, [{"_id": "YS9i/c2Q=", "number": 1}, {"_id": "other", "number": 2}])
    assert client.delete(f"{URL}/YS9i%2Fc2Q=", headers=AUTH).status_code == 200
    assert [r["_id"] for r in stored(storage, "dinosaurs")] == ["other"]


def test_delete_of_an_unknown_id_is_400(client, dinosaurs):
    response = client.delete(f"{URL}/nobody", headers=AUTH)
    assert response.status_code == 400
    assert response.json == {"messages": "No record found with id nobody"}


def test_delete_addresses_a_record_named_transform(client, storage, dinosaurs):
    post(client, {"_id": "transform", "number": 1})
    assert client.delete(f"{URL}/transform", headers=AUTH).status_code == 200
    assert stored(storage, "dinosaurs") == []
