"""A data set: its configuration together with its records in one engine.

The write app, the read app and the worker all act on records through this object, so the
configuration's rules (auto ids, schema, capping) are applied the same way everywhere.

Writes that tell a time (a stored batch, a patch of a timed record) can request their
transforms: with `request_transforms`, the DataSet hands the engine an outbox entry
(storage.base.TransformRequest) to store in the same transaction as the records, so a
commit and its request are never parted (docs/transforms.md, "The outbox").

Every write that commits is announced to an optional commit listener, after the commit and
never before: whatever reacts to writes (the write app's relay sends the outbox to the
broker) hears of records only once another process can read them, however many routes write.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from backdrop.core import records as _records
from backdrop.core import transforms as _transforms
from backdrop.core.registry import DataSetConfig
from backdrop.core.storage.base import Storage, TransformRequest
from backdrop.core.timeseries import to_instant
from backdrop.core.transform_runs import MANUAL


class RecordNotFound(LookupError):
    """No record with that `_id` in the data set."""

    def __init__(self, record_id: str):
        super().__init__(f"No record found with id {record_id}")
        self.record_id = record_id


class WriteKind(enum.Enum):
    STORE = "store"  # a batch of new or replacing records
    PATCH = "patch"
    DELETE = "delete"
    EMPTY = "empty"
    TRIGGER = "trigger"  # transforms requested by hand: no records written


@dataclass(frozen=True)
class Commit:
    """One committed write: the data set, what kind of write, and the time it touched.

    `bounds` is the earliest and latest `_timestamp` of the records written (for a patch,
    of the record before and after it), or None when none has one, and for deletes and
    emptying, which tell no times.
    """

    data_set: str
    kind: WriteKind
    bounds: tuple[datetime, datetime] | None


CommitListener = Callable[[Commit], None]


def _patched_bounds(stored: dict, record: dict) -> tuple[datetime, datetime] | None:
    """The times a patch touched: the record's `_timestamp` before it (stored as ISO text or
    a datetime, by engine) and after it; None when it had none either time."""
    stamps = [moment for moment in (to_instant(stored.get("_timestamp")), to_instant(record.get("_timestamp")))
              if moment is not None]
    return (min(stamps), max(stamps)) if stamps else None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DataSet:
    """`request_transforms`: writes that tell a time store an outbox entry with their records;
    `request_id` gives the id of the request being served (stored with the entry)."""

    def __init__(self, storage: Storage, config: DataSetConfig, now: Callable[[], datetime] = utcnow,
                 on_commit: CommitListener | None = None, *, request_transforms: bool = False,
                 request_id: Callable[[], str | None] = lambda: None):
        self.storage = storage
        self.config = config
        self._now = now
        self._on_commit = on_commit
        self._request_transforms = request_transforms
        self._request_id = request_id

    def _transform_request(self, bounds: tuple[datetime, datetime] | None) -> TransformRequest | None:
        if not self._request_transforms or bounds is None:
            return None
        return TransformRequest(self.name, bounds[0], bounds[1], created_at=utcnow(), request_id=self._request_id())

    def _committed(self, kind: WriteKind, bounds: tuple[datetime, datetime] | None = None) -> None:
        if self._on_commit is not None:
            self._on_commit(Commit(self.name, kind, bounds))

    @property
    def name(self) -> str:
        return self.config.name

    def prepare(self, items: Sequence[Any], keep_ids: bool = False) -> list[dict]:
        """Validate and normalise a batch without storing it; raises records.BatchError.
        `keep_ids`: records with an `_id` keep it in a data set with auto ids (imports)."""
        return _records.prepare_batch(
            items, auto_ids=self.config.auto_ids or None, schema=self.config.schema, now=self._now(),
            keep_ids=keep_ids,
        )

    def save(self, records: Sequence[dict]) -> None:
        """Store prepared records in one transaction, then trim to the capped size.

        An empty batch writes nothing and announces nothing.
        """
        if records:
            bounds = _records.timestamp_bounds(records)
            self._save(records, bounds)
            self._committed(WriteKind.STORE, bounds)

    def _save(self, records: Sequence[dict], bounds: tuple[datetime, datetime] | None) -> None:
        self.storage.save_records(self.name, records, self.config.capped_size,
                                  transforms=self._transform_request(bounds))

    def store(self, items: Sequence[Any], keep_ids: bool = False) -> list[dict]:
        """Validate a batch and store all of it or none of it; the stored records."""
        prepared = self.prepare(items, keep_ids)
        self.save(prepared)
        return prepared

    def empty(self) -> None:
        self.storage.empty_data_set(self.name)
        self._committed(WriteKind.EMPTY)

    def patch(self, record_id: str, changes: dict) -> dict:
        """Merge `changes` into one record, validated as on POST; RecordNotFound, BatchError."""
        stored = self.storage.get_record(self.name, record_id)
        if stored is None:
            raise RecordNotFound(record_id)
        record = _records.prepare_patch(stored, changes, schema=self.config.schema, now=self._now())
        bounds = _patched_bounds(stored, record)
        self._save([record], bounds)
        self._committed(WriteKind.PATCH, bounds)
        return record

    def rerun_transforms(self, earliest: datetime, latest: datetime) -> int:
        """Request this data set's transforms over [earliest, latest] by hand (an outbox entry of
        its own); how many transforms take it as input. With none, nothing is requested."""
        count = len(_transforms.for_data_set(self.storage, self.config.data_group, self.config.data_type))
        if count:
            self.storage.request_transforms(TransformRequest(self.name, earliest, latest, created_at=utcnow(),
                                                             request_id=self._request_id(), trigger=MANUAL))
            self._committed(WriteKind.TRIGGER, (earliest, latest))
        return count

    def delete(self, record_id: str) -> None:
        if not self.storage.delete_record(self.name, record_id):
            raise RecordNotFound(record_id)
        self._committed(WriteKind.DELETE)

    def query(self, query):
        """Run a read query (backdrop.core.query.Query) against this data set's records."""
        from backdrop.core import reading

        return reading.execute(self.storage, self.name, query)
