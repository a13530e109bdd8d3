"""A data set: its configuration together with its records in one engine.

The write app, the read app and the worker all act on records through this object, so the
configuration's rules (auto ids, schema, capping) are applied the same way everywhere.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from backdrop.core import records as _records
from backdrop.core.registry import DataSetConfig
from backdrop.core.storage.base import Storage


class RecordNotFound(LookupError):
    """No record with that `_id` in the data set."""

    def __init__(self, record_id: str):
        super().__init__(f"No record found with id {record_id}")
        self.record_id = record_id


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DataSet:
    def __init__(self, storage: Storage, config: DataSetConfig, now: Callable[[], datetime] = utcnow):
        self.storage = storage
        self.config = config
        self._now = now

    @property
    def name(self) -> str:
        return self.config.name

    def prepare(self, items: Sequence[Any]) -> list[dict]:
        """Validate and normalise a batch without storing it; raises records.BatchError."""
        return _records.prepare_batch(
            items, auto_ids=self.config.auto_ids or None, schema=self.config.schema, now=self._now()
        )

    def save(self, records: Sequence[dict]) -> None:
        """Store prepared records in one transaction, then trim to the capped size."""
        self.storage.save_records(self.name, records, self.config.capped_size)

    def store(self, items: Sequence[Any]) -> list[dict]:
        """Validate a batch and store all of it or none of it; the stored records."""
        prepared = self.prepare(items)
        self.save(prepared)
        return prepared

    def empty(self) -> None:
        self.storage.empty_data_set(self.name)

    def patch(self, record_id: str, changes: dict) -> dict:
        """Merge `changes` into one record, validated as on POST; RecordNotFound, BatchError."""
        stored = self.storage.get_record(self.name, record_id)
        if stored is None:
            raise RecordNotFound(record_id)
        record = _records.prepare_patch(stored, changes, schema=self.config.schema, now=self._now())
        self.save([record])
        return record

    def delete(self, record_id: str) -> None:
        if not self.storage.delete_record(self.name, record_id):
            raise RecordNotFound(record_id)

    def query(self, query):
        """Run a read query (backdrop.core.query.Query) against this data set's records."""
        from backdrop.core import reading

        return reading.execute(self.storage, self.name, query)
