"""Validating and normalising incoming records (docs/write-api.md, "Record rules").

A batch is atomic, so validation never stops at the first problem: every stage runs over
the whole batch and the messages are gathered in the order clients have always seen them
(schema, auto ids, timestamp parsing, per-record checks). Only a batch with no message at
all is normalised for storage: dates become aware UTC datetimes, every record gets an
`_id`, the six period keys and `_updated_at`.

The per-record path is kept lean (the write API ingests tens of thousands of records a
second): compiled regexes, one compiled schema per data set (`record_schema`), cached date
parses and period keys (batches repeat the same timestamps and hours), key verdicts cached
per key tuple for the batch.
"""
from __future__ import annotations

import base64
import math
import os
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Sequence

from backdrop.core.fields import valid_field_name
from backdrop.core.record_schema import check_schema, compiled_schema
from backdrop.core.timeseries import HOUR, UTC, as_utc, period_keys

__all__ = ["BatchError", "InvalidDate", "check_schema", "key_problem", "parse_datetime", "prepare_batch",
           "prepare_patch", "timestamp_bounds"]

DATE_FIELDS = ("_timestamp", "_start_at", "_end_at")
INTERNAL_FIELDS = frozenset(("_id",) + DATE_FIELDS)
SERVER_FIELDS = frozenset(["_updated_at", *period_keys(datetime(2000, 1, 1, tzinfo=UTC))])
NOT_AN_OBJECT = "record must be a JSON object"

# Integers are stored exactly only inside the signed 64-bit range: MongoDB has no wider
# integer, SQLite none either, and a wider one would not survive every engine's sums.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# JSON scalars as a parser delivers them, plus the datetimes parsing puts in date fields.
_VALUE_TYPES = frozenset((str, int, float, bool, type(None), datetime))
_ID = re.compile(r"\S+")
_isfinite = math.isfinite

# ---------------------------------------------------------------------------- errors


MAX_REPORTED_PROBLEMS = 1000
"""Problems a BatchError keeps: a batch of a million bad records would otherwise answer a
body many times its own size (issue 14). `count` still says how many there were."""


class BatchError(Exception):
    """A batch that must not be stored, with the first problems found in it and their number.

    `messages` is the list clients have always read, in stage order; `errors` pairs each
    message with the batch position (from 0) of the record it concerns. Both hold at most
    MAX_REPORTED_PROBLEMS; `count` is the total, `capped` whether some were left out.
    """

    def __init__(self, problems: Sequence[tuple[int, str]]):
        kept = problems[:MAX_REPORTED_PROBLEMS]
        self.count = len(problems)
        self.capped = self.count > len(kept)
        self.messages: list[str] = [message for _, message in kept]
        self.errors: list[dict] = [{"index": index, "message": message}
                                   for index, message in kept]
        super().__init__("; ".join(self.messages))


class InvalidDate(ValueError):
    """A date field that could not be parsed.

    `shaped` tells the two original messages apart: True for a string laid out like a date
    whose fields cannot make one (`2013-02-30T00:00:00`, `31-11-12T00:00:00`), False for
    anything else (`invalid`, numbers, null).
    """

    def __init__(self, value: Any, field: str, shaped: bool):
        self.value = value
        self.field = field
        self.shaped = shaped
        super().__init__(date_message(value, field, shaped))


def date_message(value: Any, field: str, shaped: bool) -> str:
    """The client-facing text for a bad date in `field`: a date-shaped value is named, anything
    else is told the expected format."""
    if shaped:
        return f"{value} in the {field} field is not a valid date"
    article = "the " if field == "_timestamp" else ""
    return f"{article}{field} must be a date in the format yyyy-MM-ddT00:00:00Z"


# ---------------------------------------------------------------------------- dates

# What we accept: an ISO 8601 date, optionally followed (after `T`, `t` or a space) by
# hours:minutes, optional seconds and fraction, and an optional offset Z, ±HH, ±HH:MM, ±HHMM.
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?",
    re.ASCII)

# "Shaped like a date": three dash-separated groups of 1-4 digits, optionally followed by
# a time of colon-separated digit groups, a fraction and an offset. Such a string that we
# cannot parse has fields out of range or in a non-ISO order, so it "is not a valid date".
_DATE_SHAPED = re.compile(
    r"\d{1,4}-\d{1,4}-\d{1,4}"
    r"(?:[Tt ]\d{1,2}(?::\d{1,2}){0,2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{1,2}(?::?\d{2})?)?)?",
    re.ASCII)


