"""The columnar replica: large data sets' grouped queries answered by DuckDB in the read process.

Why: the engines keep every record as JSON text, so a grouped query over a million records
parses a million bodies (seconds); typed columns answer it in milliseconds. The read app
wraps its engine in `ColumnarStorage`: raw queries, writes and everything else go to the
engine; `aggregate` goes to this process's DuckDB copy of the data set when it has one that
is current, and to the engine otherwise.

Never stale: a data set's copy records the version of the data set it holds. A query is
answered from it only when that version is at least the one the caller read before asking
(the read path reads the version first, so the answer is as new as the data the engine
would have used). Otherwise the copy first catches up from the engine's change feed
(Storage.changes: the records written since, the ids deleted, the floor of an empty or an
eviction), in time proportional to the changes; when there are more than
`catch_up_records` of them, or another thread is loading the copy, the engine answers
this one and the copy catches up in the background.

Which data sets: those with at least `min_records` records, counted when first queried
(and again only when a small data set's version moves). Copies share one memory budget
per process: when DuckDB holds more than `memory_bytes`, the least recently used copies
are dropped; a data set too large for the budget on its own is left to the engine. One
DuckDB database per process, shared by the worker's threads (each operation on its own
cursor); created on first use, so a forked worker never inherits one.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping

import orjson

from backdrop.core.timeseries import from_micros
from backdrop.core.values import greatest, least, distinct_sorted

from . import columnar_sql as sql
from .base import AggregateQuery, AggregateRow, Changes, Op, QueryTimeout, Reduction, Storage, capped_rows
from .rows import Columns, decode_aggregate, local_offsets

log = logging.getLogger(__name__)

CATALOG = "copies"
"""The in-memory database holding the copies, compressed (DuckDB compresses an in-memory
database only when asked): about a fifth of the memory, for queries as fast."""


@dataclass(frozen=True)
class ColumnarSettings:
    min_records: int = 100_000
    memory_bytes: int = 1024 * 1024 * 1024
    catch_up_records: int = 50_000  # changes applied while a request waits; more go to the background
    page: int = 20_000  # records asked of the change feed at a time (a page's working memory: ~200 MB)
    background: bool = True  # False: load and catch up inline, so the copies answer every query (tests)
    fall_back: bool = True  # False: a copy's failure is raised, not hidden behind the engine's answer (tests)
    answered: Callable[[str], None] = lambda source: None  # told `columnar` or `database` after each query


@dataclass
class _Copy:
    """One data set's table: the version it holds and the change-feed cursor it resumes from."""

    table: str
    fields: dict[str, int] = field(default_factory=dict)
    version: int | None = None  # the data set's version the copy holds (None: it has no configuration)
    loaded: bool = False
    cursor: int = 0
    rows: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    loading: bool = False  # a background catch-up is queued or running


