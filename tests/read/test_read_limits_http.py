"""The read limits through real gunicorn read apps (start-app.sh) on one SQLite file: a query
over a limit is a JSON 400 naming it; a read past the timeout is a JSON 503 with Retry-After,
and the same worker (the only one) answers the next request."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from backdrop.core.records import prepare_batch
from backdrop.core.registry import DataSetConfig
from backdrop.core.storage import open_storage
from backdrop.testing import Stack, app_environment, start_app, wait_until_up

WRITTEN_AT = datetime(2014, 1, 1, tzinfo=timezone.utc)
MANY = 600
WIDE_NOTE = "x" * 5000


def _fill(url: str) -> None:
    storage = open_storage(url)
    try:
        for name in ("many", "few", "wide"):
            storage.create_data_set(DataSetConfig(name=name, data_group=name, data_type="things",
                                                  raw_queries_allowed=True).to_dict())
        many = [{"_id": f"m{n:04}", "_timestamp": f"2014-01-{1 + n % 28:02}T00:00:00Z", "kind": f"k{n % 3}",
                 "number": n} for n in range(MANY)]
        storage.save_records("many", prepare_batch(many, auto_ids=None, schema=None, now=WRITTEN_AT))
        few = [{"_id": f"f{n}", "_timestamp": "2014-01-06T00:00:00Z", "kind": "k0"} for n in range(2)]
        storage.save_records("few", prepare_batch(few, auto_ids=None, schema=None, now=WRITTEN_AT))
        wide = [{"_id": "w", "_timestamp": "2014-01-06T00:00:00Z", "note": WIDE_NOTE}]
        storage.save_records("wide", prepare_batch(wide, auto_ids=None, schema=None, now=WRITTEN_AT))
    finally:
        storage.close()


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """(limited, timed) read apps of one worker each: rows 5 and bytes 4,000; a 1 µs timeout."""
    folder = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{folder}/limits.db"
    _fill(url)
    stack = Stack()
    try:
        limited = stack.add(start_app("read", app_environment(
            folder, url, WEB_CONCURRENCY="1", BACKDROP_QUERY_MAX_ROWS="5", BACKDROP_QUERY_MAX_BYTES="4000"),
            folder, name="limited"))
        timed = stack.add(start_app("read", app_environment(
            folder, url, WEB_CONCURRENCY="1", BACKDROP_QUERY_TIMEOUT="0.000001", BACKDROP_LOG_LEVEL="ERROR"),
            folder, name="timed"))
        wait_until_up([limited, timed])
        yield limited.url, timed.url
    finally:
        stack.stop()


def get(base: str, name: str, query: str) -> requests.Response:
    return requests.get(f"{base}/data/{name}/things?{query}", timeout=30)


def refused(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "error"
    return body["message"]


@pytest.mark.parametrize("query, suggestion", [
    ("", "page_token"),  # 600 raw records
    ("limit=6", "page_token"),
    ("group_by=number", "fewer group_by fields"),
    ("period=day&start_at=2014-01-01T00:00:00Z&end_at=2014-01-08T00:00:00Z", "a longer period"),
    ("period=week&group_by=kind&start_at=2014-01-06T00:00:00Z&end_at=2014-01-20T00:00:00Z", "a shorter range"),
])
def test_a_query_over_the_row_limit_is_a_400_naming_it(apps, query, suggestion):
    message = refused(get(apps[0], "many", query), 400)
    assert message.startswith("Query would return more than 5 rows, the limit set by BACKDROP_QUERY_MAX_ROWS: ")
    assert suggestion in message


def test_a_page_longer_than_the_row_limit_is_a_400(apps):
    assert "Pages hold at most 5 records" in refused(get(apps[0], "many", "page_token=&limit=6"), 400)
    assert len(get(apps[0], "many", "page_token=&limit=5").json()["data"]) == 5


def test_an_answer_over_the_byte_limit_is_a_400_naming_it(apps):
    message = refused(get(apps[0], "wide", ""), 400)
    assert message.startswith("Query answer would be larger than 4000 bytes, the limit set by BACKDROP_QUERY_MAX_BYTES")


def test_queries_within_the_limits_are_answered(apps):
    for query, rows in (("limit=5", 5), ("group_by=kind", 3), ("filter_by=number:7", 0)):
        response = get(apps[0], "many", query)
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == rows
    assert get(apps[0], "wide", "group_by=note").status_code == 400  # the note, in a grouped answer too: over 4,000 bytes
    assert len(get(apps[0], "few", "").json()["data"]) == 2


def test_a_read_past_the_timeout_is_a_503_and_the_worker_answers_the_next_request(apps):
    timed = apps[1]
    for query in ("", "group_by=kind&collect=number:sum"):
        response = get(timed, "many", query)
        message = refused(response, 503)
        assert response.headers["Retry-After"].isdigit()
        assert message.startswith("Service Unavailable: the query took longer than 1e-06 seconds "
                                  "(BACKDROP_QUERY_TIMEOUT) and was cancelled; narrow it")
    assert requests.get(f"{timed}/_status", timeout=30).status_code == 200
    small = get(timed, "few", "")  # two records: done before SQLite first looks at the clock
    assert small.status_code == 200, small.text
    assert [record["_id"] for record in small.json()["data"]] == ["f0", "f1"]
