"""Moving a data set's records in and out as files and streams: export, import, sync.

Three rules shape everything here:

* **Never the whole data set in memory.** Records leave as the engine streams a raw query
  (`Storage.find`: SQLite's cursor, a PostgreSQL server-side cursor fetching 1000 rows at a
  time, a MongoDB cursor), in write order, in one query and one snapshot; they arrive in
  batches of a fixed size. (Keyset pages, as the read API's `page_token` walks, would hold
  no cursor between pages, but on PostgreSQL each page sorts every record after it: an
  export of 1,000,000 records had not finished after 4 minutes, where SQLite took 39 s.)
* **One way in.** Imported and synced records go through DataSet.store, the write API's
  own path: validation, auto ids, the schema, a batch stored whole or not at all, and the
  outbox entry that requests the data set's transforms. One difference: a record that
  brings an `_id` keeps it even where the data set has auto ids, so an exported record
  comes back under its own id.
* **A file holds what a client may post.** The keys the server computes (`_updated_at` and
  the six period keys, records.SERVER_FIELDS) are left out of exports and dropped from
  imports, so an export imports anywhere, and a raw read's answer imports too.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence, TextIO

from backdrop.core.data_set import DataSet
from backdrop.core.records import SERVER_FIELDS, BatchError
from backdrop.core.registry import DataSetConfig
from backdrop.core.results import csv_cell, to_csv
from backdrop.core.storage.base import RecordQuery, Storage, TimeRange

FORMATS = ("ndjson", "csv", "json")


# ---------------------------------------------------------------------------- reading out


def records_of(storage: Storage, name: str, time: TimeRange = TimeRange()) -> Iterator[dict]:
    """Every record of `name` in `time`, in write order, as the engine streams them."""
    return storage.find(name, RecordQuery(time=time))


def portable(record: dict) -> dict:
    """A stored record as a client would post it: without the keys the server computes."""
    return {key: value for key, value in record.items() if key not in SERVER_FIELDS}


def ndjson_line(value: Any) -> str:
    """One JSON value on one line (no spaces, non-ASCII kept), newline included."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def ndjson_lines(records: Iterable[dict]) -> Iterator[str]:
    for record in records:
        yield ndjson_line(portable(record))


def csv_lines(records: Iterable[dict], header: Sequence[str]) -> Iterator[str]:
    """The read API's CSV (`format=csv`): the given header, cells written as the JSON answer
    writes them, null and missing keys as empty cells, `\\r\\n` line ends."""
    out = _LineBuffer()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    yield out.take()
    for record in records:
        record = portable(record)
        writer.writerow([csv_cell(record[key]) if key in record else "" for key in header])
        yield out.take()


def csv_header(records: Iterable[dict]) -> list[str]:
    """The sorted union of the records' keys: what a CSV export needs before its first row,
    hence a first pass over the records (it keeps only the keys)."""
    keys: set[str] = set()
    for record in records:
        keys.update(record)
    return sorted(keys - SERVER_FIELDS)


class _LineBuffer:
    """A write target for csv.writer that hands back what was written since the last take."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self._parts = "".join(self._parts), []
        return text


# ---------------------------------------------------------------------------- reading in


@dataclass(frozen=True)
class Item:
    """One record read from a file, and where it was (`line 12`, `item 3`) for messages.

    `problem` is set when the text could not even be read as a record (not JSON)."""

    where: str
    value: Any = None
    problem: str | None = None


def ndjson_items(lines: Iterable[str]) -> Iterator[Item]:
    """One item per non-blank line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield Item(f"line {number}", json.loads(line))
        except json.JSONDecodeError as error:
            yield Item(f"line {number}", problem=f"not valid JSON ({error.msg})")


def json_items(text: str) -> Iterator[Item]:
    """A JSON list of records, or a read answer `{"data": [...]}`; ValueError otherwise.
    (A JSON document is parsed whole: use NDJSON for large files.)"""
    document = json.loads(text)
    items = document.get("data") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ValueError('expected a JSON list of records or {"data": [...]}')
    for number, value in enumerate(items, start=1):
        yield Item(f"item {number}", value)


_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_BOOLEANS = {"true": True, "false": False}


def csv_value(cell: str) -> Any:
    """A CSV cell as a JSON value: JSON numbers and `true`/`false` are recognised (as the CSV
    export writes them), everything else stays text. An empty cell has no value."""
    if _INTEGER.fullmatch(cell):
        return int(cell)
    if _NUMBER.fullmatch(cell):
        number = float(cell)
        return number if number not in (float("inf"), float("-inf")) else cell
    return _BOOLEANS.get(cell, cell)


