"""The version-keyed response cache and the ETags derived from the same key."""
from __future__ import annotations

import dataclasses

import pytest
from werkzeug.datastructures import ETags

from backdrop.core.registry import DataSetConfig
from backdrop.read.cache import CachedResponse, CacheKey, ResponseCache

RECORDS = [
    {"_timestamp": "2013-03-20T10:10:10+00:00", "size": "big"},
    {"_timestamp": "2013-03-20T10:10:11+00:00", "size": "small"},
]
ROUTES = ["/foo?group_by=size", "/data/grp/typ?group_by=size"]


@pytest.fixture
def foo(add_data_set, add_records):
    config = add_data_set("foo", data_group="grp", data_type="typ", raw_queries_allowed=True)
    add_records("foo", RECORDS)
    return config


def replace_config(storage, config: DataSetConfig, **changes) -> None:
    storage.replace_data_set(config.name, dataclasses.replace(config, **changes).to_dict())


# --- ETag and 304 ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
def test_successful_get_carries_a_strong_etag(client, foo, path):
    etag = client.get(path).headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2


def test_both_routes_tag_the_same_answer_alike(client, foo):
    assert client.get(ROUTES[0]).headers["ETag"] == client.get(ROUTES[1]).headers["ETag"]


def test_different_queries_get_different_etags(client, foo):
    assert client.get("/foo?group_by=size").headers["ETag"] != client.get("/foo").headers["ETag"]


@pytest.mark.parametrize("path", ROUTES)
def test_matching_if_none_match_is_304_without_body(client, foo, path):
    first = client.get(path)
    response = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == first.headers["ETag"]
    assert response.headers["Cache-Control"] == "max-age=1800, must-revalidate"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("header", ["*", '"other", {etag}', "W/{etag}"])
def test_star_lists_and_weak_forms_match(client, foo, header):
    etag = client.get("/foo").headers["ETag"]
    response = client.get("/foo", headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == 304


def test_head_with_matching_etag_is_304(client, foo):
    etag = client.get("/foo").headers["ETag"]
    assert client.head("/foo", headers={"If-None-Match": etag}).status_code == 304


def test_stale_etag_gets_the_full_answer(client, foo):
    response = client.get("/foo", headers={"If-None-Match": '"not-this-one"'})
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == 2


@pytest.mark.parametrize("path", ["/nothing", "/foo?callback=x"])
def test_errors_are_not_tagged(client, foo, path):
    response = client.get(path)
    assert response.status_code >= 400
    assert "ETag" not in response.headers


def test_matching_etag_does_not_turn_an_error_into_304(client, foo):
    response = client.get("/foo?callback=x", headers={"If-None-Match": "*"})
    assert response.status_code == 400


# --- the cache -------------------------------------------------------------------------


def test_repeated_query_does_not_read_the_records(client, foo, record_reads):
    first = client.get("/foo?group_by=size")
    second = client.get("/foo?group_by=size")
    assert record_reads.calls == 1
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]


def test_both_routes_share_cache_entries(client, foo, record_reads):
    client.get(ROUTES[0])
    client.get(ROUTES[1])
    assert record_reads.calls == 1


def test_equivalent_query_strings_share_an_entry(client, foo, record_reads):
    client.get("/foo?period=day&start_at=2013-03-20T00:00:00Z&end_at=2013-03-21T00:00:00Z")
    client.get("/foo?period=day&start_at=2013-03-20T01:00:00%2B01:00&end_at=2013-03-21T00:00:00%2B00:00")
    assert record_reads.calls == 1


def test_a_new_write_is_seen_at_once(client, foo, add_records, record_reads):
    before = client.get("/foo?group_by=size")
    add_records("foo", [{"_timestamp": "2013-03-21T10:10:10+00:00", "size": "big"}])
    after = client.get("/foo?group_by=size")
    assert record_reads.calls == 2
    assert after.get_json()["data"][0] == {"size": "big", "_count": 2}
    assert after.headers["ETag"] != before.headers["ETag"]


def test_old_etag_after_a_write_gets_the_new_answer(client, foo, add_records):
    etag = client.get("/foo").headers["ETag"]
    add_records("foo", [{"size": "medium"}])
    response = client.get("/foo", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == 3


def test_a_configuration_change_is_seen_at_once(client, foo, storage):
    client.get("/foo")
    replace_config(storage, foo, published=False)
    response = client.get("/foo")
    assert response.headers["Cache-Control"] == "no-cache"
    assert "warning" in response.get_json()


def test_a_moved_data_set_leaves_its_old_address(client, foo, storage):
    client.get(ROUTES[1])
    replace_config(storage, foo, data_type="moved")
    assert client.get(ROUTES[1]).status_code == 404
    assert client.get("/data/grp/moved?group_by=size").status_code == 200


def test_a_recreated_data_set_answers_with_its_new_records(client, foo, storage, add_data_set, add_records):
    client.get("/foo")
    storage.delete_data_set("foo")
    add_data_set("foo", data_group="grp", data_type="typ", raw_queries_allowed=True)
    add_records("foo", [{"size": "only"}])
    assert [r["size"] for r in client.get("/foo").get_json()["data"]] == ["only"]


def test_turning_a_data_set_unqueryable_hides_cached_answers(client, foo, storage):
    client.get("/foo")
    replace_config(storage, foo, queryable=False)
    assert client.get("/foo").status_code == 404


@pytest.mark.cache_size(0)
def test_cache_size_zero_reads_the_records_every_time(client, foo, record_reads):
    first = client.get("/foo")
    second = client.get("/foo", headers={"If-None-Match": first.headers["ETag"]})
    assert record_reads.calls == 2
    assert second.status_code == 304


# --- the LRU itself --------------------------------------------------------------------


def entry(body: bytes = b"{}") -> CachedResponse:
    return CachedResponse(body, "application/json", (), '"tag"')


def key(n: int) -> CacheKey:
    return CacheKey("foo", f"q{n}", 1)


def test_lru_evicts_the_least_recently_used_entry():
    cache = ResponseCache(2)
    cache.put(key(1), entry())
    cache.put(key(2), entry())
    cache.get(key(1))
    cache.put(key(3), entry())
    assert cache.get(key(2)) is None
    assert cache.get(key(1)) is not None and cache.get(key(3)) is not None


def test_lru_of_size_zero_keeps_nothing():
    cache = ResponseCache(0)
    cache.put(key(1), entry())
    assert cache.get(key(1)) is None


def test_lru_keeps_its_bodies_within_the_byte_budget():
    cache = ResponseCache(10, max_bytes=10)
    cache.put(key(1), entry(b"123456"))
    cache.put(key(2), entry(b"123456"))
    cache.put(key(3), entry(b"12345678901"))
    assert cache.get(key(1)) is None
    assert cache.get(key(2)) is not None
    assert cache.get(key(3)) is None


def test_versions_key_different_entries():
    assert CacheKey("foo", "q", 1).etag() != CacheKey("foo", "q", 2).etag()


def test_cached_response_answers_304_only_for_its_own_tag():
    cached = entry()
    assert cached.response(ETags(['tag'])).status_code == 304
    assert cached.response(ETags(['else'])).status_code == 200
