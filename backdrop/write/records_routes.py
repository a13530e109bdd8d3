"""The record routes: /_status, /data/<group>/<type>[/…] and the legacy POST /<name>.

Every data route checks in the same order: find the data set (404), check its token (401),
then read the body (docs/write-api.md, "Order of checks and authentication"). No route requests transforms after a write:
the DataSet stores the request with the records and its after-commit hook has the relay send
it (services.data_set), so the worker never looks for records that are not there yet.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, request
from werkzeug.routing import BaseConverter

from backdrop import metrics
from backdrop.core import registry
from backdrop.core.data_set import DataSet, RecordNotFound
from backdrop.core.records import BatchError, InvalidDate, parse_datetime, timestamp_bounds
from backdrop.web import ApiError, json_response
from backdrop.write import body, services
from backdrop.write.auth import require_data_set_token

blueprint = Blueprint("records", __name__)

NOT_FOUND = "Could not find data_set_config"
DEPRECATED = ("Deprecation Warning: accessing by data-set name is deprecated, "
              "Please use the /data-group/data-type form")
ONLY_EMPTY_LIST = "Not implemented: you can only pass an empty JSON list"
NEED_START = "You must specify a _start_at timestamp"
NOT_RECORDS = "Expected a JSON object or a list of JSON objects"
NOT_CHANGES = "Expected a JSON object of the fields to change"
START_AFTER_END = "_start_at must be before _end_at"


class LegacyNameConverter(BaseConverter):
    """A data-set name (lowercase letters, digits, `_`, `-`, at most 100 characters) that is
    not reserved: `/data`, `/transforms`… never match."""

    reserved = "|".join(sorted(registry.RESERVED_NAMES))
    regex = rf"(?!(?:{reserved})\Z){registry.NAME_PATTERN}"


# ---------------------------------------------------------------------------- helpers


def _authorised(config: registry.DataSetConfig | None) -> DataSet:
    if config is None:
        raise ApiError(404, NOT_FOUND)
    require_data_set_token(config)
    return services.data_set(config)


def _by_group_and_type(data_group: str, data_type: str) -> DataSet:
    return _authorised(registry.find(services.storage(), data_group, data_type))


def _json(wrong_type: Callable[[], ApiError]):
    """Record bodies keep integers exact, so validation can refuse those too wide to store."""
    return body.json_body(services.settings().max_body_bytes, wrong_type, exact_integers=True)


def _batch_error(error: BatchError) -> ApiError:
    """The refusal of a batch: its problems, and their total only when some were left out,
    so that an answer listing every problem stays as clients have always read it."""
    answer = {"messages": error.messages, "errors": error.errors}
    if error.capped:
        answer["error_count"] = error.count
    return ApiError(400, body=answer)


def too_many_records(count: int, limit: int) -> str:
    return (f"A batch may hold at most {limit} records (BACKDROP_MAX_BATCH_RECORDS), not {count}: "
            "send the records in smaller batches")


def _check_batch_size(items: list) -> None:
    """Refuse a batch beyond the limit before validating any of it: a million records take
    many seconds and gigabytes to check, even when each is an empty object."""
    limit = services.settings().max_batch_records
    if len(items) > limit:
        raise ApiError(413, too_many_records(len(items), limit))


def _lenient_bounds(items: list) -> tuple[datetime, datetime] | None:
    """Bounds of the parseable `_timestamp`s of a batch that failed validation (for the audit)."""
    stamps = []
    for item in items:
        if isinstance(item, dict) and "_timestamp" in item:
            try:
                stamps.append(parse_datetime(item["_timestamp"]))
            except InvalidDate:
                pass
    return (min(stamps), max(stamps)) if stamps else None


def _append(data_set: DataSet) -> None:
    """Validate and store a POSTed batch (its commit requests the transforms), then audit
    what happened: stored, or rejected whole with its number of problems."""
    value = _json(body.post_wrong_type)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ApiError(400, NOT_RECORDS)
    _check_batch_size(value)
    header = request.headers.get("Authorization")
    try:
        records = data_set.prepare(value)
    except BatchError as error:
        metrics.count(metrics.BATCHES_REJECTED, data_set.name)
        services.audit().append(header, data_set.name, _lenient_bounds(value), len(value),
                                problems=error.count)
        raise _batch_error(error) from None
    if records:
        data_set.save(records)
        services.audit().append(header, data_set.name, timestamp_bounds(records), len(records))


def _date(value, field: str) -> datetime:
    try:
        return parse_datetime(value, field)
    except InvalidDate as error:
        raise ApiError(400, str(error)) from None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _patch_bounds(changes: dict) -> tuple[datetime | None, datetime | None] | None:
    """What the audit logs for a PATCH: the body's own `_start_at`/`_end_at` (docs/write-api.md, "Audit log")."""
    if "_start_at" not in changes:
        return None
    try:
        start = parse_datetime(changes["_start_at"], "_start_at")
        end = parse_datetime(changes["_end_at"], "_end_at") if "_end_at" in changes else _now()
    except InvalidDate:
        return None
    return start, end


