"""Pages of raw queries in the read app: links, headers, cache and ETags."""
from __future__ import annotations

import pytest

RECORDS = [{"_id": f"r{i}", "_timestamp": f"2014-01-0{1 + i % 3}T00:00:00+00:00", "kind": "even" if i % 2 == 0 else "odd"}
           for i in range(7)]


@pytest.fixture
def pages(add_data_set, add_records):
    add_data_set("pages", data_group="paged", data_type="records", raw_queries_allowed=True)
    add_records("pages", RECORDS)


def walk(client, path: str) -> list[list[str]]:
    found = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        found.append([record["_id"] for record in body["data"]])
        path = body.get("next")
        assert response.headers.get("Link") == (None if path is None else f'<{path}>; rel="next"')
    return found


def test_pages_follow_timestamp_then_id(client, pages):
    assert walk(client, "/pages?limit=3&page_token=") == [["r0", "r3", "r6"], ["r1", "r4", "r2"], ["r5"]]


def test_a_page_exactly_filling_the_rest_is_the_last(client, pages):
    assert walk(client, "/pages?limit=7&page_token=") == [["r0", "r3", "r6", "r1", "r4", "r2", "r5"]]


def test_links_keep_the_path_the_client_used(client, pages):
    assert client.get("/pages?limit=2&page_token=").get_json()["next"].startswith("/pages?")
    assert client.get("/data/paged/records?limit=2&page_token=").get_json()["next"].startswith(
        "/data/paged/records?")


def test_links_repeat_filters_and_range_in_canonical_form(client, pages):
    body = client.get("/pages?filter_by=kind:even&start_at=2014-01-01T01:00:00%2B01:00"
                      "&end_at=2014-01-04T00:00:00Z&inclusive=true&limit=1&page_token=").get_json()
    assert body["next"].startswith("/pages?filter_by=kind%3Aeven&start_at=2014-01-01T00%3A00%3A00Z"
                                   "&end_at=2014-01-04T00%3A00%3A00Z&inclusive=true&limit=1&page_token=")
    assert walk(client, body["next"]) == [["r6"], ["r4"], ["r2"]]


def test_a_csv_page_links_the_next_in_its_header(client, pages):
    response = client.get("/pages?limit=2&format=csv&page_token=")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Link"].startswith("</pages?format=csv&limit=2&page_token=")


def test_an_unpublished_page_keeps_its_warning_beside_next(client, add_data_set, add_records):
    add_data_set("draft", raw_queries_allowed=True, published=False)
    add_records("draft", RECORDS)
    body = client.get("/draft?limit=2&page_token=").get_json()
    assert set(body) == {"data", "next", "warning"}


def test_each_page_has_its_own_etag_and_answers_304_to_it(client, pages):
    first = client.get("/pages?limit=3&page_token=")
    second = client.get(first.get_json()["next"])
    assert first.headers["ETag"] != second.headers["ETag"]
    again = client.get(first.get_json()["next"], headers={"If-None-Match": second.headers["ETag"]})
    assert again.status_code == 304


def test_the_same_page_on_two_paths_is_cached_apart(client, pages):
    by_name = client.get("/pages?limit=2&page_token=")
    by_pair = client.get("/data/paged/records?limit=2&page_token=")
    assert by_name.headers["ETag"] != by_pair.headers["ETag"]
    assert by_pair.get_json()["next"].startswith("/data/paged/records?")


def test_a_write_gives_pages_a_new_etag(client, pages, add_records):
    before = client.get("/pages?limit=3&page_token=").headers["ETag"]
    add_records("pages", [{"_id": "new", "_timestamp": "2015-01-01T00:00:00+00:00"}])
    assert client.get("/pages?limit=3&page_token=").headers["ETag"] != before
