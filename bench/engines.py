"""The databases under test, and the raw-engine baselines of the ingest.

The benchmark runs the engines of the table (backdrop/core/storage/engines.py) that are
shared between processes, since the apps run as separate processes. Each gets a fresh
database from its test support (backdrop/testing_engines.py: SQLite a temporary file,
PostgreSQL a database made with CREATE DATABASE and dropped at the end) and a baseline
class here, found by the engine's name in BASELINES, which offers a direct connection for
the hand-written baselines (an engine without one is reported as not measured). The raw
ingest baseline loads the same records, in the same schema (created by Backdrop's own
engine), by the fastest means the engine has: one `executemany` in one transaction
(SQLite), `COPY` (PostgreSQL), one unordered `insert_many` (MongoDB). Rows are encoded
before the clock starts: the baseline measures the engine, nothing else.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

import orjson

from backdrop.core.storage.engines import Capability, engine_named, engines_with
from backdrop.core.timeseries import period_keys
from backdrop.testing_engines import support_for

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UPDATED_AT = datetime(2024, 1, 2, tzinfo=UTC)


def stored_form(record: dict) -> tuple[str, datetime, str]:
    """(id, _timestamp, body JSON) of a record as the write API stores it: with its server keys."""
    timestamp = datetime.fromisoformat(record["_timestamp"])
    body = {**record, "_timestamp": timestamp, **period_keys(timestamp), "_updated_at": UPDATED_AT}
    return record["_id"], timestamp, orjson.dumps(body).decode()


def micros(moment: datetime) -> int:
    """SQLite's `ts`: whole microseconds since the epoch."""
    return (moment - EPOCH) // timedelta(microseconds=1)


