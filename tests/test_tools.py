"""Replication (`backdrop replicate`, core/replication.py) and `backdrop json-to-csv`."""
from __future__ import annotations

import json

import pytest

from backdrop.core import dashboards, registry, tokens
from backdrop.core.data_set import DataSet
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery
from backdrop.testing import fresh_mongo_database, open_mongo_database
from backdrop.core import replication as replicate
from backdrop.core.transfer import answer_csv


def test_a_saved_response_becomes_csv():
    text, count = answer_csv(json.dumps({"data": [{"a": 1, "b": "x"}, {"a": 2, "c": True}]}))
    assert (text, count) == ("a,b,c\r\n1,x,\r\n2,,true\r\n", 2)


def test_a_nested_response_is_refused():
    with pytest.raises(ValueError, match="nested"):
        answer_csv(json.dumps({"data": [{"a": 1, "values": [{"_count": 1}]}]}))


@pytest.fixture
def databases(tmp_path):
    source, target = open_storage(f"sqlite:///{tmp_path}/a.db"), open_storage(f"sqlite:///{tmp_path}/b.db")
    yield source, target
    source.close(), target.close()


def _fill(storage, name: str, count: int) -> None:
    config = registry.create(storage, {"name": name, "data_group": name.replace("_", "-"), "data_type": "t"})
    DataSet(storage, config).store([{"_timestamp": f"2014-01-{day:02d}T00:00:00Z", "num": day}
                                    for day in range(1, count + 1)])


def test_replicate_copies_configurations_records_and_documents(databases):
    source, target = databases
    _fill(source, "alpha", 3)
    _fill(source, "beta", 2)
    dashboards.create(source, {"slug": "dash", "data_sets": ["alpha"]})
    _fill(target, "alpha", 1)  # replaced, not merged
    lines = []
    replicate.replicate(source, target, only=set(), exclude={"beta"}, say=lines.append)
    assert lines == ["alpha: 3 records"]
    assert [r["num"] for r in target.find("alpha", RecordQuery())] == [1, 2, 3]
    assert list(target.find("alpha", RecordQuery())) == list(source.find("alpha", RecordQuery()))
    assert target.get_data_set("beta") is None
    assert dashboards.get(target, "dash")["data_sets"] == ["alpha"]


def test_replicate_copies_the_salted_hash_so_the_same_token_works_on_the_copy(databases):
    source, target = databases
    registry.create(source, {"name": "alpha", "data_group": "alpha", "data_type": "t", "bearer_token": "tok"})
    registry.create(target, {"name": "alpha", "data_group": "alpha", "data_type": "t", "bearer_token": "old"})
    replicate.replicate(source, target, only=set(), exclude=set(), say=lambda line: None)
    copied = target.get_data_set("alpha")["bearer_token_hash"]
    assert copied == source.get_data_set("alpha")["bearer_token_hash"]
    assert tokens.verify_token("tok", copied) and not tokens.verify_token("old", copied)


def _everything(storage) -> str:
    """Every configuration with its records, and every document, as the engine answers them:
    as JSON text, where 2 and 2.0, or 1 and true, differ."""
    return json.dumps({"data_sets": {config["name"]: (config, list(storage.find(config["name"], RecordQuery())))
                          for config in storage.list_data_sets()},
            "dashboards": storage.list_documents("dashboards"),
            "transforms": storage.list_documents("transforms")})


def test_replicate_copies_sqlite_to_mongodb_and_back_without_loss(tmp_path):
    """On mongomock unless BACKDROP_TEST_MONGO_URL names a real server."""
    source, back = open_storage(f"sqlite:///{tmp_path}/a.db"), open_storage(f"sqlite:///{tmp_path}/b.db")
    config = registry.create(source, {"name": "mixed", "data_group": "mixed", "data_type": "t",
                                      "schema": {"$schema": "http://json-schema.org/draft-04/schema#"}})
    DataSet(source, config).store([
        {"_id": "a", "_timestamp": "2014-01-06T10:11:12.000345+01:00", "fl": 0.30000000000000004,
         "tiny": 1e-07, "whole": 2.0, "big": 2**63 - 1, "tr": True, "nu": None, "st": "café ☕ 😀\x00"},
        {"_id": "b", "other": "no timestamp", "flag": False},
    ])
    _fill(source, "capped", 3)
    dashboards.create(source, {"slug": "dash", "data_sets": ["mixed"]})
    with fresh_mongo_database(prefix="backdrop_replicate") as url:
        middle = open_mongo_database(url)
        try:
            replicate.replicate(source, middle, only=set(), exclude=set(), say=lambda line: None)
            replicate.replicate(middle, back, only=set(), exclude=set(), say=lambda line: None)
            assert _everything(middle) == _everything(source)
        finally:
            middle.close()
    assert _everything(back) == _everything(source)
    assert '"big": 9223372036854775807, "tr": true' in _everything(back)
    source.close(), back.close()
