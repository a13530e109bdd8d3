"""The reference engine: the whole storage interface in plain Python, held in memory.

The contract suite compares every real engine against this one, so it is written to be
obviously right rather than fast: records are kept in write order in a dict, queries are
loops. It also serves `memory://` URLs for tests of the apps (one process only).
"""
from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterator, Sequence

from backdrop.core.timeseries import as_utc, to_instant
from backdrop.core.values import distinct_sorted, greatest, is_number, least, order_key, tuple_key

from .base import (
    QueryTimeout,
    capped_rows,
    AggregateQuery,
    AggregateRow,
    AlreadyExists,
    Changes,
    Filter,
    NotFound,
    Op,
    Page,
    Position,
    SENT_REQUESTS_KEPT,
    RecordQuery,
    Reduction,
    Storage,
    TimeRange,
    TransformRequest,
    TransformRun,
    record_size,
)
from .migrations import Migrated, Migration

REQUIRED_CONFIG_KEYS = ("name", "data_group", "data_type")


@dataclass(frozen=True)
class _Stored:
    """A record as a raw query returns it, plus what queries need of it as datetimes."""

    raw: dict
    timestamp: datetime | None
    updated_at: datetime | None
    size: int
    seq: int = 0  # the number of the write that stored it (base.Changes)


def _store_form(record: dict) -> _Stored:
    """Dates become ISO strings: the stored record is exactly what a client will read."""
    raw = {
        key: as_utc(value).isoformat() if isinstance(value, datetime) else value
        for key, value in record.items()
    }
    return _Stored(
        raw=raw,
        timestamp=to_instant(record.get("_timestamp")),
        updated_at=to_instant(record.get("_updated_at")),
        size=record_size(raw),
    )


def _filter_matches(condition: Filter, raw: dict) -> bool:
    value = raw.get(condition.field)
    if condition.prefix:
        return isinstance(value, str) and value.startswith(str(condition.value))
    if isinstance(condition.value, bool):
        return isinstance(value, bool) and value is condition.value
    return isinstance(value, str) and value == condition.value


def _in_time(time: TimeRange, timestamp: datetime | None) -> bool:
    if not time.bounded:
        return True
    if timestamp is None:
        return False
    if time.start is not None and timestamp < as_utc(time.start):
        return False
    if time.end is not None:
        end = as_utc(time.end)
        return timestamp <= end if time.end_inclusive else timestamp < end
    return True


def _matches(stored: _Stored, filters: Sequence[Filter], time: TimeRange) -> bool:
    return all(_filter_matches(f, stored.raw) for f in filters) and _in_time(time, stored.timestamp)


def _reduce(raws: list[dict], reduction: Reduction) -> Any:
    """One reduction over the records of a row, as base.Op defines it."""
    present = [raw[reduction.field] for raw in raws if raw.get(reduction.field) is not None]
    numbers = [value for value in present if is_number(value)]
    if reduction.op is Op.COUNT:
        return len(present)
    if reduction.op is Op.SUM:
        return sum(numbers, 0)
    if reduction.op is Op.NUMBERS:
        return len(numbers)
    if reduction.op is Op.MIN:
        return least(numbers)
    if reduction.op is Op.MAX:
        return greatest(numbers)
    if reduction.op is Op.NUMBER_LIST:
        return sorted(numbers)
    return distinct_sorted(present)


def _position(item: _Stored) -> Position:
    return Position(item.timestamp, item.raw["_id"])


def _paged(items: list[_Stored], page: Page) -> list[_Stored]:
    """The records after the page's position, in paging order (see base.Page)."""
    if page.after is not None:
        items = [item for item in items if _position(item).key() > page.after.key()]
    return sorted(items, key=lambda item: _position(item).key())