class ColumnarStore:
    """The process's DuckDB database and the copies in it (see the module docstring)."""

    def __init__(self, primary: Storage, settings: ColumnarSettings = ColumnarSettings()) -> None:
        self._primary = primary
        self._settings = settings
        self._lock = threading.Lock()  # guards the maps below and the database's creation
        self._copies: OrderedDict[str, _Copy] = OrderedDict()  # least recently used first
        self._small: dict[str, int] = {}  # data set -> version at which it was counted too small
        self._tables = 0
        self._database = None
        self._pid = None
        self._loader: ThreadPoolExecutor | None = None

    # --- answering ---------------------------------------------------------------------------

    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow] | None:
        """The answer from a current copy, or None when the engine should answer."""
        ends = None if query.timeout is None else time.monotonic() + query.timeout  # catching up counts
        version = self._primary.data_set_version(name)  # None: records without a configuration
        copy = self._copy_for(name, version)
        if copy is None or not self._current(name, copy, version):
            return None
        try:
            return self._query(copy, query, ends)
        except (QueryTimeout, *_passed_on()):
            raise
        except Exception:  # a copy that fails a query is dropped; the engine answers
            with self._lock:
                dropped = self._copies.get(name) is not copy
            if dropped:  # by the memory budget, under this query: not a failure
                return None
            if not self._settings.fall_back:
                raise
            log.exception("columnar copy of %s failed a query; dropped, the engine answers", name)
            self._drop(name)
            return None

    def status(self) -> dict[str, dict[str, Any]]:
        """Each copy's version and size, for operators and the benchmark."""
        with self._lock:
            return {name: {"version": copy.version, "records": copy.rows, "loading": copy.loading}
                    for name, copy in self._copies.items()}

    def memory_bytes(self) -> int:
        """What DuckDB holds now (tables and working memory)."""
        if self._database is None:
            return 0
        with self._cursor() as cursor:
            return int(cursor.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()")
                       .fetchone()[0])

    def close(self) -> None:
        if self._loader is not None:
            self._loader.shutdown(wait=True, cancel_futures=True)
        if self._database is not None:
            self._database.close()
            self._database = None

    # --- which data sets have a copy -----------------------------------------------------------

    def _copy_for(self, name: str, version: int | None) -> _Copy | None:
        with self._lock:
            copy = self._copies.get(name)
            if copy is not None:
                self._copies.move_to_end(name)
                return copy
            if version is not None and self._small.get(name) == version:
                return None
        if not self._large_enough(name, version):
            return None
        with self._lock:
            if name not in self._copies:
                self._tables += 1
                self._copies[name] = _Copy(table=f"{CATALOG}.data_set_{self._tables}")
                self._small.pop(name, None)
            return self._copies[name]

    def _large_enough(self, name: str, version: int | None) -> bool:
        counts = self._primary.aggregate(name, AggregateQuery())
        records = sum(row.count for row in counts)
        if records < self._settings.min_records:
            with self._lock:
                self._small[name] = version
            return False
        if records * self._bytes_per_record() > self._settings.memory_bytes:
            log.warning("%s: %d records would not fit BACKDROP_COLUMNAR_MEMORY; the engine answers", name, records)
            with self._lock:
                self._small[name] = version
            return False
        return True

    def _bytes_per_record(self) -> float:
        """Measured on the copies held, else a guess that errs on the large side."""
        with self._lock:
            rows = sum(copy.rows for copy in self._copies.values())
        return self.memory_bytes() / rows if rows else 400.0

    def _drop(self, name: str) -> None:
        with self._lock:
            copy = self._copies.pop(name, None)
        if copy is not None:
            with copy.lock, self._cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {copy.table}")

    def _keep_within_budget(self, keep: str) -> None:
        """Drop the least recently used copies (never `keep`) while DuckDB holds too much."""
        while self.memory_bytes() > self._settings.memory_bytes:
            with self._lock:
                victims = [name for name in self._copies if name != keep]
            if not victims:
                return
            log.info("columnar memory budget reached: dropping the copy of %s", victims[0])
            self._drop(victims[0])

    # --- catching up -----------------------------------------------------------------------

    @staticmethod
    def _holds(copy: _Copy, version: int | None) -> bool:
        """A configured data set's version says whether the copy is current without asking the
        feed; records without a configuration have none, so the feed is asked every time."""
        return version is not None and copy.version is not None and copy.version >= version

    def _current(self, name: str, copy: _Copy, version: int | None) -> bool:
        """True when the copy holds `version` or newer, after catching up inline if it may."""
        if self._holds(copy, version):
            return True
        if self._settings.background and (copy.loading or not copy.loaded):
            self._in_background(name, copy)  # a first load takes seconds: never while a request waits
            return False
        if not copy.lock.acquire(timeout=1.0):
            return False
        try:
            if self._holds(copy, version):
                return True
            caught_up = self._catch_up(name, copy, self._settings.catch_up_records if self._settings.background else None)
        finally:
            copy.lock.release()
        if caught_up:
            self._keep_within_budget(name)
            return version is None or self._holds(copy, version)
        self._in_background(name, copy)
        return False

    def _in_background(self, name: str, copy: _Copy) -> None:
        with self._lock:
            if copy.loading or self._copies.get(name) is not copy:
                return
            copy.loading = True
            if self._loader is None:
                self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="columnar-load")
            self._loader.submit(self._load, name, copy)

    def _load(self, name: str, copy: _Copy) -> None:
        try:
            with copy.lock:
                self._catch_up(name, copy, None)
            self._keep_within_budget(name)
        except Exception:
            log.exception("columnar copy of %s could not be loaded; the engine answers", name)
            self._drop(name)
        finally:
            copy.loading = False

    CHECKPOINT_AFTER = 10_000

    def _catch_up(self, name: str, copy: _Copy, most: int | None) -> bool:
        """Apply the change feed to the copy in one DuckDB transaction, so concurrent queries
        see the copy before or after, never half way. Pages of the feed are applied as they
        come, so a first load holds one page of records in Python at a time, not the data
        set (and commits each, since no query reads a copy before it is loaded). False (nothing applied) when more than `most` records changed: the caller
        leaves it to the background."""
        limit = self._settings.page if most is None else min(self._settings.page, most + 1)
        fields, cursor_at, applied, created = dict(copy.fields), copy.cursor, 0, copy.loaded
        started = time.perf_counter()
        with self._cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                while True:
                    changes = self._primary.changes(name, cursor_at, limit)
                    applied += len(changes.records)
                    if most is not None and applied > most:
                        cursor.execute("ROLLBACK")
                        return False
                    created = self._add_fields(cursor, copy.table, fields, changes, created)
                    # A later page may rewrite a record of an earlier one: only a first load's
                    # first page has nothing to replace.
                    self._apply(cursor, copy.table, fields, changes, replace=copy.loaded or cursor_at != copy.cursor)
                    cursor_at = changes.cursor
                    if changes.complete:
                        break
                    if not copy.loaded:  # no query reads a first load: keep one page uncompressed at a time
                        cursor.execute("COMMIT")
                        cursor.execute(f"CHECKPOINT {CATALOG}")
                        cursor.execute("BEGIN")
                rows = cursor.execute(f"SELECT count(*) FROM {copy.table}").fetchone()[0]
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            if applied >= self.CHECKPOINT_AFTER:  # compression happens at checkpoints
                cursor.execute(f"CHECKPOINT {CATALOG}")
        copy.fields, copy.version, copy.cursor, copy.rows, copy.loaded = fields, changes.version, cursor_at, rows, True
        log.debug("columnar copy of %s at version %s after %d records in %.3f s",
                  name, copy.version, applied, time.perf_counter() - started)
        return True

    @staticmethod
    def _add_fields(cursor, table: str, fields: dict[str, int], changes: Changes, created: bool) -> bool:
        """Number the fields a page brings that the copy has never held and give them columns:
        in the table's CREATE on a first load, else one ALTER per column. True: the table exists."""
        new = sorted(set().union(*(record.keys() for _, record in changes.records)) - fields.keys())
        for key in new:
            fields[key] = len(fields)
        if not created:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(sql.create_table(table, fields.values()))
            return True
        for key in new:
            for statement in sql.add_field(table, fields[key]):
                cursor.execute(statement)
        return True

    @staticmethod
    def _apply(cursor, table: str, fields: dict[str, int], changes: Changes, *, replace: bool) -> None:
        if changes.floor is not None:
            cursor.execute(f"DELETE FROM {table} WHERE seq <= ?", [changes.floor])
        if changes.deleted:
            cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT unnest(?::VARCHAR[]))", [list(changes.deleted)])
        if not changes.records:
            return
        records = [record for _, record in changes.records]
        if replace:
            cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                           [[record["_id"] for record in records]])
        statement = sql.insert_records(table, fields)
        texts = [orjson.dumps(record).decode() for record in records]
        cursor.execute(statement.text, [[sql.pointer(key) for key in fields],
                                        [seq for seq, _ in changes.records], texts])

    # --- querying ----------------------------------------------------------------------------

    def _query(self, copy: _Copy, query: AggregateQuery, ends: float | None) -> list[AggregateRow]:
        with self._cursor() as cursor:
            offsets = local_offsets(query, lambda: self._span(cursor, copy))
            statement = sql.aggregate_statement(copy.table, dict(copy.fields), query, offsets)
            with _deadline(cursor, ends):
                result = cursor.execute(statement.text, statement.params)
                names = [column[0] for column in result.description]
                rows = [dict(zip(names, row)) for row in result.fetchall()]
        rows = capped_rows([row for row in rows if row[Columns.COUNT]], query.row_cap)
        for row in rows:
            for index in range(len(query.group_by)):
                value = Columns.group_value(index)
                row[value] = tuple(row.pop(f"{value}_{part}") for part in ("x", "n", "s"))
        return decode_aggregate(rows, query, _DECODER)

    @staticmethod
    def _span(cursor, copy: _Copy) -> tuple[datetime | None, datetime | None]:
        low, high = cursor.execute(f"SELECT min(ts), max(ts) FROM {copy.table}").fetchone()
        return (None if low is None else from_micros(low)), (None if high is None else from_micros(high))

    def _cursor(self):
        """A cursor of the process's database: its own connection, so threads never share one."""
        import duckdb

        with self._lock:
            if self._database is None or self._pid != os.getpid():
                if self._database is not None:  # a forked worker: the parent's copies are not its own
                    self._copies.clear()
                # DuckDB's allocator keeps what a load freed until background threads return
                # it to the system (~300 MB after loading 300,000 records, 5 s later ~100 MB).
                self._database = duckdb.connect(":memory:", config={
                    "threads": str(_threads()), "allocator_background_threads": "true"})
                self._database.execute(f"ATTACH ':memory:' AS {CATALOG} (COMPRESS)")
                self._pid = os.getpid()
            database = self._database
        return _Closing(database.cursor())