def parse_datetime(value: Any, field: str = "_timestamp") -> datetime:
    """Parse a client's date to an aware UTC datetime, or raise InvalidDate.

    Accepted: ISO 8601 dates (midnight UTC) and date-times with `T`, `t` or a space between
    date and time, seconds and fraction optional, offset optional (`Z`, `±HH`, `±HH:MM`,
    `±HHMM`; none means UTC). No other layout is guessed at (the original's parser also
    took human formats, whose day/month order is ambiguous).

    On failure `InvalidDate.shaped` is True when the value is a string shaped like a date
    (three dash-separated digit groups of 1-4 digits, optionally a time of colon-separated
    digit groups with fraction and offset) — its fields are out of range or in the wrong
    order, and the message names the value; otherwise the message gives the expected
    format. Leap seconds (`:60`) are refused. `field` only chooses the message wording.
    """
    if type(value) is str:
        try:
            return _parse_text(value)
        except ValueError:
            raise InvalidDate(value, field, _DATE_SHAPED.fullmatch(value) is not None) from None
    raise InvalidDate(value, field, False)


@lru_cache(maxsize=8192)
def _parse_text(text: str) -> datetime:
    if _ISO_DATE.fullmatch(text) is None:
        raise ValueError(text)
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is UTC:  # the usual `Z` or `+00:00`
            return moment
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 has no UTC equivalent
        raise ValueError(text) from None


@lru_cache(maxsize=16384)
def _hour_keys(year: int, month: int, day: int, hour: int) -> dict[str, datetime]:
    """period_keys() of any instant of this UTC hour: they all have the same six keys.

    Keyed by the hour's fields, which is far cheaper than `replace`-ing each timestamp
    down to its hour; timestamps are always in UTC here (`_parse_text` makes them so).
    """
    keys = dict(_day_keys(year, month, day))
    keys[HOUR.start_at_key] = datetime(year, month, day, hour, tzinfo=UTC)
    return keys


@lru_cache(maxsize=4096)
def _day_keys(year: int, month: int, day: int) -> dict[str, datetime]:
    """Day and coarser keys are the same for every hour of a day."""
    return period_keys(datetime(year, month, day, tzinfo=UTC))


def timestamp_bounds(records: Sequence[dict]) -> tuple[datetime, datetime] | None:
    """Earliest and latest `_timestamp` of normalised records, for the transforms a write
    triggers; records without one are left out, None if none has one."""
    stamps = [r["_timestamp"] for r in records if isinstance(r.get("_timestamp"), datetime)]
    if not stamps:
        return None
    return min(stamps), max(stamps)


# ---------------------------------------------------------------------------- auto ids

def _text(value: Any) -> str:
    """Values as the original's Python `str()` wrote them: `True`, `None`, `1`, `0.5`."""
    return value if type(value) is str else str(value)


def _apply_auto_id(record: dict, fields: Sequence[str]) -> list[str]:
    """Set `_id` from the listed fields' values as received; return the missing fields."""
    missing = [name for name in fields if name not in record]
    if not missing:
        text = ".".join(_text(record[name]) for name in fields)
        record["_id"] = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")
    return missing


def _missing_ids_message(missing: Sequence[str]) -> str:
    return "The following required id fields are missing: " + ", ".join(missing)


# ---------------------------------------------------------------------------- checks

def _parse_dates(record: dict, index: int, messages: list) -> None:
    """Replace each date field by its UTC datetime; a failure leaves the value as it was,
    so rules d–f report it again."""
    for field in DATE_FIELDS:
        if field in record:
            value = record[field]
            if type(value) is str:  # the usual good date, without parse_datetime's wrapping
                try:
                    record[field] = _parse_text(value)
                    continue
                except ValueError:
                    pass
            try:
                record[field] = parse_datetime(value, field)
            except InvalidDate as error:
                messages.append((index, str(error)))


@lru_cache(maxsize=4096)
def key_problem(key: str) -> str | None:
    """Why a record may not carry `key` (the message a client reads), or None if it may.

    Public because transform options name output keys: they are judged by this same rule
    when a transform is saved (core/transform_tasks.py)."""
    if not valid_field_name(key):
        return f"{key} is not a valid key"
    if key[0] == "_" and key not in INTERNAL_FIELDS:
        return f"{key} is not a recognised internal field"
    return None


def _key_plan(keys: tuple) -> tuple[bool, tuple[str, ...]] | None:
    """For a record with these keys: None if one of them is refused, else whether it has
    an `_id` and which date fields it has, the values that need more than a type check."""
    if any(key_problem(key) is not None for key in keys):
        return None
    return "_id" in keys, tuple(key for key in keys if key in DATE_FIELDS)


def _record_problem(record: dict, plans: dict) -> str | None:
    """The first failing per-record rule, keys examined in the record's own order.

    Records of a batch share their keys, so the keys are judged once per key tuple
    (`plans`) and a good record costs only a check of its values' types. Any doubt sends
    the record to `_first_problem`, which finds the message in the exact rule order.
    """
    keys = tuple(record)
    try:
        plan = plans[keys]
    except KeyError:
        plan = plans[keys] = _key_plan(keys)
    if plan is None:
        return _first_problem(record)
    for value in record.values():
        kind = type(value)
        if kind not in _VALUE_TYPES or (kind is float and not _isfinite(value)) or (
                kind is int and not INT64_MIN <= value <= INT64_MAX):
            return _first_problem(record)
    has_id, dates = plan
    if has_id:
        value = record["_id"]
        if type(value) is not str or _ID.fullmatch(value) is None:
            return _first_problem(record)
    for field in dates:
        if type(record[field]) is not datetime:
            return _first_problem(record)
    return None


