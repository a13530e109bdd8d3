"""Helpers shared by the transform tasks: ids, instants, numbers, buckets."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from backdrop.core.timeseries import as_utc, to_instant


def text(value) -> str:
    """Instants as the ISO text the read API shows (`…+00:00`); everything else as str()."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return str(value)


def encode_id(*parts) -> str:
    """URL-safe base64 (`=`-padded) of the parts joined with `_`: stable output ids."""
    joined = "_".join(text(part) for part in parts)
    return base64.urlsafe_b64encode(joined.encode("utf-8")).decode("ascii")


def instant(value) -> datetime | None:
    """A row's instant (datetime or ISO text) as an aware UTC datetime; None if absent."""
    if value is None:
        return None
    moment = to_instant(value)
    if moment is None:
        raise BadSourceData(f"{value!r} is not a date")
    return moment


def add_fields(records: list[dict], additional: dict) -> list[dict]:
    """Merge constant fields (the record's own win) and re-key each record:
    `_id` = encode_id(its `_id` or "", "k1:v1_k2:v2…"), pairs in the configuration's order."""
    suffix = "_".join(f"{key}:{value}" for key, value in additional.items())
    merged = []
    for record in records:
        combined = {**additional, **record}
        combined["_id"] = encode_id(record.get("_id", ""), suffix)
        merged.append(combined)
    return merged


@dataclass
class TaskContext:
    """What a task may ask beyond its rows: the input data set and lookups the worker serves."""

    data_set: dict
    transform: dict
    dashboards_showing: Callable[[str], list[dict]] = lambda name: []
    dashboards_for_service: Callable[[str], list[dict]] = lambda service_id: []
    newest_output_timestamp: Callable[[str], datetime | None] = lambda record_id: None
    extra: dict = field(default_factory=dict)


class BadSourceData(ValueError):
    """The input rows cannot be transformed; the worker logs it and does not retry."""


def number(value, what: str):
    """A summable value: None stays None; booleans and strings are bad source data."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise BadSourceData(f"{what} must be a number, not {value!r}")


def buckets(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Rows grouped by (`_start_at`, `_end_at`), in order of first appearance."""
    grouped: dict[tuple, list[dict]] = {}
    for row in rows:
        grouped.setdefault((row.get("_start_at"), row.get("_end_at")), []).append(row)
    return grouped
