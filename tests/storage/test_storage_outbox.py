"""Contract: the outbox of transform requests, stored with the records they concern, on every engine."""
from __future__ import annotations

from datetime import timedelta

import pytest
from storage_support import CONFIG, at, record

from backdrop.core.storage.base import SENT_REQUESTS_KEPT, RecordQuery, StorageError, TransformRequest
from backdrop.core.storage.engines import Capability

NOW = at(2026, 12, 7, 12)
FAILURES = (TypeError, ValueError, AttributeError, StorageError)


@pytest.fixture
def ds(engine):
    engine.create_data_set(CONFIG)
    return engine


def request(day: int = 1, created: int = 0, request_id: str | None = "req-1", name: str = "ds") -> TransformRequest:
    return TransformRequest(name, at(2014, 1, day), at(2014, 1, day, 12), created_at=NOW + timedelta(seconds=created),
                            request_id=request_id)


def unsent(engine, limit: int = 50) -> list[tuple]:
    return [(entry.data_set, entry.earliest, entry.latest, entry.created_at, entry.request_id, entry.attempts)
            for entry in engine.unsent_transform_requests(limit)]


def as_unsent(entry: TransformRequest, attempts: int = 0) -> tuple:
    return entry.data_set, entry.earliest, entry.latest, entry.created_at, entry.request_id, attempts


def test_a_saved_batch_leaves_its_request_unsent(ds):
    assert ds.unsent_transform_requests(10) == [] and ds.oldest_unsent_transform_request() is None
    ds.save_records("ds", [record("a", at(2014, 1, 1))], transforms=request())
    assert unsent(ds) == [as_unsent(request())]
    assert ds.oldest_unsent_transform_request() == NOW
    assert ds.get_record("ds", "a")["_id"] == "a"


def test_a_batch_without_a_request_leaves_none(ds):
    ds.save_records("ds", [record("a", at(2014, 1, 1))])
    assert ds.unsent_transform_requests(10) == []


def test_entries_come_oldest_first_bounded_and_keep_a_missing_request_id(ds):
    ds.request_transforms(request(day=3, created=20))
    ds.save_records("ds", [record("a")], transforms=request(day=1, created=10, request_id=None))
    ds.request_transforms(request(day=2, created=10))
    found = ds.unsent_transform_requests(2)
    assert [entry.earliest.day for entry in found] == [1, 2]  # equal creation times: as stored
    assert found[0].request_id is None and found[0].id != found[1].id
    assert [entry.earliest.day for entry in ds.unsent_transform_requests(10)] == [1, 2, 3]
    assert ds.oldest_unsent_transform_request() == NOW + timedelta(seconds=10)


def test_times_come_back_as_aware_utc_instants(ds):
    ds.request_transforms(request())
    [entry] = ds.unsent_transform_requests(1)
    assert all(moment.utcoffset() == timedelta(0) for moment in (entry.earliest, entry.latest, entry.created_at))


def test_marking_sent_removes_entries_from_the_unsent_and_failures_count_attempts(ds):
    for day in (1, 2, 3):
        ds.request_transforms(request(day=day, created=day))
    first, second, third = ds.unsent_transform_requests(10)
    ds.mark_transform_requests([second.id], sent=False, now=NOW)
    ds.mark_transform_requests([second.id], sent=False, now=NOW)
    ds.mark_transform_requests([first.id, third.id], sent=True, now=NOW)
    assert unsent(ds) == [as_unsent(request(day=2, created=2), attempts=2)]
    assert ds.oldest_unsent_transform_request() == NOW + timedelta(seconds=2)
    ds.mark_transform_requests([second.id], sent=True, now=NOW)
    assert ds.unsent_transform_requests(10) == [] and ds.oldest_unsent_transform_request() is None


def test_marking_an_unknown_or_no_id_changes_nothing(ds):
    ds.request_transforms(request())
    [entry] = ds.unsent_transform_requests(1)
    ds.mark_transform_requests([], sent=True, now=NOW)
    ds.mark_transform_requests([entry.id], sent=True, now=NOW)
    ds.mark_transform_requests([entry.id], sent=True, now=NOW + SENT_REQUESTS_KEPT * 2)  # pruned meanwhile
    assert ds.unsent_transform_requests(1) == []


def test_sent_entries_are_pruned_but_unsent_ones_never(ds):
    """Pruning cannot be seen through the interface but as sent entries staying sent; unsent
    entries older than the retention survive it."""
    ds.request_transforms(request(day=1, created=0))
    ds.request_transforms(request(day=2, created=1))
    first, _ = ds.unsent_transform_requests(10)
    ds.mark_transform_requests([first.id], sent=True, now=NOW)
    later = NOW + SENT_REQUESTS_KEPT + timedelta(minutes=1)
    ds.mark_transform_requests([first.id], sent=True, now=later)  # prunes entries sent before `later - kept`
    assert [entry.earliest.day for entry in ds.unsent_transform_requests(10)] == [2]


@pytest.mark.needs(Capability.ATOMIC_BATCHES)
def test_a_batch_that_fails_leaves_no_request(ds):
    ds.save_records("ds", [record("old", v=1)])
    with pytest.raises(FAILURES):
        ds.save_records("ds", [record("new"), record("bad", v=object())], transforms=request())
    assert ds.unsent_transform_requests(10) == []


@pytest.mark.needs(Capability.ATOMIC_BATCHES)
def test_a_request_that_cannot_be_stored_fails_its_batch(ds):
    """Both or neither: the entry is part of the batch's transaction."""
    ds.save_records("ds", [record("old", v=1)])
    version = ds.data_set_version("ds")
    broken = TransformRequest("ds", object(), at(2014, 1, 1), created_at=NOW)  # not an instant
    with pytest.raises(FAILURES):
        ds.save_records("ds", [record("new"), record("old", v=2)], transforms=broken)
    assert [(found["_id"], found.get("v")) for found in ds.find("ds", RecordQuery())] == [("old", 1)]
    assert ds.data_set_version("ds") == version and ds.unsent_transform_requests(10) == []


def test_a_capped_batch_stores_its_request_too(ds):
    ds.save_records("ds", [record("a", at(2014, 1, 1)), record("b", at(2014, 1, 2))], capped_size=1,
                    transforms=request())
    assert unsent(ds) == [as_unsent(request())]
