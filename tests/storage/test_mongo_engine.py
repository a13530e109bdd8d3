"""What only the MongoDB engine has: its start-up refusal, its schema, its document layout
and the values BSON cannot hold. The storage contract itself is pinned by the suite.

These run on mongomock unless BACKDROP_TEST_MONGO_URL names a real server; the one test
that needs real transactions says so and is skipped on mongomock.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache

import bson
import pytest
from storage_support import CONFIG, at, record

from backdrop.core import tokens
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import (
    AggregateQuery,
    Filter,
    MigrationsPending,
    Op,
    RecordQuery,
    Reduction,
    SchemaTooNew,
    Sort,
    StorageError,
)
from backdrop.core.storage.mongo import MongoStorage, NotAReplicaSet, replica_set_refusal
from backdrop.core.storage.mongo_codec import CODEC_OPTIONS
from backdrop.core.storage.mongo_schema import LOCK, MIGRATIONS
from backdrop.testing import (
    MONGOMOCK_HOST,
    STANDALONE_HELLO,
    MongomockClient,
    fresh_mongo_database,
    mongo_server_url,
    mongomock_server,
    open_mongo_database,
)
from backdrop.testing_engines import MONGOMOCK

LATEST = MIGRATIONS[-1].version
MESSAGE_PARTS = ("standalone server", "--replSet rs0", "rs.initiate()", "?replicaSet=rs0")


@pytest.fixture
def url():
    with fresh_mongo_database(prefix="backdrop_mongo") as made:
        yield made


@pytest.fixture
def engine(url):
    storage = open_mongo_database(url)
    yield storage
    storage.close()


def stored(url: str):
    """The database behind `url`, read directly (not through the engine)."""
    name = url.split("?")[0].rsplit("/", 1)[1]
    if MONGOMOCK_HOST in url:
        return mongomock_server().get_database(name)
    return _server_client().get_database(name, codec_options=CODEC_OPTIONS)


@cache
def _server_client():
    import pymongo

    return pymongo.MongoClient(mongo_server_url())


# --- start-up -------------------------------------------------------------------------


def test_a_standalone_server_is_refused_saying_how_to_fix_it():
    message = replica_set_refusal({"isWritablePrimary": True, "maxWireVersion": 17, "ok": 1.0})
    assert "\n" not in message and all(part in message for part in MESSAGE_PARTS)


def test_replica_set_members_and_mongos_routers_are_accepted():
    assert replica_set_refusal({"isWritablePrimary": True, "setName": "rs0", "ok": 1.0}) is None
    assert replica_set_refusal({"isWritablePrimary": True, "msg": "isdbgrid", "ok": 1.0}) is None


def test_the_engine_on_a_standalone_server_refuses_every_use_and_writes_nothing():
    engine = MongoStorage("mongodb://standalone.invalid/backdrop_standalone", "backdrop_standalone",
                          client_factory=lambda: MongomockClient(mongomock_server(), STANDALONE_HELLO))
    for use in (engine.list_data_sets, engine.migrate, lambda: engine.save_records("ds", [record("a")])):
        with pytest.raises(NotAReplicaSet) as refused:
            use()
        assert all(part in str(refused.value) for part in MESSAGE_PARTS)
    assert "backdrop_standalone" not in mongomock_server().list_database_names()


def test_a_url_without_a_database_name_is_refused_with_an_example():
    with pytest.raises(StorageError, match=r"must name its database: mongodb://HOST:PORT/DBNAME\?replicaSet=rs0"):
        open_storage("mongodb://localhost:27017/?replicaSet=rs0")


def test_opening_connects_to_nothing():
    engine = open_storage("mongodb+srv://cluster.invalid/backdrop?retryWrites=true")
    assert isinstance(engine, MongoStorage)
    engine.close()


# --- schema ---------------------------------------------------------------------------


def test_first_use_creates_the_indexes_and_records_every_version(engine, url):
    assert engine.schema_version() == 0
    engine.list_data_sets()
    assert engine.schema_version() == LATEST and engine.pending_migrations() == []
    database = stored(url)
    assert [document["_id"] for document in database.schema_versions.find()] == list(range(1, LATEST + 1))
    indexes = {name: (index["key"], index.get("unique", False))
               for name, index in database.records.index_information().items()}
    assert indexes["data_set_id"] == ([("d", 1), ("i", 1)], True)
    assert {tuple(key) for key, _ in indexes.values()} >= {
        (("d", 1), ("t", 1)), (("d", 1), ("s", 1)), (("d", 1), ("u", 1))}
    groups = [index for index in database.data_sets.index_information().values()
              if index["key"] == [("data_group", 1), ("data_type", 1)]]
    assert groups and groups[0]["unique"]
    deletions = {name: (index["key"], index.get("unique", False))
                 for name, index in database.deleted_records.index_information().items()}
    assert deletions["data_set_id"] == ([("d", 1), ("i", 1)], True)
    assert deletions["data_set_version"] == ([("d", 1), ("v", 1)], False)


def test_migrate_says_what_it_did_and_then_that_there_is_nothing_to_do(engine):
    assert engine.migrate().summary().startswith(f"migrated from version 0 to {LATEST}: 1 create the indexes")
    assert engine.migrate().summary() == f"schema is up to date at version {LATEST}"


def test_with_auto_migrate_off_a_new_database_is_refused_until_migrated(url):
    engine = open_mongo_database(url, auto_migrate=False)
    with pytest.raises(MigrationsPending, match="run `backdrop migrate`"):
        engine.list_data_sets()
    assert engine.migrate().after == LATEST
    assert engine.list_data_sets() == []
    engine.close()


def test_version_2_replaces_clear_tokens_by_salted_hashes(engine, url):
    engine.migrate()
    engine.create_data_set({**CONFIG, "bearer_token": "clear-token"})  # as a version-1 release stored it
    stored(url).schema_versions.delete_many({"_id": {"$gte": 2}})
    upgraded = open_mongo_database(url)
    config = upgraded.get_data_set("ds")
    upgraded.close()
    assert "bearer_token" not in config and "clear-token" not in str(stored(url).data_sets.find_one())
    assert tokens.verify_token("clear-token", config["bearer_token_hash"])


def test_a_schema_newer_than_the_code_is_refused(engine, url):
    engine.migrate()
    stored(url).schema_versions.insert_one({"_id": LATEST + 5, "description": "made by a newer release"})
    newer = open_mongo_database(url)
    with pytest.raises(SchemaTooNew, match=f"at version {LATEST + 5}, newer than this release"):
        newer.get_data_set("ds")
    newer.close()


def test_a_lease_left_by_a_dead_migrating_process_expires(engine, url):
    expired = datetime.now(timezone.utc) - timedelta(seconds=1)
    stored(url)[LOCK].insert_one({"_id": "lock", "owner": "dead", "expires": expired})
    assert engine.migrate().after == LATEST
    assert stored(url)[LOCK].count_documents({}) == 0


def test_a_lease_held_by_a_live_process_makes_migration_wait_then_fail(engine, url, monkeypatch):
    monkeypatch.setattr("backdrop.core.storage.mongo_schema.WAIT_SECONDS", 0.2)
    held = datetime.now(timezone.utc) + timedelta(minutes=1)
    stored(url)[LOCK].insert_one({"_id": "lock", "owner": "alive", "expires": held})
    with pytest.raises(StorageError, match="another process has been migrating"):
        engine.migrate()
    assert engine.schema_version() == 0


# --- what is stored where ---------------------------------------------------------------


def test_a_record_is_one_document_of_the_records_collection(engine, url):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("a", at(2014, 1, 6, 0, 0, 0, 5), v=1), record("b", v="x")])
    documents = {document["i"]: document for document in stored(url).records.find({"d": "ds"})}
    first = documents["a"]
    assert first["t"] == 1388966400000005 and first["u"] == 1388577600000000
    assert first["r"] == engine.get_record("ds", "a") and first["r"]["_week_start_at"] == "2014-01-06T00:00:00+00:00"
    assert first["z"] == len(bson_free_json(first["r"]))
    assert documents["b"]["t"] is None and documents["b"]["s"] > first["s"]
    assert stored(url).data_sets.find_one({"_id": "ds"})["version"] == engine.data_set_version("ds")


def bson_free_json(raw: dict) -> bytes:
    import json

    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_configurations_and_documents_keep_keys_mongodb_would_read_as_operators(engine):
    config = dict(CONFIG, schema={"$schema": "http://json-schema.org/draft-04/schema#",
                                  "patternProperties": {"^a.b$": {"$ref": "#/definitions/x"}}})
    engine.create_data_set(config)
    engine.put_document("transforms", "t.1", {"$set": {"a.b": 1}}, create=True)
    assert engine.get_data_set("ds") == config
    assert engine.get_document("transforms", "t.1") == {"$set": {"a.b": 1}}


# --- values BSON cannot hold ------------------------------------------------------------


@pytest.mark.parametrize("key", ["$where", "a.b", "nul\x00", "$"])
def test_keys_mongodb_would_read_as_operators_or_paths_are_refused_before_any_write(engine, key):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("old", v=1)])
    version = engine.data_set_version("ds")
    with pytest.raises(StorageError, match="cannot be a MongoDB field name"):
        engine.save_records("ds", [record("new"), {**record("bad"), key: 1}])
    assert [found["_id"] for found in engine.find("ds", RecordQuery())] == ["old"]
    assert engine.data_set_version("ds") == version


@pytest.mark.parametrize("field", ["$where", "a.b", "$r", "nul\x00", ""])
def test_query_fields_mongodb_would_read_as_operators_or_paths_are_refused(engine, field):
    engine.create_data_set(CONFIG)
    for query in (RecordQuery(filters=(Filter(field, "x"),)), RecordQuery(sort=Sort(field))):
        with pytest.raises(ValueError, match="MongoDB"):
            list(engine.find("ds", query))
    for query in (AggregateQuery(group_by=(field,)), AggregateQuery(reductions=(Reduction(field, Op.SUM),))):
        with pytest.raises(ValueError, match="MongoDB"):
            engine.aggregate("ds", query)


@pytest.mark.parametrize("value", ["$r.other", "$$ROOT", "{$gt: ''}", "$where"])
def test_filter_values_that_look_like_operators_match_only_themselves(engine, value):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("same", v=value, other=value), record("other", v="x", other="x")])
    for prefix in (False, True):
        found = engine.find("ds", RecordQuery(filters=(Filter("v", value, prefix),)))
        assert [item["_id"] for item in found] == ["same"]
        [row] = engine.aggregate("ds", AggregateQuery(filters=(Filter("v", value, prefix),)))
        assert row.count == 1


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_64_bits_are_refused_naming_the_field(engine, value):
    engine.create_data_set(CONFIG)
    with pytest.raises(StorageError, match=r"Field 'big' holds .* outside the 64-bit integers"):
        engine.save_records("ds", [record("a", v=1), record("b", big=value)])
    assert engine.get_record("ds", "a") is None


def test_the_largest_64_bit_integers_come_back_as_plain_ints(engine):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("a", top=2**63 - 1, bottom=-(2**63), small=3)])
    found = engine.get_record("ds", "a")
    assert (found["top"], found["bottom"], found["small"]) == (2**63 - 1, -(2**63), 3)
    assert {type(found[key]) for key in ("top", "bottom", "small")} == {int}


def test_the_codec_decodes_bson_64_bit_integers_as_plain_ints():
    decoded = bson.decode(bson.encode({"r": {"n": 2**40, "m": [2**62]}}), codec_options=CODEC_OPTIONS)
    assert type(decoded["r"]["n"]) is int and type(decoded["r"]["m"][0]) is int


# --- transactions: only a real server has them -------------------------------------------


@pytest.mark.skipif(mongo_server_url() is None, reason=MONGOMOCK)
def test_a_batch_failing_in_the_server_midway_is_rolled_back(engine):
    """The old record is deleted in the transaction before the insert that fails (a document
    over BSON's 16 MB): the rollback must bring it back."""
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("old", v=1)])
    version = engine.data_set_version("ds")
    with pytest.raises(StorageError):
        engine.save_records("ds", [record("old", v=2), record("huge", text="x" * (17 * 1024 * 1024))])
    assert [found["v"] for found in engine.find("ds", RecordQuery())] == [1]
    assert engine.data_set_version("ds") == version


