"""The audit log: JSON lines, one per write event, never a token."""
import hashlib
import json

from write_support import ADMIN, ADMIN_TOKEN, AUTH, TOKEN, TOKEN_SECRET, audit_lines, audit_text, build_app

from backdrop import request_id
from backdrop.write.audit import AuditLog, fingerprint

KEY = TOKEN_SECRET.encode()

URL = "/data/dinosaur/droppings"


def events(tmp_path, message):
    return [line for line in audit_lines(tmp_path) if line["message"] == message]


def test_an_append_logs_the_batchs_bounds_and_size(client, tmp_path, dinosaurs):
    client.post(URL, json=[{"_timestamp": "2014-01-02T00:00:00Z"}, {"_timestamp": "2014-01-01T00:00:00Z"},
                           {"name": "untimed"}], headers=AUTH)
    [line] = events(tmp_path, "Data append action")
    assert line["logger"] == "backdrop.write.audit"
    assert (line["data_set"], line["datapoints"]) == ("dinosaurs", 3)
    assert (line["start_at"], line["end_at"]) == ("2014-01-01T00:00:00+00:00", "2014-01-02T00:00:00+00:00")
    assert line["token_fingerprint"] == fingerprint(f"Bearer {TOKEN}", KEY)


def test_a_refused_batch_is_logged_as_rejected_with_its_problems_not_as_an_append(client, tmp_path, dinosaurs):
    response = client.post(URL, json=[{"_timestamp": "2014-01-02T00:00:00Z"}, {"_foo": 1}, {"$bar": 2}],
                           headers=AUTH)
    assert response.status_code == 400 and len(response.json["messages"]) == 2
    assert events(tmp_path, "Data append action") == []
    [line] = events(tmp_path, "Data append rejected")
    assert (line["datapoints"], line["problems"], line["start_at"]) == (3, 2, "2014-01-02T00:00:00+00:00")
    assert line["token_fingerprint"] == fingerprint(f"Bearer {TOKEN}", KEY)


def test_an_empty_post_logs_nothing(client, tmp_path, dinosaurs):
    client.post(URL, json=[], headers=AUTH)
    assert events(tmp_path, "Data append action") == []


def test_a_patch_logs_its_record_body_and_dates(client, tmp_path, dinosaurs):
    client.post(URL, json={"_id": "rex"}, headers=AUTH)
    changes = {"_start_at": "2014-01-01T00:00:00Z", "_end_at": "2014-01-08T00:00:00Z", "size": "big"}
    assert client.patch(f"{URL}/rex", json=changes, headers=AUTH).status_code == 200
    [line] = events(tmp_path, "Data patch action")
    assert (line["record_id"], line["data"]) == ("rex", changes)
    assert (line["start_at"], line["end_at"]) == ("2014-01-01T00:00:00+00:00", "2014-01-08T00:00:00+00:00")


def test_a_patch_without_start_logs_null_dates(client, tmp_path, dinosaurs):
    client.post(URL, json={"_id": "rex"}, headers=AUTH)
    client.patch(f"{URL}/rex", json={"size": "big"}, headers=AUTH)
    [line] = events(tmp_path, "Data patch action")
    assert (line["start_at"], line["end_at"]) == (None, None)


def test_a_refused_patch_is_logged_as_rejected(client, tmp_path, dinosaurs):
    client.post(URL, json={"_id": "rex"}, headers=AUTH)
    assert client.patch(f"{URL}/nobody", json={"size": "big"}, headers=AUTH).status_code == 400
    assert client.patch(f"{URL}/rex", json={"$size": "big"}, headers=AUTH).status_code == 400
    assert events(tmp_path, "Data patch action") == []
    lines = events(tmp_path, "Data patch rejected")
    assert [(line["record_id"], line["problems"]) for line in lines] == [("nobody", 1), ("rex", 1)]


