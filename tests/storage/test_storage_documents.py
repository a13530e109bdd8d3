"""Contract: administration documents (transforms, dashboards), on every engine."""
from __future__ import annotations

import pytest

from backdrop.core.storage.base import AlreadyExists, NotFound


def test_a_created_document_is_returned(engine):
    engine.put_document("transforms", "t1", {"id": "t1", "options": {"a": [1, 2]}}, create=True)
    assert engine.get_document("transforms", "t1") == {"id": "t1", "options": {"a": [1, 2]}}


def test_an_unknown_document_is_none(engine):
    assert engine.get_document("transforms", "missing") is None


def test_creating_a_taken_key_is_refused(engine):
    engine.put_document("dashboards", "d", {"slug": "d", "v": 1}, create=True)
    with pytest.raises(AlreadyExists):
        engine.put_document("dashboards", "d", {"slug": "d", "v": 2}, create=True)
    assert engine.get_document("dashboards", "d") == {"slug": "d", "v": 1}


def test_replacing_an_existing_document(engine):
    engine.put_document("dashboards", "d", {"slug": "d", "v": 1}, create=True)
    engine.put_document("dashboards", "d", {"slug": "d", "v": 2}, create=False)
    assert engine.get_document("dashboards", "d") == {"slug": "d", "v": 2}


def test_replacing_a_missing_document_is_not_found(engine):
    with pytest.raises(NotFound):
        engine.put_document("dashboards", "d", {"slug": "d"}, create=False)
    assert engine.get_document("dashboards", "d") is None


def test_list_returns_the_documents_of_one_kind_sorted_by_key(engine):
    for key in ("b", "c", "a"):
        engine.put_document("dashboards", key, {"slug": key}, create=True)
    engine.put_document("transforms", "0", {"id": "0"}, create=True)
    assert engine.list_documents("dashboards") == [{"slug": "a"}, {"slug": "b"}, {"slug": "c"}]


def test_the_same_key_in_two_kinds_is_two_documents(engine):
    engine.put_document("dashboards", "x", {"kind": "dashboard"}, create=True)
    engine.put_document("transforms", "x", {"kind": "transform"}, create=True)
    assert engine.get_document("dashboards", "x") == {"kind": "dashboard"}


def test_delete_removes_a_document_and_says_whether_there_was_one(engine):
    engine.put_document("transforms", "t1", {"id": "t1"}, create=True)
    assert engine.delete_document("transforms", "t1") is True
    assert engine.get_document("transforms", "t1") is None
    assert engine.delete_document("transforms", "t1") is False
