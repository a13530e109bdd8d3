"""OpenAPI 3.1 descriptions of the read and the write app, served by each at `/openapi.json`.

Built here as plain data, so one file says what both apps accept and answer. It is kept
true by tests: tests/test_openapi.py checks that every rule of each app's url_map is
described (and nothing more) and that the document validates as OpenAPI 3.1;
tests/test_openapi_fuzz.py runs schemathesis against both apps under gunicorn (no 5xx,
every answer conforms). A route added without its description fails the first.
"""
from __future__ import annotations

from flask import Flask

from backdrop.core.registry import NAME_PATTERN
from backdrop.web import json_response

PATH = "/openapi.json"
JSON = "application/json"
NAME = f"^{NAME_PATTERN}$"

# ---------------------------------------------------------------------------- shared pieces

ERROR = {
    "type": "object", "required": ["status", "message"],
    "properties": {"status": {"const": "error"}, "message": {"type": "string"}},
}
BATCH_ERROR = {
    "type": "object", "required": ["messages"],
    "description": "A refused batch (`messages` and `errors`, at most 1,000 of each, and `error_count` "
                   "when there were more), a record not found (`messages` only, a string) or a wrong "
                   "content type on POST (`messages`, a list).",
    "properties": {
        "messages": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "errors": {"type": "array"},
        "error_count": {"type": "integer"},
    },
}
OK = {
    "type": "object", "required": ["status"],
    "properties": {"status": {"const": "ok"}, "message": {"type": "string"}},
}
RETRY_AFTER = {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _error(description: str, headers: dict | None = None) -> dict:
    return _json({"$ref": "#/components/schemas/Error"}, description, headers)


UNAVAILABLE = _error("The database failed; try again later", RETRY_AFTER)
NOT_FOUND = _error("No such data set (or document), or the path matches no route")


def _path_parameter(name: str, description: str, pattern: str | None = None) -> dict:
    schema = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


GROUP = _path_parameter("data_group", "The data set's data_group", NAME)
TYPE = _path_parameter("data_type", "The data set's data_type", NAME)
DATA_SET_NAME = _path_parameter("name", "A data-set name", NAME)


def _document() -> dict:
    return {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"Error": ERROR}}}


def _openapi_route() -> dict:
    return {"get": {
        "summary": "This description",
        "operationId": "openapi",
        "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 description of this app")},
    }}


ABOUT = {
    "type": "object", "required": ["app", "description", "version", "links"],
    "properties": {
        "app": {"enum": ["read", "write"]}, "description": {"type": "string"}, "version": {"type": "string"},
        "links": {"type": "object", "description": "Paths on this app (`status`, `ready`, `openapi`) and"
                                                   " reference pages in the repository (`query_language`,"
                                                   " `reference`)",
                  "additionalProperties": {"type": "string"}},
    },
}


def _about_route() -> dict:
    return {"get": {
        "summary": "Which app this is, its version, and links to its status, readiness, this description"
                   " and the reference",
        "operationId": "about",
        "responses": {"200": _json(ABOUT, "A short description of the app")},
    }}


def _metrics_route() -> dict:
    return {"get": {
        "summary": "Metrics in Prometheus text format (every worker process of the app, added up)",
        "operationId": "metrics",
        "responses": {"200": {"description": "The metrics; see the README's Operating section",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}},
    }}


def install(app: Flask, description: dict) -> None:
    """Serve `description` at /openapi.json. Data-set names cannot hold a dot, so no legacy
    `/<name>` route is shadowed by it."""
    app.add_url_rule(PATH, "openapi", lambda: json_response(description), methods=["GET"])


# ---------------------------------------------------------------------------- the read app

