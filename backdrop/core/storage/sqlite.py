"""The embedded engine: one SQLite file shared by every process (read app, write app, worker).

Many processes, each with several threads, use the same file at once, so: WAL mode
(readers never block the writer and see only committed batches), one connection per
thread opened lazily (and again after a fork), and every write in `BEGIN IMMEDIATE`, which
takes the write lock up front so concurrent writers queue on `busy_timeout` instead of
failing half way with "database is locked". Filtering, sorting, bucketing and the
reductions all run in SQL (sqlite_sql.py); Python only encodes and decodes bodies
(sqlite_codec.py).

Under steady load two things need care (README, "Operating SQLite"). The WAL file only
restarts from its beginning when no reader is using it, so readers overlapping without a
pause would let it grow without end: every write that leaves it larger than
WAL_CHECKPOINT_BYTES checkpoints it with TRUNCATE, which waits (a bounded time) for the
readers of old snapshots to finish while new readers read the database file, and read
transactions are kept short (a slow consumer of `find` does not hold its snapshot). And a
connection that met a fault of the file (made read-only, disk full, I/O error, locked) is
dropped, so the next call opens a fresh one: a connection opened while the file was
read-only stays read-only for its whole life, even after the file is writable again.
"""
from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Sequence

import orjson

from backdrop.core.timeseries import from_micros, micros
from backdrop.core.values import distinct_sorted

from . import sqlite_sql as q
from .base import (
    AggregateQuery,
    AggregateRow,
    AlreadyExists,
    Changes,
    NotFound,
    SENT_REQUESTS_KEPT,
    Op,
    QueryTimeout,
    RecordQuery,
    Reduction,
    Storage,
    StorageError,
    TransformRequest,
    TransformRun,
    capped_rows,
    record_size,
)
from .feed import assemble
from .migrations import VersionedSchema, start_up
from .rows import Columns, decode_aggregate, local_offsets
from .sql import Statement
from .sqlite_codec import UNCOUNTED, decode, prepare
from .sqlite_schema import MIGRATIONS, SQLiteSchemaStore, schema_store
from .text import unescape

BUSY_TIMEOUT_SECONDS = 30

# A write that leaves the WAL file larger than this checkpoints and truncates it; each
# connection also asks SQLite to cut the file back to this size whenever it restarts.
WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024
# How long that checkpoint waits for readers of older snapshots (holding up other writers
# meanwhile) before giving up; the write itself has committed by then and succeeds either
# way. After giving up, this process's writes try again only after CHECKPOINT_RETRY_SECONDS,
# so that a long read does not cost every write the wait.
CHECKPOINT_WAIT_MS = 2000
CHECKPOINT_RETRY_SECONDS = 5.0
# A `find` consumed for longer than this reads the rest of its rows at once, ending its read
# transaction, so a slow consumer cannot hold an old snapshot (and the WAL) for long.
STREAM_SNAPSHOT_SECONDS = 1.0
STREAM_CHUNK = 500

# Primary result codes saying the file, not the statement, failed: the connection that met
# one is dropped, since it may never work again (one opened read-only stays read-only).
FILE_FAULTS = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
                         sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB,
                         sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


@contextmanager
def _translated():
    """Driver errors become StorageError, so callers handle one exception family."""
    try:
        yield
    except sqlite3.Error as error:
        raise StorageError(f"SQLite: {error}") from error


def _count_sizes(connection: sqlite3.Connection, name: str) -> None:
    """Give every UNCOUNTED record of the data set its exact size, before a capped write
    evicts by size. Only records saved by uncapped writes of a data set later written
    with a cap have none, which the application never does (capped_size is fixed at
    creation) but the storage interface allows."""
    rows = connection.execute(q.UNCOUNTED_RECORDS, (name, UNCOUNTED)).fetchall()
    connection.executemany(q.SET_SIZE, [(record_size(decode(body)), name, record_id)
                                        for record_id, body in rows])


PROGRESS_STEPS = 1000  # virtual-machine steps between two looks at the clock of a timed read


@contextmanager
def _deadline(connection: sqlite3.Connection, timeout: float | None):
    """Interrupt the connection's statement once `timeout` seconds have passed (QueryTimeout).

    SQLite calls the progress handler every PROGRESS_STEPS steps of a running statement;
    answering true interrupts it. The handler is removed afterwards, so untimed work on the
    same connection is never cut.
    """
    if timeout is None:
        yield
        return
    ends = time.monotonic() + timeout
    connection.set_progress_handler(lambda: time.monotonic() > ends, PROGRESS_STEPS)
    try:
        yield
    except sqlite3.OperationalError as error:
        if "interrupted" not in str(error):
            raise
        raise QueryTimeout(f"SQLite: the read ran longer than {timeout} s and was interrupted") from error
    finally:
        connection.set_progress_handler(None, 0)


