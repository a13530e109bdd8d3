"""Records in the normalised form the write API hands to engines, for core tests."""
from __future__ import annotations

from datetime import datetime, timezone

from backdrop.core.timeseries import period_keys

UTC = timezone.utc


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def record(record_id: str, timestamp: datetime | None = None, **fields) -> dict:
    """A record as the write API would store it, written at 2014-01-01."""
    normalised = {"_id": record_id, "_updated_at": at(2014, 1, 1), **fields}
    if timestamp is not None:
        normalised["_timestamp"] = timestamp
        normalised.update(period_keys(timestamp))
    return normalised