QUERY_PARAMETERS = [
    ("start_at", "Records with `_timestamp >= start_at` (an ISO 8601 date-time with a zone)", {"type": "string"}),
    ("end_at", "Records with `_timestamp < end_at` (`<=` with `inclusive=true`)", {"type": "string"}),
    ("inclusive", "Makes `end_at` inclusive; needs `start_at` or `end_at`", {"enum": ["true", "false"]}),
    ("duration", "A range of that many periods; needs `period`", {"type": "string", "pattern": "^-?[0-9]{1,6}$"}),
    ("period", "Bucket the records by period",
     {"enum": ["hour", "day", "week", "month", "quarter", "year"]}),
    ("filter_by", "`field:value`: the field equals the value (repeatable)",
     {"type": "array", "items": {"type": "string"}}),
    ("filter_by_prefix", "`field:prefix`: the field is a string starting with the prefix (repeatable)",
     {"type": "array", "items": {"type": "string"}}),
    ("group_by", "One row per combination of the fields' values (repeatable)",
     {"type": "array", "items": {"type": "string"}}),
    ("collect", "`field` or `field:method`, method `sum`, `count`, `set`, `mean`, `min`, `max`, "
                "`median`, `percentileNN` (NN 1 to 99) or `count_unique` (repeatable)",
     {"type": "array", "items": {"type": "string"}}),
    ("sort_by", "`key:ascending` or `key:descending`", {"type": "string"}),
    ("limit", "At most that many rows; 0 means no limit", {"type": "string", "pattern": "^[0-9]{1,10}$"}),
    ("flatten", "For `period` + `group_by`: flat rows instead of nested series", {"enum": ["true", "false"]}),
    ("format", "`csv` for a CSV file; any other value is ignored", {"type": "string"}),
    ("page_token", "Empty, or the token of a `next` link: page through a raw query", {"type": "string"}),
    ("timezone", "An IANA time zone name: count the periods on its clocks; needs `period`", {"type": "string"}),
]


# One valid query (a weekly series of sums per kind, on London's clocks): examples that
# schemathesis sends as they are, so at least one request goes past the validation.
QUERY_EXAMPLE = {"start_at": "2014-01-06T00:00:00Z", "end_at": "2014-02-03T00:00:00Z", "period": "week",
                 "group_by": ["kind"], "collect": ["count:sum"], "timezone": "Europe/London"}


def _query_parameters() -> list[dict]:
    return [{"name": name, "in": "query", "required": False, "description": text, "schema": schema,
             **({"style": "form", "explode": True} if schema.get("type") == "array" else {}),
             **({"example": QUERY_EXAMPLE[name]} if name in QUERY_EXAMPLE else {})}
            for name, text, schema in QUERY_PARAMETERS]


READ_ANSWER = {
    "type": "object", "required": ["data"],
    "properties": {
        "data": {"type": "array", "items": {"type": "object"}},
        "next": {"type": "string", "description": "The link to the next page (paged raw queries)"},
        "warning": {"type": "string", "description": "Present when the data set is unpublished"},
    },
}


def _read_operations(summary: str, operation: str, parameters: list[dict]) -> dict:
    responses = {
        "200": {
            "description": "The query's answer: JSON, or CSV with `format=csv` on a published data set",
            "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}},
            "content": {JSON: {"schema": READ_ANSWER}, "text/csv": {"schema": {"type": "string"}}},
        },
        "304": {"description": "Not modified (the ETag sent in If-None-Match still holds)"},
        "400": _error("A query the API refuses, or one over a limit (rows, bytes): the message says what is "
                      "wrong and how to narrow it"),
        "404": NOT_FOUND,
        "503": _error("The database failed, or the query ran past BACKDROP_QUERY_TIMEOUT and was cancelled; "
                      "try again later", RETRY_AFTER),
    }
    get = {"summary": summary, "operationId": operation, "parameters": _query_parameters(),
           "responses": responses}
    options = {"summary": "CORS pre-flight", "operationId": f"{operation}_options",
               "responses": {"200": {"description": "Empty, with the CORS headers"}, "400": responses["400"],
                             "404": NOT_FOUND, "503": UNAVAILABLE}}
    return {"parameters": parameters, "get": get, "options": options}


STATUS_ANSWER = {"type": "object", "required": ["status", "message"],
                 "properties": {"status": {"const": "ok"}, "message": {"type": "string"}}}
READINESS = {
    "type": "object", "required": ["status", "message", "checks"],
    "properties": {
        "status": {"enum": ["ok", "error"]},
        "message": {"type": "string"},
        "checks": {"type": "object", "description": "each check's answer: `ok`, or what is wrong",
                   "additionalProperties": {"type": "string"}},
    },
}


def _ready_route(checked: str) -> dict:
    return {"get": {
        "summary": f"Whether the app can work now: {checked}", "operationId": "ready",
        "responses": {"200": _json(READINESS, "Ready"),
                      "503": _json(READINESS, "Not ready: the message says why", RETRY_AFTER)}}}


