"""`backdrop` commands that move data: export, import, sync, replicate, json-to-csv.

Kept apart from cli.py (administration) and registered on its `main` group by `register`.
The rules live in the core (core/transfer.py, core/replication.py); here are only files,
progress bars and messages. As everywhere in the command, a failure is one line and a
non-zero exit, never a traceback. Progress bars go to standard error, and only when it is
a terminal, so redirected output and cron mail stay clean.
"""
from __future__ import annotations

import csv
import http.client
import json
import os
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager, nullcontext
from typing import Iterable, Iterator, TextIO
from urllib.parse import quote

import click

from backdrop.core import registry, transfer
from backdrop.core.data_set import DataSet
from backdrop.core.replication import UnknownDataSets, replicate as replicate_storage
from backdrop.core.storage import UnsupportedDatabase, open_storage
from backdrop.core.storage.base import StorageError, TimeRange
from backdrop.core.storage.engines import engine_for_url

MAX_PROBLEMS_SHOWN = 20


def _storage():
    """cli.py's configured engine (imported late: cli.py imports this module to register it)."""
    from backdrop.cli import _storage as configured

    return configured()


def _instant(ctx, param, value):
    from backdrop.cli import _instant as parsed

    return parsed(ctx, param, value)


def _progress(items: Iterable, label: str):
    """A click progress bar over `items` on standard error when it is a terminal; else `items` as they are."""
    if sys.stderr.isatty():
        return click.progressbar(items, label=label, file=sys.stderr, show_pos=True)
    return nullcontext(items)


@contextmanager
def _output(path: str) -> Iterator[TextIO]:
    """Standard output for `-`, else the file (UTF-8, line ends as written: CSV keeps `\\r\\n`)."""
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = open(path, "w", encoding="utf-8", newline="")
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    with handle:
        yield handle


@contextmanager
def _input(path: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdin
        return
    try:
        handle = open(path, encoding="utf-8", newline="")
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror}") from None
    with handle:
        yield handle


# ---------------------------------------------------------------------------- export


@click.command("export")
@click.argument("name")
@click.option("--start", callback=_instant, help="Only records with _timestamp at or after this (ISO 8601).")
@click.option("--end", callback=_instant, help="Only records with _timestamp before this (ISO 8601).")
@click.option("--format", "format_", type=click.Choice(["ndjson", "csv"]), default="ndjson", show_default=True)
@click.option("-o", "--output", default="-", show_default=True, help="File to write; - for standard output.")
def export(name: str, start, end, format_: str, output: str) -> None:
    """Write a data set's records, one JSON object a line (or CSV), streamed from the database.

    Records are written as a client would post them (without `_updated_at` and the period
    keys the server computes), so the file imports with `backdrop import`. With --start or
    --end, records without a _timestamp are left out. CSV reads the records twice: once
    for the header (the sorted union of keys), once for the rows (a key first written in
    between has no column).
    """
    time = TimeRange(start, end)
    with _storage() as storage:
        registry.require(storage, name)
        with _output(output) as out:
            if format_ == "csv":
                header = transfer.csv_header(transfer.records_of(storage, name, time))
                lines = transfer.csv_lines(transfer.records_of(storage, name, time), header)
            else:
                lines = transfer.ndjson_lines(transfer.records_of(storage, name, time))
            written = _write_lines(out, lines, f"exporting {name}")
    click.echo(f"exported {max(written - (format_ == 'csv'), 0)} records of {name}", err=True)


def _write_lines(out: TextIO, lines: Iterable[str], label: str) -> int:
    count = 0
    with _progress(lines, label) as shown:
        for line in shown:
            out.write(line)
            count += 1
    return count


# ---------------------------------------------------------------------------- import


def _format_of(path: str, given: str | None) -> str:
    if given:
        return given
    return {".csv": "csv", ".json": "json"}.get(os.path.splitext(path)[1].lower(), "ndjson")


def _items(handle: TextIO, format_: str) -> Iterator[transfer.Item]:
    if format_ == "csv":
        return transfer.csv_items(handle)
    if format_ == "json":
        return transfer.json_items(handle.read())
    return transfer.ndjson_items(handle)