# ---------------------------------------------------------------------------- routes


@blueprint.get("/_status")
def status():
    return json_response({"status": "ok", "message": "app is up"})


@blueprint.post("/data/<data_group>/<data_type>")
def post_records(data_group: str, data_type: str):
    _append(_by_group_and_type(data_group, data_type))
    return json_response({"status": "ok"})


@blueprint.post("/<legacy_name:name>")
def post_records_by_name(name: str):
    _append(_authorised(registry.get(services.storage(), name)))
    return json_response({"status": "ok", "message": DEPRECATED})


@blueprint.put("/data/<data_group>/<data_type>")
def empty_data_set(data_group: str, data_type: str):
    data_set = _by_group_and_type(data_group, data_type)
    value = _json(body.put_wrong_type)
    if not (isinstance(value, list) and not value):
        raise ApiError(400, ONLY_EMPTY_LIST)
    data_set.empty()
    services.audit().delete(request.headers.get("Authorization"), data_set.name)
    return json_response({"status": "ok", "message": f"{data_set.name} now contains 0 records"})


@blueprint.patch("/data/<data_group>/<data_type>/<path:record_id>")
def patch_record(data_group: str, data_type: str, record_id: str):
    data_set = _by_group_and_type(data_group, data_type)
    changes = _json(body.other_wrong_type)
    if not isinstance(changes, dict):
        raise ApiError(400, NOT_CHANGES)

    def audit_outcome(problems: int = 0) -> None:
        if changes:
            services.audit().patch(request.headers.get("Authorization"), data_set.name, record_id,
                                   _patch_bounds(changes), changes, problems=problems)
    try:
        data_set.patch(record_id, changes)
    except RecordNotFound as error:
        audit_outcome(problems=1)
        raise ApiError(400, body={"messages": str(error)}) from None
    except BatchError as error:
        audit_outcome(problems=error.count)
        raise _batch_error(error) from None
    audit_outcome()
    return json_response({"status": "ok"})


@blueprint.delete("/data/<data_group>/<data_type>/<path:record_id>")
def delete_record(data_group: str, data_type: str, record_id: str):
    data_set = _by_group_and_type(data_group, data_type)
    header = request.headers.get("Authorization")
    try:
        data_set.delete(record_id)
    except RecordNotFound as error:
        services.audit().delete(header, data_set.name, record_id, problems=1)
        raise ApiError(400, body={"messages": str(error)}) from None
    services.audit().delete(header, data_set.name, record_id)
    return json_response({"status": "ok"})


@blueprint.post("/data/<data_group>/<data_type>/transform")
def run_transforms(data_group: str, data_type: str):
    data_set = _by_group_and_type(data_group, data_type)
    value = _json(body.other_wrong_type)
    if not isinstance(value, dict) or "_start_at" not in value:
        raise ApiError(400, NEED_START)
    start = _date(value["_start_at"], "_start_at")
    end = _date(value["_end_at"], "_end_at") if value.get("_end_at") is not None else _now()
    if start > end:
        raise ApiError(400, START_AFTER_END)
    return json_response({"status": "ok", "queued": data_set.rerun_transforms(start, end)})