FRESHNESS = {
    "type": "object", "required": ["status", "message", "data_sets"],
    "properties": {
        "status": {"enum": ["ok", "not okay"]},
        "message": {"type": "string"},
        "data_sets": {"oneOf": [{"type": "null"}, {"type": "array", "items": {
            "type": "object", "required": ["name", "seconds-out-of-date", "last-updated", "max-age-expected"],
            "properties": {"name": {"type": "string"}, "seconds-out-of-date": {"type": "integer"},
                           "last-updated": {"type": "string"}, "max-age-expected": {"type": "integer"}}}}]},
    },
}


def read_description() -> dict:
    document = _document()
    document["info"] = {"title": "Backdrop read API", "version": "1",
                        "description": "Queries over data sets; see docs/query-language.md."}
    document["paths"] = {
        "/data/{data_group}/{data_type}": _read_operations(
            "Query a data set by its group and type", "query_by_group_and_type", [GROUP, TYPE]),
        "/{name}": _read_operations(
            "Query a data set by name (legacy; any other single segment is a data set that does not exist)",
            "query_by_name", [DATA_SET_NAME]),
        "/_status": {"get": {"summary": "The process serves", "operationId": "status",
                             "responses": {"200": _json(STATUS_ANSWER, "Up")}}},
        "/_status/data-sets": {"get": {
            "summary": "Data sets not updated within their max_age_expected", "operationId": "freshness",
            "responses": {"200": _json(FRESHNESS, "The late data sets, if any"), "503": UNAVAILABLE}}},
        "/_status/ready": _ready_route("the database answers with the schema this release expects"),
        "/": _about_route(),
        PATH: _openapi_route(),
        "/_metrics": _metrics_route(),
    }
    return document


# ---------------------------------------------------------------------------- the write app

DATA_SET_TOKEN = [{"dataSetToken": []}]
ADMIN_TOKEN = [{"adminToken": []}]
UNAUTHORISED = _error("No token, a malformed Authorization header or the wrong token",
                      {"WWW-Authenticate": {"schema": {"type": "string"}}})
FORBIDDEN = _error("The admin API is disabled (BACKDROP_ADMIN_TOKEN is not set)")
TOO_LARGE = _error("The body is larger than BACKDROP_MAX_BODY_BYTES, or a batch holds more records than "
                   "BACKDROP_MAX_BATCH_RECORDS")
TOO_MANY = _error("Too many wrong tokens from this address within a minute (BACKDROP_TOKEN_FAILURES)",
                  RETRY_AFTER)
BAD_BODY = {"description": "Malformed JSON, a wrong content type, or a body the route refuses",
            "content": {JSON: {"schema": {"oneOf": [{"$ref": "#/components/schemas/Error"},
                                                    {"$ref": "#/components/schemas/BatchError"}]}}}}
ANY_JSON = {"description": "A JSON body (`Content-Encoding: gzip` accepted)", "required": True,
            "content": {JSON: {"schema": {}}}}
RECORDS = {"description": "One record or a list of records (`Content-Encoding: gzip` accepted)",
           "required": True, "content": {JSON: {
               "schema": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
               "example": [{"_timestamp": "2014-01-06T10:00:00Z", "kind": "a", "count": 3}]}}}
TIME_RANGE = {"description": "The time range: `_start_at` (required) and `_end_at` (default: now)",
              "required": True, "content": {JSON: {
                  "schema": {"type": "object", "required": ["_start_at"],
                             "properties": {"_start_at": {"type": "string"},
                                            "_end_at": {"type": ["string", "null"]}}},
                  "example": {"_start_at": "2014-01-06T00:00:00Z", "_end_at": "2014-01-13T00:00:00Z"}}}}


def _write(summary: str, operation: str, security: list, ok: dict, body: dict | None = None,
           extra: dict | None = None) -> dict:
    responses = {"200": ok, "400": BAD_BODY, "401": UNAUTHORISED, "404": NOT_FOUND, "413": TOO_LARGE,
                 "429": TOO_MANY, "503": UNAVAILABLE, **(extra or {})}
    if security == ADMIN_TOKEN:
        responses["403"] = FORBIDDEN
    answer = {"summary": summary, "operationId": operation, "security": security, "responses": responses}
    if body is not None:
        answer["requestBody"] = body
    return answer


