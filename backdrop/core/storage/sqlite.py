"""The embedded engine: one SQLite file shared by every process (read app, write app, worker).

Many processes, each with several threads, use the same file at once, so: WAL mode
(readers never block the writer and see only committed batches), one connection per
thread opened lazily (and again after a fork), and every write in `BEGIN IMMEDIATE`, which
takes the write lock up front so concurrent writers queue on `busy_timeout` instead of
failing half way with "database is locked". Filtering, sorting, bucketing and the collect
reductions all run in SQL (see sqlite_sql.py); Python only encodes and decodes bodies.
"""
from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Sequence

import orjson

from backdrop.core.timeseries import UTC, as_utc
from backdrop.core.values import distinct_sorted

from .text import escape, unescape
from . import sqlite_sql as q
from .base import (
    AggregateQuery,
    AggregateRow,
    AlreadyExists,
    FieldStats,
    NotFound,
    RecordQuery,
    Storage,
    StorageError,
    record_size,
)
from .migrations import VersionedSchema, start_up
from .sqlite_schema import MIGRATIONS, SQLiteSchemaStore, schema_store

BUSY_TIMEOUT_SECONDS = 30
# The `size` of a record not yet counted: no record counts 0 bytes (`{}` alone is 2).
UNCOUNTED = 0
_PLAIN = frozenset((str, int, bool, type(None)))


@contextmanager
def _translated():
    """Driver errors become StorageError, so callers handle one exception family."""
    try:
        yield
    except sqlite3.Error as error:
        raise StorageError(f"SQLite: {error}") from error


def _stored_body(record: dict) -> str:
    """The body as JSON text, without its size: the usual write (an uncapped data set).

    orjson writes UTC datetimes as their `isoformat()`; any other datetime is converted
    to UTC first, as `_encode_exactly` does.
    """
    for value in record.values():
        if type(value) is datetime and value.tzinfo is not UTC:
            return _encode_exactly(record, sized=False)[0]
    return orjson.dumps(record).decode()


def _encode_record(record: dict) -> tuple[str, int]:
    """The body as JSON text and its size under the contract's byte rule, cheaply.

    orjson writes the same bytes as `json.dumps(..., separators=(',', ':'),
    ensure_ascii=False)` for strings, ints, booleans, null and UTC datetimes (as their
    `isoformat()`), and key order does not change a length; only float spellings differ
    (`1e-7` against `1e-07`), so those are corrected one by one. Anything else (a
    datetime not in UTC, a nested value) takes the exact, slower path.
    """
    extra = 0
    for value in record.values():
        kind = type(value)
        if kind in _PLAIN:
            continue
        if kind is datetime:
            if value.tzinfo is not UTC:
                return _encode_exactly(record)
        elif kind is float:
            if math.isfinite(value):
                extra += len(repr(value)) - len(orjson.dumps(value))
        else:
            return _encode_exactly(record)
    body = orjson.dumps(record)
    return body.decode(), len(body) + extra


def _escaped_body(record: dict, body: str) -> str:
    """The body to store: strings holding U+0000 or U+0001 escaped (see sqlite_sql)."""
    if "\\u0000" not in body and "\\u0001" not in body:
        return body
    escaped = {key: escape(value) if type(value) is str else value
               for key, value in record.items()}
    return _stored_body(escaped)


def _decode(body: str) -> dict:
    """A stored body as a raw query returns it."""
    record = orjson.loads(body)
    if "\\u0001" not in body:
        return record
    return {key: unescape(value) if type(value) is str else value
            for key, value in record.items()}


def _encode_exactly(record: dict, sized: bool = True) -> tuple[str, int]:
    """Dates converted to UTC ISO strings first, then (if `sized`) the contract's own size rule."""
    stored = {key: as_utc(value).isoformat() if isinstance(value, datetime) else value
              for key, value in record.items()}
    body = orjson.dumps(stored).decode()
    return body, record_size(orjson.loads(body)) if sized else UNCOUNTED


def _instant(value: Any) -> int | None:
    """A date field as µs since the epoch (tolerating an ISO string), else None."""
    if type(value) is datetime and value.tzinfo is UTC:
        return (value - q.EPOCH) // q.MICROSECOND
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return q.micros(as_utc(value)) if isinstance(value, datetime) else None


