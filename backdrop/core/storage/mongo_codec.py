"""How records travel between Python and the MongoDB engine's documents (layout in mongo.py).

A whole batch is checked and encoded here before the engine writes anything, so a value
that cannot be stored fails the batch while the data set is still untouched:

* Keys become BSON field names, so a `$`-prefixed, dotted or NUL-holding key is refused
  (the write API refuses them already; a key must never reach the server as an operator
  or a path).
* Values are JSON scalars and UTC datetimes (stored as their `isoformat()`, as every
  engine stores them). BSON integers are signed 64-bit: a larger integer is refused,
  naming its field, rather than stored as something else.

On the way back BSON's 64-bit integers would come out as `bson.Int64`; CODEC_OPTIONS
decodes them as plain ints, so a record comes back with the types it went in with.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from bson.codec_options import CodecOptions, TypeDecoder, TypeRegistry
from bson.int64 import Int64

from backdrop.core.timeseries import as_utc, micros, to_instant

from .base import StorageError, record_size
from .mongo_pipeline import safe_key

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_SCALARS = (str, float, bool, type(None))


class _PlainInt(TypeDecoder):
    bson_type = Int64

    def transform_bson(self, value: Int64) -> int:
        return int(value)


CODEC_OPTIONS = CodecOptions(tz_aware=True, type_registry=TypeRegistry([_PlainInt()]))


def _stored_value(key: str, value: Any) -> Any:
    kind = type(value)
    if kind is datetime:
        return as_utc(value).isoformat()
    if kind is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise StorageError(f"Field {key!r} holds {value}, outside the 64-bit integers MongoDB can store")
        return value
    if kind in _SCALARS:
        return value
    raise StorageError(f"Field {key!r} holds a {kind.__name__}, which the MongoDB engine cannot store")


def _check_key(key: Any) -> None:
    if not safe_key(key):
        raise StorageError(f"Record key {key!r} cannot be a MongoDB field name")


def raw_form(record: dict) -> dict:
    """The record as a raw query returns it, each key and value checked."""
    raw = {}
    for key, value in record.items():
        _check_key(key)
        raw[key] = _stored_value(key, value)
    return raw


def _instant(value: Any) -> int | None:
    moment = to_instant(value)
    return None if moment is None else micros(moment)


def prepare(name: str, records: Sequence[dict]) -> list[dict]:
    """The batch's documents, in write order, without their write order `s` (taken inside the
    transaction): a later record with an `_id` already in the batch replaces the earlier
    one and takes its later position."""
    documents: dict[str, dict] = {}
    for record in records:
        raw = raw_form(record)
        record_id = raw["_id"]
        documents.pop(record_id, None)
        documents[record_id] = {"d": name, "i": record_id, "t": _instant(record.get("_timestamp")),
                                "u": _instant(record.get("_updated_at")), "z": record_size(raw), "r": raw}
    return list(documents.values())