def _passed_on() -> tuple[type, ...]:
    from .base import TooManyRows

    return (TooManyRows,)


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class _Closing:
    def __init__(self, cursor) -> None:
        self._cursor = cursor

    def __enter__(self):
        return self._cursor

    def __exit__(self, *exc) -> None:
        self._cursor.close()


class _deadline:
    """Interrupt the cursor's statement at `ends` (time.monotonic; None: never): the statement
    timeout, whose budget the catching up before the statement has spent from already."""

    def __init__(self, cursor, ends: float | None) -> None:
        self._cursor, self._ends, self._timer = cursor, ends, None

    def __enter__(self) -> None:
        if self._ends is not None:
            left = self._ends - time.monotonic()
            if left <= 0:
                raise QueryTimeout("columnar: the read's time was spent before its statement ran")
            self._timer = threading.Timer(left, self._cursor.interrupt)
            self._timer.daemon = True
            self._timer.start()

    def __exit__(self, kind, error, trace) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if error is not None and type(error).__name__ == "InterruptException":
            raise QueryTimeout("columnar: the read ran longer than its timeout") from error


# --- decoding ---------------------------------------------------------------------------------

def _value(kind: int, x: Any, n: Any, s: Any) -> Any:
    """One stored JSON value back from its kind and typed columns."""
    if kind in (sql.FALSE, sql.TRUE):
        return kind == sql.TRUE
    if kind == sql.INTEGER:
        return int(x)
    if kind == sql.FLOAT:
        return float(n)
    return s if kind == sql.STRING else None