def _prepare(records: Sequence[dict], sized: bool) -> list[tuple]:
    """(id, ts, updated_at, size, body) per record, all computed before the write lock.

    The exact size costs a second encoding of every float, so it is counted only for a
    capped write (`sized`); other records are stored as UNCOUNTED. A batch shares its
    `_updated_at` and often its timestamps, hence the small cache of instants.
    """
    instants: dict = {None: None}
    rows = []
    for record in records:
        if sized:
            body, size = _encode_record(record)
        else:
            body, size = _stored_body(record), UNCOUNTED
        if "\\u000" in body:
            body = _escaped_body(record, body)
        ts, updated_at = record.get("_timestamp"), record.get("_updated_at")
        try:
            ts = instants[ts]
        except (KeyError, TypeError):
            ts = _cached_instant(instants, ts)
        try:
            updated_at = instants[updated_at]
        except (KeyError, TypeError):
            updated_at = _cached_instant(instants, updated_at)
        rows.append((record["_id"], ts, updated_at, size, body))
    return rows


def _cached_instant(instants: dict, value: Any) -> int | None:
    try:
        found = instants[value] = _instant(value)
    except TypeError:  # unhashable: not a date anyway
        return None
    return found


def _count_sizes(connection: sqlite3.Connection, name: str) -> None:
    """Give every UNCOUNTED record of the data set its exact size, before a capped write
    evicts by size. Only records saved by uncapped writes of a data set later written
    with a cap have none, which the application never does (capped_size is fixed at
    creation) but the storage interface allows."""
    rows = connection.execute(q.UNCOUNTED_RECORDS, (name, UNCOUNTED)).fetchall()
    connection.executemany(q.SET_SIZE, [(record_size(_decode(body)), name, record_id)
                                        for record_id, body in rows])


def _stream(cursor: sqlite3.Cursor) -> Iterator[dict]:
    """Rows decoded one at a time as the caller iterates: a large answer is never all in memory."""
    with _translated():
        for (body,) in cursor:
            yield _decode(body)


def _group_value(kind: str, value: Any) -> Any:
    if kind == "b":
        return bool(value)
    return unescape(value) if kind == "s" else value


def _field_stats(total, numeric: int, count: int, values: str | None, want_set: bool) -> FieldStats:
    """One field's reductions from its SQL columns; `values` is the JSON texts joined by commas."""
    distinct = None
    if want_set:
        found = orjson.loads(f"[{values}]") if values else []
        distinct = distinct_sorted(unescape(v) if type(v) is str else v for v in found)
    return FieldStats(sum=0 if total is None else total, numeric_count=numeric, count=count,
                      values=distinct)


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL, waiting out other processes doing the same on a fresh file.

    Changing the journal mode does not wait on `busy_timeout`: it answers "database is
    locked" at once while another connection holds a lock, so it is retried here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if connection.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            return  # a file that cannot do WAL (rare filesystems) still works, more slowly
        time.sleep(0.02)


