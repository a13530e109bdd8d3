"""The PostgreSQL engine: every data set's records in one table, queried in SQL.

Records are JSONB bodies in `backdrop_records`, keyed by (data set, `_id`), with the
columns queries need pulled out: `ts` (the `_timestamp`, NULL when absent) for time ranges
and period buckets, `seq` for write order, `size` for capped data sets. Filtering, sorting,
limits, grouping, period bucketing and the collect reductions all run in the database.

Values keep their JSON type and exact text on the way through JSONB thanks to
postgres_codec; the statements live in postgres_sql.
"""
from __future__ import annotations

import functools
import inspect
import os
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Sequence

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from backdrop.core.timeseries import as_utc

from . import postgres_sql as sql
from .base import (
    AggregateQuery,
    AggregateRow,
    AlreadyExists,
    Changes,
    ConnectionLost,
    SENT_REQUESTS_KEPT,
    NotFound,
    QueryTimeout,
    RecordQuery,
    Storage,
    StorageError,
    TransformRequest,
    TransformRun,
    UnsupportedQuery,
    capped_rows,
)
from .feed import assemble
from .migrations import VersionedSchema, start_up
from .postgres_codec import batch_columns, escape, load_json, stored_json
from .text import unescape
from .postgres_schema import MIGRATIONS, PostgresSchemaStore, schema_store


def _retried(method):
    """Run a storage method once more when its connection broke before COMMIT.

    Safe: a transaction that never reached COMMIT was rolled back by the server, so running
    it again cannot apply it twice; a break during COMMIT (outcome unknown) is not retried,
    nor is a stream of records that already handed some out. Before the retry the pool
    tests its idle connections, so the retry gets a working one even when every connection
    broke together. Retrying, rather than testing each connection on checkout (psycopg_pool's
    `check=`), costs nothing on the healthy path (a check is one more round trip per
    transaction) and also covers a connection that breaks after the check.
    """
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def stream(self, *args, **kwargs):
            started = False
            try:
                for item in method(self, *args, **kwargs):
                    started = True
                    yield item
                return
            except ConnectionLost as error:
                if started or not error.before_commit:
                    raise
                self._replace_broken_connections()
            yield from method(self, *args, **kwargs)
        return stream

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ConnectionLost as error:
            if not error.before_commit:
                raise
            self._replace_broken_connections()
        return method(self, *args, **kwargs)
    return call


