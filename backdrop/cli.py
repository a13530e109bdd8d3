"""The `backdrop` command: administration on the database of BACKDROP_DATABASE_URL.

Every command goes through the same core functions as the administration API, so a
configuration made here obeys exactly the rules of `POST /data-sets`. Errors end with a
one-line message and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from contextlib import contextmanager
from typing import Any, Iterator

import click

from backdrop.core import dashboards, freshness, registry, tokens, transform_runs, transforms
from backdrop.core.data_set import DataSet, RecordNotFound
from backdrop.core.records import InvalidDate, parse_datetime
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import SchemaError, StorageError
from backdrop.core.storage.migrations import listed, start_up
from backdrop.settings import Settings, SettingsError


@contextmanager
def _storage(check_schema: bool = True) -> Iterator:
    """The configured engine, closed afterwards; configuration problems become clean errors.

    The schema is checked first, as every process does at start-up (`migrate` alone skips
    that: it is the command that deals with the schema, whatever BACKDROP_AUTO_MIGRATE says).
    """
    try:
        settings = Settings.from_env()
        tokens.set_cost(settings.token_hash_cost)
        storage = open_storage(settings.database_url, pool_size=1, auto_migrate=settings.auto_migrate)
    except (SettingsError, StorageError) as error:
        raise click.ClickException(str(error)) from None
    try:
        if check_schema:
            start_up(storage, settings.auto_migrate)
        yield storage
    except (registry.RegistryError, SchemaError) as error:
        raise click.ClickException(str(error)) from None
    except StorageError as error:
        raise click.ClickException(f"database error: {error}") from None
    finally:
        storage.close()


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Administer Backdrop: data sets, transforms, dashboards; run transforms; migrate the schema.

    Works directly on the database named by BACKDROP_DATABASE_URL (see the README).
    """


@main.command("migrate")
@click.option("--check", is_flag=True,
              help="Change nothing: exit 0 when the schema is up to date, 1 listing what is pending.")
def migrate(check: bool) -> None:
    """Apply the database's pending schema migrations, whatever BACKDROP_AUTO_MIGRATE says."""
    with _storage(check_schema=False) as storage:
        if not check:
            click.echo(storage.migrate().summary())
            return
        pending = storage.pending_migrations()
        if pending:
            raise click.ClickException(
                f"schema is at version {pending[0].version - 1}, {len(pending)} migration(s)"
                f" pending: {listed(pending)}; run `backdrop migrate`")
        click.echo(f"schema is up to date at version {storage.schema_version()}")


@main.group("data-sets")
def data_sets() -> None:
    """Create, list, show, delete and load data-set configurations."""


