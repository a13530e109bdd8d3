"""The read app's columnar copies end to end: both apps under gunicorn on PostgreSQL, plus a
second read app with BACKDROP_COLUMNAR=0 over the same database as the reference.

The first grouped query of a large enough data set is answered by the database while the
copy loads in the background; once loaded, the copy answers, with the same bodies as the
database; a small write is caught up before the next answer (never stale); a write larger
than BACKDROP_COLUMNAR_CATCH_UP is answered by the database until the copy has caught up.
Which one answered is read from the read app's `backdrop_columnar_answers_total`.
"""
from __future__ import annotations

import re
import time

import pytest
import requests

from backdrop.testing import apps_on_fresh_postgres, app_environment, start_app, wait_until_up, Stack
from backdrop.testing_engines import support_for

ADMIN = "columnar-admin-token"
TOKEN = "columnar-token"
QUERIES = (
    "group_by=channel&collect=count:sum&collect=cost:max",
    "period=week&group_by=channel&collect=count:sum&start_at=2014-01-06T00:00:00Z&end_at=2014-03-03T00:00:00Z",
    "period=month&collect=cost:set&collect=count:mean&start_at=2014-01-01T00:00:00Z&end_at=2014-07-01T00:00:00Z",
    "filter_by=channel:web&group_by=region&collect=count:sum",
)
DEADLINE = 60.0


@pytest.fixture
def apps(tmp_path):
    unavailable = support_for("postgres").unavailable()
    if unavailable:
        pytest.skip(f"SKIP postgres: {unavailable}")
    settings = {"WEB_CONCURRENCY": "1", "BACKDROP_ADMIN_TOKEN": ADMIN, "BACKDROP_QUERY_CACHE_SIZE": "0",
                "BACKDROP_COLUMNAR_MIN_RECORDS": "200", "BACKDROP_COLUMNAR_CATCH_UP": "50"}
    with apps_on_fresh_postgres(tmp_path, **settings) as (read, write, url):
        stack = Stack()
        try:
            plain = stack.add(start_app("read", app_environment(tmp_path, url, **settings, BACKDROP_COLUMNAR="0"),
                                        tmp_path, name="read-plain"))
            wait_until_up([plain])
            yield read.url, plain.url, write.url
        finally:
            stack.stop()


def records(start: int, count: int) -> list[dict]:
    """Mixed types in one field on purpose: `cost` holds ints, floats, strings and booleans."""
    costs = (3, 2.5, "n/a", True, None, 7)
    return [{"_id": f"r{index:05}", "_timestamp": f"2014-{1 + index % 6:02}-{1 + index % 28:02}T{index % 24:02}:00:00Z",
             "channel": ("web", "phone", "paper")[index % 3], "region": f"region-{index % 7}",
             "count": index % 11, "cost": costs[index % len(costs)]}
            for index in range(start, start + count)]


def post(write_url: str, batch: list[dict]) -> None:
    answer = requests.post(f"{write_url}/data/columnar/t", json=batch, timeout=30,
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text


def answered(read_url: str) -> dict[str, float]:
    """How many grouped queries each source has answered, from the read app's metrics."""
    text = requests.get(f"{read_url}/_metrics", timeout=30).text
    found = re.findall(r'^backdrop_columnar_answers_total\{source="(\w+)"\} (\S+)$', text, re.MULTILINE)
    return {"columnar": 0.0, "database": 0.0, **{source: float(count) for source, count in found}}


def ask(read_url: str, query: str) -> dict:
    answer = requests.get(f"{read_url}/data/columnar/t?{query}", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def assert_same_answers(read_url: str, plain_url: str) -> None:
    for query in QUERIES:
        assert ask(read_url, query) == ask(plain_url, query), query


def until_columnar_answers(read_url: str) -> None:
    ends = time.monotonic() + DEADLINE
    while time.monotonic() < ends:
        before = answered(read_url)["columnar"]
        ask(read_url, QUERIES[0])
        if answered(read_url)["columnar"] > before:
            return
        time.sleep(0.1)
    raise AssertionError("the columnar copy never answered")


def test_the_copy_answers_as_the_database_does_and_is_never_stale(apps):
    read_url, plain_url, write_url = apps
    created = requests.post(f"{write_url}/data-sets", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30,
                            json={"name": "columnar", "data_group": "columnar", "data_type": "t",
                                  "bearer_token": TOKEN, "raw_queries_allowed": True})
    assert created.status_code in (200, 201), created.text
    post(write_url, records(0, 300))

    first = answered(read_url)
    assert ask(read_url, QUERIES[0]) == ask(plain_url, QUERIES[0])
    assert answered(read_url)["database"] == first["database"] + 1  # while the copy loads
    until_columnar_answers(read_url)
    before = answered(read_url)
    assert_same_answers(read_url, plain_url)
    assert answered(read_url)["columnar"] == before["columnar"] + len(QUERIES)

    post(write_url, records(300, 5) + [dict(records(3, 1)[0], count=1000)])  # new records and an upsert
    before = answered(read_url)
    assert_same_answers(read_url, plain_url)
    assert answered(read_url)["columnar"] == before["columnar"] + len(QUERIES)  # caught up inline

    post(write_url, records(400, 120))  # more than BACKDROP_COLUMNAR_CATCH_UP
    before = answered(read_url)
    assert ask(read_url, QUERIES[0]) == ask(plain_url, QUERIES[0])
    assert answered(read_url)["database"] == before["database"] + 1
    until_columnar_answers(read_url)
    assert_same_answers(read_url, plain_url)
