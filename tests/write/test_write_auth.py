"""Data-set tokens on the record routes: who gets through, the two 401s, no token echoed or logged."""
import pytest
from write_support import ADMIN_TOKEN, AUTH, TOKEN, audit_text, bearer, stored

URL = "/data/dinosaur/droppings"
EXPECTED_HEADER = "Expected header of form: Authorization: Bearer <token>"
INVALID = "Unauthorized: Invalid bearer token for 'dinosaurs'"


def post(client, headers):
    return client.post(URL, json=[{"foo": "bar"}], headers=headers)


def assert_refused(response, message):
    assert response.status_code == 401
    assert response.json == {"status": "error", "message": message}
    assert response.headers["WWW-Authenticate"] == "bearer"


def test_the_data_sets_token_is_accepted(client, dinosaurs):
    assert post(client, AUTH).status_code == 200


def test_no_authorization_header_asks_for_one(client, dinosaurs):
    assert_refused(post(client, {"Authorisation": f"Bearer {TOKEN}"}), EXPECTED_HEADER)


def test_a_wrong_token_is_refused_without_echoing_it(client, dinosaurs):
    response = post(client, bearer("invalid-bearer-token"))
    assert_refused(response, INVALID)
    assert b"invalid-bearer-token" not in response.data


def test_bearer_with_an_empty_token_is_refused(client, dinosaurs):
    assert_refused(post(client, {"Authorization": "Bearer "}), INVALID)


def test_bearer_without_a_token_is_refused(client, dinosaurs):
    assert_refused(post(client, {"Authorization": "Bearer"}), INVALID)


def test_lowercase_bearer_scheme_is_refused(client, dinosaurs):
    assert_refused(post(client, {"Authorization": f"bearer {TOKEN}"}), INVALID)


def test_another_scheme_is_refused(client, dinosaurs):
    assert_refused(post(client, {"Authorization": f"Token {TOKEN}"}), INVALID)


@pytest.mark.parametrize("configured", ["", None])
def test_a_data_set_without_a_token_refuses_every_write(client, add_data_set, configured):
    add_data_set(name="locked", bearer_token=configured)
    for headers in ({"Authorization": "Bearer "}, {"Authorization": "Bearer None"}, {"Authorization": "Bearer"}):
        response = post(client, headers)
        assert_refused(response, "Unauthorized: Invalid bearer token for 'locked'")


def test_another_data_sets_token_is_refused(client, dinosaurs, add_data_set):
    add_data_set(name="other", data_group="other", bearer_token="other-token")
    assert_refused(post(client, bearer("other-token")), INVALID)


def test_the_admin_token_is_refused_by_data_routes(client, dinosaurs):
    assert_refused(post(client, bearer(ADMIN_TOKEN)), INVALID)


def test_refused_writes_store_nothing(client, storage, dinosaurs):
    post(client, bearer("wrong"))
    assert stored(storage, "dinosaurs") == []


def test_every_data_route_checks_the_token(client, dinosaurs):
    wrong = bearer("wrong")
    assert_refused(client.put(URL, json=[], headers=wrong), INVALID)
    assert_refused(client.patch(f"{URL}/x", json={"foo": "baz"}, headers=wrong), INVALID)
    assert_refused(client.delete(f"{URL}/x", headers=wrong), INVALID)
    assert_refused(client.post(f"{URL}/transform", json={"_start_at": "2014-01-01"}, headers=wrong), INVALID)
    assert_refused(client.post("/dinosaurs", json={"foo": "bar"}, headers=wrong), INVALID)


def test_auth_is_checked_before_the_body_is_read(client, dinosaurs):
    response = client.post(URL, data=b"{borked", content_type="application/json", headers=bearer("wrong"))
    assert_refused(response, INVALID)


def test_a_refusal_is_audited_without_the_token(client, tmp_path, dinosaurs):
    post(client, bearer("secret-wrong-token"))
    text = audit_text(tmp_path)
    assert '"Bad auth"' in text and '"dinosaurs"' in text
    assert "secret-wrong-token" not in text