class PostgresStorage(VersionedSchema, Storage):
    """Storage in one PostgreSQL database, through a connection pool opened on first use."""

    MIGRATIONS = MIGRATIONS

    def __init__(self, conninfo: str, *, pool_size: int = 10, timeout: float = 10.0,
                 auto_migrate: bool = True) -> None:
        self._conninfo = conninfo
        self._auto_migrate = auto_migrate
        self._pool_size = pool_size
        self._timeout = timeout  # longest wait for a pooled connection before StorageError
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_url(cls, url: str, pool_size: int = 10, *, auto_migrate: bool = True,
                 **_options) -> "PostgresStorage":
        """`postgresql://user@host:port/dbname?…`; nothing connects until first use."""
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return cls(url, pool_size=pool_size, auto_migrate=auto_migrate)

    # --- connections -------------------------------------------------------------------

    def _get_pool(self) -> ConnectionPool:
        with self._lock:
            if self._closed:
                raise StorageError("The storage has been closed")
            if self._pool is not None and self._pool_pid != os.getpid():
                self._pool = None  # forked: the parent's connections are not ours to use or close
            if self._pool is None:
                self._pool, self._pool_pid = self._open_pool(), os.getpid()
            return self._pool

    def _open_pool(self) -> ConnectionPool:
        """A new pool with the schema in place; on failure nothing is kept, so the next call retries."""
        start_up(self, self._auto_migrate)
        pool = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=max(1, self._pool_size),
            open=False,
            timeout=self._timeout,
            configure=_configure,
            name="backdrop",
        )
        pool.open()
        return pool

    @contextmanager
    def _schema_store(self) -> Iterator[PostgresSchemaStore]:
        if self._closed:
            raise StorageError("The storage has been closed")
        try:
            with schema_store(self._conninfo, self._timeout) as store:
                yield store
        except psycopg.Error as error:
            raise StorageError(f"PostgreSQL: {error}".strip()) from error

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        """One pooled connection, one transaction: committed on success, rolled back on error.

        A connection found broken raises ConnectionLost, saying whether COMMIT was reached;
        the pool itself drops a broken connection when it is handed back.
        """
        conn, committing = None, False
        try:
            with self._get_pool().connection() as conn:
                yield conn
                committing = True
        except pg_errors.UniqueViolation as error:
            raise AlreadyExists(error.diag.constraint_name or "duplicate key") from error
        except pg_errors.QueryCanceled as error:
            if "statement timeout" not in str(error):
                raise StorageError(f"PostgreSQL: {error}".strip()) from error
            raise QueryTimeout(f"PostgreSQL: {error}".strip()) from error
        except psycopg.Error as error:
            message = f"PostgreSQL: {error}".strip()
            if isinstance(error, psycopg.OperationalError) and conn is not None and conn.closed:
                raise ConnectionLost(message, before_commit=not committing) from error
            raise StorageError(message) from error

    def _replace_broken_connections(self) -> None:
        """Test every idle pooled connection, replacing the broken ones (a restart or a
        `pg_terminate_backend` breaks them all at once, not just the one that failed)."""
        pool = self._pool
        if pool is not None and self._pool_pid == os.getpid():
            pool.check()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None and self._pool_pid == os.getpid():
            pool.close()

    # --- data-set configurations ---------------------------------------------------------

    @_retried
    def create_data_set(self, config: dict) -> None:
        missing = [key for key in ("name", "data_group", "data_type") if key not in config]
        if missing:
            raise ValueError(f"configuration lacks {', '.join(missing)}")
        name, group, kind = config["name"], config["data_group"], config["data_type"]
        try:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO backdrop_data_sets (name, data_group, data_type, config, version)"
                    f" VALUES (%s, %s, %s, %s::jsonb, {sql.NEXT_VERSION})",
                    (name, group, kind, stored_json(config)),
                )
        except AlreadyExists as error:
            raise _taken(str(error), name, group, kind) from error.__cause__

    @_retried
    def replace_data_set(self, name: str, config: dict) -> None:
        group, kind = config["data_group"], config["data_type"]
        try:
            with self._transaction() as conn:
                cursor = conn.execute(
                    "UPDATE backdrop_data_sets SET data_group = %s, data_type = %s,"
                    f" config = %s::jsonb, version = {sql.NEXT_VERSION} WHERE name = %s",
                    (group, kind, stored_json(config), name),
                )
                found = cursor.rowcount > 0
        except AlreadyExists as error:
            raise _taken(str(error), name, group, kind) from error.__cause__
        if not found:
            raise NotFound(f"No data set named '{name}'")

    @_retried
    def delete_data_set(self, name: str) -> bool:
        with self._transaction() as conn:
            found = conn.execute("DELETE FROM backdrop_data_sets WHERE name = %s", (name,)).rowcount > 0
            if not found:  # records of an unconfigured data set: lock by name, as _new_version does
                conn.execute(_LOCK_BY_NAME, (name,))
            gone = conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (name,)).rowcount > 0
            if found or gone:
                conn.execute(sql.FORGET_DELETIONS, (name,))
                # A number of its own, above every record of the old data set and below every
                # record of one made again under this name.
                number = conn.execute(f"SELECT {sql.NEXT_VERSION}").fetchone()[0]
                self._set_floor(conn, name, number, number)
            return found

    @_retried
    def get_data_set(self, name: str) -> dict | None:
        return self._one("SELECT config FROM backdrop_data_sets WHERE name = %s", (name,))

    @_retried
    def find_data_set(self, data_group: str, data_type: str) -> dict | None:
        return self._one(
            "SELECT config FROM backdrop_data_sets WHERE data_group = %s AND data_type = %s",
            (data_group, data_type),
        )

    @_retried
    def list_data_sets(self) -> list[dict]:
        return self._column('SELECT config FROM backdrop_data_sets ORDER BY name COLLATE "C"', ())

    @_retried
    def data_set_version(self, name: str) -> int | None:
        return self._one("SELECT version FROM backdrop_data_sets WHERE name = %s", (name,))

    # --- administration documents ----------------------------------------------------------

    @_retried
    def put_document(self, kind: str, key: str, document: dict, *, create: bool) -> None:
        body = stored_json(document)
        if create:
            try:
                with self._transaction() as conn:
                    conn.execute(
                        "INSERT INTO backdrop_documents (kind, key, body) VALUES (%s, %s, %s::jsonb)",
                        (kind, escape(key), body),
                    )
            except AlreadyExists as error:
                raise AlreadyExists(f"{kind} '{key}' already exists") from error.__cause__
            return
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE backdrop_documents SET body = %s::jsonb WHERE kind = %s AND key = %s",
                (body, kind, escape(key)),
            )
            if cursor.rowcount == 0:
                raise NotFound(f"No {kind} '{key}'")

    @_retried
    def get_document(self, kind: str, key: str) -> dict | None:
        return self._one(
            "SELECT body FROM backdrop_documents WHERE kind = %s AND key = %s", (kind, escape(key))
        )

    @_retried
    def list_documents(self, kind: str) -> list[dict]:
        return self._column(
            'SELECT body FROM backdrop_documents WHERE kind = %s ORDER BY key COLLATE "C"', (kind,)
        )

    @_retried
    def delete_document(self, kind: str, key: str) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM backdrop_documents WHERE kind = %s AND key = %s", (kind, escape(key))
            )
            return cursor.rowcount > 0

    # --- wrong tokens ----------------------------------------------------------------------

    @_retried
    def count_failure(self, address: str, minute: int) -> int:
        with self._transaction() as conn:
            conn.execute("DELETE FROM backdrop_auth_failures WHERE minute < %s", (minute - 1,))
            return conn.execute(
                "INSERT INTO backdrop_auth_failures (address, minute, count) VALUES (%s, %s, 1)"
                " ON CONFLICT (address, minute) DO UPDATE SET count = backdrop_auth_failures.count + 1"
                " RETURNING count", (escape(address), minute)).fetchone()[0]

    @_retried
    def failures(self, address: str, minute: int) -> int:
        return self._one("SELECT count FROM backdrop_auth_failures WHERE address = %s AND minute = %s",
                         (escape(address), minute)) or 0

    # --- the outbox of transform requests --------------------------------------------------

    @staticmethod
    def _add_request(conn: psycopg.Connection, request: TransformRequest) -> None:
        conn.execute(
            "INSERT INTO backdrop_transform_outbox (data_set, earliest, latest, created_at, request_id, trigger)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (request.data_set, request.earliest, request.latest, request.created_at,
             None if request.request_id is None else escape(request.request_id), request.trigger))

    @_retried
    def request_transforms(self, request: TransformRequest) -> None:
        with self._transaction() as conn:
            self._add_request(conn, request)

    @_retried
    def unsent_transform_requests(self, limit: int) -> list[TransformRequest]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, data_set, earliest, latest, created_at, request_id, attempts, trigger"
                " FROM backdrop_transform_outbox WHERE sent_at IS NULL ORDER BY created_at, id LIMIT %s",
                (limit,)).fetchall()
        return [TransformRequest(data_set, as_utc(earliest), as_utc(latest), as_utc(created_at),
                                 None if request_id is None else unescape(request_id), entry_id, attempts, trigger)
                for entry_id, data_set, earliest, latest, created_at, request_id, attempts, trigger in rows]

    @_retried
    def mark_transform_requests(self, ids: Sequence, *, sent: bool, now: datetime) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE backdrop_transform_outbox SET attempts = attempts + 1,"
                " sent_at = COALESCE(%s, sent_at) WHERE id = ANY(%s)",
                (now if sent else None, list(ids)))
            if sent:
                conn.execute("DELETE FROM backdrop_transform_outbox WHERE sent_at < %s",
                             (now - SENT_REQUESTS_KEPT,))

    @_retried
    def oldest_unsent_transform_request(self) -> datetime | None:
        oldest = self._one("SELECT MIN(created_at) FROM backdrop_transform_outbox WHERE sent_at IS NULL", ())
        return None if oldest is None else as_utc(oldest)

    # --- transform runs --------------------------------------------------------------------

    @_retried
    def save_run(self, run: TransformRun, keep: int) -> None:
        with self._transaction() as conn:
            new = conn.execute(
                "INSERT INTO backdrop_transform_runs (id, transform_id, started_at, body)"
                " VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at,"
                " body = EXCLUDED.body RETURNING (xmax = 0)",
                (escape(run.id), escape(run.transform_id), run.started_at, stored_json(run.as_json()))).fetchone()[0]
            if new:
                conn.execute(
                    "DELETE FROM backdrop_transform_runs WHERE transform_id = %s AND id NOT IN (SELECT id FROM"
                    " backdrop_transform_runs WHERE transform_id = %s ORDER BY started_at DESC, id COLLATE \"C\" DESC"
                    " LIMIT %s)", (escape(run.transform_id), escape(run.transform_id), keep))

    @_retried
    def list_runs(self, transform_id: str, limit: int | None = None) -> list[TransformRun]:
        bodies = self._column("SELECT body FROM backdrop_transform_runs WHERE transform_id = %s"
                              ' ORDER BY started_at DESC, id COLLATE "C" DESC LIMIT %s', (escape(transform_id), limit))
        return [TransformRun.from_json(body) for body in bodies]

    @_retried
    def last_runs(self) -> dict[str, TransformRun]:
        bodies = self._column("SELECT DISTINCT ON (transform_id) body FROM backdrop_transform_runs"
                              ' ORDER BY transform_id, started_at DESC, id COLLATE "C" DESC', ())
        runs = [TransformRun.from_json(body) for body in bodies]
        return {run.transform_id: run for run in runs}

    @_retried
    def delete_runs(self, transform_id: str) -> int:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM backdrop_transform_runs WHERE transform_id = %s",
                                (escape(transform_id),)).rowcount

    # --- records ---------------------------------------------------------------------------

    @_retried
    def save_records(self, name: str, records: Sequence[dict], capped_size: int = 0, *,
                     transforms: TransformRequest | None = None) -> None:
        columns = batch_columns(records)
        with self._transaction() as conn:
            version = self._new_version(conn, name)
            if columns[0]:
                conn.execute(sql.UPSERT, (name, *columns))
            if capped_size and capped_size > 0:
                floor = conn.execute(sql.EVICT, {"name": name, "cap": capped_size}).fetchone()[0]
                if floor is not None:
                    self._set_floor(conn, name, floor, version)
            if transforms is not None:
                self._add_request(conn, transforms)

    @_retried
    def empty_data_set(self, name: str) -> None:
        with self._transaction() as conn:
            version = self._new_version(conn, name)
            conn.execute("DELETE FROM backdrop_records WHERE data_set = %s", (name,))
            self._set_floor(conn, name, version, version)

    @_retried
    def get_record(self, name: str, record_id: str) -> dict | None:
        return self._one(
            "SELECT body FROM backdrop_records WHERE data_set = %s AND id = %s",
            (name, escape(record_id)),
        )

    @_retried
    def delete_record(self, name: str, record_id: str) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM backdrop_records WHERE data_set = %s AND id = %s",
                (name, escape(record_id)),
            )
            if cursor.rowcount == 0:
                return False
            conn.execute(sql.RECORD_DELETION, (name, escape(record_id), self._new_version(conn, name)))
            return True

    @_retried
    def changes(self, name: str, since: int, limit: int) -> Changes:
        """Read in one REPEATABLE READ transaction (one snapshot); every query is an index
        range from the cursor (records by (data_set, seq), deletions by (data_set, version))."""
        with self._transaction() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            version = conn.execute("SELECT version FROM backdrop_data_sets WHERE name = %s", (name,)).fetchone()
            floor = conn.execute(sql.FLOOR, (name,)).fetchone()
            deletions = conn.execute(sql.DELETIONS_AFTER, (name, since)).fetchall()
            records = conn.execute(sql.RECORDS_AFTER, (name, since, limit + 1)).fetchall()
        return assemble(since, limit, None if version is None else version[0], floor,
                        [(unescape(record_id), when) for record_id, when in deletions], records)

    @_retried
    def last_updated(self) -> dict[str, datetime]:
        with self._transaction() as conn:
            rows = conn.execute(sql.LAST_UPDATED).fetchall()
        return {name: as_utc(moment) for name, moment in rows if moment is not None}

    @_retried
    def find(self, name: str, query: RecordQuery) -> Iterator[dict]:
        statement = sql.find_statement(name, query)
        with self._transaction() as conn:
            _limit_statements(conn, query.timeout)
            with conn.cursor(name="backdrop_find") as cursor:
                cursor.itersize = 1000
                cursor.execute(statement.text, statement.params)
                for (body,) in cursor:
                    yield body

    @_retried
    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        statement = sql.aggregate_statement(name, query)
        with self._transaction() as conn:
            _limit_statements(conn, query.timeout)
            with conn.cursor(row_factory=dict_row) as cursor:
                try:
                    rows = cursor.execute(statement.text, statement.params).fetchall()
                except pg_errors.InvalidParameterValue as error:
                    raise _unknown_zone(query, error) from error
        return sql.aggregate_rows(capped_rows(rows, query.row_cap), query)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _new_version(conn: psycopg.Connection, name: str) -> int:
        """Take a new version and return it (removals are recorded under it); the row lock
        also serialises writers of one data set, so their numbers rise in commit order."""
        row = conn.execute(
            f"UPDATE backdrop_data_sets SET version = {sql.NEXT_VERSION} WHERE name = %s RETURNING version",
            (name,),
        ).fetchone()
        if row is not None:
            return row[0]
        # Records of an unconfigured data set: lock by name instead, then take a number.
        conn.execute(_LOCK_BY_NAME, (name,))
        return conn.execute(f"SELECT {sql.NEXT_VERSION}").fetchone()[0]

    @staticmethod
    def _set_floor(conn: psycopg.Connection, name: str, floor: int, version: int) -> None:
        """Records numbered up to `floor` are gone as of `version`; the deletions it covers
        need not be kept (base.Storage.changes)."""
        conn.execute(sql.SET_FLOOR, (name, floor, version))
        conn.execute(sql.DROP_COVERED_DELETIONS, (name, floor))

    def _one(self, statement: str, params: tuple) -> Any:
        with self._transaction() as conn:
            row = conn.execute(statement, params).fetchone()
        return None if row is None else row[0]

    def _column(self, statement: str, params: tuple) -> list:
        with self._transaction() as conn:
            return [row[0] for row in conn.execute(statement, params)]


