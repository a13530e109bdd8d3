"""Paging through raw queries: page tokens, and where the next page starts.

A token is the position of the last record a page returned (its `_timestamp` and `_id`),
so the next page is "the records after it" in the paging order (storage/base.Page): a
keyset, not an offset, which stays right however many records are written meanwhile. The
token is opaque to clients; inside it is URL-safe base64 (no padding) of the JSON
`[microseconds since the epoch or null, id]`. It carries nothing secret and needs no
signature: a forged token is only another starting point in a data set the client may
read anyway.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from backdrop.core.storage.base import Position
from backdrop.core.timeseries import as_utc, from_micros, micros, to_instant

MALFORMED = "page_token is malformed: use an empty page_token for the first page, then the one in each next link"


class MalformedToken(ValueError):
    pass


def encode(position: Position) -> str:
    stamp = None if position.timestamp is None else micros(as_utc(position.timestamp))
    text = json.dumps([stamp, position.id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode(token: str) -> Position | None:
    """The position a token stands for; None for the empty token (the first page)."""
    if token == "":
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        stamp, record_id = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        if stamp is not None and type(stamp) is not int or type(record_id) is not str:
            raise MalformedToken(token)
        return Position(None if stamp is None else from_micros(stamp), record_id)
    except (binascii.Error, UnicodeError, ValueError, TypeError, OverflowError):
        raise MalformedToken(token) from None


def position_of(record: dict) -> Position:
    """Where a record returned by a raw query stands in the paging order."""
    return Position(to_instant(record.get("_timestamp")), record["_id"])


@dataclass(frozen=True)
class PageOfRecords:
    """One page: its records and, while more remain, the token of the next page."""

    records: list[dict]
    next_token: str | None


def cut(records: list[dict], limit: int) -> PageOfRecords:
    """A page from `limit` + 1 records asked for: the extra one only says that more remain."""
    if len(records) <= limit:
        return PageOfRecords(records, None)
    kept = records[:limit]
    return PageOfRecords(kept, encode(position_of(kept[-1])))