def _first_problem(record: dict) -> str | None:
    """The per-record rules in order for each key in turn (a valid key name, a known internal
    key, a scalar value, then the date or `_id` rule, or for other keys the integer range);
    the first failure's message.

    Non-finite floats cannot come back out as JSON, so they count as invalid values. An
    integer outside the 64-bit range would be stored changed (as a double) or not at all,
    so it is refused rather than altered; internal keys keep their own messages.
    """
    for key, value in record.items():
        verdict = key_problem(key)
        if verdict is not None:
            return verdict
        kind = type(value)
        if kind not in _VALUE_TYPES or (kind is float and not math.isfinite(value)):
            return f"{key} has an invalid value"
        if key in INTERNAL_FIELDS:
            if key == "_id":
                if kind is not str or _ID.fullmatch(value) is None:
                    return f'_id "{_text(value)}" is not a valid id'
            elif kind is not datetime:
                return f"{key} is not a valid datetime object"
        elif kind is int and not INT64_MIN <= value <= INT64_MAX:
            return integer_range_message(key)
    return None


def integer_range_message(key: str) -> str:
    """What a client reads for an integer no engine can store exactly, and what to send instead."""
    return (f"{key} has an integer outside the 64-bit range: integers must lie between "
            f"{INT64_MIN} and {INT64_MAX} (send a larger number as a double, such as 1e30, "
            f"or as a string)")


# ---------------------------------------------------------------------------- batches

def prepare_batch(items: list, *, auto_ids: Sequence[str] | None, schema: dict | None,
                  now: datetime, keep_ids: bool = False) -> list[dict]:
    """Validate a parsed JSON list of records and return them normalised for storage.

    Raises BatchError listing every problem, stage by stage; items that are not JSON
    objects are reported among the per-record checks and skip the other stages.
    `keep_ids` (imports and syncs, core/transfer.py): a record that brings its own `_id`
    keeps it instead of getting the auto id, which the source computed once already, from
    the `_timestamp` as then sent (the export writes it in another form).
    """
    compiled = compiled_schema(schema) if schema is not None else None
    id_fields = tuple(auto_ids) if auto_ids else ()
    from_schema: list = []
    from_ids: list = []
    from_dates: list = []
    from_checks: list = []
    plans: dict = {}
    records = []
    for index, item in enumerate(items):
        if type(item) is not dict:
            from_checks.append((index, NOT_AN_OBJECT))
            continue
        if compiled is not None:
            from_schema.extend((index, m) for m in compiled.messages(item))
        record = dict(item)
        if id_fields and not (keep_ids and "_id" in record):
            missing = _apply_auto_id(record, id_fields)
            if missing and not from_ids:
                from_ids.append((index, _missing_ids_message(missing)))
        _parse_dates(record, index, from_dates)
        problem = _record_problem(record, plans)
        if problem is not None:
            from_checks.append((index, problem))
        records.append(record)
    problems = from_schema + from_ids + from_dates + from_checks
    if problems:
        raise BatchError(problems)
    _add_fresh_ids(records)
    _finish(records, as_utc(now))
    return records


def _add_fresh_ids(records: list[dict]) -> None:
    """Random version-4 UUIDs in hex (as `uuid.uuid4().hex`), drawn for the whole batch
    at once: one system call instead of one UUID object per record."""
    anonymous = [record for record in records if "_id" not in record]
    pool = os.urandom(16 * len(anonymous))
    for position, record in enumerate(anonymous):
        raw = bytearray(pool[16 * position:16 * position + 16])
        raw[6] = raw[6] & 0x0F | 0x40  # version 4
        raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
        record["_id"] = raw.hex()


def _finish(records: list[dict], updated_at: datetime) -> None:
    """Add the period keys and `_updated_at`; one loop for the batch, it runs per record."""
    for record in records:
        timestamp = record.get("_timestamp")
        if timestamp is not None:
            record.update(_hour_keys(timestamp.year, timestamp.month, timestamp.day,
                                     timestamp.hour))
        record["_updated_at"] = updated_at


def prepare_patch(stored: dict, changes: dict, *, schema: dict | None,
                  now: datetime) -> dict:
    """Merge `changes` into a stored record (as a raw query returns it) and normalise the
    result exactly as POST would, keeping the stored `_id`.

    Server-added keys are dropped before the merge and recomputed; auto ids are not
    recomputed, because the record's identity is the URL it was patched through.
    """
    if type(changes) is not dict:
        raise BatchError([(0, NOT_AN_OBJECT)])
    merged = {key: value for key, value in stored.items() if key not in SERVER_FIELDS}
    merged.update(changes)
    if "_id" in stored:
        merged["_id"] = stored["_id"]
    return prepare_batch([merged], auto_ids=None, schema=schema, now=now)[0]