OK_ANSWER = _json(OK, "Done")
QUEUED_ANSWER = _json({
    "type": "object", "required": ["status", "queued"],
    "properties": {"status": {"const": "ok"},
                   "queued": {"type": "integer", "minimum": 0,
                              "description": "How many transforms take the data set as input (0: nothing requested)"}},
}, "Requested")
CONFIG = {
    "type": "object", "required": ["name", "data_group", "data_type"],
    "properties": {
        "name": {"type": "string"}, "data_group": {"type": "string"}, "data_type": {"type": "string"},
        "bearer_token": {"type": ["string", "null"], "writeOnly": True,
                         "description": "Stored only as a salted hash; never answered"},
        "has_bearer_token": {"type": "boolean", "readOnly": True},
        "raw_queries_allowed": {"type": "boolean"},
        "queryable": {"type": "boolean"}, "published": {"type": "boolean"}, "realtime": {"type": "boolean"},
        "max_age_expected": {"type": ["integer", "null"]}, "capped_size": {"type": "integer"},
        "auto_ids": {"type": ["array", "null"], "items": {"type": "string"}},
        "schema": {"type": ["object", "null"]}, "upload_format": {"type": "string"},
        "upload_filters": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string"},
    },
}
NEW_TOKEN = {"type": "object", "required": ["name", "bearer_token"],
             "properties": {"name": {"type": "string"}, "bearer_token": {"type": "string"}}}
CONFLICT = {"409": _error("The name, or the (data_group, data_type) pair, is taken")}
_TIME = {"type": "string", "format": "date-time"}
_OUTCOME = {"enum": ["running", "ok", "failed on source data", "retrying", "error"]}
RUN_SUMMARY = {
    "type": "object", "required": ["outcome", "started_at", "ended_at", "records_written", "error"],
    "properties": {"outcome": _OUTCOME, "started_at": _TIME, "ended_at": {"type": ["string", "null"]},
                   "records_written": {"type": "integer"}, "error": {"type": ["string", "null"]}},
}
RUN = {
    "type": "object",
    "required": ["id", "transform_id", "data_set", "earliest", "latest", "trigger", *RUN_SUMMARY["required"]],
    "properties": {"id": {"type": "string"}, "transform_id": {"type": "string"}, "data_set": {"type": "string"},
                   "earliest": _TIME, "latest": _TIME, "trigger": {"enum": ["write", "manual", "command"]},
                   **RUN_SUMMARY["properties"]},
}
TRANSFORM = {"type": "object", "properties": {"last_run": {
    "oneOf": [{"type": "null"}, RUN_SUMMARY], "readOnly": True,
    "description": "In GET answers: the newest run's summary (null: never run); ignored when sent back"}}}
RUNS_LIMIT = {"name": "limit", "in": "query", "required": False, "description": "At most this many runs",
              "schema": {"type": "string", "pattern": "^[0-9]+$"}}


def _records_paths() -> dict:
    record_id = _path_parameter("record_id", "The record's `_id`")
    return {
        "/_status": {"get": {"summary": "The process serves", "operationId": "status",
                             "responses": {"200": _json(STATUS_ANSWER, "Up")}}},
        "/_status/ready": _ready_route("the database, the task broker, and no transform request waiting"
                                      " unsent in the outbox longer than BACKDROP_OUTBOX_MAX_AGE"),
        "/data/{data_group}/{data_type}": {
            "parameters": [GROUP, TYPE],
            "post": _write("Append records", "post_records", DATA_SET_TOKEN, OK_ANSWER, RECORDS),
            "put": _write("Empty the data set (the body must be `[]`)", "empty_data_set", DATA_SET_TOKEN,
                          OK_ANSWER, ANY_JSON),
        },
        "/data/{data_group}/{data_type}/{record_id}": {
            "parameters": [GROUP, TYPE, record_id],
            "patch": _write("Change fields of one record", "patch_record", DATA_SET_TOKEN, OK_ANSWER, ANY_JSON),
            "delete": _write("Delete one record", "delete_record", DATA_SET_TOKEN, OK_ANSWER),
        },
        "/data/{data_group}/{data_type}/transform": {
            "parameters": [GROUP, TYPE],
            "post": _write("Request the data set's transforms over `_start_at`…`_end_at` (stored in the outbox,"
                           " sent to the worker even while the broker is down)", "run_transforms",
                           DATA_SET_TOKEN, QUEUED_ANSWER, TIME_RANGE),
        },
        "/{name}": {
            "parameters": [DATA_SET_NAME],
            "post": _write("Append records by data-set name (deprecated)", "post_records_by_name",
                           DATA_SET_TOKEN, OK_ANSWER, RECORDS),
        },
    }