class MemoryStorage(Storage):
    """Everything in dicts behind one lock; every value handed out is a copy."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._configs: dict[str, dict] = {}
        self._versions: dict[str, int] = {}
        self._counter = 0
        self._documents: dict[str, dict[str, dict]] = {}
        self._records: dict[str, dict[str, _Stored]] = {}
        self._failures: dict[tuple[str, int], int] = {}
        self._outbox: dict[int, tuple[TransformRequest, datetime | None]] = {}  # id -> (entry, sent_at)
        self._outbox_ids = itertools.count(1)
        self._runs: dict[str, TransformRun] = {}
        self._deleted: dict[str, dict[str, int]] = {}  # data set -> {record id: version of its deletion}
        self._floors: dict[str, tuple[int, int]] = {}  # data set -> (floor, version that set it)

    @classmethod
    def from_url(cls, url: str, **_options) -> "MemoryStorage":
        """`memory://`: a new, empty store on every call, held by this process only."""
        return cls()

    # --- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._configs.clear()
            self._documents.clear()
            self._records.clear()
            self._versions.clear()
            self._outbox.clear()
            self._runs.clear()

    # --- schema versions: nothing outlives the process, so the schema is always current ---

    def schema_version(self) -> int:
        return 0

    def pending_migrations(self) -> list[Migration]:
        return []

    def migrate(self) -> Migrated:
        return Migrated(before=0, after=0)

    def _bump(self, name: str) -> None:
        """One counter for the whole database: a version is never given out twice."""
        self._counter += 1
        self._versions[name] = self._counter

    # --- data-set configurations ---------------------------------------------------------

    def _pair_owner(self, config: dict) -> str | None:
        pair = (config["data_group"], config["data_type"])
        for name, existing in self._configs.items():
            if (existing["data_group"], existing["data_type"]) == pair:
                return name
        return None

    def create_data_set(self, config: dict) -> None:
        missing = [key for key in REQUIRED_CONFIG_KEYS if key not in config]
        if missing:
            raise ValueError(f"configuration lacks {', '.join(missing)}")
        with self._lock:
            if config["name"] in self._configs:
                raise AlreadyExists(f"Data set '{config['name']}' already exists")
            if self._pair_owner(config) is not None:
                raise AlreadyExists(
                    f"A data set for {config['data_group']}/{config['data_type']} already exists"
                )
            self._configs[config["name"]] = copy.deepcopy(config)
            self._bump(config["name"])

    def replace_data_set(self, name: str, config: dict) -> None:
        with self._lock:
            if name not in self._configs:
                raise NotFound(f"No data set named '{name}'")
            owner = self._pair_owner(config)
            if owner is not None and owner != name:
                raise AlreadyExists(
                    f"A data set for {config['data_group']}/{config['data_type']} already exists"
                )
            self._configs[name] = copy.deepcopy(config)
            self._bump(name)

    def delete_data_set(self, name: str) -> bool:
        with self._lock:
            if name not in self._configs:
                return False
            del self._configs[name]
            self._records.pop(name, None)
            self._versions.pop(name, None)
            self._deleted.pop(name, None)
            self._counter += 1  # a data set made again under this name starts above the floor
            self._floors[name] = (self._counter, self._counter)
            return True

    def get_data_set(self, name: str) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._configs.get(name))

    def find_data_set(self, data_group: str, data_type: str) -> dict | None:
        with self._lock:
            for config in self._configs.values():
                if (config["data_group"], config["data_type"]) == (data_group, data_type):
                    return copy.deepcopy(config)
            return None

    def list_data_sets(self) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(self._configs[name]) for name in sorted(self._configs)]

    def data_set_version(self, name: str) -> int | None:
        with self._lock:
            return self._versions.get(name) if name in self._configs else None

    # --- other administration documents --------------------------------------------------

    def put_document(self, kind: str, key: str, document: dict, *, create: bool) -> None:
        with self._lock:
            documents = self._documents.setdefault(kind, {})
            if create and key in documents:
                raise AlreadyExists(f"{kind} '{key}' already exists")
            if not create and key not in documents:
                raise NotFound(f"No {kind} '{key}'")
            documents[key] = copy.deepcopy(document)

    def get_document(self, kind: str, key: str) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._documents.get(kind, {}).get(key))

    def list_documents(self, kind: str) -> list[dict]:
        with self._lock:
            documents = self._documents.get(kind, {})
            return [copy.deepcopy(documents[key]) for key in sorted(documents)]

    def delete_document(self, kind: str, key: str) -> bool:
        with self._lock:
            return self._documents.get(kind, {}).pop(key, None) is not None

    # --- wrong tokens ----------------------------------------------------------------------

    def count_failure(self, address: str, minute: int) -> int:
        with self._lock:
            for old in [key for key in self._failures if key[1] < minute - 1]:
                del self._failures[old]
            self._failures[(address, minute)] = self._failures.get((address, minute), 0) + 1
            return self._failures[(address, minute)]

    def failures(self, address: str, minute: int) -> int:
        with self._lock:
            return self._failures.get((address, minute), 0)

    # --- the outbox of transform requests ------------------------------------------------

    def _add_request(self, request: TransformRequest) -> None:
        """Store an entry; one whose times are not instants fails here, before a batch is written."""
        entry = replace(request, earliest=as_utc(request.earliest), latest=as_utc(request.latest),
                        created_at=as_utc(request.created_at), id=next(self._outbox_ids), attempts=0)
        self._outbox[entry.id] = (entry, None)

    def request_transforms(self, request: TransformRequest) -> None:
        with self._lock:
            self._add_request(request)

    def _unsent(self) -> list[TransformRequest]:
        return sorted((entry for entry, sent_at in self._outbox.values() if sent_at is None),
                      key=lambda entry: (as_utc(entry.created_at), entry.id))

    def unsent_transform_requests(self, limit: int) -> list[TransformRequest]:
        with self._lock:
            return self._unsent()[:limit]

    def mark_transform_requests(self, ids: Sequence, *, sent: bool, now: datetime) -> None:
        with self._lock:
            for entry_id in ids:
                if entry_id in self._outbox:
                    entry, sent_at = self._outbox[entry_id]
                    self._outbox[entry_id] = (replace(entry, attempts=entry.attempts + 1),
                                              now if sent else sent_at)
            if sent:
                for entry_id, (_, sent_at) in list(self._outbox.items()):
                    if sent_at is not None and sent_at < now - SENT_REQUESTS_KEPT:
                        del self._outbox[entry_id]

    def oldest_unsent_transform_request(self) -> datetime | None:
        with self._lock:
            unsent = self._unsent()
            return unsent[0].created_at if unsent else None

    # --- transform runs --------------------------------------------------------------------

    def save_run(self, run: TransformRun, keep: int) -> None:
        with self._lock:
            new = run.id not in self._runs
            self._runs[run.id] = run
            if new:
                for old in self._newest_first(run.transform_id)[keep:]:
                    del self._runs[old.id]

    def _newest_first(self, transform_id: str) -> list[TransformRun]:
        runs = [run for run in self._runs.values() if run.transform_id == transform_id]
        return sorted(runs, key=lambda run: (run.started_at, run.id), reverse=True)

    def list_runs(self, transform_id: str, limit: int | None = None) -> list[TransformRun]:
        with self._lock:
            return self._newest_first(transform_id)[:limit]

    def last_runs(self) -> dict[str, TransformRun]:
        with self._lock:
            return {transform_id: self._newest_first(transform_id)[0]
                    for transform_id in {run.transform_id for run in self._runs.values()}}

    def delete_runs(self, transform_id: str) -> int:
        with self._lock:
            gone = [run.id for run in self._runs.values() if run.transform_id == transform_id]
            for run_id in gone:
                del self._runs[run_id]
            return len(gone)

    # --- records -------------------------------------------------------------------------

    def save_records(self, name: str, records: Sequence[dict], capped_size: int = 0, *,
                     transforms: TransformRequest | None = None) -> None:
        batch = [(record["_id"], _store_form(record)) for record in records]  # fail before writing
        with self._lock:
            if transforms is not None:
                self._add_request(transforms)
            stored = self._records.setdefault(name, {})
            for record_id, item in batch:
                self._counter += 1
                stored.pop(record_id, None)  # an upsert counts as written now: move to the end
                stored[record_id] = replace(item, seq=self._counter)
            self._bump(name)
            if capped_size > 0:
                self._evict(name, stored, capped_size)

    def _evict(self, name: str, stored: dict[str, _Stored], capped_size: int) -> None:
        """Oldest-written first until the total size fits (see Storage.save_records)."""
        total = sum(item.size for item in stored.values())
        evicted = None
        for record_id in list(stored):
            if total <= capped_size:
                break
            evicted = stored.pop(record_id)
            total -= evicted.size
        if evicted is not None:
            self._set_floor(name, evicted.seq)

    def _set_floor(self, name: str, floor: int) -> None:
        """Records numbered up to `floor` are gone, as of the current version; the deletions
        it covers need not be kept (base.Storage.changes)."""
        version = self._versions[name]
        self._floors[name] = (floor, version)
        deleted = self._deleted.get(name, {})
        for record_id in [key for key, when in deleted.items() if when <= floor]:
            del deleted[record_id]

    def empty_data_set(self, name: str) -> None:
        with self._lock:
            self._records.pop(name, None)
            self._bump(name)
            self._set_floor(name, self._versions[name])

    def get_record(self, name: str, record_id: str) -> dict | None:
        with self._lock:
            item = self._records.get(name, {}).get(record_id)
            return dict(item.raw) if item else None

    def delete_record(self, name: str, record_id: str) -> bool:
        with self._lock:
            if self._records.get(name, {}).pop(record_id, None) is None:
                return False
            self._bump(name)
            self._deleted.setdefault(name, {})[record_id] = self._versions[name]
            return True

    def changes(self, name: str, since: int, limit: int) -> Changes:
        with self._lock:
            version = self.data_set_version(name)
            newer = [item for item in self._records.get(name, {}).values() if item.seq > since]
            newer.sort(key=lambda item: item.seq)
            complete = len(newer) <= limit
            newer = newer[:limit]
            deleted = tuple(sorted(key for key, when in self._deleted.get(name, {}).items() if when > since))
            floor, floor_version = self._floors.get(name, (None, 0))
            seen = [since, *(item.seq for item in newer)]
            if complete:
                seen += [version or 0, floor_version, *self._deleted.get(name, {}).values()]
            return Changes(
                version=version,
                cursor=max(seen),
                complete=complete,
                records=tuple((item.seq, dict(item.raw)) for item in newer),
                deleted=deleted,
                floor=floor if floor_version > since else None,
            )

    def last_updated(self) -> dict[str, datetime]:
        with self._lock:
            newest = {}
            for name, stored in self._records.items():
                times = [item.updated_at for item in stored.values() if item.updated_at]
                if times:
                    newest[name] = max(times)
            return newest

    def _matching(self, name: str, filters, time: TimeRange, ends: float | None = None) -> list[_Stored]:
        with self._lock:
            stored = list(self._records.get(name, {}).values())
        return [item for item in _timed(stored, ends) if _matches(item, filters, time)]

    def find(self, name: str, query: RecordQuery) -> Iterator[dict]:
        matching = self._matching(name, query.filters, query.time, _ends(query.timeout))
        if query.page is not None:
            matching = _paged(matching, query.page)
        raws = [dict(item.raw) for item in matching]
        if query.sort is not None:
            field = query.sort.field
            raws.sort(key=lambda raw: order_key(raw.get(field)), reverse=query.sort.descending)
        if query.limit:
            raws = raws[: query.limit]
        return iter(raws)

    def aggregate(self, name: str, query: AggregateQuery) -> list[AggregateRow]:
        buckets: dict[tuple, tuple[datetime | None, tuple, list[dict]]] = {}
        ends = _ends(query.timeout)
        for item in _timed(self._matching(name, query.filters, query.time, ends), ends):
            placed = self._place(item, query)
            if placed is None:
                continue
            period_start, group = placed
            key = (period_start, tuple_key(group))
            buckets.setdefault(key, (period_start, group, []))[2].append(item.raw)
        capped_rows(list(buckets), query.row_cap)
        return [
            AggregateRow(
                period_start=period_start,
                group=group,
                count=len(raws),
                values={reduction: _reduce(raws, reduction) for reduction in query.reductions},
            )
            for period_start, group, raws in buckets.values()
        ]

    @staticmethod
    def _place(item: _Stored, query: AggregateQuery) -> tuple[datetime | None, tuple] | None:
        """The (period start, group) a record counts towards, or None when it takes no part."""
        group = tuple(item.raw.get(field) for field in query.group_by)
        if any(value is None for value in group):
            return None
        if query.bucketing is None:
            return None, group
        if item.timestamp is None:
            return None
        return query.bucketing.start(item.timestamp), group


CLOCK_EVERY = 256  # records between two looks at the clock of a timed read


def _ends(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _timed(items: list, ends: float | None) -> Iterator:
    """The items, raising QueryTimeout once the clock passes `ends` (the reference engine's
    statement timeout: it runs in Python, so it looks at the clock as it goes)."""
    if ends is None:
        yield from items
        return
    for index, item in enumerate(items):
        if index % CLOCK_EVERY == CLOCK_EVERY - 1 and time.monotonic() > ends:
            raise QueryTimeout("memory: the read ran longer than its timeout")
        yield item