def _is_file_fault(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in FILE_FAULTS


def _rows(cursor: sqlite3.Cursor) -> Iterator[tuple]:
    """The cursor's rows a chunk at a time while the caller keeps up; once the caller has
    been at it for longer than STREAM_SNAPSHOT_SECONDS, the rest at once, which ends the
    statement and with it the read transaction that pins its snapshot in the WAL. (The
    clock starts at the first chunk: the time the query takes to answer is its own.)"""
    rows = cursor.fetchmany(STREAM_CHUNK)
    started = time.monotonic()
    while rows:
        yield from rows
        if time.monotonic() - started > STREAM_SNAPSHOT_SECONDS:
            rest = cursor.fetchall()
            cursor.close()
            yield from rest
            return
        rows = cursor.fetchmany(STREAM_CHUNK)


def _match_modes(path: str) -> None:
    """Give the `-wal` and `-shm` files the database file's permissions, as SQLite does
    when it creates them (best effort: only their owner may)."""
    mode = os.stat(path).st_mode & 0o777
    for side in (f"{path}-wal", f"{path}-shm"):
        try:
            if os.stat(side).st_mode & 0o777 != mode:
                os.chmod(side, mode)
        except OSError:
            pass


def _checkpoint(connection: sqlite3.Connection) -> bool:
    """Copy the WAL into the database and truncate it, waiting at most CHECKPOINT_WAIT_MS
    for readers of older snapshots (new readers meanwhile read the database file, so a
    stream of overlapping readers cannot keep it from finishing); whether it finished.
    Called after a commit: a failure here is left for a later write to retry, never
    reported as the write's."""
    try:
        connection.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy
    except sqlite3.Error:
        return False
    finally:
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        except sqlite3.Error:
            pass


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
        self._lock = threading.Lock()
        # (process, thread, role) -> connection: held here rather than in a threading.local
        # so that recovery (_recover) can drop every connection of the process at once.
        self._connections: dict[tuple[int, int, str], sqlite3.Connection] = {}
        self._schema_ready = False
        self._read_only_in: int | None = None  # the process that met a read-only file (_recover)
        self._checkpoint_after = 0.0  # time.monotonic() before which writes do not checkpoint

    @classmethod
    def from_url(cls, url: str, *, auto_migrate: bool = True, **_options) -> "SQLiteStorage":
        """`sqlite:///relative/path` (from the working directory) or `sqlite:////absolute/path`.

        Options for other engines (a connection pool's size) mean nothing here.
        """
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
        self._reopen()
        key = (os.getpid(), threading.get_ident(), role)
        connection = self._connections.get(key)
        if connection is None:
            with _translated():
                connection = self._open()
            with self._lock:
                self._connections[key] = connection
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
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            _use_wal(connection)
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA journal_size_limit = {WAL_CHECKPOINT_BYTES}")
        except BaseException:
            connection.close()
            raise
        return connection

    def _drop(self, doomed) -> None:
        """Forget the connections for which `doomed(key, connection)`, so that the next call
        of their thread opens a fresh one. Not closed here, since another thread may be reading from
        one: each closes when its last reference goes, at once if it was idle."""
        with self._lock:
            self._connections = {key: kept for key, kept in self._connections.items() if not doomed(key, kept)}

    def _recover(self, connection: sqlite3.Connection, error: sqlite3.Error) -> None:
        """Drop `connection` after a fault of the file, so that the next call reopens it.

        "Read-only" needs more. A connection opened while the file was read-only stays
        read-only; worse, SQLite shares one mapping of the `-shm` file between all
        connections of a process, and a connection opened while the file was read-only
        creates `-shm` (and `-wal`) read-only like it. So every connection of this process
        is dropped, now and again by the first call once the file is writable (_reopen),
        which also gives the side files the database file's mode back.
        """
        if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_READONLY:
            self._read_only_in = os.getpid()
            self._drop_process_connections()
        else:
            self._drop(lambda key, kept: kept is connection)

    def _reopen(self) -> None:
        """After a read-only fault in this process, once the file is writable: see _recover."""
        if self._read_only_in == os.getpid() and os.access(self.path, os.W_OK):
            self._read_only_in = None
            _match_modes(self.path)
            self._drop_process_connections()
            gc.collect()  # a dropped connection still in a reference cycle (a traceback's) closes now

    def _drop_process_connections(self) -> None:
        pid = os.getpid()
        self._drop(lambda key, kept: key[0] == pid)

    @contextmanager
    def _faults(self, connection: sqlite3.Connection) -> Iterator[None]:
        """Driver errors as StorageError; after a fault of the file, `connection` is dropped."""
        try:
            with _translated():
                yield
        except StorageError as error:
            if _is_file_fault(error.__cause__):
                self._recover(connection, error.__cause__)
            raise

    @contextmanager
    def _using(self, role: str = "read") -> Iterator[sqlite3.Connection]:
        """This thread's connection for `role`, dropped if the file fails under it."""
        connection = self._connection(role)
        with self._faults(connection):
            yield connection

    @contextmanager
    def _schema_store(self) -> Iterator[SQLiteSchemaStore]:
        with _translated(), schema_store(self._connect) as store:
            yield store

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its first statement; then the
        WAL checkpointed if it has grown past WAL_CHECKPOINT_BYTES."""
        with self._using("write") as connection, _transaction(connection, "BEGIN IMMEDIATE"):
            yield connection
        if self._wal_size() > WAL_CHECKPOINT_BYTES and time.monotonic() >= self._checkpoint_after:
            if not _checkpoint(connection):
                self._checkpoint_after = time.monotonic() + CHECKPOINT_RETRY_SECONDS

    def _wal_size(self) -> int:
        try:
            return os.path.getsize(f"{self.path}-wal")
        except OSError:
            return 0

    def _read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._using() as connection:
            return connection.execute(sql, params).fetchall()

    def _stream(self, cursor: sqlite3.Cursor) -> Iterator[dict]:
        """Rows decoded one at a time as the caller iterates: a large answer is never all in
        memory while the caller keeps up (see _rows)."""
        with self._faults(cursor.connection):
            for (body,) in _rows(cursor):
                yield decode(body)

    @staticmethod
    def _take_versions(connection: sqlite3.Connection, count: int = 1) -> int:
        """Reserve `count` numbers of the database-wide sequence; returns the last one."""
        return connection.execute(q.TAKE_VERSIONS, (count,)).fetchone()[0]

    def _bump(self, connection: sqlite3.Connection, name: str) -> int:
        """Give the data set a new version; returns it (removals are recorded under it)."""
        version = self._take_versions(connection)
        connection.execute("UPDATE data_sets SET version = ? WHERE name = ?", (version, name))
        return version

    @staticmethod
    def _set_floor(connection: sqlite3.Connection, name: str, floor: int, version: int) -> None:
        """Records numbered up to `floor` are gone as of `version`; the deletions it covers
        need not be kept (base.Storage.changes)."""
        connection.execute(q.SET_FLOOR, (name, floor, version))
        connection.execute(q.DROP_COVERED_DELETIONS, (name, floor))

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every statement in it sees the same committed state."""
        with self._using() as connection, _transaction(connection, "BEGIN"):
            yield connection

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, {}
        for connection in connections.values():
            connection.close()

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
                connection.execute(q.FORGET_DELETIONS, (name,))
                # A number of its own, above every record of the old data set and below every
                # record of one made again under this name.
                number = self._take_versions(connection)
                self._set_floor(connection, name, number, number)
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

    # --- wrong tokens ----------------------------------------------------------------------

    def count_failure(self, address: str, minute: int) -> int:
        with self._write() as connection:
            connection.execute("DELETE FROM auth_failures WHERE minute < ?", (minute - 1,))
            return connection.execute(
                "INSERT INTO auth_failures (address, minute, count) VALUES (?, ?, 1)"
                " ON CONFLICT (address, minute) DO UPDATE SET count = count + 1 RETURNING count",
                (address, minute)).fetchone()[0]

    def failures(self, address: str, minute: int) -> int:
        rows = self._read("SELECT count FROM auth_failures WHERE address = ? AND minute = ?", (address, minute))
        return rows[0][0] if rows else 0

    # --- the outbox of transform requests ------------------------------------------------

    @staticmethod
    def _add_request(connection: sqlite3.Connection, request: TransformRequest) -> None:
        connection.execute(
            "INSERT INTO transform_outbox (data_set, earliest, latest, created_at, request_id, trigger)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (request.data_set, micros(request.earliest), micros(request.latest), micros(request.created_at),
             request.request_id, request.trigger))

    def request_transforms(self, request: TransformRequest) -> None:
        with self._write() as connection:
            self._add_request(connection, request)

    def unsent_transform_requests(self, limit: int) -> list[TransformRequest]:
        rows = self._read(
            "SELECT id, data_set, earliest, latest, created_at, request_id, attempts, trigger FROM transform_outbox"
            " WHERE sent_at IS NULL ORDER BY created_at, id LIMIT ?", (limit,))
        return [TransformRequest(data_set, from_micros(earliest), from_micros(latest), from_micros(created_at),
                                 request_id, entry_id, attempts, trigger)
                for entry_id, data_set, earliest, latest, created_at, request_id, attempts, trigger in rows]

    def mark_transform_requests(self, ids: Sequence, *, sent: bool, now: datetime) -> None:
        sent_at = micros(now) if sent else None
        with self._write() as connection:
            connection.executemany(
                "UPDATE transform_outbox SET attempts = attempts + 1, sent_at = COALESCE(?, sent_at) WHERE id = ?",
                [(sent_at, entry_id) for entry_id in ids])
            if sent:
                connection.execute("DELETE FROM transform_outbox WHERE sent_at < ?",
                                   (micros(now - SENT_REQUESTS_KEPT),))

    def oldest_unsent_transform_request(self) -> datetime | None:
        [(oldest,)] = self._read("SELECT MIN(created_at) FROM transform_outbox WHERE sent_at IS NULL")
        return None if oldest is None else from_micros(oldest)

    # --- transform runs --------------------------------------------------------------------

    def save_run(self, run: TransformRun, keep: int) -> None:
        with self._write() as connection:
            new = connection.execute("SELECT 1 FROM transform_runs WHERE id = ?", (run.id,)).fetchone() is None
            connection.execute(
                "INSERT OR REPLACE INTO transform_runs (id, transform_id, started_at, body) VALUES (?, ?, ?, ?)",
                (run.id, run.transform_id, micros(run.started_at), orjson.dumps(run.as_json()).decode()))
            if new:
                connection.execute(
                    "DELETE FROM transform_runs WHERE transform_id = ? AND id NOT IN (SELECT id FROM"
                    " transform_runs WHERE transform_id = ? ORDER BY started_at DESC, id DESC LIMIT ?)",
                    (run.transform_id, run.transform_id, keep))

    def list_runs(self, transform_id: str, limit: int | None = None) -> list[TransformRun]:
        rows = self._read("SELECT body FROM transform_runs WHERE transform_id = ?"
                          " ORDER BY started_at DESC, id DESC LIMIT ?",
                          (transform_id, -1 if limit is None else limit))
        return [TransformRun.from_json(orjson.loads(body)) for (body,) in rows]

    def last_runs(self) -> dict[str, TransformRun]:
        rows = self._read("SELECT body FROM (SELECT body, ROW_NUMBER() OVER (PARTITION BY transform_id"
                          " ORDER BY started_at DESC, id DESC) AS place FROM transform_runs) WHERE place = 1")
        runs = [TransformRun.from_json(orjson.loads(body)) for (body,) in rows]
        return {run.transform_id: run for run in runs}

    def delete_runs(self, transform_id: str) -> int:
        with self._write() as connection:
            return connection.execute("DELETE FROM transform_runs WHERE transform_id = ?", (transform_id,)).rowcount

    # --- records -------------------------------------------------------------------------

    def save_records(self, name: str, records: Sequence[dict], capped_size: int = 0, *,
                     transforms: TransformRequest | None = None) -> None:
        capped = bool(capped_size) and capped_size > 0
        # A record that cannot be encoded fails here, before any write.
        prepared = prepare(records, capped)
        with self._write() as connection:
            version = self._take_versions(connection, len(prepared) + 1)
            first = version - len(prepared)
            connection.executemany(q.UPSERT_RECORD, [
                (name, record_id, first + position, ts, updated_at, size, body)
                for position, (record_id, ts, updated_at, size, body) in enumerate(prepared)])
            if capped:
                _count_sizes(connection, name)
                [(floor,)] = connection.execute(q.EVICTION_FLOOR, (name, capped_size)).fetchall()
                if floor is not None:
                    connection.execute(q.EVICT_UP_TO, (name, floor))
                    self._set_floor(connection, name, floor, version)
            connection.execute("UPDATE data_sets SET version = ? WHERE name = ?", (version, name))
            if transforms is not None:
                self._add_request(connection, transforms)

    def empty_data_set(self, name: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM records WHERE data_set = ?", (name,))
            version = self._bump(connection, name)
            self._set_floor(connection, name, version, version)

    def get_record(self, name: str, record_id: str) -> dict | None:
        rows = self._read("SELECT body FROM records WHERE data_set = ? AND id = ?", (name, record_id))
        return decode(rows[0][0]) if rows else None

    def delete_record(self, name: str, record_id: str) -> bool:
        with self._write() as connection:
            deleted = connection.execute("DELETE FROM records WHERE data_set = ? AND id = ?",
                                         (name, record_id)).rowcount
            if deleted:
                connection.execute(q.RECORD_DELETION, (name, record_id, self._bump(connection, name)))
            return bool(deleted)

    def changes(self, name: str, since: int, limit: int) -> Changes:
        """Read in one transaction; every query is an index range from the cursor (records
        by (data_set, seq), deletions by (data_set, version))."""
        with self._snapshot() as connection:
            version = connection.execute("SELECT version FROM data_sets WHERE name = ?", (name,)).fetchone()
            floor = connection.execute(q.FLOOR, (name,)).fetchone()
            deletions = connection.execute(q.DELETIONS_AFTER, (name, since)).fetchall()
            rows = connection.execute(q.RECORDS_AFTER, (name, since, limit + 1)).fetchall()
        return assemble(since, limit, None if version is None else version[0], floor, deletions,
                        [(seq, decode(body)) for seq, body in rows])

    def last_updated(self) -> dict[str, datetime]:
        return {name: from_micros(newest) for name, newest in self._read(q.LAST_UPDATED)
                if newest is not None}

    def find(self, name: str, query: RecordQuery) -> Iterator[dict]:
        statement = q.find_statement(name, query)
        with self._using() as connection:
            if query.timeout is not None:
                # A timed read runs to its end under the deadline; only decoding is left streamed.
                with _deadline(connection, query.timeout):
                    bodies = connection.execute(statement.text, statement.params).fetchall()
                return (decode(body) for (body,) in bodies)
            cursor = connection.execute(statement.text, statement.params)
        return self._stream(cursor)

    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        offsets = local_offsets(query, lambda: self._span(name))
        try:
            rows = self._named_rows(q.aggregate_statement(name, query, offsets=offsets), query.timeout)
        except StorageError as error:
            if "integer overflow" not in str(error):
                raise
            # A sum past 64-bit integers: SQLite's SUM refuses it; answer with a float sum.
            rows = self._named_rows(q.aggregate_statement(name, query, float_sums=True, offsets=offsets),
                                    query.timeout)
        # Without GROUP BY the statement answers one row even when nothing matched.
        rows = capped_rows([row for row in rows if row[Columns.COUNT]], query.row_cap)
        return decode_aggregate(rows, query, _DECODER)

    def _span(self, name: str) -> tuple[datetime | None, datetime | None]:
        """The earliest and latest `_timestamp` of the data set (two index probes)."""
        low, high = self._read("SELECT MIN(ts), MAX(ts) FROM records WHERE data_set = ?", (name,))[0]
        return (None if low is None else from_micros(low)), (None if high is None else from_micros(high))

    def _named_rows(self, statement: Statement, timeout: float | None = None) -> list[sqlite3.Row]:
        """Rows that read their columns by name."""
        with self._using() as connection, _deadline(connection, timeout):
            cursor = connection.cursor()
            cursor.row_factory = sqlite3.Row
            return cursor.execute(statement.text, statement.params).fetchall()


@contextmanager
def _transaction(connection: sqlite3.Connection, begin: str) -> Iterator[sqlite3.Connection]:
    """`begin`, then COMMIT when the block ends, or ROLLBACK when it raises."""
    connection.execute(begin)
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


class _Decoder:
    """SQLite's aggregate columns back to Python values (see sqlite_sql.aggregate_statement)."""

    @staticmethod
    def period(value: int) -> datetime:
        return from_micros(value)

    @staticmethod
    def group_value(kind: str, value: Any) -> Any:
        if kind == "b":
            return bool(value)
        return unescape(value) if kind == "s" else value

    @staticmethod
    def reduction(reduction: Reduction, row: sqlite3.Row, index: int) -> Any:
        value = row[Columns.reduction(index)]
        if reduction.op is Op.SUM:
            return 0 if value is None else value
        if reduction.op is Op.DISTINCT:
            found = orjson.loads(f"[{value}]") if value else []
            return distinct_sorted(unescape(v) if type(v) is str else v for v in found)
        if reduction.op is Op.NUMBER_LIST:
            return sorted(orjson.loads(f"[{value}]")) if value else []
        return value


_DECODER = _Decoder()
