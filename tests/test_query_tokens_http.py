"""Tokens over real HTTP, both apps under gunicorn (start-app.sh): a token sent in the query
string is refused and never logged in clear (access logs and the write app's own request lines
read back); wrong tokens are limited per address across the write app's two workers."""
from __future__ import annotations

import json

import pytest
import requests

from backdrop.redaction import redact
from backdrop.testing import Stack, app_environment, start_app, wait_until_up

ADMIN = {"Authorization": "Bearer query-admin", "Content-Type": "application/json"}
SECRETS = ("qs-secret-one", "qs-secret-two", "qs-secret-three", "qs-secret-four")


@pytest.fixture
def apps(tmp_path):
    environ = app_environment(tmp_path, f"sqlite:///{tmp_path}/q.db", BACKDROP_ADMIN_TOKEN="query-admin",
                              BACKDROP_LOG_LEVEL="INFO", BACKDROP_TOKEN_FAILURES="6")
    stack = Stack()
    try:
        read = stack.add(start_app("read", environ, tmp_path))
        write = stack.add(start_app("write", environ, tmp_path))
        wait_until_up([read, write])
        yield read, write
    finally:
        stack.stop()


def test_a_query_string_token_is_refused_and_logged_only_redacted(apps):
    read, write = apps
    config = {"name": "qs", "data_group": "qs", "data_type": "things", "bearer_token": SECRETS[0]}
    assert requests.post(f"{write.url}/data-sets", data=json.dumps(config), headers=ADMIN, timeout=30).status_code == 201
    body, plain = json.dumps({"value": 1}), {"Content-Type": "application/json"}
    for query in (f"token={SECRETS[0]}", f"a=1&bearer_token={SECRETS[1]}", f"ACCESS_TOKEN={SECRETS[2]}",
                  f"%74oken={SECRETS[3]}"):
        refused = requests.post(f"{write.url}/data/qs/things?{query}", data=body, headers=plain, timeout=30)
        assert refused.status_code == 401
        assert requests.get(f"{read.url}/data/qs/things?{query}", timeout=30).status_code in (200, 400, 404)
    posted = requests.post(f"{write.url}/data/qs/things", data=body, timeout=30,
                           headers={**plain, "Authorization": f"Bearer {SECRETS[0]}"})
    assert posted.status_code == 200
    for process in (read, write):
        process.stop()
        text = process.log_text(tail=10**7)
        assert "/data/qs/things?" in text and "token=[redacted]" in text  # the lines are there
        for secret in SECRETS:
            assert secret not in text, f"{secret} in the {process.name} log"


def test_wrong_tokens_are_counted_across_workers_then_answered_429(apps):
    _, write = apps
    config = {"name": "lim", "data_group": "lim", "data_type": "things", "bearer_token": "lim-token"}
    assert requests.post(f"{write.url}/data-sets", data=json.dumps(config), headers=ADMIN, timeout=30).status_code == 201
    answers = [requests.post(f"{write.url}/data/lim/things", data="{}", timeout=30,  # a new connection each
                             headers={"Authorization": f"Bearer guess-{n}", "Connection": "close"})
               for n in range(8)]
    assert [answer.status_code for answer in answers] == [401] * 6 + [429] * 2
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 120


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /data/a/b?token=s HTTP/1.1", "GET /data/a/b?token=[redacted] HTTP/1.1"),
    ("bearer_token=s&limit=1", "bearer_token=[redacted]&limit=1"),
    ("/p?limit=1&Access_Token=s;x=2", "/p?limit=1&Access_Token=[redacted];x=2"),
    ("/p?%62earer_token=s", "/p?%62earer_token=[redacted]"),
    ("/p?tokens=kept&period=week", "/p?tokens=kept&period=week"),
    ("/p/token=kept", "/p/token=kept"),
])
def test_redact_hides_only_token_parameters(text, expected):
    assert redact(text) == expected
