"""Transform configurations (docs/transforms.md): validation, storage, matching and cycle checks.

A transform is refused when it is created or replaced, not discovered broken in the
worker: its task must exist, its options must suit the task, its query parameters must be
a valid read query, and it must not feed its output back into its own input chain.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from backdrop.core import documents, transform_tasks
from backdrop.core.query import QueryError, parse_query
from backdrop.core.registry import ConfigError, Conflict, Missing, default_name, valid_name
from backdrop.core.storage.base import Storage

KIND = "transforms"
KEYS = ("id", "type", "input", "query-parameters", "options", "output")
READ_ONLY = ("last_run",)  # answered by GET (core/transform_runs.py), ignored when sent back
ANY_GROUP = "*"


def _object(body, key: str) -> dict:
    value = body.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a JSON object")
    return value


def _task(body: dict) -> str:
    kind = body.get("type")
    function = kind.get("function") if isinstance(kind, dict) else kind
    if not isinstance(function, str):
        raise ConfigError('type must be a task name such as "rate" (or {"function": "<name>"})')
    name = transform_tasks.task_name(function)
    if name is None:
        raise ConfigError(f"Unknown transform type '{function}'")
    return name


def _input(body: dict) -> dict:
    given = _object(body, "input")
    group, data_type = given.get("data-group"), given.get("data-type")
    if not (group == ANY_GROUP or valid_name(group)):
        raise ConfigError('input.data-group must be a data group name or "*"')
    if not valid_name(data_type):
        raise ConfigError("input.data-type must be a data type name")
    return {"data-group": group, "data-type": data_type}


def _output(body: dict) -> dict:
    given = _object(body, "output")
    if "data-type" not in given:
        raise ConfigError("Transform output must have a data-type (output.data-type is missing)")
    if not valid_name(given["data-type"]):
        raise ConfigError("output.data-type must be a data type name")
    output = {"data-type": given["data-type"]}
    if given.get("data-group") is not None:
        if not valid_name(given["data-group"]):
            raise ConfigError("output.data-group must be a data group name")
        output["data-group"] = given["data-group"]
    return output


def _query_parameters(body: dict) -> dict:
    params = _object(body, "query-parameters")
    args = []
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise ConfigError(f"query-parameters.{key} must be a string or a list of strings")
        args.extend((key, str(v)) for v in values)
    probe = [("start_at", "2014-01-06T00:00:00+00:00"), ("end_at", "2014-02-03T00:00:00+00:00")]
    try:
        parse_query(args + [("flatten", "true")] + probe, raw_queries_allowed=True,
                    now=datetime.now(timezone.utc))
    except QueryError as error:
        raise ConfigError(f"Invalid query-parameters: {error}") from None
    return params


def _options(body: dict, task: str) -> dict:
    options = _object(body, "options")
    extra = options.get("additionalFields", {})
    if not isinstance(extra, dict) or any(isinstance(v, (dict, list)) for v in extra.values()):
        raise ConfigError("options.additionalFields must be an object of plain values")
    try:
        transform_tasks.check_options(task, options)
    except ValueError as error:
        raise ConfigError(f"Invalid options: {error}") from None
    return options


def validate(body, storage: Storage) -> dict:
    """The stored form of a transform object, or ConfigError / Missing naming the problem."""
    if not isinstance(body, dict):
        raise ConfigError("A transform must be a JSON object")
    unknown = [key for key in body if key not in KEYS + READ_ONLY]
    if unknown:
        raise ConfigError(f"Unknown transform field: {unknown[0]}")
    task = _task(body)
    transform = {"type": task, "input": _input(body), "query-parameters": _query_parameters(body),
                 "options": _options(body, task), "output": _output(body)}
    group, data_type = transform["input"]["data-group"], transform["input"]["data-type"]
    if group != ANY_GROUP and storage.find_data_set(group, data_type) is None:
        raise Missing(f"No data set for input {group}/{data_type}")
    return transform


def _work(transform: dict) -> tuple:
    """What a transform does, compared for duplicates: its query parameters as the query
    string it reads with (`"week"` and `["week"]`, `5` and `"5"` ask the same)."""
    query = {key: [str(v) for v in (value if isinstance(value, list) else [value])]
             for key, value in transform.get("query-parameters", {}).items()}
    return transform.get("type"), transform.get("input"), query, transform.get("options"), transform.get("output")


def check_not_duplicate(storage: Storage, transform: dict) -> None:
    """Conflict naming the existing transform that does exactly the same (same task, input,
    query, options and output): a second copy would only run the same work twice per write."""
    work = _work(transform)
    same = [other["id"] for other in list_all(storage)
            if other.get("id") != transform.get("id") and _work(other) == work]
    if same:
        raise Conflict(f"An identical transform already exists: {same[0]}")


def create(storage: Storage, body) -> dict:
    transform = validate(body, storage)
    transform = {"id": uuid.uuid4().hex, **transform}
    check_not_duplicate(storage, transform)
    check_no_cycle(storage, transform)
    storage.put_document(KIND, transform["id"], transform, create=True)
    return transform


def replace(storage: Storage, transform_id: str, body) -> dict:
    get(storage, transform_id)
    if isinstance(body, dict) and body.get("id", transform_id) != transform_id:
        raise ConfigError("id cannot be changed")
    transform = {"id": transform_id, **validate(body, storage)}
    check_not_duplicate(storage, transform)
    check_no_cycle(storage, transform)
    storage.put_document(KIND, transform_id, transform, create=False)
    return transform


def get(storage: Storage, transform_id: str) -> dict:
    return documents.require(storage, KIND, transform_id, f"No transform with id '{transform_id}'")


def delete(storage: Storage, transform_id: str) -> None:
    """Delete the transform and its run history (which nothing could read any more)."""
    documents.remove(storage, KIND, transform_id, f"No transform with id '{transform_id}'")
    storage.delete_runs(transform_id)


def list_all(storage: Storage) -> list[dict]:
    return storage.list_documents(KIND)


# --------------------------------------------------------------------------- matching


def matches(transform: dict, data_group: str, data_type: str) -> bool:
    """Does the transform's input name this data set (its group and type, or `*` and its type)?"""
    wanted = transform["input"]
    return wanted["data-type"] == data_type and wanted["data-group"] in (ANY_GROUP, data_group)