_LOCK_BY_NAME = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


def _configure(conn: psycopg.Connection) -> None:
    """Every pooled connection: UTC session, JSON loaded with the escape undone, no JIT.

    The engine's statements are short scans whose JIT compilation (triggered by their
    cost estimates over large tables) took longer than it saved: 1.8 s of a 4.7 s month
    aggregate over a million records.
    """
    set_json_loads(load_json, conn)
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET jit = off")
    conn.commit()


def _limit_statements(conn: psycopg.Connection, timeout: float | None) -> None:
    """`statement_timeout` for the rest of this transaction only (SET LOCAL), so a pooled
    connection goes back to the pool without it. The server counts whole milliseconds, 0
    meaning none: a timeout is at least 1 ms."""
    if timeout is not None:
        milliseconds = max(1, round(timeout * 1000))
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(milliseconds),))


def _unknown_zone(query: AggregateQuery, error: Exception) -> Exception:
    """A zone Python's tz database knows but the server's does not (they are updated apart)
    is the query's problem, not the engine's failure."""
    if query.bucketing is None or query.bucketing.in_utc:
        return StorageError(f"PostgreSQL: {error}")
    return UnsupportedQuery(f"timezone {query.bucketing.zone} is not in this database server's time zone "
                            "rules: use another name of the same zone, or UTC")


def _taken(constraint: str, name: str, group: str, kind: str) -> AlreadyExists:
    if constraint == "backdrop_data_sets_pkey":
        return AlreadyExists(f"Data set '{name}' already exists")
    return AlreadyExists(f"A data set for {group}/{kind} already exists")