def _admin_paths(collection: str, key: str, item_schema: dict, label: str) -> dict:
    """The five admin routes of one kind of configuration: create, list, show, replace, delete."""
    parameter = _path_parameter(key, f"The {label}'s {key}")
    one = _json(item_schema, f"The {label}")
    return {
        f"/{collection}": {
            "post": _write(f"Create a {label}", f"create_{label}", ADMIN_TOKEN, one, ANY_JSON,
                           {"201": _json(item_schema, f"The {label} created"), **CONFLICT}),
            "get": _write(f"List the {label}s", f"list_{label}s", ADMIN_TOKEN,
                          _json({"type": "array", "items": item_schema}, f"The {label}s")),
        },
        f"/{collection}/{{{key}}}": {
            "parameters": [parameter],
            "get": _write(f"Show a {label}", f"show_{label}", ADMIN_TOKEN, one),
            "put": _write(f"Replace a {label}", f"replace_{label}", ADMIN_TOKEN, one, ANY_JSON, CONFLICT),
            "delete": _write(f"Delete a {label}", f"delete_{label}", ADMIN_TOKEN, OK_ANSWER),
        },
    }


def write_description() -> dict:
    document = _document()
    document["info"] = {"title": "Backdrop write API", "version": "1",
                        "description": "Records and administration; see docs/write-api.md."}
    document["components"]["schemas"]["BatchError"] = BATCH_ERROR
    document["components"]["securitySchemes"] = {
        "dataSetToken": {"type": "http", "scheme": "bearer",
                         "description": "The data set's own bearer token (never the admin token)"},
        "adminToken": {"type": "http", "scheme": "bearer",
                       "description": "BACKDROP_ADMIN_TOKEN (never a data set's token)"},
    }
    data_sets = _admin_paths("data-sets", "name", CONFIG, "data_set")
    data_sets["/data-sets"]["get"]["parameters"] = [
        {"name": filter_, "in": "query", "required": False, "schema": {"type": "string"},
         "description": f"Only the configurations with this {filter_}"} for filter_ in ("data-group", "data-type")]
    data_sets["/data-sets/{name}"]["parameters"] = [DATA_SET_NAME]
    data_sets["/data-sets/{name}/token"] = {
        "parameters": [DATA_SET_NAME],
        "post": _write("Give the data set a new token, answered once (only its hash is stored)",
                       "rotate_token", ADMIN_TOKEN, _json(NEW_TOKEN, "The new token, shown only now")),
    }
    for suffix, label, operation in (("transform", "transforms whose input is the data set (its group or `*`)",
                                      "data_set_transforms"),
                                     ("dashboard", "dashboards showing the data set", "data_set_dashboards")):
        data_sets[f"/data-sets/{{name}}/{suffix}"] = {
            "parameters": [DATA_SET_NAME],
            "get": _write(f"The {label}", operation, ADMIN_TOKEN,
                          _json({"type": "array", "items": {"type": "object"}}, f"The {label}")),
        }
    data_sets["/data-sets/{name}/export"] = {
        "parameters": [DATA_SET_NAME],
        "get": _write("The data set whole, streamed as NDJSON: a line `{\"configuration\": {...}}` (with the salted"
                      " `bearer_token_hash`, so a copy accepts the same token), one record a line (without the"
                      " server-computed keys), and a last line `{\"end\": {\"records\": N}}`; what"
                      " `backdrop sync` reads", "export_data_set", ADMIN_TOKEN,
                      {"description": "The configuration, the records and the end line",
                       "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}),
    }
    document["paths"] = {
        **_records_paths(), **data_sets,
        **_admin_paths("transforms", "transform_id", TRANSFORM, "transform"),
        "/transforms/{transform_id}/runs": {
            "parameters": [_path_parameter("transform_id", "The transform's transform_id")],
            "get": {**_write("The transform's runs, newest first", "list_transform_runs", ADMIN_TOKEN,
                             _json({"type": "array", "items": RUN}, "The runs kept (BACKDROP_TRANSFORM_RUNS_KEPT)")),
                    "parameters": [RUNS_LIMIT]},
        },
        **_admin_paths("dashboards", "slug", {"type": "object"}, "dashboard"),
        "/": _about_route(),
        PATH: _openapi_route(),
        "/_metrics": _metrics_route(),
    }
    return document
