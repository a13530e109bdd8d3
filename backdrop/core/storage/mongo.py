"""The MongoDB engine (pymongo 4; MongoDB 6.0 or newer, a replica set or a sharded cluster).

The database is the one the URL names, `mongodb://HOST:PORT/DBNAME?replicaSet=rs0`:

* `records`: the records of every data set in ONE collection, one document per record:
  `{_id: ObjectId, d: data-set name, i: the record's _id, s: write order (a number of the
  version counter, as the SQL engines' seq), t: _timestamp in µs since the epoch (null
  when absent), u: _updated_at in µs (null when absent), z: the record's size in bytes
  (base.record_size), r: the record exactly as a raw query returns it (dates as their UTC
  isoformat(), the six _<period>_start_at keys included)}`. Indexes: unique (d, i), and
  (d, t), (d, s), (d, u). One collection rather than one per data set, as the SQL engines
  do it: creating and deleting a data set is a document and a delete, not a collection
  with its indexes to build and drop; names meet no namespace-length limit; one set of
  indexes serves all; `last_updated` is one `$group`.
* `data_sets`: `{_id: name, data_group, data_type, config, version}`, unique
  (data_group, data_type).
* `documents`: `{_id: {kind, key}, kind, key, body}`, listed by key in code-point order.
* `counters`: `{_id: "version", n}`, the database-wide version sequence.
* `transform_outbox`: `{_id: ObjectId, data_set, earliest, latest, created_at, request_id,
  attempts, sent_at}` (instants in µs since the epoch, `sent_at` null until sent), indexed
  by (sent_at, created_at, _id): the transform requests written with the records.
* `deleted_records`: `{_id: ObjectId, d: data-set name, i: record id, v: version of its
  deletion}`, unique (d, i), and (d, v); `record_floors`: `{_id: data-set name, floor, v}`.
  The removals the change feed reports (base.Storage.changes).
* `schema_versions` and `schema_lock`: see mongo_schema.py.

`config` and `body` are JSON text, not embedded documents: configurations hold JSON
Schemas (`$schema`, `$ref`, patterns full of dots) and documents hold whatever an
administrator sent, and as text no key of theirs is ever read as an operator or a path.

Every write runs in one multi-document transaction (a batch is stored whole or not at
all), which MongoDB offers only on replica sets (one node is enough) and sharded
clusters: on a standalone server the engine refuses to start, saying how to fix it.
Every write transaction increments the counter document, so concurrent writers conflict
there and MongoDB retries one of them (`with_transaction`): writes are serialised, as
SQLite's write lock and PostgreSQL's row lock serialise them. Reads are aggregation
pipelines run in the server (mongo_pipeline.py); records are encoded in mongo_codec.py.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator, Sequence, TypeVar
from urllib.parse import unquote, urlsplit

import orjson
from bson.errors import BSONError
from pymongo import MongoClient, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, ExecutionTimeout, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from backdrop.core.timeseries import from_micros, micros

from .base import (
    AggregateQuery,
    AggregateRow,
    AlreadyExists,
    Changes,
    NotFound,
    SENT_REQUESTS_KEPT,
    QueryTimeout,
    RecordQuery,
    SchemaError,
    Storage,
    StorageError,
    TransformRequest,
    TransformRun,
    capped_rows,
)
from .feed import assemble
from .migrations import VersionedSchema, start_up
from .rows import local_offsets
from .mongo_codec import CODEC_OPTIONS, prepare
from .mongo_pipeline import aggregate_pipeline, decode_aggregate, find_pipeline, last_updated_pipeline
from .mongo_schema import (COUNTERS, DATA_SETS, DELETED, DOCUMENTS, FAILURES, FLOORS, MIGRATIONS, OUTBOX,
                           RECORDS, RUNS, VERSION_COUNTER, MongoSchemaStore)

EXAMPLE_URL = "mongodb://HOST:PORT/DBNAME?replicaSet=rs0"
SERVER_SELECTION_MS = 10_000  # how long a first use waits for the server, unless the URL says
T = TypeVar("T")


class NotAReplicaSet(SchemaError):
    """The server cannot run transactions (a standalone mongod): no process may start on it."""


def replica_set_refusal(hello: dict) -> str | None:
    """Why a server answering `hello` so cannot hold Backdrop's data, or None when it can.

    A replica-set member names its set (`setName`); a mongos answers `msg: isdbgrid`.
    Anything else is a standalone server, which has no transactions.
    """
    if hello.get("setName") or hello.get("msg") == "isdbgrid":
        return None
    return ("MongoDB is a standalone server, and Backdrop stores every batch in a transaction, which needs"
            " a replica set: start mongod with --replSet rs0, run rs.initiate() once in mongosh, then add"
            " ?replicaSet=rs0 to BACKDROP_DATABASE_URL")


@contextmanager
def _translated(taken: Callable[[DuplicateKeyError], AlreadyExists] | None = None):
    """Driver errors become StorageError (a unique index refusing a write: AlreadyExists)."""
    try:
        yield
    except DuplicateKeyError as error:
        raise (taken(error) if taken else AlreadyExists(f"MongoDB: {error}")) from error
    except ExecutionTimeout as error:  # maxTimeMS passed: the server stopped the operation
        raise QueryTimeout(f"MongoDB: {error}") from error
    except (PyMongoError, BSONError) as error:  # BSONError: a document over 16 MB, say
        raise StorageError(f"MongoDB: {error}") from error


class MongoStorage(VersionedSchema, Storage):
    """Storage in one MongoDB database, through a client opened on first use in each process."""

    MIGRATIONS = MIGRATIONS

    def __init__(self, url: str, database: str, *, auto_migrate: bool = True,
                 client_factory: Callable[[], Any] | None = None) -> None:
        """`client_factory` makes the client (a pymongo.MongoClient for `url` unless given)."""
        self._url = url
        self._database_name = database
        self._auto_migrate = auto_migrate
        self._client_factory = client_factory or self._connect
        self._lock = threading.Lock()
        self._client_object: Any = None
        self._client_pid = 0
        self._schema_ready = False
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, auto_migrate: bool = True, **_options) -> "MongoStorage":
        """`mongodb://HOST:PORT/DBNAME?replicaSet=rs0` (or `mongodb+srv://…/DBNAME`); nothing
        connects until first use. The pool size means nothing here: pymongo keeps its own
        pool in each process (`maxPoolSize` in the URL)."""
        database = unquote(urlsplit(url).path.lstrip("/"))
        if not database:
            raise StorageError(f"A MongoDB URL must name its database: {EXAMPLE_URL}")
        return cls(url, database, auto_migrate=auto_migrate)

    # --- the client, the start-up checks and transactions -------------------------------

    def _connect(self) -> MongoClient:
        options = {} if "serverselectiontimeoutms" in self._url.lower() else {
            "serverSelectionTimeoutMS": SERVER_SELECTION_MS}
        return MongoClient(self._url, **options)

    def _client(self) -> Any:
        """This process's client, made on first use (and again in a forked child), once the
        server has been found able to run transactions."""
        with self._lock:
            if self._closed:
                raise StorageError("The storage has been closed")
            if self._client_object is None or self._client_pid != os.getpid():
                with _translated():
                    client = self._client_factory()
                    try:
                        refusal = replica_set_refusal(client.admin.command("hello"))
                    except BaseException:
                        client.close()
                        raise
                if refusal:
                    client.close()
                    raise NotAReplicaSet(refusal)
                self._client_object, self._client_pid = client, os.getpid()
            return self._client_object

    def _database_of(self, client: Any) -> Database:
        with _translated():
            return client.get_database(self._database_name, codec_options=CODEC_OPTIONS)

    def _database(self) -> Database:
        """The database, its schema checked once (see migrations.start_up)."""
        database = self._database_of(self._client())
        if not self._schema_ready:
            start_up(self, self._auto_migrate)
            self._schema_ready = True
        return database

    @contextmanager
    def _schema_store(self) -> Iterator[MongoSchemaStore]:
        database = self._database_of(self._client())
        with _translated():
            yield MongoSchemaStore(database)

    def _write(self, work: Callable[[Database, ClientSession], T],
               taken: Callable[[DuplicateKeyError], AlreadyExists] | None = None) -> T:
        """`work(database, session)` in one transaction, retried by the driver on a conflict."""
        database = self._database()
        with _translated(taken), self._client().start_session() as session:
            return session.with_transaction(lambda s: work(database, s), read_concern=ReadConcern("snapshot"),
                                            write_concern=WriteConcern("majority"))

    @staticmethod
    def _take_versions(database: Database, session: ClientSession, count: int = 1) -> int:
        """Reserve `count` numbers of the database-wide sequence; returns the last one."""
        counter = database[COUNTERS].find_one_and_update(
            {"_id": VERSION_COUNTER}, {"$inc": {"n": count}}, upsert=True,
            return_document=ReturnDocument.AFTER, session=session)
        return counter["n"]

    def _bump(self, database: Database, session: ClientSession, name: str) -> int:
        """Give the data set a new version; returns it (removals are recorded under it)."""
        version = self._take_versions(database, session)
        database[DATA_SETS].update_one({"_id": name}, {"$set": {"version": version}}, session=session)
        return version

    def _snapshot(self, work: Callable[[Database, ClientSession], T]) -> T:
        """`work(database, session)` in one read-only transaction with snapshot read concern:
        every read in it sees the same point in time (on a real server; see `changes`)."""
        database = self._database()
        with _translated(), self._client().start_session() as session:
            return session.with_transaction(lambda s: work(database, s), read_concern=ReadConcern("snapshot"))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            client, self._client_object = self._client_object, None
        if client is not None and self._client_pid == os.getpid():
            client.close()

    # --- data-set configurations ---------------------------------------------------------

    def create_data_set(self, config: dict) -> None:
        missing = [key for key in ("name", "data_group", "data_type") if key not in config]
        if missing:
            raise ValueError(f"configuration lacks {', '.join(missing)}")
        name, group, kind = config["name"], config["data_group"], config["data_type"]
        body = orjson.dumps(config).decode()

        def work(database: Database, session: ClientSession) -> None:
            data_sets = database[DATA_SETS]
            if data_sets.find_one({"_id": name}, {"_id": 1}, session=session):
                raise AlreadyExists(f"Data set '{name}' already exists")
            if data_sets.find_one({"data_group": group, "data_type": kind}, {"_id": 1}, session=session):
                raise _pair_taken(group, kind)
            data_sets.insert_one({"_id": name, "data_group": group, "data_type": kind, "config": body,
                                  "version": self._take_versions(database, session)}, session=session)

        self._write(work, lambda error: _taken(error, name, group, kind))

    def replace_data_set(self, name: str, config: dict) -> None:
        group, kind = config["data_group"], config["data_type"]
        body = orjson.dumps(config).decode()

        def work(database: Database, session: ClientSession) -> None:
            data_sets = database[DATA_SETS]
            if not data_sets.find_one({"_id": name}, {"_id": 1}, session=session):
                raise NotFound(f"No data set named '{name}'")
            if data_sets.find_one({"data_group": group, "data_type": kind, "_id": {"$ne": name}}, {"_id": 1},
                                  session=session):
                raise _pair_taken(group, kind)
            data_sets.update_one({"_id": name}, {"$set": {
                "data_group": group, "data_type": kind, "config": body,
                "version": self._take_versions(database, session)}}, session=session)

        self._write(work, lambda error: _taken(error, name, group, kind))

    def delete_data_set(self, name: str) -> bool:
        def work(database: Database, session: ClientSession) -> bool:
            if not database[DATA_SETS].delete_one({"_id": name}, session=session).deleted_count:
                return False
            database[RECORDS].delete_many({"d": name}, session=session)
            database[DELETED].delete_many({"d": name}, session=session)
            # A number of its own, above every record of the old data set and below every
            # record of one made again under this name.
            number = self._take_versions(database, session)
            _set_floor(database, session, name, number, number)
            return True

        return self._write(work)

    def _configs(self, query: dict) -> list[dict]:
        with _translated():
            found = self._database()[DATA_SETS].find(query, {"config": 1}).sort("_id", 1)
            return [orjson.loads(document["config"]) for document in found]

    def get_data_set(self, name: str) -> dict | None:
        found = self._configs({"_id": name})
        return found[0] if found else None

    def find_data_set(self, data_group: str, data_type: str) -> dict | None:
        found = self._configs({"data_group": data_group, "data_type": data_type})
        return found[0] if found else None

    def list_data_sets(self) -> list[dict]:
        return self._configs({})

    def data_set_version(self, name: str) -> int | None:
        with _translated():
            found = self._database()[DATA_SETS].find_one({"_id": name}, {"version": 1})
        return None if found is None else found["version"]

    # --- other administration documents (single-document writes: atomic without a transaction)

    def put_document(self, kind: str, key: str, document: dict, *, create: bool) -> None:
        body = orjson.dumps(document).decode()
        documents = self._database()[DOCUMENTS]
        if create:
            with _translated(lambda error: AlreadyExists(f"{kind} '{key}' already exists")):
                documents.insert_one({"_id": {"kind": kind, "key": key}, "kind": kind, "key": key, "body": body})
            return
        with _translated():
            replaced = documents.update_one({"kind": kind, "key": key}, {"$set": {"body": body}})
        if not replaced.matched_count:
            raise NotFound(f"No {kind} '{key}'")

    def get_document(self, kind: str, key: str) -> dict | None:
        with _translated():
            found = self._database()[DOCUMENTS].find_one({"kind": kind, "key": key}, {"body": 1})
        return None if found is None else orjson.loads(found["body"])

    def list_documents(self, kind: str) -> list[dict]:
        with _translated():
            found = self._database()[DOCUMENTS].find({"kind": kind}, {"body": 1}).sort("key", 1)
            return [orjson.loads(document["body"]) for document in found]

    def delete_document(self, kind: str, key: str) -> bool:
        with _translated():
            return bool(self._database()[DOCUMENTS].delete_one({"kind": kind, "key": key}).deleted_count)

    # --- wrong tokens ----------------------------------------------------------------------

    def count_failure(self, address: str, minute: int) -> int:
        with _translated():
            failures = self._database()[FAILURES]
            failures.delete_many({"minute": {"$lt": minute - 1}})
            found = failures.find_one_and_update(
                {"_id": f"{minute}|{address}"}, {"$inc": {"count": 1}, "$setOnInsert": {"minute": minute}},
                upsert=True, return_document=ReturnDocument.AFTER)
        return found["count"]

    def failures(self, address: str, minute: int) -> int:
        with _translated():
            found = self._database()[FAILURES].find_one({"_id": f"{minute}|{address}"})
        return 0 if found is None else found["count"]

    # --- the outbox of transform requests ------------------------------------------------

    def request_transforms(self, request: TransformRequest) -> None:
        with _translated():
            self._database()[OUTBOX].insert_one(_outbox_entry(request))

    def unsent_transform_requests(self, limit: int) -> list[TransformRequest]:
        with _translated():
            found = list(self._database()[OUTBOX].find({"sent_at": None}).sort(
                [("created_at", 1), ("_id", 1)]).limit(limit))
        return [TransformRequest(entry["data_set"], from_micros(entry["earliest"]), from_micros(entry["latest"]),
                                 from_micros(entry["created_at"]), entry["request_id"], entry["_id"],
                                 entry["attempts"], entry["trigger"])
                for entry in found]

    def mark_transform_requests(self, ids: Sequence, *, sent: bool, now: datetime) -> None:
        change: dict = {"$inc": {"attempts": 1}}
        if sent:
            change["$set"] = {"sent_at": micros(now)}
        with _translated():
            outbox = self._database()[OUTBOX]
            outbox.update_many({"_id": {"$in": list(ids)}}, change)
            if sent:
                outbox.delete_many({"sent_at": {"$ne": None, "$lt": micros(now - SENT_REQUESTS_KEPT)}})

    def oldest_unsent_transform_request(self) -> datetime | None:
        with _translated():
            found = list(self._database()[OUTBOX].find({"sent_at": None}, {"created_at": 1}).sort(
                [("created_at", 1), ("_id", 1)]).limit(1))
        return from_micros(found[0]["created_at"]) if found else None

    # --- transform runs --------------------------------------------------------------------

    def save_run(self, run: TransformRun, keep: int) -> None:
        def work(database: Database, session: ClientSession) -> None:
            runs = database[RUNS]
            found = runs.find_one_and_replace(
                {"_id": run.id}, {"transform_id": run.transform_id, "started_at": micros(run.started_at),
                                  "body": orjson.dumps(run.as_json()).decode()}, upsert=True, session=session)
            if found is None:  # a new run: drop what falls beyond the newest `keep`
                older = runs.find({"transform_id": run.transform_id}, {"_id": 1}, session=session).sort(
                    [("started_at", -1), ("_id", -1)]).skip(keep)
                runs.delete_many({"_id": {"$in": [document["_id"] for document in older]}}, session=session)

        self._write(work)

    def list_runs(self, transform_id: str, limit: int | None = None) -> list[TransformRun]:
        with _translated():
            found = self._database()[RUNS].find({"transform_id": transform_id}, {"body": 1}).sort(
                [("started_at", -1), ("_id", -1)]).limit(limit or 0)
            return [TransformRun.from_json(orjson.loads(document["body"])) for document in found]

    def last_runs(self) -> dict[str, TransformRun]:
        with _translated():
            found = self._database()[RUNS].aggregate([
                {"$sort": {"transform_id": 1, "started_at": -1, "_id": -1}},
                {"$group": {"_id": "$transform_id", "body": {"$first": "$body"}}}])
            return {document["_id"]: TransformRun.from_json(orjson.loads(document["body"])) for document in found}

    def delete_runs(self, transform_id: str) -> int:
        with _translated():
            return self._database()[RUNS].delete_many({"transform_id": transform_id}).deleted_count

    # --- records -------------------------------------------------------------------------

    def save_records(self, name: str, records: Sequence[dict], capped_size: int = 0, *,
                     transforms: TransformRequest | None = None) -> None:
        documents = prepare(name, records)  # a record that cannot be stored fails here, before any write
        entry = None if transforms is None else _outbox_entry(transforms)  # and so does an entry

        def work(database: Database, session: ClientSession) -> None:
            version = self._take_versions(database, session, len(documents) + 1)
            first = version - len(documents)
            if documents:
                database[RECORDS].delete_many({"d": name, "i": {"$in": [document["i"] for document in documents]}},
                                              session=session)
                database[RECORDS].insert_many([dict(document, s=first + position)
                                               for position, document in enumerate(documents)], session=session)
            if capped_size and capped_size > 0:
                floor = _evict(database, session, name, capped_size)
                if floor is not None:
                    _set_floor(database, session, name, floor, version)
            database[DATA_SETS].update_one({"_id": name}, {"$set": {"version": version}}, session=session)
            if entry is not None:
                database[OUTBOX].insert_one(dict(entry), session=session)

        self._write(work)

    def empty_data_set(self, name: str) -> None:
        def work(database: Database, session: ClientSession) -> None:
            database[RECORDS].delete_many({"d": name}, session=session)
            version = self._bump(database, session, name)
            _set_floor(database, session, name, version, version)

        self._write(work)

    def get_record(self, name: str, record_id: str) -> dict | None:
        with _translated():
            found = self._database()[RECORDS].find_one({"d": name, "i": record_id}, {"r": 1})
        return None if found is None else found["r"]

    def delete_record(self, name: str, record_id: str) -> bool:
        def work(database: Database, session: ClientSession) -> bool:
            if not database[RECORDS].delete_one({"d": name, "i": record_id}, session=session).deleted_count:
                return False
            database[DELETED].update_one({"d": name, "i": record_id},
                                         {"$max": {"v": self._bump(database, session, name)}},
                                         upsert=True, session=session)
            return True

        return self._write(work)

    def changes(self, name: str, since: int, limit: int) -> Changes:
        """Read in one transaction with snapshot read concern, so on a real server every read
        sees the same point in time; each is an index range from the cursor (records by
        (d, s), deletions by (d, v)).

        mongomock has no snapshots (its stand-in transaction just runs the reads one after
        the other), so they are made in an order that keeps a replica from ever skipping a
        change when writes land between them: the version first (an answer is filed under a
        version no newer than its data, as base.py's callers read it), then the counter,
        whose value bounds everything read after it, then floor, deletions and records. A
        change numbered up to the bound had committed before the bound was read, so the
        reads after it see it unless a later change (numbered above the bound, so above
        the cursor, and reported next time) replaced it.
        """
        def read(database: Database, session: ClientSession) -> Changes:
            found = database[DATA_SETS].find_one({"_id": name}, {"version": 1}, session=session)
            counter = database[COUNTERS].find_one({"_id": VERSION_COUNTER}, session=session)
            bound = {"$gt": since, "$lte": counter["n"] if counter else 0}
            floor = database[FLOORS].find_one({"_id": name, "v": bound}, session=session)
            deletions = database[DELETED].find({"d": name, "v": bound}, {"i": 1, "v": 1}, session=session)
            records = database[RECORDS].find({"d": name, "s": bound}, {"s": 1, "r": 1}, session=session).sort(
                "s", 1).limit(limit + 1)
            return assemble(since, limit, None if found is None else found["version"],
                            None if floor is None else (floor["floor"], floor["v"]),
                            [(document["i"], document["v"]) for document in deletions],
                            [(document["s"], document["r"]) for document in records])

        return self._snapshot(read)

    def last_updated(self) -> dict[str, datetime]:
        with _translated():
            found = list(self._database()[RECORDS].aggregate(last_updated_pipeline()))
        return {document["_id"]: from_micros(document["u"]) for document in found if document["u"] is not None}

    def find(self, name: str, query: RecordQuery) -> Iterator[dict]:
        pipeline = find_pipeline(name, query)
        with _translated():
            cursor = self._database()[RECORDS].aggregate(pipeline, allowDiskUse=True, **_time_limit(query))
        return _stream(cursor)

    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        pipeline = aggregate_pipeline(name, query, local_offsets(query, lambda: self._span(name)))
        with _translated():
            documents = list(self._database()[RECORDS].aggregate(pipeline, allowDiskUse=True, **_time_limit(query)))
        return decode_aggregate(capped_rows(documents, query.row_cap), query)


    def _span(self, name: str) -> tuple[datetime | None, datetime | None]:
        """The earliest and latest `_timestamp` of the data set (µs in `t`)."""
        records = self._database()[RECORDS]
        ends = []
        for way in (1, -1):
            with _translated():
                found = list(records.find({"d": name, "t": {"$ne": None}}, {"t": 1}).sort("t", way).limit(1))
            ends.append(from_micros(found[0]["t"]) if found else None)
        return ends[0], ends[1]


def _outbox_entry(request: TransformRequest) -> dict:
    """The outbox document of a transform request, unsent."""
    return {"data_set": request.data_set, "earliest": micros(request.earliest), "latest": micros(request.latest),
            "created_at": micros(request.created_at), "request_id": request.request_id, "attempts": 0,
            "trigger": request.trigger, "sent_at": None}


def _time_limit(query: RecordQuery | AggregateQuery) -> dict:
    """`maxTimeMS` for a timed read (the server counts whole milliseconds; at least 1).

    mongomock, the test double, accepts and ignores it."""
    if query.timeout is None:
        return {}
    return {"maxTimeMS": max(1, round(query.timeout * 1000))}


def _stream(cursor) -> Iterator[dict]:
    """Records decoded one batch at a time as the caller iterates."""
    with _translated():
        yield from cursor


def _evict(database: Database, session: ClientSession, name: str, capped_size: int) -> int | None:
    """Delete the oldest-written records until the data set's size is at most `capped_size`;
    the greatest write order deleted (the data set's new floor), None when none was."""
    records = database[RECORDS]
    totals = list(records.aggregate([{"$match": {"d": name}}, {"$group": {"_id": None, "z": {"$sum": "$z"}}}],
                                    session=session))
    total = totals[0]["z"] if totals else 0
    if total <= capped_size:
        return None
    last = None
    for document in records.find({"d": name}, {"s": 1, "z": 1}, session=session).sort("s", 1):
        if total <= capped_size:
            break
        total, last = total - document["z"], document["s"]
    records.delete_many({"d": name, "s": {"$lte": last}}, session=session)
    return last


def _set_floor(database: Database, session: ClientSession, name: str, floor: int, version: int) -> None:
    """Records numbered up to `floor` are gone as of `version`; the deletions it covers need
    not be kept (base.Storage.changes)."""
    database[FLOORS].update_one({"_id": name}, {"$set": {"floor": floor, "v": version}}, upsert=True,
                                session=session)
    database[DELETED].delete_many({"d": name, "v": {"$lte": floor}}, session=session)


def _pair_taken(group: str, kind: str) -> AlreadyExists:
    return AlreadyExists(f"A data set for {group}/{kind} already exists")


def _taken(error: DuplicateKeyError, name: str, group: str, kind: str) -> AlreadyExists:
    """Which unique index refused a concurrent create or replace."""
    if "data_group" in ((error.details or {}).get("keyPattern") or {}):
        return _pair_taken(group, kind)
    return AlreadyExists(f"Data set '{name}' already exists")
