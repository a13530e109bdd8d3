"""Contract: keyset paging of raw queries (RecordQuery.page), on every engine.

The paging order is `_timestamp` (records without one first), then `_id` by code point;
a page starts after a position, never at an offset.
"""
from __future__ import annotations

import pytest
from storage_support import CONFIG, at, ids, record

from backdrop.core.storage.base import Filter, Page, Position, RecordQuery, TimeRange
from backdrop.core.timeseries import to_instant


@pytest.fixture
def ds(engine):
    engine.create_data_set(CONFIG)
    return engine


def position(found: dict) -> Position:
    return Position(to_instant(found.get("_timestamp")), found["_id"])


def walk(engine, size: int, **query) -> list[list[str]]:
    """Every page of `size` records, each starting after the last record of the one before."""
    pages, after = [], None
    while True:
        found = list(engine.find("ds", RecordQuery(limit=size, page=Page(after), **query)))
        if not found:
            return pages
        pages.append(ids(found))
        after = position(found[-1])


def test_the_order_is_untimed_records_by_id_then_timestamp_then_id(ds):
    ds.save_records("ds", [record("b", at(2014, 1, 2)), record("z"), record("a", at(2014, 1, 2)),
                           record("c", at(2014, 1, 1)), record("y"), record("d", at(2014, 1, 1, 0, 0, 0, 1))])
    assert ids(ds.find("ds", RecordQuery(page=Page()))) == ["y", "z", "c", "d", "a", "b"]


def test_ids_are_ordered_by_code_point(ds):
    names = ["a", "B", "é", "\x00", "a\x00", "a\x01", "😀", "Z", "\uffff"]
    ds.save_records("ds", [record(name, at(2014, 1, 1)) for name in names])
    assert ids(ds.find("ds", RecordQuery(page=Page()))) == sorted(names)


def test_pages_cover_every_record_once_in_order(ds):
    stamps = [at(2014, 1, 1 + i % 3) for i in range(25)]
    ds.save_records("ds", [record(f"r{i:02}", stamp) for i, stamp in enumerate(stamps)]
                    + [record(f"u{i}") for i in range(4)])
    everything = ids(ds.find("ds", RecordQuery(page=Page())))
    pages = walk(ds, 4)
    assert [len(page) for page in pages] == [4] * 7 + [1]
    assert [found for page in pages for found in page] == everything
    assert len(set(everything)) == 29


def test_a_page_starts_strictly_after_its_position(ds):
    ds.save_records("ds", [record("a", at(2014, 1, 1)), record("b", at(2014, 1, 1)), record("c", at(2014, 1, 2))])
    after = Position(at(2014, 1, 1), "a")
    assert ids(ds.find("ds", RecordQuery(page=Page(after)))) == ["b", "c"]
    assert ids(ds.find("ds", RecordQuery(page=Page(Position(None, "zzz"))))) == ["a", "b", "c"]


def test_a_position_of_a_record_gone_still_places_the_page(ds):
    ds.save_records("ds", [record("a", at(2014, 1, 1)), record("c", at(2014, 1, 3))])
    assert ids(ds.find("ds", RecordQuery(page=Page(Position(at(2014, 1, 2), "b"))))) == ["c"]


def test_untimed_positions_lead_to_the_rest_of_the_untimed_then_the_timed(ds):
    ds.save_records("ds", [record("t", at(2014, 1, 1)), record("u1"), record("u2"), record("u3")])
    assert ids(ds.find("ds", RecordQuery(page=Page(Position(None, "u1"))))) == ["u2", "u3", "t"]


def test_filters_and_ranges_apply_to_every_page(ds):
    ds.save_records("ds", [record(f"r{i}", at(2014, 1, 1 + i), kind="odd" if i % 2 else "even")
                           for i in range(10)] + [record("untimed", kind="odd")])
    query = {"filters": (Filter("kind", "odd"),), "time": TimeRange(at(2014, 1, 3), at(2014, 1, 10))}
    assert walk(ds, 2, **query) == [["r3", "r5"], ["r7"]]


def test_a_write_between_pages_neither_repeats_nor_skips_older_records(ds):
    ds.save_records("ds", [record(f"r{i}", at(2014, 1, 1 + i)) for i in range(6)])
    first = list(ds.find("ds", RecordQuery(limit=3, page=Page())))
    ds.save_records("ds", [record("early", at(2013, 1, 1)), record("r0", at(2014, 1, 1), changed=True),
                           record("late", at(2015, 1, 1))])
    rest = list(ds.find("ds", RecordQuery(page=Page(position(first[-1])))))
    assert ids(first) == ["r0", "r1", "r2"]
    assert ids(rest) == ["r3", "r4", "r5", "late"]


def test_paging_ignores_write_order(ds):
    ds.save_records("ds", [record("b", at(2014, 1, 1))])
    ds.save_records("ds", [record("a", at(2014, 1, 1))])
    ds.save_records("ds", [record("b", at(2014, 1, 1), again=True)])
    assert ids(ds.find("ds", RecordQuery(page=Page()))) == ["a", "b"]
