"""Running one transform, without Celery: read the input, compute, write the output.

The worker reads and writes through the core, not over HTTP to itself: its reads keep the
query-syntax checks but skip the raw-query restrictions meant for public clients, and its
writes go through full record validation like any client's. Celery tasks (worker.py) and
the `backdrop transform` command both call `run`, and both record each run in the run
history (core/transform_runs.py) with the helpers here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator
from datetime import datetime, timedelta, timezone

from backdrop.core import dashboards, registry, transform_runs
from backdrop.core.data_set import DataSet
from backdrop.core.query import QueryError, parse_query
from backdrop.core.records import BatchError, timestamp_bounds
from backdrop.core.storage.base import Storage
from backdrop.core.timeseries import PERIODS, as_utc
from backdrop.core.transforms import for_data_set, output_of
from backdrop.transformers.tasks import load_task
from backdrop.transformers.tasks.util import BadSourceData, TaskContext, add_fields, instant


log = logging.getLogger(__name__)

# A run failing with one of these failed on its source data: not retried, output left as it was.
SOURCE_ERRORS = (BadSourceData, BatchError, QueryError)


@dataclass(frozen=True)
class Outcome:
    """What a run stored: the output data set's name, how many records, their time bounds."""

    output: str
    stored: int
    bounds: tuple[datetime, datetime] | None


def query_args(parameters: dict, earliest: datetime, latest: datetime, now: datetime) -> list[tuple[str, str]]:
    """The read query for the input (docs/transforms.md, "One run"), as query-string pairs.

    A single instant with a period asks for the period holding it (the original sent the
    instant itself, which non-raw data sets refuse as "start_at must be midnight").
    """
    args = [(key, str(v)) for key, value in parameters.items()
            for v in (value if isinstance(value, list) else [value])]
    args.append(("flatten", "true"))
    period = PERIODS.get(parameters.get("period"))
    if period is not None and earliest == latest:
        return args + [("duration", "1"), ("start_at", period.start(latest).isoformat())]
    if period is not None:
        end = period.end(latest)
        if end > now:
            end = period.start(latest)
        start = period.start(earliest)
    else:  # the read API takes whole seconds: widen the range to them
        start = earliest.replace(microsecond=0)
        end = latest if not latest.microsecond else latest.replace(microsecond=0) + timedelta(seconds=1)
    return args + [("start_at", start.isoformat()), ("end_at", end.isoformat()), ("inclusive", "true")]


def output_config(storage: Storage, source: dict, transform: dict) -> registry.DataSetConfig:
    """The output data set, created on first run from the input's settings (docs/transforms.md, "One run")."""
    group, data_type = output_of(transform, source["data_group"])
    found = registry.find(storage, group, data_type)
    if found is not None:
        return found
    body = {"data_group": group, "data_type": data_type}
    copied = ("raw_queries_allowed", "realtime", "published", "max_age_expected")
    body.update({key: source.get(key) for key in copied})
    if source.get("capped_size"):
        body["capped_size"] = source["capped_size"]
    try:
        return registry.create(storage, body, token_hash=source.get("bearer_token_hash"))
    except registry.Conflict:  # another worker created it meanwhile
        return registry.find(storage, group, data_type)


def _context(storage: Storage, source: dict, transform: dict, output_name: str) -> TaskContext:
    def newest(record_id: str):
        stored = storage.get_record(output_name, record_id)
        return instant(stored.get("_timestamp")) if stored else None

    return TaskContext(
        data_set=source,
        transform=transform,
        dashboards_showing=lambda name: dashboards.showing(storage, name),
        dashboards_for_service=lambda service_id: dashboards.for_service(storage, service_id),
        newest_output_timestamp=newest,
    )


