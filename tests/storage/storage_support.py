"""Building records the way the write path hands them to an engine, and reading answers."""
from __future__ import annotations

from datetime import datetime, timezone

from backdrop.core.timeseries import period_keys

UTC = timezone.utc
WRITTEN_AT = datetime(2014, 1, 1, 12, 0, tzinfo=UTC)
CONFIG = {"name": "ds", "data_group": "group", "data_type": "type"}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def record(record_id: str, timestamp: datetime | None = None, *, updated_at: datetime = WRITTEN_AT,
           **fields) -> dict:
    """A normalised record: `_id`, `_updated_at`, and with a timestamp the six period keys."""
    made = {"_id": record_id, "_updated_at": updated_at}
    if timestamp is not None:
        made["_timestamp"] = timestamp
        made.update(period_keys(timestamp))
    made.update(fields)
    return made


def ids(records) -> list[str]:
    return [found["_id"] for found in records]


def rows_by_key(rows) -> dict:
    """Aggregate rows keyed by (period_start, group), for asserting on one row at a time."""
    return {(row.period_start, row.group): row for row in rows}

