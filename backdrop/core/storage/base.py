"""The storage interface every engine implements, and the value objects it speaks.

Engines hold three things: data-set configurations (each with a version), the records of
each data set, and other administration documents (transforms, dashboards). They know
nothing of HTTP or of the query-string language: the core hands them the value objects
below and shapes what they return.

Conventions every engine follows (the contract suite in tests/storage pins them):

* Records passed to `save_records` are normalised dicts (see core/records.py): `_id` is a
  string, date fields (`_timestamp`, `_start_at`, `_end_at`, `_updated_at` and the six
  `_<period>_start_at` keys) are timezone-aware UTC datetimes. Engines store them as the
  ISO strings of `isoformat()` (`2012-12-12T00:00:00+00:00`), which is also what raw
  queries return: records come back exactly as a client will see them.
* Versions come from one database-wide sequence, are never reused, and every change to a
  data set's records or configuration takes a new one in the same transaction. Callers
  read the version *before* the configuration and the records, so a cached answer can
  only ever be filed under a version older than its data, never newer.
* Values compare as JSON values: booleans are not numbers, strings compare by code point,
  and across types the order is null, false, true, numbers, strings.
"""
from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from backdrop.core.timeseries import Bucketing
from backdrop.core.values import distinct_sorted, greatest, least

if TYPE_CHECKING:
    from .migrations import Migrated, Migration


class StorageError(Exception):
    """The engine could not do what was asked (connection lost, disk full, …)."""


class ConnectionLost(StorageError):
    """The database connection broke (server restarted, backend terminated) under a statement.

    `before_commit` says the transaction never reached COMMIT, so the server rolled it back
    and running it again cannot apply it twice; a break during COMMIT leaves the outcome
    unknown. The engine retries the first kind once; what still fails reaches the apps,
    which answer 503 with Retry-After.
    """

    def __init__(self, message: str, *, before_commit: bool) -> None:
        super().__init__(message)
        self.before_commit = before_commit


class QueryTimeout(StorageError):
    """A read ran longer than the timeout it was given and the engine cancelled it.

    The connection (and so the worker) is free again at once; the read app answers 503
    with Retry-After (backdrop/web.py).
    """


class TooManyRows(StorageError):
    """An aggregate would answer more rows than its `row_cap`: refused before they are built.

    Not a failure of the database: the read path turns it into a 400 naming the limit
    (core/limits.py).
    """


class AlreadyExists(StorageError):
    """A configuration or document with that key (or that group and type) exists."""


class NotFound(StorageError):
    """No configuration or document with that key."""


class SchemaError(StorageError):
    """The database's schema does not suit this release; the message says what to do.

    Raised when a process first uses the database, so every process (apps, worker, command
    line) can refuse to start with that one line instead of failing request by request.
    """


class SchemaTooNew(SchemaError):
    """The database was migrated by a newer release than this one."""


class MigrationsPending(SchemaError):
    """Migrations are pending and automatic migration is off (BACKDROP_AUTO_MIGRATE=0)."""


@dataclass(frozen=True)
class Filter:
    """One condition on a record field.

    `prefix=False`: the field equals `value` (a str matches only JSON strings, a bool only
    JSON booleans). `prefix=True`: the field is a string starting with `value`, literally.
    """

    field: str
    value: str | bool
    prefix: bool = False


@dataclass(frozen=True)
class TimeRange:
    """`start <= _timestamp < end` (or `<= end` when inclusive); None leaves a side open.

    Records without a `_timestamp` never match a bounded range.
    """

    start: datetime | None = None
    end: datetime | None = None
    end_inclusive: bool = False

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Position:
    """A place in the paging order: a record's `_timestamp` (None when it has none) and `_id`."""

    timestamp: datetime | None
    id: str

    def key(self) -> tuple:
        """The paging order as a Python key: no timestamp first, then by time, then by `_id`
        (by code point)."""
        return (self.timestamp is not None, self.timestamp or datetime.min, self.id)


@dataclass(frozen=True)
class Page:
    """Keyset paging: records ordered by (`_timestamp`, `_id`), those without a
    `_timestamp` first (by `_id`); only those after `after` (None: from the start).

    A position, not an offset, so a walk page by page is stable under concurrent writes:
    every record older than the walk is met exactly once.
    """

    after: Position | None = None


@dataclass(frozen=True)
class RecordQuery:
    """A raw query: matching records as stored, in storage (write) order unless sorted,
    or in paging order with a `page` (never both `sort` and `page`).

    `timeout`: seconds the engine may spend on it before raising QueryTimeout (None: no
    limit). Reads on behalf of a client have one; transforms and the command line do not.
    """

    filters: tuple[Filter, ...] = ()
    time: TimeRange = TimeRange()
    sort: Sort | None = None
    limit: int | None = None
    page: Page | None = None
    timeout: float | None = None