def run(storage: Storage, source: dict, transform: dict, earliest: datetime, latest: datetime,
        now: datetime) -> Outcome:
    """Compute one transform over [earliest, latest] of `source` and store its output.

    Raises BadSourceData, records.BatchError or QueryError when the input cannot be
    transformed; the output is then left as it was.
    """
    earliest, latest, now = as_utc(earliest), as_utc(latest), as_utc(now)
    query = parse_query(query_args(transform.get("query-parameters", {}), earliest, latest, now),
                        raw_queries_allowed=True, now=now)
    rows = DataSet(storage, registry.DataSetConfig.from_dict(source)).query(query)
    target = output_config(storage, source, transform)
    options = transform.get("options", {})
    records = load_task(transform["type"]).compute(rows, options, _context(storage, source, transform, target.name))
    if options.get("additionalFields"):
        records = add_fields(records, options["additionalFields"])
    stored = DataSet(storage, target).store(records) if records else []
    return Outcome(target.name, len(stored), timestamp_bounds(stored))


def output_name(storage: Storage, transform: dict, source: dict) -> str:
    group, data_type = output_of(transform, source["data_group"])
    found = registry.find(storage, group, data_type)
    return found.name if found else registry.default_name(group, data_type)


def planned(storage: Storage, source: dict, visited: list[str]) -> list[dict]:
    """The transforms to run for a data set: those whose output is not already in the chain.

    Creation refuses cycles, but `*` inputs and later edits can still close one at run
    time; the dropped transforms are logged and the rest of the chain still runs.
    """
    chosen = []
    for transform in for_data_set(storage, source["data_group"], source["data_type"]):
        output = output_name(storage, transform, source)
        if output in visited:
            log.warning("dropping transform %s of %s: its output %s is already in the chain %s",
                        transform["id"], source["name"], output, " -> ".join(visited))
        else:
            chosen.append(transform)
    return chosen


class ChainStopped(Exception):
    """`run_chain` stopped: a transform failed on its source data (the message names it and why)."""


def source_problem(error: Exception) -> str:
    """A source-data failure on one line: a refused batch's problems joined, else the message."""
    messages = getattr(error, "messages", None)
    return "; ".join(map(str, messages)) if messages else str(error)


def record_failure(storage: Storage, runs_kept: int, run: transform_runs.TransformRun, outcome: str,
                   error: Exception) -> None:
    """Record a failed attempt; the storage may be what failed, so a failure to record is only logged."""
    try:
        transform_runs.finished(storage, runs_kept, run, outcome, now(), error=f"{type(error).__name__}: {error}")
    except Exception:
        log.exception("could not record the %s run %s of transform %s", outcome, run.id, run.transform_id)


def now() -> datetime:
    return datetime.now(timezone.utc)


def run_chain(storage: Storage, name: str, earliest: datetime, latest: datetime, started: datetime,
              visited: list[str] | None = None, *, runs_kept: int) -> Iterator[str]:
    """Run a data set's transforms and then their outputs' transforms, in this process.

    The synchronous twin of the worker's tasks, for operators (`backdrop transform`);
    yields one line per transform run. Each run is recorded with the trigger `command`;
    the first failure is recorded and raised, ChainStopped for bad source data (nothing
    retries here).
    """
    visited = (visited or []) + [name]
    source = storage.get_data_set(name)
    for transform in planned(storage, source, visited):
        entry = transform_runs.started(storage, runs_kept, transform_id=transform["id"], data_set=name,
                                       earliest=earliest, latest=latest, trigger=transform_runs.COMMAND, now=now())
        try:
            outcome = run(storage, source, transform, earliest, latest, started)
        except SOURCE_ERRORS as error:
            problem = source_problem(error)
            transform_runs.finished(storage, runs_kept, entry, transform_runs.FAILED_ON_SOURCE_DATA, now(),
                                    error=problem)
            raise ChainStopped(f"{transform['type']} {transform['id']} failed on its source data: {problem}") from error
        except Exception as error:
            record_failure(storage, runs_kept, entry, transform_runs.ERROR, error)
            raise
        transform_runs.finished(storage, runs_kept, entry, transform_runs.OK, now(), records_written=outcome.stored)
        yield f"{transform['type']} {transform['id']}: {outcome.stored} records into {outcome.output}"
        if outcome.bounds:
            yield from run_chain(storage, outcome.output, *outcome.bounds, started, visited, runs_kept=runs_kept)