def for_data_set(storage: Storage, data_group: str, data_type: str) -> list[dict]:
    return [t for t in list_all(storage) if matches(t, data_group, data_type)]


def output_of(transform: dict, data_group: str) -> tuple[str, str]:
    """(group, type) of the output for an input in `data_group` (the output group defaults to it)."""
    output = transform["output"]
    return output.get("data-group") or data_group, output["data-type"]


# --------------------------------------------------------------------------- cycles


def _could_match(transform: dict, node: tuple[str, str]) -> bool:
    group, data_type = node
    return transform["input"]["data-type"] == data_type and (
        group == ANY_GROUP or transform["input"]["data-group"] in (ANY_GROUP, group))


def _same(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[1] == b[1] and (a[0] == b[0] or ANY_GROUP in (a[0], b[0]))


def _label(storage: Storage, node: tuple[str, str]) -> str:
    if node[0] == ANY_GROUP:
        return f"*/{node[1]}"
    found = storage.find_data_set(*node)
    return found["name"] if found else default_name(*node)


def check_no_cycle(storage: Storage, transform: dict) -> None:
    """ConfigError when the transform's output leads, through transforms, back to its input."""
    others = [t for t in list_all(storage) if t.get("id") != transform.get("id")] + [transform]
    start = (transform["input"]["data-group"], transform["input"]["data-type"])
    first = output_of(transform, start[0])
    paths, seen = [[start, first]], {first}
    while paths:
        path = paths.pop(0)
        if _same(path[-1], start):
            raise ConfigError("Transform would create a cycle: " + " -> ".join(_label(storage, n) for n in path))
        for other in others:
            if _could_match(other, path[-1]):
                following = output_of(other, path[-1][0])
                if following not in seen:
                    seen.add(following)
                    paths.append(path + [following])
