"""Both apps under gunicorn on PostgreSQL keep answering 200 after every backend of their
database is terminated (as a database restart does): broken pooled connections are replaced
and the request's transaction is run again, instead of a 500 per broken connection."""
from __future__ import annotations

import json

import pytest
import requests

from backdrop.testing import apps_on_fresh_postgres, terminate_backends
from backdrop.testing_engines import support_for

ADMIN = {"Authorization": "Bearer reconnect-admin", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer reconnect-token", "Content-Type": "application/json"}
ROUNDS = 2


@pytest.fixture
def apps(tmp_path):
    unavailable = support_for("postgres").unavailable()
    if unavailable:
        pytest.skip(f"SKIP postgres: {unavailable}")
    with apps_on_fresh_postgres(tmp_path, BACKDROP_ADMIN_TOKEN="reconnect-admin") as (read, write, url):
        yield read.url, write.url, url


def _requests(read_url: str, write_url: str, round_: int) -> list[requests.Response]:
    """One round of reads and writes through both apps (each worker's pool is used)."""
    answers = []
    for index in range(4):
        record = {"_id": f"r{round_}-{index}", "_timestamp": "2014-01-06T10:00:00Z", "number": index}
        answers.append(requests.post(f"{write_url}/data/recon/things", data=json.dumps(record),
                                     headers=WRITER, timeout=30))
        answers.append(requests.get(f"{read_url}/data/recon/things?limit={100 + index}", timeout=30))
        answers.append(requests.get(f"{write_url}/data-sets/recon", headers=ADMIN, timeout=30))
    return answers


def test_requests_after_every_backend_was_terminated_answer_200(apps):
    read_url, write_url, database_url = apps
    config = {"name": "recon", "data_group": "recon", "data_type": "things",
              "bearer_token": "reconnect-token", "raw_queries_allowed": True}
    created = requests.post(f"{write_url}/data-sets", data=json.dumps(config), headers=ADMIN, timeout=30)
    assert created.status_code == 201, created.text
    for round_ in range(ROUNDS):
        answers = _requests(read_url, write_url, round_)
        assert [(answer.status_code, answer.text) for answer in answers if answer.status_code != 200] == []
        assert terminate_backends(database_url) > 0
        answers = _requests(read_url, write_url, round_ + ROUNDS)
        assert [(answer.status_code, answer.text) for answer in answers if answer.status_code != 200] == []
    stored = requests.get(f"{read_url}/data/recon/things", timeout=30).json()["data"]
    assert len(stored) == 4 * 2 * ROUNDS  # every acknowledged write stored once
