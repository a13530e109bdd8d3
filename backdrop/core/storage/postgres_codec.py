"""How values travel between Python and PostgreSQL's JSONB without changing on the way.

Two facts of PostgreSQL shape the stored bodies:
* JSONB keeps numbers as `numeric`, so a float with no fraction (`3.0`, `1e16`) would come
  back as an int; such floats are written as `<digits>.0`, which JSONB keeps as written.
* JSONB and TEXT cannot hold U+0000; strings are stored with an order- and prefix-
  preserving escape (U+0001 -> U+0001 U+0002, U+0000 -> U+0001 U+0001) and unescaped on
  read, so equality, prefix filters and `COLLATE "C"` sorting still work on the stored form.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

import orjson

from backdrop.core.timeseries import UTC, as_utc, to_instant

from .base import StorageError
from .text import escape, unescape

_INT64 = range(-(2**63), 2**64)
_TWO_TO_63 = float(2**63)


def _stored_float(value: float) -> float | orjson.Fragment:
    if value != value or value in (float("inf"), float("-inf")):
        raise StorageError(f"Cannot store the non-finite number {value!r}")
    return orjson.Fragment(f"{int(value)}.0") if value.is_integer() else value


def _stored_value(value: Any) -> Any:
    """A JSON value as orjson must write it for JSONB to give it back unchanged."""
    kind = type(value)
    if kind is str:
        return escape(value)
    if kind is float:
        return _stored_float(value)
    if kind is int and value not in _INT64:
        return orjson.Fragment(str(value))
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value


def _encode_record(record: dict) -> tuple[str, int]:
    """A record's stored JSON text and its contract size (base.record_size), in one pass.

    orjson writes strings, ints, booleans and UTC datetimes exactly as json.dumps writes the
    raw-query form, so the size is the text's length, corrected for values whose stored text
    differs (escaped strings, floats).
    """
    body = {}
    correction = 0
    for key, value in record.items():
        kind = type(value)
        if kind is str:
            if "\x00" in value or "\x01" in value:
                stored = escape(value)
                correction += _json_length(value) - len(orjson.dumps(stored))
                value = stored
        elif kind is datetime:
            if value.tzinfo is not UTC:
                value = as_utc(value)
        elif kind is float:
            stored = _stored_float(value)
            correction += len(repr(value)) - len(orjson.dumps(stored))
            value = stored
        elif kind is int:
            if value not in _INT64:
                value = orjson.Fragment(str(value))
        elif kind is not bool and value is not None:
            value = _stored_value(value)
        body[key] = value
    text = orjson.dumps(body, default=_iso)
    return text.decode(), len(text) + correction


def _json_length(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def stored_json(document: Any) -> str:
    """Any JSON document (configurations, administration documents, filter values)."""
    return orjson.dumps(_stored_tree(document)).decode()


def _stored_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {escape(str(k)): _stored_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stored_tree(v) for v in value]
    return _stored_value(value)


def _loaded_tree(value: Any) -> Any:
    if isinstance(value, str):
        return unescape(value)
    if isinstance(value, dict):
        return {unescape(k): _loaded_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_loaded_tree(v) for v in value]
    return value


def load_json(data: bytes | bytearray | memoryview | str) -> Any:
    """psycopg's JSON loader: orjson, unless it met a number too long to keep exact."""
    if not isinstance(data, (bytes, str)):
        data = bytes(data)
    value = orjson.loads(data)
    if _may_have_rounded(value):
        value = json.loads(data)
    escaped = "\\u0001" if isinstance(data, str) else b"\\u0001"
    return _loaded_tree(value) if escaped in data else value


def _may_have_rounded(value: Any) -> bool:
    """orjson reads an int beyond 64 bits as a float; every such float is at least 2**63."""
    if type(value) is float:
        return abs(value) >= _TWO_TO_63
    if type(value) is dict:
        return any(_may_have_rounded(item) for item in value.values())
    if type(value) is list:
        return any(_may_have_rounded(item) for item in value)
    return False


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _instant(value: Any) -> datetime | None:
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    return to_instant(value)


def batch_columns(records: Sequence[dict]) -> tuple[list, list, list, list, list]:
    """Column arrays for one bulk upsert; a repeated `_id` keeps its last record and position."""
    latest: dict[str, dict] = {}
    for record in records:
        key = str(record["_id"])
        latest.pop(key, None)
        latest[key] = record
    ids, stamps, updated, sizes, bodies = [], [], [], [], []
    for key, record in latest.items():
        ids.append(escape(key))
        stamps.append(_instant(record.get("_timestamp")))
        updated.append(_instant(record.get("_updated_at")))
        body, size = _encode_record(record)
        bodies.append(body)
        sizes.append(size)
    return ids, stamps, updated, sizes, bodies
