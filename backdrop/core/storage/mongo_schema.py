"""The MongoDB engine's schema: its migrations and how the runner reads, records and locks them.

MongoDB has no DDL to version, but the engine relies on indexes (the unique ones enforce
the contract) and on the version counter existing before the first transaction. Each
migration is a list of named steps (STEPS below), every one of them idempotent. Applied
versions are documents of `schema_versions` (`_id`: the version). A database no process
has used has no such document and is at version 0; there is no legacy layout to adopt.

Locking: index builds cannot run inside a multi-document transaction, so the runner's lock
is a lease, a document of `schema_lock` inserted under its unique `_id`: processes
starting at once wait for it and, once inside, find the migration done. A process that
dies while migrating leaves its lease to expire (LEASE) rather than block every start-up
for ever. Steps are not rolled back if a later one fails; being idempotent, they are
simply run again by the next attempt.
"""
from __future__ import annotations

import time
import uuid
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

import orjson
from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from ..tokens import hashed_config
from .base import StorageError
from .migrations import Migration, check_order

RECORDS, DATA_SETS, DOCUMENTS, COUNTERS = "records", "data_sets", "documents", "counters"
FAILURES = "auth_failures"
OUTBOX = "transform_outbox"
RUNS = "transform_runs"
DELETED, FLOORS = "deleted_records", "record_floors"
VERSIONS, LOCK = "schema_versions", "schema_lock"
VERSION_COUNTER = "version"  # `_id` of the counter document of the database-wide version sequence
LEASE = timedelta(minutes=5)  # longest a migrating process may hold the lock
WAIT_SECONDS = 60  # longest a process waits for another's migration


def _index_records(database: Database) -> None:
    records = database[RECORDS]
    records.create_index([("d", ASCENDING), ("i", ASCENDING)], unique=True, name="data_set_id")
    for field, name in (("t", "data_set_timestamp"), ("s", "data_set_write_order"),
                        ("u", "data_set_updated_at")):
        records.create_index([("d", ASCENDING), (field, ASCENDING)], name=name)


def _index_data_sets(database: Database) -> None:
    database[DATA_SETS].create_index([("data_group", ASCENDING), ("data_type", ASCENDING)],
                                     unique=True, name="group_type")


def _index_documents(database: Database) -> None:
    database[DOCUMENTS].create_index([("kind", ASCENDING), ("key", ASCENDING)], name="kind_key")


def _create_counter(database: Database) -> None:
    database[COUNTERS].update_one({"_id": VERSION_COUNTER}, {"$setOnInsert": {"n": 0}}, upsert=True)


def _hash_bearer_tokens(database: Database) -> None:
    """Replace every clear `bearer_token` by its salted hash; idempotent, as every step is."""
    for document in database[DATA_SETS].find({}, {"config": 1}):
        converted = hashed_config(orjson.loads(document["config"]))
        if converted is not None:
            database[DATA_SETS].update_one({"_id": document["_id"]},
                                           {"$set": {"config": orjson.dumps(converted).decode()}})


STEPS: dict[str, Callable[[Database], None]] = {
    "index records by data set and id, timestamp, write order and update time": _index_records,
    "index data sets by group and type": _index_data_sets,
    "index documents by kind and key": _index_documents,
    "create the version counter": _create_counter,
}
def _index_failures(database: Database) -> None:
    database[FAILURES].create_index([("minute", ASCENDING)], name="minute")


TOKEN_STEPS: dict[str, Callable[[Database], None]] = {
    "hash the clear bearer tokens of data sets": _hash_bearer_tokens,
    "index wrong-token counts by minute": _index_failures,
}

def _index_outbox(database: Database) -> None:
    database[OUTBOX].create_index([("sent_at", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                                  name="sent_created")


OUTBOX_STEPS: dict[str, Callable[[Database], None]] = {
    "index the transform outbox by sending time and age": _index_outbox,
}


def _index_runs(database: Database) -> None:
    database[RUNS].create_index([("transform_id", ASCENDING), ("started_at", ASCENDING), ("_id", ASCENDING)],
                                name="transform_start")


RUN_STEPS: dict[str, Callable[[Database], None]] = {
    "index transform runs by transform and start": _index_runs,
}


def _index_deleted_records(database: Database) -> None:
    """One deletion per (data set, id); the change feed reads them by version from its cursor."""
    deleted = database[DELETED]
    deleted.create_index([("d", ASCENDING), ("i", ASCENDING)], unique=True, name="data_set_id")
    deleted.create_index([("d", ASCENDING), ("v", ASCENDING)], name="data_set_version")


FEED_STEPS: dict[str, Callable[[Database], None]] = {
    "index deleted record ids by data set and id, and by version": _index_deleted_records,
}

MIGRATIONS = check_order((
    Migration(1, "create the indexes of records, data sets and documents, and the version counter",
              tuple(STEPS)),
    Migration(2, "store data-set bearer tokens as salted scrypt hashes; count wrong tokens per address", tuple(TOKEN_STEPS)),
    Migration(3, "keep an outbox of transform requests, written with the records they concern", tuple(OUTBOX_STEPS)),
    Migration(4, "keep a history of transform runs", tuple(RUN_STEPS)),
    Migration(5, "record removals for the change feed", tuple(FEED_STEPS)),
))
STEPS.update(TOKEN_STEPS)
STEPS.update(OUTBOX_STEPS)
STEPS.update(RUN_STEPS)
STEPS.update(FEED_STEPS)


class MongoSchemaStore:
    """The runner's view of one database (migrations.SchemaStore)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @contextmanager
    def locked(self) -> Iterator[None]:
        locks, owner = self.database[LOCK], uuid.uuid4().hex
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            now = datetime.now(timezone.utc)
            try:
                locks.insert_one({"_id": "lock", "owner": owner, "expires": now + LEASE})
                break
            except DuplicateKeyError:
                locks.delete_one({"_id": "lock", "expires": {"$lt": now}})  # a dead holder's lease
            if time.monotonic() > deadline:
                raise StorageError(f"MongoDB: another process has been migrating the schema for over"
                                   f" {WAIT_SECONDS} s (its lock is the document of {LOCK!r})")
            time.sleep(0.05)
        try:
            yield
        finally:
            locks.delete_one({"_id": "lock", "owner": owner})

    def snapshot(self):
        return nullcontext()

    def recorded_version(self) -> int | None:
        newest = self.database[VERSIONS].find_one(sort=[("_id", -1)])
        return None if newest is None else newest["_id"]

    def has_legacy_tables(self) -> bool:
        return False

    def execute(self, statement: str) -> None:
        STEPS[statement](self.database)

    def record(self, version: int, description: str) -> None:
        self.database[VERSIONS].insert_one(
            {"_id": version, "description": description, "applied_at": datetime.now(timezone.utc)})
