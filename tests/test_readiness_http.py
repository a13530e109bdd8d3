"""Both apps under gunicorn on PostgreSQL: `/_status/ready` answers 503, naming the database,
while it refuses connections, and 200 again once it takes them, without a restart; the
liveness check `/_status` answers 200 throughout."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from backdrop.testing import DEFAULT_POSTGRES_URL, apps_on_fresh_postgres
from backdrop.testing_engines import support_for

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def apps(tmp_path):
    unavailable = support_for("postgres").unavailable()
    if unavailable:
        pytest.skip(f"SKIP postgres: {unavailable}")
    with apps_on_fresh_postgres(tmp_path, WEB_CONCURRENCY="1") as (read, write, url):
        try:
            yield read.url, write.url, url
        finally:
            _allow_connections(url, True)


def _allow_connections(database_url: str, allowed: bool) -> None:
    """Open or close the database to new sessions, ending the open ones when closing (a database
    that is down, as far as the apps can tell)."""
    name = urlsplit(database_url).path.lstrip("/")
    server = os.environ.get("BACKDROP_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            connection.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = %s",
                               (name,))


def _until(url: str, status: int, deadline: float = 30) -> requests.Response:
    """Poll `url` until it answers `status`; the last answer (whatever its status) at the deadline."""
    stop = time.monotonic() + deadline
    while True:
        answer = requests.get(url, timeout=30)
        if answer.status_code == status or time.monotonic() > stop:
            return answer
        time.sleep(0.2)


def test_readiness_follows_the_database_and_liveness_does_not(apps):
    read_url, write_url, database_url = apps
    assert _until(f"{read_url}/_status/ready", 200).json()["checks"] == {"database": "ok"}
    assert _until(f"{write_url}/_status/ready", 200).json() == _readme_example()

    _allow_connections(database_url, False)
    for url in (read_url, write_url):
        answer = _until(f"{url}/_status/ready", 503)
        assert answer.status_code == 503, answer.text
        assert answer.json()["checks"]["database"].startswith("the database cannot be used: ")
        assert answer.json()["checks"].get("outbox", "not checked: the database cannot be used") == \
            "not checked: the database cannot be used"
        assert answer.json()["message"].startswith("not ready: the database cannot be used")
        assert answer.headers["Retry-After"]
        assert requests.get(f"{url}/_status", timeout=30).status_code == 200

    _allow_connections(database_url, True)
    for url in (read_url, write_url):
        answer = _until(f"{url}/_status/ready", 200)
        assert answer.status_code == 200, answer.text


def _readme_example() -> dict:
    """The answer the README shows for the write app's `curl -s localhost:3039/_status/ready`."""
    lines = README.read_text().splitlines()
    command = next(index for index, line in enumerate(lines) if line.strip() == "$ curl -s localhost:3039/_status/ready")
    return json.loads(lines[command + 1])