def _values(items: list[Mapping[str, Any]] | None) -> Iterator[Any]:
    for item in items or ():
        yield _value(item["t"], item["x"], item["n"], item["s"])


class _Decoder:
    """The typed columns of columnar_sql.aggregate_statement back to Python values."""

    @staticmethod
    def period(value: int) -> datetime:
        return from_micros(value)

    @staticmethod
    def group_value(kind: int, value: tuple) -> Any:
        return _value(kind, *value)

    @staticmethod
    def reduction(reduction: Reduction, row: Mapping[str, Any], index: int) -> Any:
        op, name = reduction.op, Columns.reduction
        if op is Op.SUM:
            if row[name(index, "floats")]:
                return float(row[name(index, "all")])
            return int(row[name(index, "ints")] or 0)
        if op in (Op.MIN, Op.MAX):
            ints, floats = row[name(index, "ints")], row[name(index, "floats")]
            candidates = [number for number in (None if ints is None else int(ints), floats) if number is not None]
            return (least if op is Op.MIN else greatest)(candidates)
        if op is Op.DISTINCT:
            return distinct_sorted(_values(row[name(index)]))
        if op is Op.NUMBER_LIST:
            return sorted(_values(row[name(index)]))
        return row[name(index)]


_DECODER = _Decoder()


# --- the engine seen through its copies ------------------------------------------------------------

class ColumnarStorage(Storage):
    """An engine whose grouped queries are answered from the columnar copies when they can be.

    Every other method is the engine's own (delegated below), so this is a Storage the
    contract suite can test like any engine.
    """

    def __init__(self, primary: Storage, settings: ColumnarSettings = ColumnarSettings()) -> None:
        self.primary = primary
        self.columns = ColumnarStore(primary, settings)
        self.answers = {"columnar": 0, "database": 0}  # how many queries each answered, for tests
        self._answered = settings.answered

    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        answer = self.columns.aggregate(name, query)
        source = "database" if answer is None else "columnar"
        self.answers[source] += 1
        self._answered(source)
        return self.primary.aggregate(name, query) if answer is None else answer

    def close(self) -> None:
        self.columns.close()
        self.primary.close()


def _delegate(method: str) -> Callable:
    def call(self, *args, **kwargs):
        return getattr(self.primary, method)(*args, **kwargs)

    call.__name__ = method
    call.__doc__ = f"The engine's own `{method}`."
    return call


for _method in sorted(Storage.__abstractmethods__ - {"aggregate", "close"}):
    setattr(ColumnarStorage, _method, _delegate(_method))
ColumnarStorage.__abstractmethods__ = frozenset()