def _report(outcome: transfer.Outcome, name: str) -> None:
    """The summary on standard output, the problems on standard error."""
    click.echo(f"{name}: stored {outcome.stored} records, rejected {outcome.rejected}"
               f" ({outcome.batches_rejected} batches)")
    for problem in outcome.problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"  {problem}", err=True)
    if len(outcome.problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"  … and {len(outcome.problems) - MAX_PROBLEMS_SHOWN} more problems", err=True)


def _fail_if_rejected(outcomes: dict[str, transfer.Outcome]) -> None:
    """Exit 1, in one line, when any batch was refused."""
    refused = [f"{outcome.batches_rejected} batches of {name}" for name, outcome in outcomes.items()
               if outcome.batches_rejected]
    if refused:
        raise click.ClickException(f"{', '.join(refused)} were rejected and not stored")


@click.command("import")
@click.argument("name")
@click.argument("file")
@click.option("--format", "format_", type=click.Choice(transfer.FORMATS),
              help="Default: from FILE's extension (.csv, .json), else ndjson.")
@click.option("--batch-size", type=click.IntRange(1, 100000), default=1000, show_default=True,
              help="Records per batch; each batch is stored whole or not at all.")
def import_(name: str, file: str, format_: str | None, batch_size: int) -> None:
    """Store records from FILE (- for standard input) into a data set, as the write API would.

    Each batch is validated and stored like a POST (record rules, auto ids, the data set's
    schema, whole or not at all) and requests the data set's transforms through the outbox,
    which the worker's relay sends. ndjson: one JSON object a line. json: a JSON list, or a
    read answer {"data": [...]}. csv: a header row of keys; cells that are JSON numbers or
    true/false become numbers and booleans, empty cells are left out, _timestamp is parsed
    as the write API parses it. `_updated_at` and the period keys in a file are ignored.
    Exits 1 when any batch was rejected (the others are stored).
    """
    format_ = _format_of(file, format_)
    with _storage() as storage:
        data_set = DataSet(storage, registry.require(storage, name), request_transforms=True)
        with _input(file) as handle:
            try:
                with _progress(_items(handle, format_), f"importing into {name}") as items:
                    outcome = transfer.store_items(data_set, items, batch_size)
            except (ValueError, csv.Error) as error:  # not JSON at all, not UTF-8, a broken CSV
                raise click.ClickException(f"{file} is not valid {format_}: {error}") from None
    _report(outcome, name)
    _fail_if_rejected({name: outcome})


# ---------------------------------------------------------------------------- sync


def _write_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise click.ClickException(f"--from must be the other Backdrop's write app URL, such as"
                                   f" http://localhost:3039 (got {value})")
    return value.rstrip("/")


def _export_stream(base: str, token: str, name: str):
    """The open answer of the other Backdrop's export route; one-line errors for every refusal."""
    request = urllib.request.Request(f"{base}/data-sets/{quote(name, safe='')}/export",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Accept": "application/x-ndjson"})
    try:
        return urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        raise click.ClickException(f"{base} answered {error.code} for {name}: {_message(error)}") from None
    except (urllib.error.URLError, OSError) as error:
        raise click.ClickException(f"cannot reach {base}: {getattr(error, 'reason', error)}") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read())["message"]
    except (ValueError, KeyError, TypeError, OSError):
        return error.reason


def _sync_one(storage, response, name: str, batch_size: int) -> transfer.Outcome:
    """Copy one data set from the open export answer; one line when reading it fails midway
    (a connection reset, a chunked answer cut short when the other side's worker was ended)."""
    try:
        return _copy_export(storage, response, name, batch_size)
    except (OSError, http.client.HTTPException, UnicodeDecodeError) as error:
        raise click.ClickException(f"reading the export of {name} failed ({error}): the copy is partial;"
                                   f" run sync again") from None


def _copy_export(storage, response, name: str, batch_size: int) -> transfer.Outcome:
    lines = (raw.decode("utf-8") for raw in response)
    try:
        body, token_hash = transfer.read_configuration(next(lines, ""))
    except transfer.NotAnExport as error:
        raise click.ClickException(f"the answer for {name} is not an export: {error}") from None
    config, _ = registry.create_or_replace(storage, body, token_hash=token_hash)
    data_set = DataSet(storage, config, request_transforms=True)
    data_set.empty()
    ended: list[int] = []

    def records() -> Iterator[str]:
        for line in lines:
            count = transfer.end_count(line)
            if count is not None:
                ended.append(count)
                return
            yield line

    with _progress(transfer.ndjson_items(records()), f"syncing {name}") as items:
        outcome = transfer.store_items(data_set, items, batch_size)
    if not ended:
        raise click.ClickException(f"the export of {name} ended early: {outcome.stored} records copied,"
                                   f" the copy is partial; run sync again")
    return outcome