def _json_option(ctx, param, value: str | None):
    """`--schema` takes inline JSON, `@file.json` or `null`."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        try:
            with open(value[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise click.BadParameter(f"cannot read {value[1:]}: {error.strerror}") from None
    try:
        return ("set", json.loads(text))
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not valid JSON: {error}") from None


def _max_age(ctx, param, value: str | None):
    if value is None:
        return None
    if value.lower() in ("null", "none"):
        return ("set", None)
    try:
        return ("set", int(value))
    except ValueError:
        raise click.BadParameter("a whole number of seconds, or 'null'") from None


def _auto_ids(ctx, param, value: str | None):
    if value is None:
        return None
    if value.lower() in ("null", "none", ""):
        return ("set", None)
    return ("set", [name.strip() for name in value.split(",")])


@data_sets.command("create")
@click.option("--data-group", required=True, help="First segment of /data/<group>/<type>.")
@click.option("--data-type", required=True, help="Second segment of /data/<group>/<type>.")
@click.option("--name", help="Data-set name (default <data_group>_<data_type> with - turned into _).")
@click.option("--bearer-token", help="Token writers must present (default: none, every write refused).")
@click.option("--raw-queries-allowed/--no-raw-queries-allowed", default=None, help="Default: not allowed.")
@click.option("--queryable/--not-queryable", default=None, help="Default: queryable.")
@click.option("--published/--unpublished", default=None, help="Default: published.")
@click.option("--realtime/--not-realtime", default=None, help="Default: not realtime.")
@click.option("--max-age-expected", callback=_max_age, help="Seconds, or 'null' (default 2678400).")
@click.option("--capped-size", type=click.IntRange(min=0), help="Byte budget of the records (default 0: uncapped).")
@click.option("--auto-ids", callback=_auto_ids, help="Comma-separated field names the _id is made from.")
@click.option("--schema", callback=_json_option, help="JSON Schema (draft 4): inline JSON, @file.json or null.")
@click.option("--upload-format", type=click.Choice(["csv", "excel", ""]), help="Default csv.")
@click.option("--upload-filter", "upload_filters", multiple=True, help="Repeatable.")
def create_data_set(**options) -> None:
    """Create a data set; prints the stored configuration."""
    body = _body(options)
    with _storage() as storage:
        _echo_json(registry.create(storage, body).public_dict())


def _body(options: dict) -> dict:
    """The configuration a client would POST: only the options that were given."""
    body = {}
    for key, value in options.items():
        if key == "upload_filters":
            if value:
                body[key] = list(value)
        elif isinstance(value, tuple):  # ("set", value) from a callback: null is a real value
            body[key] = value[1]
        elif value is not None:
            body[key] = value
    return body


@data_sets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print every configuration as JSON.")
def list_data_sets(as_json: bool) -> None:
    """List data sets, sorted by name."""
    with _storage() as storage:
        configs = registry.list_all(storage)
    if as_json:
        _echo_json([config.public_dict() for config in configs])
        return
    for config in configs:
        click.echo(f"{config.name}\t{config.data_group}/{config.data_type}")


@data_sets.command("show")
@click.argument("name")
def show_data_set(name: str) -> None:
    """Print one configuration as JSON."""
    with _storage() as storage:
        _echo_json(registry.require(storage, name).public_dict())


@data_sets.command("delete")
@click.argument("name")
def delete_data_set(name: str) -> None:
    """Delete a data set: its configuration and all its records."""
    with _storage() as storage:
        registry.delete(storage, name)
    _audit_delete(name)  # as DELETE /data-sets/NAME is audited
    click.echo(f"Deleted {name}")


@data_sets.command("rotate-token")
@click.argument("name")
def rotate_token(name: str) -> None:
    """Give a data set a new random token and print it, this once (only its hash is kept)."""
    with _storage() as storage:
        click.echo(registry.rotate_token(storage, name))


@data_sets.command("load")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--merge", is_flag=True,
              help="Keep the fields of an existing configuration that FILE leaves out (default: they are reset).")
def load_data_sets(file, merge: bool) -> None:
    """Create or update every configuration in a JSON list (FILE, or - for stdin).

    Every configuration is validated before anything is written. An existing configuration
    is replaced: fields FILE leaves out take their defaults (the token is kept), and each
    field so reset is named in a warning; with --merge they keep their stored values.
    """
    try:
        configs = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not valid JSON: {error}") from None
    if isinstance(configs, dict):
        configs = [configs]
    if not isinstance(configs, list):
        raise click.ClickException(f"{file.name} must hold a JSON list of data-set configurations")
    for index, body in enumerate(configs):
        try:
            registry.validate(body)
        except registry.ConfigError as error:
            raise click.ClickException(f"configuration {index}: {error}") from None
    with _storage() as storage:
        for body in configs:
            _load_one(storage, body, merge, file.name)


def _load_one(storage, body: dict, merge: bool, source: str) -> None:
    """Create or replace one configuration of `data-sets load`, saying what a replacement resets."""
    current = registry.get(storage, registry.name_of(body))
    if current is None:
        click.echo(f"created {registry.create(storage, body).name}")
        return
    if merge:
        body = registry.merged(current, body)
    reset = registry.fields_reset(current, body)
    config = registry.replace(storage, current.name, body)
    click.echo(f"updated {config.name}")
    if reset:
        was = ", ".join(f"{key} (was {json.dumps(_shown(getattr(current, key)))})" for key in reset)
        click.echo(f"warning: {config.name}: {source} leaves out {was}, reset to the default;"
                   " use --merge to keep stored values")


def _shown(value: Any) -> Any:
    """A configuration value as JSON shows it (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------- records and freshness
# The command-line twins of `PUT /data/GROUP/TYPE` with `[]` and `DELETE /data/GROUP/TYPE/ID`,
# through the same DataSet (neither requests transforms), audited as the write app audits
# them but with no token fingerprint: the operator has the database, not a token.


def _audit_delete(name: str, record_id: str | None = None, problems: int = 0) -> None:
    """The audit line the write app writes for the same delete (token fingerprint null)."""
    from backdrop.write.audit import AuditLog

    settings = Settings.from_env()
    audit = AuditLog(settings.audit_log, settings.token_secret)
    try:
        audit.delete(None, name, record_id, problems=problems)
    finally:
        audit.close()


@data_sets.command("empty")
@click.argument("name")
def empty_data_set(name: str) -> None:
    """Delete every record of a data set, keeping its configuration (as PUT [] does)."""
    with _storage() as storage:
        DataSet(storage, registry.require(storage, name)).empty()
    _audit_delete(name)
    click.echo(f"{name} now contains 0 records")


@main.group("records")
def records_group() -> None:
    """Act on single records of a data set."""


@records_group.command("delete")
@click.argument("name")
@click.argument("record_id")
def delete_record(name: str, record_id: str) -> None:
    """Delete the record RECORD_ID of data set NAME (as DELETE /data/GROUP/TYPE/ID does)."""
    with _storage() as storage:
        data_set = DataSet(storage, registry.require(storage, name))
        try:
            data_set.delete(record_id)
        except RecordNotFound as error:
            _audit_delete(name, record_id, problems=1)
            raise click.ClickException(str(error)) from None
    _audit_delete(name, record_id)
    click.echo(f"Deleted {record_id} from {name}")


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the answer of GET /_status/data-sets instead.")
def status(as_json: bool) -> None:
    """Data sets whose newest record is older than their max_age_expected; exit 1 when any is late.

    One line per late data set (name, seconds out of date, last update, max age expected), then
    the summary /_status/data-sets gives; for cron jobs and monitoring, which read the exit code.
    """
    with _storage() as storage:
        late = freshness.late_data_sets(storage, datetime.now(timezone.utc))
    report = freshness.freshness_report(late)
    if as_json:
        click.echo(json.dumps(report, default=datetime.isoformat, indent=2))
    else:
        for entry in late:
            click.echo(_tabbed(entry["name"], f"{entry['seconds-out-of-date']} seconds out of date",
                               f"last updated {entry['last-updated'].isoformat()}",
                               f"max age expected {entry['max-age-expected']}", error=None))
        click.echo(report["message"])
    if late:
        click.get_current_context().exit(1)


def _read_json(file) -> Any:
    try:
        return json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not valid JSON: {error}") from None


def _document_commands(group: click.Group, module, noun: str, key: str) -> None:
    """create/list/show/update/delete for a kind of administration document (transforms, dashboards)."""

    @group.command("create")
    @click.argument("file", type=click.File("r", encoding="utf-8"))
    def create(file) -> None:
        with _storage() as storage:
            _echo_json(module.create(storage, _read_json(file)))

    create.help = f"Create a {noun} from a JSON file (FILE, or - for stdin); prints it."

    @group.command("list")
    def list_() -> None:
        with _storage() as storage:
            _echo_json(module.list_all(storage))

    list_.help = f"Print every {noun} as JSON."

    @group.command("show")
    @click.argument(key)
    def show(**args) -> None:
        with _storage() as storage:
            _echo_json(module.get(storage, args[key]))

    show.help = f"Print one {noun} as JSON."

    @group.command("update")
    @click.argument(key)
    @click.argument("file", type=click.File("r", encoding="utf-8"))
    def update(file, **args) -> None:
        with _storage() as storage:
            _echo_json(module.replace(storage, args[key], _read_json(file)))

    update.help = f"Replace a {noun} with the one in a JSON file."

    @group.command("delete")
    @click.argument(key)
    def delete(**args) -> None:
        with _storage() as storage:
            module.delete(storage, args[key])
        click.echo(f"Deleted {args[key]}")

    delete.help = f"Delete a {noun}."


@main.group("transforms")
def transforms_group() -> None:
    """Create, list, show, update and delete transforms."""


@main.group("dashboards")
def dashboards_group() -> None:
    """Create, list, show, update and delete dashboards."""


_document_commands(transforms_group, transforms, "transform", "transform_id")
_document_commands(dashboards_group, dashboards, "dashboard", "slug")


def _tabbed(*fields: str, error: str | None) -> str:
    """Fields on one line, separated by tabs, the error last when there is one."""
    return "\t".join(fields + ((error,) if error else ()))


@transforms_group.command("runs")
@click.argument("transform_id")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many runs (newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print every field of each run as JSON.")
def transform_runs_command(transform_id: str, limit: int | None, as_json: bool) -> None:
    """List a transform's runs, newest first: start, outcome, records written, trigger, time range, error."""
    with _storage() as storage:
        runs = transform_runs.runs_of(storage, transform_id, limit)
    if as_json:
        _echo_json(runs)
        return
    for run in runs:
        click.echo(_tabbed(run["started_at"], run["outcome"], f"{run['records_written']} records", run["trigger"],
                           f"{run['earliest']}..{run['latest']}", error=run["error"]))


@transforms_group.command("status")
def transforms_status() -> None:
    """One line per transform: its id, its last run's outcome, when it started, records written, error."""
    with _storage() as storage:
        listed = transform_runs.with_last_runs(storage, transforms.list_all(storage))
    for transform in listed:
        last = transform["last_run"]
        if last is None:
            click.echo(_tabbed(transform["id"], "never run", error=None))
        else:
            click.echo(_tabbed(transform["id"], last["outcome"], last["started_at"],
                               f"{last['records_written']} records", error=last["error"]))


def _instant(ctx, param, value: str | None):
    if value is None:
        return None
    try:
        return parse_datetime(value, param.name)
    except InvalidDate as error:
        raise click.BadParameter(str(error)) from None


@main.command("transform")
@click.argument("data_group")
@click.argument("data_type")
@click.option("--start", required=True, callback=_instant, help="Earliest _timestamp to recompute (ISO 8601).")
@click.option("--end", callback=_instant, help="Latest _timestamp (ISO 8601; default now).")
def run_transforms(data_group: str, data_type: str, start, end) -> None:
    """Run the transforms of a data set now, in this process, and their chains after them."""
    from backdrop.transformers.runner import ChainStopped, run_chain

    now = datetime.now(timezone.utc).replace(microsecond=0)
    with _storage() as storage:
        config = registry.find(storage, data_group, data_type)
        if config is None:
            raise click.ClickException(f"No data set for {data_group}/{data_type}")
        ran = False
        try:
            for line in run_chain(storage, config.name, start, end or now, now,
                                  runs_kept=Settings.from_env().transform_runs_kept):
                click.echo(line)
                ran = True
        except ChainStopped as error:
            raise click.ClickException(str(error)) from None
        if not ran:
            click.echo(f"no transforms for {data_group}/{data_type}")


from backdrop import cli_transfer  # noqa: E402  (it imports _storage from here when run)

cli_transfer.register(main)  # export, import, sync, replicate, json-to-csv


if __name__ == "__main__":  # pragma: no cover
    main()