class Op(Enum):
    """What an engine computes over one field's values within one aggregate row.

    The read API's collect methods (core/collect.py) are built from these; a new method
    needs at most one new member here plus one mapping per engine. Values compare as JSON
    values (booleans are not numbers) and a missing field counts as null:

    * COUNT: how many records hold a non-null value.
    * SUM: the sum of the numbers (0 when there are none; ints stay exact ints, any float
      makes the sum a float).
    * NUMBERS: how many records hold a number.
    * DISTINCT: the distinct non-null values, in the cross-type order (`1` and `1.0` are
      one value, `true` and `1` two).
    * MIN, MAX: the smallest and the largest number as stored (ints stay ints), None when
      there are none. Where an int and an equal float tie (`2`, `2.0`: one value) the
      reference and the SQL engines answer the int; MongoDB may answer either.
    * NUMBER_LIST: every number, repeats kept, in ascending order: what an exact
      percentile needs, and still exact after merging rows (a group's total over periods).
    """

    COUNT = "count"
    SUM = "sum"
    NUMBERS = "numbers"
    DISTINCT = "distinct"
    MIN = "min"
    MAX = "max"
    NUMBER_LIST = "number_list"

    def merge(self, parts: Iterable[Any]) -> Any:
        """The value over several rows from each row's value (a group's total over its periods)."""
        if self is Op.DISTINCT:
            return distinct_sorted(itertools.chain.from_iterable(parts))
        if self is Op.MIN:
            return least(part for part in parts if part is not None)
        if self is Op.MAX:
            return greatest(part for part in parts if part is not None)
        if self is Op.NUMBER_LIST:
            return sorted(itertools.chain.from_iterable(parts))
        return sum(parts, 0)


@dataclass(frozen=True)
class Reduction:
    """One operation on one field, computed by the engine per aggregate row."""

    field: str
    op: Op


@dataclass(frozen=True)
class AggregateQuery:
    """Count matching records, and reduce fields, per time bucket and/or group.

    Records lacking a `group_by` field (or having it null) are left out; with a
    `bucketing`, records without `_timestamp` are left out. Rows come in no particular
    order.

    `row_cap`: an engine that would answer more rows than this raises TooManyRows instead,
    without building them (None: any number). `timeout` as in RecordQuery.
    """

    filters: tuple[Filter, ...] = ()
    time: TimeRange = TimeRange()
    bucketing: Bucketing | None = None
    group_by: tuple[str, ...] = ()
    reductions: tuple[Reduction, ...] = ()
    row_cap: int | None = None
    timeout: float | None = None