@click.command("sync")
@click.option("--from", "source", required=True,
              help="The other Backdrop's write app, such as https://write.example.org.")
@click.option("--admin-token", required=True, help="The other Backdrop's BACKDROP_ADMIN_TOKEN.")
@click.option("--batch-size", type=click.IntRange(1, 100000), default=1000, show_default=True)
@click.argument("names", nargs=-1, required=True)
def sync(source: str, admin_token: str, batch_size: int, names: tuple[str, ...]) -> None:
    """Copy data sets (configuration and records) from another running Backdrop.

    Reads each from the other write app's GET /data-sets/NAME/export (admin token) as a
    stream, creates or replaces the configuration here (with the source's token hash, so
    the same token writes to the copy), empties the data set and stores the records in
    batches, each whole, through the write API's path. A sync interrupted midway leaves
    that data set partial: run it again.
    """
    source = _write_url(source)
    outcomes: dict[str, transfer.Outcome] = {}
    with _storage() as storage:
        for name in names:
            with _export_stream(source, admin_token, name) as response:
                outcomes[name] = _sync_one(storage, response, name, batch_size)
            _report(outcomes[name], name)
    _fail_if_rejected(outcomes)


# ---------------------------------------------------------------------------- replicate


def _check_database_url(value: str, role: str) -> None:
    """A database URL, and for the source on SQLite a file that exists (opening a missing
    one would create an empty database and copy nothing). One-line errors."""
    if "://" not in value:
        raise click.ClickException(f"{role} must be a database URL, not a file path: for this file use"
                                   f" sqlite:///{value}")
    try:
        engine = engine_for_url(value).name
    except UnsupportedDatabase as error:
        raise click.ClickException(f"{role}: {error}") from None
    if role == "SOURCE" and engine == "sqlite":
        path = value[len("sqlite:///"):].split("?", 1)[0]
        if not os.path.isfile(path):
            raise click.ClickException(f"SOURCE: no SQLite database at {os.path.abspath(path)}")


@click.command("replicate")
@click.argument("source")
@click.argument("target")
@click.option("--only", multiple=True, help="Copy only this data set (repeatable).")
@click.option("--exclude", multiple=True, help="Skip this data set (repeatable).")
def replicate(source: str, target: str, only: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Copy data sets, transforms and dashboards from the database SOURCE to TARGET.

    SOURCE and TARGET are database URLs (sqlite:///relative/path, sqlite:////absolute/path,
    postgresql://…, mongodb://…). Each copied data set's configuration (with its token
    hash) and records replace those of the same name in TARGET, records exactly as stored.
    A copy interrupted midway leaves a data set partial: run it again.
    """
    _check_database_url(source, "SOURCE")
    _check_database_url(target, "TARGET")
    try:
        with _opened(source) as source_storage, _opened(target) as target_storage:
            replicate_storage(source_storage, target_storage, set(only), set(exclude), say=click.echo)
    except UnknownDataSets as error:
        raise click.ClickException(f"--only: {error}") from None
    except (registry.RegistryError, StorageError) as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def _opened(url: str):
    storage = open_storage(url)
    try:
        yield storage
    finally:
        storage.close()


# ---------------------------------------------------------------------------- json-to-csv


@click.command("json-to-csv")
@click.argument("answer", default="-")
@click.argument("output", default="-")
def json_to_csv(answer: str, output: str) -> None:
    """Turn a saved read-API answer ({"data": [...]} of flat rows) into CSV.

    The same CSV as format=csv would give (sorted union of keys as header), for answers
    saved earlier or read from an unpublished data set, where the API answers JSON only.
    ANSWER and OUTPUT default to - (standard input and output).
    """
    with _input(answer) as handle:
        try:
            text, count = transfer.answer_csv(handle.read())
        except ValueError as error:
            raise click.ClickException(f"{answer}: {error}") from None
    with _output(output) as out:
        out.write(text)
    click.echo(f"wrote {count} rows to {'standard output' if output == '-' else output}", err=True)


COMMANDS = (export, import_, sync, replicate, json_to_csv)


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