class SQLiteStorage(VersionedSchema, Storage):
    """Storage in one SQLite file; safe to share between threads and processes."""

    MIGRATIONS = MIGRATIONS

    def __init__(self, path: str, *, auto_migrate: bool = True) -> None:
        self.path = path
        self._auto_migrate = auto_migrate
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._schema_ready = False

    @classmethod
    def from_url(cls, url: str, *, auto_migrate: bool = True) -> "SQLiteStorage":
        """`sqlite:///relative/path` (from the working directory) or `sqlite:////absolute/path`."""
        prefix = "sqlite:///"
        if not url.lower().startswith(prefix) or len(url) == len(prefix):
            raise StorageError(f"Expected sqlite:///relative/path or sqlite:////absolute/path, got {url!r}")
        return cls(os.path.abspath(url[len(prefix):].split("?", 1)[0]), auto_migrate=auto_migrate)

    # --- connections and transactions ----------------------------------------------------

    def _connection(self, role: str = "read") -> sqlite3.Connection:
        """This thread's connection for `role`; a forked child opens its own rather than share one.

        Writes get a connection of their own: a read still being streamed on the reading
        connection holds an old snapshot, and a write begun on that same connection would
        fail at once with "database is locked" whenever another process had committed since.
        """
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.connections = os.getpid(), {}
        connection = local.connections.get(role)
        if connection is None:
            with _translated():
                connection = local.connections[role] = self._open()
            with self._lock:
                self._connections.append(connection)
        return connection

    def _open(self) -> sqlite3.Connection:
        if not self._schema_ready:
            start_up(self, self._auto_migrate)
            self._schema_ready = True
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                     isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        _use_wal(connection)
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    @contextmanager
    def _schema_store(self) -> Iterator[SQLiteSchemaStore]:
        with _translated(), schema_store(self._connect) as store:
            yield store

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its first statement."""
        connection = self._connection("write")
        with _translated():
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with _translated():
            return self._connection().execute(sql, params).fetchall()

    @staticmethod
    def _take_versions(connection: sqlite3.Connection, count: int = 1) -> int:
        """Reserve `count` numbers of the database-wide sequence; returns the last one."""
        return connection.execute(q.TAKE_VERSIONS, (count,)).fetchone()[0]

    def _bump(self, connection: sqlite3.Connection, name: str) -> None:
        version = self._take_versions(connection)
        connection.execute("UPDATE data_sets SET version = ? WHERE name = ?", (version, name))

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    # --- data-set configurations ---------------------------------------------------------

    @staticmethod
    def _check_pair(connection, config: dict, name: str | None) -> None:
        owner = connection.execute(
            "SELECT name FROM data_sets WHERE data_group = ? AND data_type = ?",
            (config["data_group"], config["data_type"])).fetchone()
        if owner is not None and owner[0] != name:
            raise AlreadyExists(
                f"A data set for {config['data_group']}/{config['data_type']} already exists")

    def create_data_set(self, config: dict) -> None:
        missing = [key for key in ("name", "data_group", "data_type") if key not in config]
        if missing:
            raise ValueError(f"configuration lacks {', '.join(missing)}")
        name = config["name"]
        with self._write() as connection:
            if connection.execute("SELECT 1 FROM data_sets WHERE name = ?", (name,)).fetchone():
                raise AlreadyExists(f"Data set '{name}' already exists")
            self._check_pair(connection, config, None)
            connection.execute(
                "INSERT INTO data_sets (name, data_group, data_type, config, version)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, config["data_group"], config["data_type"], orjson.dumps(config).decode(),
                 self._take_versions(connection)))

    def replace_data_set(self, name: str, config: dict) -> None:
        with self._write() as connection:
            if not connection.execute("SELECT 1 FROM data_sets WHERE name = ?", (name,)).fetchone():
                raise NotFound(f"No data set named '{name}'")
            self._check_pair(connection, config, name)
            connection.execute(
                "UPDATE data_sets SET data_group = ?, data_type = ?, config = ?, version = ?"
                " WHERE name = ?",
                (config["data_group"], config["data_type"], orjson.dumps(config).decode(),
                 self._take_versions(connection), name))

    def delete_data_set(self, name: str) -> bool:
        with self._write() as connection:
            deleted = connection.execute("DELETE FROM data_sets WHERE name = ?", (name,)).rowcount
            if deleted:
                connection.execute("DELETE FROM records WHERE data_set = ?", (name,))
            return bool(deleted)

    def _configs(self, where: str, params: Sequence) -> list[dict]:
        rows = self._read(f"SELECT config FROM data_sets {where} ORDER BY name", params)
        return [orjson.loads(config) for (config,) in rows]

    def get_data_set(self, name: str) -> dict | None:
        found = self._configs("WHERE name = ?", (name,))
        return found[0] if found else None

    def find_data_set(self, data_group: str, data_type: str) -> dict | None:
        found = self._configs("WHERE data_group = ? AND data_type = ?", (data_group, data_type))
        return found[0] if found else None

    def list_data_sets(self) -> list[dict]:
        return self._configs("", ())

    def data_set_version(self, name: str) -> int | None:
        rows = self._read("SELECT version FROM data_sets WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    # --- other administration documents --------------------------------------------------

    def put_document(self, kind: str, key: str, document: dict, *, create: bool) -> None:
        body = orjson.dumps(document).decode()
        with self._write() as connection:
            exists = connection.execute("SELECT 1 FROM documents WHERE kind = ? AND key = ?",
                                        (kind, key)).fetchone()
            if create and exists:
                raise AlreadyExists(f"{kind} '{key}' already exists")
            if not create and not exists:
                raise NotFound(f"No {kind} '{key}'")
            connection.execute("INSERT OR REPLACE INTO documents (kind, key, body) VALUES (?, ?, ?)",
                               (kind, key, body))

    def get_document(self, kind: str, key: str) -> dict | None:
        rows = self._read("SELECT body FROM documents WHERE kind = ? AND key = ?", (kind, key))
        return orjson.loads(rows[0][0]) if rows else None

    def list_documents(self, kind: str) -> list[dict]:
        rows = self._read("SELECT body FROM documents WHERE kind = ? ORDER BY key", (kind,))
        return [orjson.loads(body) for (body,) in rows]

    def delete_document(self, kind: str, key: str) -> bool:
        with self._write() as connection:
            return bool(connection.execute("DELETE FROM documents WHERE kind = ? AND key = ?",
                                           (kind, key)).rowcount)

    # --- records -------------------------------------------------------------------------

    def save_records(self, name: str, records: Sequence[dict], capped_size: int = 0) -> None:
        capped = bool(capped_size) and capped_size > 0
        # A record that cannot be encoded fails here, before any write.
        prepared = _prepare(records, capped)
        with self._write() as connection:
            version = self._take_versions(connection, len(prepared) + 1)
            first = version - len(prepared)
            connection.executemany(q.UPSERT_RECORD, [
                (name, record_id, first + position, ts, updated_at, size, body)
                for position, (record_id, ts, updated_at, size, body) in enumerate(prepared)])
            if capped:
                _count_sizes(connection, name)
                connection.execute(q.EVICT_OLDEST, (name, capped_size))
            connection.execute("UPDATE data_sets SET version = ? WHERE name = ?", (version, name))

    def empty_data_set(self, name: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM records WHERE data_set = ?", (name,))
            self._bump(connection, name)

    def get_record(self, name: str, record_id: str) -> dict | None:
        rows = self._read("SELECT body FROM records WHERE data_set = ? AND id = ?", (name, record_id))
        return _decode(rows[0][0]) if rows else None

    def delete_record(self, name: str, record_id: str) -> bool:
        with self._write() as connection:
            deleted = connection.execute("DELETE FROM records WHERE data_set = ? AND id = ?",
                                         (name, record_id)).rowcount
            if deleted:
                self._bump(connection, name)
            return bool(deleted)

    def last_updated(self) -> dict[str, datetime]:
        return {name: q.from_micros(newest) for name, newest in self._read(q.LAST_UPDATED)
                if newest is not None}

    def find(self, name: str, query: RecordQuery) -> Iterator[dict]:
        sql, params = q.find_statement(name, query.filters, query.time, query.sort, query.limit)
        with _translated():
            cursor = self._connection().execute(sql, params)
        return _stream(cursor)

    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        if query.period is not None and query.period not in q.PERIOD_START:
            raise ValueError(f"Unknown period {query.period!r}")
        sql, params, collects = q.aggregate_statement(name, query)
        groups = len(query.group_by)
        try:
            rows = self._read(sql, params)
        except StorageError as error:
            if "integer overflow" not in str(error):
                raise
            # A sum past 64-bit integers: SQLite's SUM refuses it; answer with a float sum.
            sql, params, collects = q.aggregate_statement(name, query, float_sums=True)
            rows = self._read(sql, params)
        # Without GROUP BY the statement answers one row even when nothing matched.
        return [self._aggregate_row(row, groups, collects) for row in rows if row[1 + 2 * groups]]

    @staticmethod
    def _aggregate_row(row: tuple, groups: int, collects: list[tuple[str, bool]]) -> AggregateRow:
        period, count = row[0], row[1 + 2 * groups]
        group = tuple(_group_value(row[1 + 2 * i], row[2 + 2 * i]) for i in range(groups))
        fields, column = {}, 2 + 2 * groups
        for field, want_set in collects:
            width = 4 if want_set else 3
            values = row[column + 3] if want_set else None
            fields[field] = _field_stats(*row[column:column + 3], values, want_set)
            column += width
        return AggregateRow(period_start=None if period is None else q.from_micros(period),
                            group=group, count=count, fields=fields)