@dataclass
class AggregateRow:
    """One bucket × group: its record count and the value of every requested reduction."""

    period_start: datetime | None
    group: tuple
    count: int
    values: dict[Reduction, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransformRequest:
    """An outbox entry: transforms of `data_set` are to run over [earliest, latest].

    The core hands one to `save_records` (or `request_transforms`) and the engine stores it
    in the same transaction as the records it concerns, so a committed write always leaves
    its request behind, whatever happens to the process or the broker afterwards. A relay
    sends unsent entries to the broker and marks them sent. `id` and `attempts` are the
    engine's (None and 0 on an entry not stored yet); `id` is opaque, only handed back.
    """

    data_set: str
    earliest: datetime
    latest: datetime
    created_at: datetime
    request_id: str | None = None
    id: Any = None
    attempts: int = 0
    trigger: str = "write"  # what asked: a write, or `manual` (the trigger route); see core/transform_runs.py


SENT_REQUESTS_KEPT = timedelta(hours=1)
"""How long a sent outbox entry is kept (for an operator looking at the table) before an
engine prunes it, when it next marks entries sent: the table holds the unsent entries plus
about an hour of sent ones."""


@dataclass(frozen=True)
class TransformRun:
    """One run of a transform, as the run history keeps it (core/transform_runs.py writes them).

    `id` is stable across the retries of one Celery task, so a retried run updates its own
    entry instead of adding one per attempt. Times are timezone-aware UTC datetimes;
    `ended_at` is None while the run is running.
    """

    id: str
    transform_id: str
    data_set: str
    earliest: datetime
    latest: datetime
    trigger: str
    started_at: datetime
    outcome: str
    ended_at: datetime | None = None
    records_written: int = 0
    error: str | None = None

    _TIMES = ("earliest", "latest", "started_at", "ended_at")

    def as_json(self) -> dict:
        """The run as the admin API answers it (times as ISO strings); engines store this."""
        body = {key: getattr(self, key) for key in self.__dataclass_fields__}
        for key in self._TIMES:
            body[key] = None if body[key] is None else body[key].isoformat()
        return body

    @classmethod
    def from_json(cls, body: dict) -> "TransformRun":
        values = dict(body)
        for key in cls._TIMES:
            values[key] = None if values.get(key) is None else datetime.fromisoformat(values[key])
        return cls(**values)


@dataclass(frozen=True)
class Changes:
    """What changed in a data set's records after a cursor: the change feed a replica of
    the data set (core/storage/columnar.py) catches up from, in time proportional to the
    changes rather than to the data set.

    Every stored record carries `seq`, the number of the write that stored it (from the
    database-wide version sequence, so a later write of a data set always has greater
    numbers); removals are recorded with the version that made them. Apply in this order:
    drop the records with seq <= `floor` (an empty, or a capped data set's eviction), drop
    the `deleted` ids, then upsert `records` (the current form of every record written after
    the cursor, oldest first). Read in one snapshot, so the result is the data set as it
    was at `version`.

    `complete` is False when `records` stopped at the `limit` asked for: ask again from
    `cursor` for the rest. Only a complete answer brings a replica to `version`.
    """

    version: int | None  # the data set's version (None: no data set of that name)
    cursor: int  # pass as `since` next time: every change numbered above it is still to come
    complete: bool
    records: tuple[tuple[int, dict], ...] = ()  # (seq, record as a raw query returns it)
    deleted: tuple[str, ...] = ()
    floor: int | None = None


class UnsupportedQuery(StorageError):
    """The engine cannot answer this query (yet); never a partial or wrong answer instead."""


class Storage(ABC):
    """One database holding configurations, records and administration documents."""

    # --- lifecycle ---------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release connections; the object is unusable afterwards."""

    # --- schema versions (see migrations.py) -------------------------------------------
    # These three never run the start-up check themselves, so an operator can inspect and
    # migrate a database that the engine's other methods would refuse.

    @abstractmethod
    def schema_version(self) -> int:
        """The version of the database's schema (0: never used; an engine without a schema: 0)."""

    @abstractmethod
    def pending_migrations(self) -> list["Migration"]:
        """Migrations this database still needs, oldest first; SchemaTooNew if it is ahead of the code."""

    @abstractmethod
    def migrate(self) -> "Migrated":
        """Apply the pending migrations under the engine's lock, whatever auto-migration says."""

    # --- data-set configurations ---------------------------------------------------------

    @abstractmethod
    def create_data_set(self, config: dict) -> None:
        """Store a new configuration (`name`, `data_group`, `data_type` keys are required).

        Raises AlreadyExists when the name or the (data_group, data_type) pair is taken.
        """

    @abstractmethod
    def replace_data_set(self, name: str, config: dict) -> None:
        """Replace a configuration, keeping its records. NotFound / AlreadyExists (pair)."""

    @abstractmethod
    def delete_data_set(self, name: str) -> bool:
        """Delete the configuration and every record of it; False if there was none."""

    @abstractmethod
    def get_data_set(self, name: str) -> dict | None:
        """The configuration named `name`."""

    @abstractmethod
    def find_data_set(self, data_group: str, data_type: str) -> dict | None:
        """The configuration for that group and type."""

    @abstractmethod
    def list_data_sets(self) -> list[dict]:
        """Every configuration, sorted by name."""

    @abstractmethod
    def data_set_version(self, name: str) -> int | None:
        """The data set's current version (None when it does not exist)."""

    # --- other administration documents (transforms, dashboards) -------------------------

    @abstractmethod
    def put_document(self, kind: str, key: str, document: dict, *, create: bool) -> None:
        """Store a document. create=True: AlreadyExists if the key is taken; False: NotFound if absent."""

    @abstractmethod
    def get_document(self, kind: str, key: str) -> dict | None: ...

    @abstractmethod
    def list_documents(self, kind: str) -> list[dict]:
        """Every document of that kind, sorted by key."""

    @abstractmethod
    def delete_document(self, kind: str, key: str) -> bool: ...

    # --- wrong tokens, counted where every process sees them ----------------------------

    @abstractmethod
    def count_failure(self, address: str, minute: int) -> int:
        """Add one wrong token from `address` in `minute` (whole minutes since the epoch) and
        answer that minute's count, atomically; minutes before the previous one are forgotten."""

    @abstractmethod
    def failures(self, address: str, minute: int) -> int:
        """How many wrong tokens `address` has sent in `minute` (0 when none)."""

    # --- the outbox of transform requests ------------------------------------------------

    @abstractmethod
    def request_transforms(self, request: TransformRequest) -> None:
        """Store an outbox entry on its own (the manual trigger's), unsent."""

    @abstractmethod
    def unsent_transform_requests(self, limit: int) -> list[TransformRequest]:
        """At most `limit` unsent entries, oldest first (by `created_at`, then as stored)."""

    @abstractmethod
    def mark_transform_requests(self, ids: Sequence[Any], *, sent: bool, now: datetime) -> None:
        """Count one more send attempt of each entry; `sent`: also mark them sent at `now`, and
        forget entries sent before `now - SENT_REQUESTS_KEPT`. Unknown ids are ignored."""

    @abstractmethod
    def oldest_unsent_transform_request(self) -> datetime | None:
        """`created_at` of the oldest unsent entry (None when every entry was sent): how far
        behind the relay is, for readiness checks."""

    # --- transform runs (core/transform_runs.py) -------------------------------------------

    @abstractmethod
    def save_run(self, run: TransformRun, keep: int) -> None:
        """Store a run, replacing the one with the same id (its outcome changed).

        Inserting a new run also deletes that transform's runs beyond the newest `keep`
        (newest: latest `started_at`, then greatest id), in the same transaction, so the
        history stays bounded without a clean-up job.
        """

    @abstractmethod
    def list_runs(self, transform_id: str, limit: int | None = None) -> list[TransformRun]:
        """The transform's runs, newest first (see save_run), at most `limit` (None, or 1 or more) of them."""

    @abstractmethod
    def last_runs(self) -> dict[str, TransformRun]:
        """The newest run of every transform that has one, by transform id."""

    @abstractmethod
    def delete_runs(self, transform_id: str) -> int:
        """Forget every run of a transform (it was deleted); how many there were."""

    # --- records -------------------------------------------------------------------------

    @abstractmethod
    def save_records(self, name: str, records: Sequence[dict], capped_size: int = 0, *,
                     transforms: TransformRequest | None = None) -> None:
        """Store a batch in one transaction: all of it or nothing.

        With `transforms`, that outbox entry is stored in the same transaction: it exists if
        and only if the batch committed.

        A record whose `_id` exists replaces the stored one entirely (and counts as written
        now); a later record of the batch with the same `_id` wins. With `capped_size` > 0,
        after the write, records are deleted oldest-written first (batch position breaks
        ties) until the total size is at most `capped_size` bytes, counting each record as
        the UTF-8 length of json.dumps(record, sort_keys=True, separators=(',', ':'),
        ensure_ascii=False) of the record as a raw query returns it. Takes a new version.
        """

    @abstractmethod
    def empty_data_set(self, name: str) -> None:
        """Delete every record of the data set (its configuration stays). New version."""

    @abstractmethod
    def get_record(self, name: str, record_id: str) -> dict | None:
        """One record as a raw query returns it."""

    @abstractmethod
    def delete_record(self, name: str, record_id: str) -> bool:
        """Delete one record; False if there was none. New version when one was deleted."""

    @abstractmethod
    def last_updated(self) -> dict[str, datetime]:
        """Newest `_updated_at` of every data set that has records, by data-set name."""

    @abstractmethod
    def find(self, name: str, query: RecordQuery) -> Iterator[dict]:
        """Raw query: matching records as stored, streamed; sort and limit run in the engine."""

    @abstractmethod
    def changes(self, name: str, since: int, limit: int) -> Changes:
        """The data set's changes numbered above `since` (0: every record), at most `limit`
        records of them, read in one snapshot (see Changes).

        Engines keep removals for this: a deleted id until an empty or an eviction with a
        greater floor covers it, and one floor per data set name. Deleting a data set forgets
        its ids and sets its floor to a new number of the sequence (taken for the purpose),
        so a replica of a data set deleted and made again under the same name drops the old
        records.
        """

    @abstractmethod
    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        """Grouped query computed inside the engine: filtering, bucketing, grouping and every
        reduction run close to the data, periods on the clocks of the bucketing's zone.
        Raises UnsupportedQuery for a query the engine cannot compute rather than answer wrongly."""


def capped_rows(rows: list, cap: int | None) -> list:
    """The rows an engine fetched with a limit of `cap + 1`, or TooManyRows when it got more than `cap`."""
    if cap is not None and len(rows) > cap:
        raise TooManyRows(f"more than {cap} aggregate rows")
    return rows


def record_size(record: dict) -> int:
    """Bytes a record counts against `capped_size` (see Storage.save_records); `record` as a raw
    query returns it."""
    import json

    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8"))


Row = dict[str, Any]