@pytest.mark.skipif(mongo_server_url() is None, reason=MONGOMOCK)
def test_concurrent_writers_conflict_on_the_counter_and_are_retried_not_lost(engine, url):
    import threading

    engine.create_data_set(CONFIG)
    engines = [open_mongo_database(url) for _ in range(4)]
    errors = []

    def write(writer, number: int) -> None:
        try:
            for batch in range(5):
                writer.save_records("ds", [record(f"w{number}b{batch}r{i}") for i in range(3)])
        except Exception as error:  # reported below: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=write, args=(writer, n)) for n, writer in enumerate(engines)]
    [thread.start() for thread in threads]
    [thread.join(120) for thread in threads]
    [writer.close() for writer in engines]
    assert errors == []
    orders = [document["s"] for document in stored(url).records.find({"d": "ds"})]
    assert len(orders) == len(set(orders)) == 60
    assert engine.data_set_version("ds") > max(orders)


# --- the statement timeout (maxTimeMS): mongomock ignores it, so what can be tested here is
# what the engine asks for and how it reads the server's refusal -------------------------


def test_a_timed_read_asks_the_server_for_max_time_ms_of_at_least_one():
    from backdrop.core.storage.mongo import _time_limit

    assert _time_limit(RecordQuery()) == {}
    assert _time_limit(RecordQuery(timeout=2.5)) == {"maxTimeMS": 2500}
    assert _time_limit(AggregateQuery(timeout=1e-6)) == {"maxTimeMS": 1}  # 0 would mean no limit


def test_the_servers_time_limit_error_is_a_query_timeout():
    from pymongo.errors import ExecutionTimeout

    from backdrop.core.storage.base import QueryTimeout
    from backdrop.core.storage.mongo import _translated

    with pytest.raises(QueryTimeout):
        with _translated():
            raise ExecutionTimeout("operation exceeded time limit", code=50)
