"""Cache-Control by data-set flags, CORS everywhere, CSV exports and the unpublished warning."""
from __future__ import annotations

import pytest

RECORDS = [
    {"_timestamp": "2013-03-20T10:10:10+00:00", "size": "big"},
    {"_timestamp": "2013-03-20T10:10:11+00:00", "size": "big"},
    {"_timestamp": "2013-03-20T10:10:12+00:00", "size": "small"},
]
WARNING = "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."


@pytest.fixture
def make(add_data_set, add_records):
    def make(name="foo", **settings):
        add_data_set(name, raw_queries_allowed=True, **settings)
        add_records(name, RECORDS)

    return make


def test_published_data_is_cacheable_for_half_an_hour(client, make):
    make(realtime=False)
    assert client.get("/foo").headers["Cache-Control"] == "max-age=1800, must-revalidate"


def test_realtime_data_is_cacheable_for_two_minutes(client, make):
    make(realtime=True)
    assert client.get("/foo").headers["Cache-Control"] == "max-age=120, must-revalidate"


def test_unpublished_data_is_not_cached_even_when_realtime(client, make):
    make(published=False, realtime=True)
    assert client.get("/foo").headers["Cache-Control"] == "no-cache"


def test_unpublished_data_carries_a_warning(client, make):
    make(published=False)
    body = client.get("/foo?group_by=size").get_json()
    assert body == {"data": [{"size": "big", "_count": 2}, {"size": "small", "_count": 1}], "warning": WARNING}


def test_published_data_carries_no_warning(client, make):
    make()
    assert set(client.get("/foo").get_json()) == {"data"}


def test_empty_data_set_answers_an_empty_list(client, add_data_set):
    add_data_set("published_data_set", raw_queries_allowed=True)
    assert client.get("/published_data_set").get_json() == {"data": []}


@pytest.mark.parametrize("path", ["/nothing", "/foo?callback=x"])
def test_errors_carry_no_cache_control(client, make, path):
    make()
    response = client.get(path)
    assert response.status_code >= 400
    assert "Cache-Control" not in response.headers


def test_csv_export_is_an_attachment_with_sorted_columns(client, make):
    make()
    response = client.get("/data/foo/foo?group_by=size&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=export.csv"
    assert response.headers["Cache-Control"] == "max-age=1800, must-revalidate"
    assert response.data.decode("utf-8") == "_count,size\r\n2,big\r\n1,small\r\n"


def test_csv_is_not_offered_for_unpublished_data(client, make):
    make(published=False)
    response = client.get("/foo?group_by=size&format=csv")
    assert response.mimetype == "application/json"
    assert "Content-Disposition" not in response.headers
    assert response.get_json()["warning"] == WARNING


def test_other_formats_answer_json(client, make):
    make()
    assert client.get("/foo?format=xml").mimetype == "application/json"


@pytest.mark.parametrize("path", ["/foo", "/data/foo/foo", "/_status", "/_status/data-sets"])
def test_successful_responses_carry_cors(client, make, path):
    make()
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
