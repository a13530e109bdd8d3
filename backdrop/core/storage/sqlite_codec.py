"""How records travel between Python and the SQLite engine's JSON text bodies.

A stored body is the record as a raw query returns it (dates as their UTC `isoformat()`),
written by orjson. Two facts of SQLite shape it:

* SQLite's JSON functions hand strings back as C strings, cut at the first U+0000, so
  strings holding U+0000 or U+0001 are stored through text.escape (order- and
  prefix-preserving), and unescaped on the way out.
* A capped data set evicts by the contract's size of each record (base.record_size);
  counting it costs a second encoding, so it is counted only for capped writes and other
  records store UNCOUNTED.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Sequence

import orjson

from backdrop.core.timeseries import EPOCH, MICROSECOND, UTC, as_utc, micros

from .base import record_size
from .text import escape, unescape

UNCOUNTED = 0
"""The `size` of a record not yet counted: no record counts 0 bytes (`{}` alone is 2)."""
_PLAIN = frozenset((str, int, bool, type(None)))


def stored_body(record: dict) -> str:
    """The body as JSON text, without its size: the usual write (an uncapped data set).

    orjson writes UTC datetimes as their `isoformat()`; any other datetime is converted
    to UTC first, as `_encode_exactly` does.
    """
    for value in record.values():
        if type(value) is datetime and value.tzinfo is not UTC:
            return _encode_exactly(record, sized=False)[0]
    return orjson.dumps(record).decode()


def encode_record(record: dict) -> tuple[str, int]:
    """The body as JSON text and its size under the contract's byte rule, cheaply.

    orjson writes the same bytes as `json.dumps(..., separators=(',', ':'),
    ensure_ascii=False)` for strings, ints, booleans, null and UTC datetimes (as their
    `isoformat()`), and key order does not change a length; only float spellings differ
    (`1e-7` against `1e-07`), so those are corrected one by one. Anything else (a
    datetime not in UTC, a nested value) takes the exact, slower path.
    """
    extra = 0
    for value in record.values():
        kind = type(value)
        if kind in _PLAIN:
            continue
        if kind is datetime:
            if value.tzinfo is not UTC:
                return _encode_exactly(record)
        elif kind is float:
            if math.isfinite(value):
                extra += len(repr(value)) - len(orjson.dumps(value))
        else:
            return _encode_exactly(record)
    body = orjson.dumps(record)
    return body.decode(), len(body) + extra


def _escaped_body(record: dict, body: str) -> str:
    """The body to store: strings holding U+0000 or U+0001 escaped (see sqlite_sql)."""
    if "\\u0000" not in body and "\\u0001" not in body:
        return body
    escaped = {key: escape(value) if type(value) is str else value
               for key, value in record.items()}
    return stored_body(escaped)


def decode(body: str) -> dict:
    """A stored body as a raw query returns it."""
    record = orjson.loads(body)
    if "\\u0001" not in body:
        return record
    return {key: unescape(value) if type(value) is str else value
            for key, value in record.items()}


def _encode_exactly(record: dict, sized: bool = True) -> tuple[str, int]:
    """Dates converted to UTC ISO strings first, then (if `sized`) the contract's own size rule."""
    stored = {key: as_utc(value).isoformat() if isinstance(value, datetime) else value
              for key, value in record.items()}
    body = orjson.dumps(stored).decode()
    return body, record_size(orjson.loads(body)) if sized else UNCOUNTED


def _instant(value: Any) -> int | None:
    """A date field as µs since the epoch (tolerating an ISO string), else None."""
    if type(value) is datetime and value.tzinfo is UTC:
        return (value - EPOCH) // MICROSECOND
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return micros(as_utc(value)) if isinstance(value, datetime) else None


def prepare(records: Sequence[dict], sized: bool) -> list[tuple]:
    """(id, ts, updated_at, size, body) per record, all computed before the write lock.

    The exact size costs a second encoding of every float, so it is counted only for a
    capped write (`sized`); other records are stored as UNCOUNTED. A batch shares its
    `_updated_at` and often its timestamps, hence the small cache of instants.
    """
    instants: dict = {None: None}
    rows = []
    for record in records:
        if sized:
            body, size = encode_record(record)
        else:
            body, size = stored_body(record), UNCOUNTED
        if "\\u000" in body:
            body = _escaped_body(record, body)
        ts, updated_at = record.get("_timestamp"), record.get("_updated_at")
        try:
            ts = instants[ts]
        except (KeyError, TypeError):
            ts = _cached_instant(instants, ts)
        try:
            updated_at = instants[updated_at]
        except (KeyError, TypeError):
            updated_at = _cached_instant(instants, updated_at)
        rows.append((record["_id"], ts, updated_at, size, body))
    return rows


def _cached_instant(instants: dict, value: Any) -> int | None:
    try:
        found = instants[value] = _instant(value)
    except TypeError:  # unhashable: not a date anyway
        return None
    return found
