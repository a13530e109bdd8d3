"""Wrong tokens from one address are limited per minute: 429 with Retry-After, counted in the database."""
import pytest
from write_support import ADMIN, AUTH, audit_lines, bearer, build_app

from backdrop.web import get_storage

URL = "/data/dinosaur/droppings"


@pytest.fixture
def limited(tmp_path):
    app = build_app(tmp_path, BACKDROP_TOKEN_FAILURES="3")
    client = app.test_client()
    from backdrop.core import registry

    registry.create(get_storage(app), {"name": "dinosaurs", "data_group": "dinosaur", "data_type": "droppings",
                                       "bearer_token": AUTH["Authorization"][7:]})
    return client


def test_after_n_wrong_tokens_the_address_gets_429_with_retry_after(limited):
    answers = [limited.post(URL, json={"foo": "bar"}, headers=bearer(f"guess-{n}")).status_code for n in range(3)]
    assert answers == [401, 401, 401]
    response = limited.post(URL, json={"foo": "bar"}, headers=bearer("guess-4"))
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 120
    assert response.json == {"status": "error",
                             "message": f"Too many wrong tokens from this address: try again in {seconds} seconds"}


def test_the_limit_also_refuses_the_right_token_not_yet_verified_and_admin_guesses(limited):
    for n in range(3):
        limited.get("/data-sets", headers=bearer(f"admin-guess-{n}"))
    assert limited.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 429
    assert limited.get("/data-sets", headers=ADMIN).status_code == 429


def test_a_verified_token_keeps_working_and_missing_headers_are_not_counted(limited, tmp_path):
    assert limited.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 200
    for _ in range(5):
        assert limited.post(URL, json={"foo": "bar"}).status_code == 401  # no header: no guess
    for n in range(4):
        limited.post(URL, json={"foo": "bar"}, headers=bearer(f"guess-{n}"))
    assert limited.post(URL, json={"foo": "bar"}, headers=AUTH).status_code == 200
    assert sum(line["message"] == "Bad auth" for line in audit_lines(tmp_path)) == 5 + 4


def test_another_address_is_counted_apart(limited):
    for n in range(3):
        limited.post(URL, json={}, headers=bearer(f"guess-{n}"))
    other = limited.post(URL, json={"foo": "bar"}, headers=bearer("guess"),
                         environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401


def test_the_previous_minute_counts_too_and_retry_after_says_when(limited, monkeypatch):
    now = [6000 * 60 + 58]  # two seconds before a minute ends
    monkeypatch.setattr("backdrop.write.auth.clock", lambda: now[0])

    def guess():
        return limited.post(URL, json={"foo": "bar"}, headers=bearer("guess"))

    assert [guess().status_code for _ in range(3)] == [401] * 3
    assert guess().headers["Retry-After"] == "62"  # this minute alone is over: its end, then one more
    now[0] += 2
    refused = guess()
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "60")  # the previous minute counts
    now[0] += 60
    assert guess().status_code == 401