class SqliteEngine:
    name = "sqlite"

    def __init__(self, folder: Path, server_url: str | None = None):
        self.folder = folder
        self._databases = ExitStack()
        self.database_url = self._databases.enter_context(support_for(self.name).database(folder, "bench", None))
        self.path = Path(self.database_url[len("sqlite:///"):])
        self._connection: sqlite3.Connection | None = None

    def version(self) -> str:
        return sqlite3.sqlite_version

    def connection(self) -> sqlite3.Connection:
        """A direct connection to the apps' database, for the query baselines."""
        if self._connection is None:
            self._connection = _sqlite_connect(self.path)
        return self._connection

    def run(self, sql: str, params: tuple) -> list[tuple]:
        return self.connection().execute(sql, params).fetchall()

    def count(self, data_set: str) -> int:
        return self.run("SELECT count(*) FROM records WHERE data_set = ?", (data_set,))[0][0]

    def after_load(self) -> None:
        """Nothing: the app never runs ANALYZE on SQLite, so neither does the benchmark."""

    def raw_ingest(self, data_set: str, records: Iterable[dict]) -> tuple[float, int]:
        """(seconds, rows) for one executemany of every record into a fresh file, same schema."""
        with support_for(self.name).database(self.folder, "raw-ingest", None) as url:
            _make_schema(url)
            rows = []
            for seq, record in enumerate(records, 1):
                record_id, timestamp, body = stored_form(record)
                rows.append((data_set, record_id, seq, micros(timestamp), micros(UPDATED_AT),
                             len(body.encode()), body))
            connection = _sqlite_connect(Path(url[len("sqlite:///"):]))
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany("INSERT INTO records (data_set, id, seq, ts, updated_at, size, body)"
                                   " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            connection.execute("COMMIT")
            seconds = time.perf_counter() - started
            stored = connection.execute("SELECT count(*) FROM records").fetchone()[0]
            connection.close()
        return seconds, stored

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._databases.close()


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    """The same pragmas as Backdrop's engine (WAL, synchronous NORMAL): the same durability."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=60)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def _make_schema(database_url: str) -> None:
    """Backdrop's own engine creates its schema on first use; the baselines use that schema."""
    from backdrop.core.storage import open_storage

    storage = open_storage(database_url)
    try:
        storage.list_data_sets()
    finally:
        storage.close()


class PostgresEngine:
    name = "postgres"

    def __init__(self, folder: Path, server_url: str | None = None):
        import psycopg

        self._psycopg = psycopg
        self.folder, self.server_url = folder, server_url
        self._databases = ExitStack()
        self.database_url = self._databases.enter_context(
            support_for(self.name).database(folder, "bench", server_url))
        self._connection = None

    def version(self) -> str:
        return self.run("SHOW server_version", ())[0][0]

    def connection(self):
        if self._connection is None:
            self._connection = self._psycopg.connect(self.database_url, autocommit=True)
        return self._connection

    def run(self, sql: str, params: tuple) -> list[tuple]:
        return self.connection().execute(sql, params).fetchall()

    def count(self, data_set: str) -> int:
        return self.run("SELECT count(*) FROM backdrop_records WHERE data_set = %s", (data_set,))[0][0]

    def after_load(self) -> None:
        """Fresh statistics, as autovacuum would have gathered within a minute of a bulk load."""
        self.connection().execute("ANALYZE backdrop_records")

    def raw_ingest(self, data_set: str, records: Iterable[dict]) -> tuple[float, int]:
        """(seconds, rows) for one COPY of every record into a fresh database, same schema."""
        with support_for(self.name).database(self.folder, "bench_raw", self.server_url) as url:
            _make_schema(url)
            payload = _copy_text(data_set, records)
            with self._psycopg.connect(url) as connection:
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    with cursor.copy("COPY backdrop_records (data_set, id, seq, ts, updated_at, size, body)"
                                     " FROM STDIN") as copy:
                        for start in range(0, len(payload), 1 << 20):
                            copy.write(payload[start:start + (1 << 20)])
                connection.commit()
                seconds = time.perf_counter() - started
                stored = connection.execute("SELECT count(*) FROM backdrop_records").fetchone()[0]
        return seconds, stored

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._databases.close()


def _copy_text(data_set: str, records: Iterable[dict]) -> bytes:
    """COPY's text format: tab-separated, backslashes doubled (JSON has no raw tabs or newlines)."""
    updated = UPDATED_AT.isoformat()
    lines = []
    for seq, record in enumerate(records, 1):
        record_id, timestamp, body = stored_form(record)
        lines.append("\t".join((data_set, record_id, str(seq), timestamp.isoformat(), updated,
                                str(len(body.encode())), body.replace("\\", "\\\\"))))
    return ("\n".join(lines) + "\n").encode()


class MongoEngine:
    """MongoDB: a database of its own on the server given by --mongodb-url (never mongomock:
    the apps run as separate processes)."""

    name = "mongo"
    needs_server = True  # no test default: only a server named on the command line

    def __init__(self, folder: Path, server_url: str | None = None):
        if not server_url:
            raise LookupError("the benchmark needs a MongoDB server for mongo: give --mongodb-url")
        import pymongo

        self._pymongo = pymongo
        self.folder, self.server_url = folder, server_url
        self._databases = ExitStack()
        self.database_url = self._databases.enter_context(
            support_for(self.name).database(folder, "bench", server_url))
        self._client = None

    def database(self, url: str | None = None):
        if self._client is None:
            self._client = self._pymongo.MongoClient(self.server_url)
        return self._client[_database_name(url or self.database_url)]

    def version(self) -> str:
        return self.database().client.server_info()["version"]

    def run(self, pipeline: list, params: dict) -> list[tuple]:
        """The pipeline's documents as rows ending with their count (and sum), as fingerprint()
        reads them; a raw query's documents are rows of their own."""
        return pipeline_rows(self.database().records.aggregate(pipeline, allowDiskUse=True))

    def count(self, data_set: str) -> int:
        return self.database().records.count_documents({"d": data_set})

    def after_load(self) -> None:
        """Nothing: MongoDB keeps its statistics itself."""

    def raw_ingest(self, data_set: str, records: Iterable[dict]) -> tuple[float, int]:
        """(seconds, rows) for one unordered insert_many of every record into a fresh database,
        with Backdrop's own indexes and layout (mongo.py)."""
        with support_for(self.name).database(self.folder, "bench_raw", self.server_url) as url:
            _make_schema(url)
            documents = [_mongo_document(data_set, seq, record) for seq, record in enumerate(records, 1)]
            collection = self.database(url).records
            started = time.perf_counter()
            collection.insert_many(documents, ordered=False)
            seconds = time.perf_counter() - started
            stored = collection.count_documents({})
        return seconds, stored

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._databases.close()


def pipeline_rows(documents) -> list[tuple]:
    """A raw pipeline's documents as rows ending with their count (and sum), as
    raw_queries.fingerprint reads them; a raw query's documents are rows of their own."""
    rows = []
    for document in documents:
        if "n" in document:
            rows.append((document["_id"], document["n"]) + ((document["s"],) if "s" in document else ()))
        else:
            rows.append((document,))
    return rows


def _database_name(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def _mongo_document(data_set: str, seq: int, record: dict) -> dict:
    """A record as the MongoDB engine stores it (layout in backdrop/core/storage/mongo.py)."""
    _, timestamp, body = stored_form(record)
    raw = orjson.loads(body)
    return {"d": data_set, "i": record["_id"], "s": seq, "t": micros(timestamp), "u": micros(UPDATED_AT),
            "z": len(body.encode()), "r": raw}


BASELINES = {"sqlite": SqliteEngine, "postgres": PostgresEngine, "mongo": MongoEngine}


def benchmark_engines() -> list[str]:
    """The engines `--engines` may name: the table's engines shared between processes."""
    return [engine.name for engine in engines_with(Capability.SHARED_BETWEEN_PROCESSES)]


def default_engines(server_url: Callable[[str], str | None]) -> list[str]:
    """The engines a run measures unless told: all the benchmark can run, except those whose
    baselines need a server the command line did not give."""
    return [name for name in benchmark_engines()
            if not getattr(BASELINES.get(name), "needs_server", False) or server_url(name)]


def open_engine(name: str, folder: Path, server_url: str | None = None):
    """The baselines of the engine `name` over a fresh database of it.

    `server_url`: where an engine with a server may create its databases (None: the test
    default, BACKDROP_TEST_POSTGRES_URL for PostgreSQL).
    """
    if name not in benchmark_engines():
        engine_named(name)  # a ValueError listing the engines for a name not in the table
        raise ValueError(f"the benchmark needs an engine shared between processes, not {name!r}")
    if name not in BASELINES:
        raise LookupError(f"the benchmark has no raw baselines for {name} yet (bench/engines.py)")
    return BASELINES[name](folder, server_url)