def test_a_single_record_delete_is_logged_with_its_record(client, tmp_path, dinosaurs):
    client.post(URL, json={"_id": "rex"}, headers=AUTH)
    assert client.delete(f"{URL}/rex", headers=AUTH).status_code == 200
    assert client.delete(f"{URL}/rex", headers=AUTH).status_code == 400
    [done] = events(tmp_path, "Data delete action")
    [refused] = events(tmp_path, "Data delete rejected")
    assert (done["data_set"], done["record_id"], done["token_fingerprint"]) == (
        "dinosaurs", "rex", fingerprint(f"Bearer {TOKEN}", KEY))
    assert (refused["record_id"], refused["problems"]) == ("rex", 1)


def test_every_entry_carries_the_request_id_bound_when_it_was_written(tmp_path):
    log = AuditLog(str(tmp_path / "ids.log"), TOKEN_SECRET)
    with request_id.bound("req-123"):
        log.append("Bearer t", "dinosaurs", None, 1)
    log.bad_auth("dinosaurs")
    log.close()
    lines = [json.loads(line) for line in (tmp_path / "ids.log").read_text().splitlines()]
    assert [line["request_id"] for line in lines] == ["req-123", None]


def test_emptying_logs_a_delete(client, tmp_path, dinosaurs):
    client.put(URL, json=[], headers=AUTH)
    [line] = events(tmp_path, "Data delete action")
    assert line["data_set"] == "dinosaurs"


def test_deleting_a_data_set_logs_a_delete(client, tmp_path, dinosaurs):
    client.delete("/data-sets/dinosaurs", headers=ADMIN)
    [line] = events(tmp_path, "Data delete action")
    assert (line["data_set"], line["token_fingerprint"]) == ("dinosaurs", fingerprint(f"Bearer {ADMIN_TOKEN}", KEY))


def test_bad_auth_of_an_unknown_admin_route_target_logs_the_path(client, tmp_path):
    client.get("/data-sets", headers={"Authorization": "Bearer wrong"})
    [line] = events(tmp_path, "Bad auth")
    assert line["data_set"] == "/data-sets"


def test_no_token_ever_reaches_the_log(client, tmp_path, dinosaurs):
    client.post(URL, json={"_timestamp": "2014-01-02T00:00:00Z"}, headers=AUTH)
    client.patch(f"{URL}/x", json={"size": "big"}, headers=AUTH)
    client.put(URL, json=[], headers=AUTH)
    client.post(URL, json={}, headers={"Authorization": "Bearer wrong-token-123"})
    client.delete("/data-sets/dinosaurs", headers=ADMIN)
    text = audit_text(tmp_path)
    assert len(audit_lines(tmp_path)) >= 5
    for secret in (TOKEN, ADMIN_TOKEN, "wrong-token-123"):
        assert secret not in text


def test_fingerprints_tell_tokens_apart_and_are_short():
    assert fingerprint("Bearer one", KEY) != fingerprint("Bearer two", KEY)
    assert len(fingerprint("Bearer one", KEY)) == 12
    assert fingerprint(None, KEY) is None


def test_a_fingerprint_is_keyed_so_guessing_the_token_needs_the_secret():
    unsalted = hashlib.sha256(TOKEN.encode()).hexdigest()[:12]
    assert fingerprint(f"Bearer {TOKEN}", KEY) != unsalted
    assert fingerprint(f"Bearer {TOKEN}", KEY) != fingerprint(f"Bearer {TOKEN}", b"another-secret")


def test_the_same_secret_correlates_across_processes_and_none_gives_a_random_key(tmp_path):
    same = [AuditLog(str(tmp_path / "a.log"), TOKEN_SECRET), AuditLog(str(tmp_path / "b.log"), TOKEN_SECRET)]
    assert same[0].fingerprint("Bearer t") == same[1].fingerprint("Bearer t") == fingerprint("Bearer t", KEY)
    unset = [AuditLog(str(tmp_path / "c.log")), AuditLog(str(tmp_path / "d.log"))]
    assert unset[0].fingerprint("Bearer t") == unset[0].fingerprint("Bearer t")
    assert unset[0].fingerprint("Bearer t") != unset[1].fingerprint("Bearer t")
    for log in same + unset:
        log.close()


def test_the_app_keys_fingerprints_with_its_setting(tmp_path):
    app = build_app(tmp_path, BACKDROP_TOKEN_SECRET="configured")
    assert app.extensions["backdrop_audit"].fingerprint("Bearer t") == fingerprint("Bearer t", b"configured")