def csv_items(handle: TextIO) -> Iterator[Item]:
    """One record per CSV row under a header row: columns are keys, empty cells are left out
    (so a CSV export, where null and a missing key are both empty, imports without nulls)."""
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    for row in reader:
        if not any(row):
            continue
        where = f"line {reader.line_num}"
        if len(row) != len(header):
            yield Item(where, problem=f"has {len(row)} cells, the header {len(header)}")
            continue
        yield Item(where, {key: csv_value(cell) for key, cell in zip(header, row) if cell != ""})


# ---------------------------------------------------------------------------- storing


@dataclass
class Outcome:
    """What an import did: records stored and rejected, and every problem of the rejected
    batches, each naming where its record was in the file."""

    stored: int = 0
    rejected: int = 0
    batches_rejected: int = 0
    problems: list[str] = field(default_factory=list)


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def store_batch(data_set: DataSet, batch: Sequence[Item], outcome: Outcome) -> None:
    """Store one batch whole or not at all, as a POST would; a refusal is counted in
    `outcome` with every problem found (unreadable items are problems of their batch)."""
    unreadable = [f"{item.where}: {item.problem}" for item in batch if item.problem is not None]
    problems = unreadable
    if not unreadable:
        values = [portable(item.value) if isinstance(item.value, dict) else item.value for item in batch]
        try:
            data_set.store(values, keep_ids=True)
        except BatchError as error:
            problems = [f"{batch[problem['index']].where}: {problem['message']}" for problem in error.errors]
    if problems:
        outcome.rejected += len(batch)
        outcome.batches_rejected += 1
        outcome.problems.extend(problems)
    else:
        outcome.stored += len(batch)


def store_items(data_set: DataSet, items: Iterable[Item], batch_size: int,
                outcome: Outcome | None = None) -> Outcome:
    """Store `items` in batches of `batch_size`, each whole or not at all."""
    outcome = outcome or Outcome()
    for batch in _batches(items, batch_size):
        store_batch(data_set, batch, outcome)
    return outcome


# ---------------------------------------------------------------------------- a data set whole

# The write app's `GET /data-sets/NAME/export` (admin token only) and `backdrop sync`
# speak this: a first line `{"configuration": {...}}`, one record a line, and a last line
# `{"end": {"records": N}}`. The
# configuration is the admin API's, plus the salted token hash, so a copy accepts the same
# token as its source (as `backdrop replicate` and transform outputs do); the token itself
# is never stored anywhere to be sent.
CONFIGURATION = "configuration"
END = "end"


def data_set_lines(storage: Storage, config: DataSetConfig) -> Iterator[str]:
    """A data set's configuration line, its records, and an end line counting them, as NDJSON.

    Neither first nor last line can be a record (a record's values are never objects); the
    end line lets a reader tell a complete stream from one cut short, since by the time a
    database error could interrupt it the answer's 200 has long been sent.
    """
    yield ndjson_line({CONFIGURATION: {**config.public_dict(), "bearer_token_hash": config.bearer_token_hash}})
    count = 0
    for line in ndjson_lines(records_of(storage, config.name)):
        count += 1
        yield line
    yield ndjson_line({END: {"records": count}})


class NotAnExport(ValueError):
    """The stream does not start with a configuration line."""


def read_configuration(first_line: str) -> tuple[dict, str | None]:
    """The configuration body (as `POST /data-sets` takes it) and the token hash of an
    export's first line; NotAnExport for anything else."""
    try:
        document = json.loads(first_line)
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get(CONFIGURATION), dict):
        raise NotAnExport('expected a first line {"configuration": {...}}')
    body = dict(document[CONFIGURATION])
    body.pop("has_bearer_token", None)
    return body, body.pop("bearer_token_hash", None)


def end_count(line: str) -> int | None:
    """The record count of an export's end line; None when `line` is not one."""
    if not line.startswith('{"end"'):
        return None
    try:
        document = json.loads(line)
    except json.JSONDecodeError:
        return None
    if isinstance(document, dict) and list(document) == [END] and isinstance(document[END], dict):
        count = document[END].get("records")
        return count if isinstance(count, int) else None
    return None


# ---------------------------------------------------------------------------- saved answers


def answer_csv(text: str) -> tuple[str, int]:
    """A saved read-API answer (`{"data": [...]}` of flat rows, or a JSON list of them) as
    the CSV `format=csv` would give, and its number of rows; ValueError for anything else."""
    document = json.loads(text)
    rows = document.get("data") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError('expected {"data": [ {...}, ... ]} or a JSON list of objects')
    if any(isinstance(value, (list, dict)) for row in rows for value in row.values()):
        raise ValueError("rows hold nested values: save a raw or flatten=true response instead")
    return to_csv(rows), len(rows)
