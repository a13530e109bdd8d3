"""The catalogue: hostile or malformed requests, one row each, with the answer each must get.

Every row names the app (read or write), the request as sent (path bytes percent-encoded
as written, headers, body) and the expected status and error text. A text is matched
against the JSON error's `message`, or against one of `messages` (the write API's batch
errors and the original's wrapped content-type error); `Prefix` matches the start only
(parser messages quote the parser). The seeded data sets and tokens are defined here too,
so the rows can aim at them; test_hostile_catalogue.py runs the rows and checks that
nothing stored changed.
"""
from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Iterator

from hostile_http import Streamed

ADMIN_TOKEN = "hostile-admin-token"
TARGET_TOKEN = "hostile-target-token"
OTHER_TOKEN = "hostile-other-token"
TARGET = {"name": "hostile_target", "data_group": "hostile", "data_type": "target",
          "bearer_token": TARGET_TOKEN, "raw_queries_allowed": True}
OTHER = {"name": "hostile_other", "data_group": "hostile", "data_type": "other",
         "bearer_token": OTHER_TOKEN, "raw_queries_allowed": False}
SEED = [{"_id": f"seed{index}", "_timestamp": f"2014-01-{index + 6:02d}T00:00:00Z",
         "channel": "ab"[index % 2], "count": index} for index in range(4)]
MiB = 1024 * 1024
LIMIT = 10 * MiB  # BACKDROP_MAX_BODY_BYTES's default
HUGE = 100 * MiB
MAX_BATCH = 100_000  # BACKDROP_MAX_BATCH_RECORDS's default

NUL = "Paths and query parameters cannot contain the NUL character (U+0000)"
SURROGATE = ("Paths and query parameters cannot contain surrogate code points (U+D800 to U+DFFF): "
             "they must be valid UTF-8")
EXPECTED_HEADER = "Expected header of form: Authorization: Bearer <token>"
BAD_TOKEN = "Unauthorized: Invalid bearer token for 'hostile_target'"
BAD_ADMIN = "Unauthorized: invalid admin token"
WRAPPED_TYPE = "ValidationError('Expected header: Content-type: application/json',)"
CONTENT_TYPE = "Expected header: Content-type: application/json"
TOO_LARGE = "Request Entity Too Large"
NOT_UTF8 = "Request body is not valid UTF-8"
NOT_GZIP = "Request body is not valid gzip data"
NOT_RECORDS = "Expected a JSON object or a list of JSON objects"
NO_WRITE_SET = "Could not find data_set_config"
NO_READ_SET = "data_set not found"
OUT_OF_RANGE = ("count has an integer outside the 64-bit range: integers must lie between -9223372036854775808 "
                "and 9223372036854775807 (send a larger number as a double, such as 1e30, or as a string)")
BAD_TIMESTAMP = "the _timestamp must be a date in the format yyyy-MM-ddT00:00:00Z"
UNRECOGNISED = "An unrecognised parameter was provided"
BAD_FILTER_FIELD = "Cannot filter by an invalid field name"
BAD_SORT_DIRECTION = "Unrecognised sort direction. Supported directions include: ascending, descending"
BAD_GROUP_FIELD = "Cannot group by an invalid field name"
BAD_PERIOD = "'period' must be one of ['hour', 'day', 'week', 'month', 'quarter', 'year']"
OUTSIDE_DATES = "Query range is outside the supported dates (years 1 to 9999)"


@dataclass(frozen=True)
class Prefix:
    text: str


@dataclass(frozen=True)
class Case:
    name: str
    app: str  # "read" or "write"
    method: str
    path: str
    status: int
    message: str | Prefix
    headers: tuple = ()
    body: bytes | Streamed | None = None
    # Refused by gunicorn before the app sees it, with this status and gunicorn's own page
    # (not JSON): headers no HTTP server passes on. In-process, the app's answer is checked.
    by_server: int | None = None


def bearer(token: str | bytes) -> tuple:
    return ("Authorization", b"Bearer " + token if isinstance(token, bytes) else f"Bearer {token}")


JSON = ("Content-Type", "application/json")
AS_TARGET = (bearer(TARGET_TOKEN), JSON)
AS_ADMIN = (bearer(ADMIN_TOKEN), JSON)
RECORDS = "/data/hostile/target"


def post(name: str, body: bytes | Streamed | None, status: int, message, headers: tuple = AS_TARGET,
         path: str = RECORDS) -> Case:
    """A POST of records to the target data set, by default with its token and JSON type."""
    return Case(name, "write", "POST", path, status, message, headers, body)


def admin(name: str, method: str, path: str, status: int, message, body: bytes | None = None,
          headers: tuple = AS_ADMIN) -> Case:
    return Case(name, "write", method, path, status, message, headers, body)


def read(name: str, query: str, status: int = 400, message=None, path: str = RECORDS) -> Case:
    return Case(name, "read", "GET", f"{path}?{query}" if query else path, status, message)


def record(**fields) -> bytes:
    return json.dumps([{"_timestamp": "2014-02-01T00:00:00Z", **fields}]).encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def zeros(total: int, chunk: int = MiB) -> Iterator[bytes]:
    block = b"0" * chunk
    for _ in range(total // chunk):
        yield block


@cache
def gzip_bomb() -> bytes:
    """128 MiB of spaces inside `[ ]`, gzipped to about 130 kB: inflated, 12 times the limit."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts, block = [packer.compress(b"[")], b" " * MiB
    parts += [packer.compress(block) for _ in range(128)]
    return b"".join(parts + [packer.compress(b"]"), packer.flush()])


def _bomb_chunks() -> Iterator[bytes]:
    bomb = gzip_bomb()
    for start in range(0, len(bomb), 64 * 1024):
        yield bomb[start:start + 64 * 1024]


GZIP = ("Content-Encoding", "gzip")


def parse_error(start: str) -> Prefix:
    """The parser's message: `Error parsing JSON: "<what orjson said>: line 1 column N (char M)"`."""
    return Prefix(f'Error parsing JSON: "{start}')


PARSE = parse_error("")
DEPTH = parse_error("depth limit exceeded")


def _write_bodies() -> list[Case]:
    big = LIMIT + MiB
    return [
        post("truncated JSON", b'[{"count": ', 400, parse_error("unexpected end of data")),
        post("trailing comma", b'[{"count": 1},]', 400, parse_error("trailing comma is not allowed")),
        post("single quotes", b"[{'count': 1}]", 400, PARSE),
        post("two documents", b'{"count": 1}{"count": 2}', 400, parse_error("unexpected content after document")),
        post("not UTF-8", b'[{"channel": "\xff\xfe"}]', 400, NOT_UTF8),
        post("UTF-16 body", '[{"count": 1}]'.encode("utf-16"), 400, NOT_UTF8),
        post("empty body", b"", 400, "Expected JSON request body but received zero bytes."),
        post("text/plain", record(count=1), 400, WRAPPED_TYPE, (bearer(TARGET_TOKEN), ("Content-Type", "text/plain"))),
        post("no content type", record(count=1), 400, WRAPPED_TYPE, (bearer(TARGET_TOKEN),)),
        post("text/json", record(count=1), 400, WRAPPED_TYPE, (bearer(TARGET_TOKEN), ("Content-Type", "text/json"))),
        post("form data", b"count=1", 400, WRAPPED_TYPE,
             (bearer(TARGET_TOKEN), ("Content-Type", "application/x-www-form-urlencoded"))),
        post("JSON null", b"null", 400, WRAPPED_TYPE),
        post("JSON number", b"42", 400, NOT_RECORDS),
        post("JSON string", b'"records"', 400, NOT_RECORDS),
        post("list of lists", b"[[1, 2]]", 400, "record must be a JSON object"),
        post("10,000 nested lists", nested(10_000), 400, DEPTH),
        post("10,000 nested objects", b'{"a_b":' * 10_000 + b"1" + b"}" * 10_000, 400, DEPTH),
        post("100 MB body, Content-Length", Streamed(lambda: zeros(HUGE), HUGE), 413, TOO_LARGE),
        post("100 MB body, chunked", Streamed(lambda: zeros(HUGE), None), 413, TOO_LARGE),
        post("gzip bomb", Streamed(_bomb_chunks, None), 413, TOO_LARGE, AS_TARGET + (GZIP,)),
        post("gzip header, plain body", record(count=1), 400, NOT_GZIP, AS_TARGET + (GZIP,)),
        post("gzip cut short", gzip.compress(record(count=1))[:-8], 400, NOT_GZIP, AS_TARGET + (GZIP,)),
        post("key over the size limit", b'[{"' + b"k" * big + b'": 1}]', 413, TOO_LARGE),
        post("value over the size limit", b'[{"channel": "' + b"v" * big + b'"}]', 413, TOO_LARGE),
        post("$-prefixed key", record(**{"$where": "1 == 1"}), 400, "$where is not a valid key"),
        post("$set operator", b'{"$set": {"count": 1}}', 400, "$set is not a valid key"),
        post("dotted key", record(**{"a.b": 1}), 400, "a.b is not a valid key"),
        post("nested object value", record(channel={"$gt": ""}), 400, "channel has an invalid value"),
        post("NUL in a key", record(**{"ab\u0000cd": 1}), 400, "ab\u0000cd is not a valid key"),
        post("lone surrogate escape in a key", b'[{"\\ud800ab": 1}]', 400, parse_error("no low surrogate in string")),
        post("lone surrogate escape in a value", b'[{"channel": "\\udfff"}]', 400,
             parse_error("invalid high surrogate in string")),
        post("surrogate bytes in a value", b'[{"channel": "\xed\xa0\x80"}]', 400, NOT_UTF8),
        post("2**64", record(count=2**64), 400, OUT_OF_RANGE),
        post("-2**63-1", record(count=-2**63 - 1), 400, OUT_OF_RANGE),
        post("10**39", b'[{"count": 1' + b"0" * 39 + b"}]", 400, OUT_OF_RANGE),
        # Beyond a double's range, the parser refuses it first (test_write_body.py keeps that order).
        post("10**400", b'[{"count": 1' + b"0" * 400 + b"}]", 400, parse_error("number is infinity")),
        post("1e400", b'[{"count": 1e400}]', 400, parse_error("number is infinity")),
        post("an integer of 5,000 digits", b'[{"count": 1' + b"0" * 5000 + b"}]", 400,
             parse_error("number is infinity")),
        post("NaN literal", b'[{"count": NaN}]', 400, PARSE),
        post("Infinity literal", b'[{"count": Infinity}]', 400, PARSE),
        post("-Infinity literal", b'[{"count": -Infinity}]', 400, PARSE),
        post("year 99999", record(_timestamp="99999-01-01T00:00:00Z"), 400, BAD_TIMESTAMP),
        post("year 0", record(_timestamp="0000-01-01T00:00:00Z"), 400,
             "0000-01-01T00:00:00Z in the _timestamp field is not a valid date"),
        post("past year 9999 in UTC", record(_timestamp="9999-12-31T23:59:59-23:59"), 400,
             "9999-12-31T23:59:59-23:59 in the _timestamp field is not a valid date"),
        post("before year 1 in UTC", record(_timestamp="0001-01-01T00:00:00+23:59"), 400,
             "0001-01-01T00:00:00+23:59 in the _timestamp field is not a valid date"),
        post("timestamp as a huge number", b'[{"_timestamp": 1e308}]', 400, BAD_TIMESTAMP),
        post("unknown internal field", record(_updated_at="2014-01-01T00:00:00Z"), 400,
             "_updated_at is not a recognised internal field"),
        post("id with whitespace", record(_id="a b"), 400, '_id "a b" is not a valid id'),
        post("100,001 empty records", b"[" + b",".join([b"{}"] * (MAX_BATCH + 1)) + b"]", 413,
             f"A batch may hold at most {MAX_BATCH} records (BACKDROP_MAX_BATCH_RECORDS), not {MAX_BATCH + 1}: "
             "send the records in smaller batches"),
        post("2,000 numbers for records", b"[" + b",".join([b"0"] * 2000) + b"]", 400,
             "record must be a JSON object"),
        post("one bad record in a good batch", json.dumps([{"count": 1}, {"count": 2**64}]).encode(), 400,
             OUT_OF_RANGE),
        Case("PUT a non-empty list", "write", "PUT", RECORDS, 400,
             "Not implemented: you can only pass an empty JSON list", AS_TARGET, b"[{}]"),
        Case("PUT as text/plain", "write", "PUT", RECORDS, 400, WRAPPED_TYPE,
             (bearer(TARGET_TOKEN), ("Content-Type", "text/plain")), b"[]"),
        Case("PATCH with a list", "write", "PATCH", RECORDS + "/seed0", 400,
             "Expected a JSON object of the fields to change", AS_TARGET, b"[]"),
        Case("PATCH a $ key", "write", "PATCH", RECORDS + "/seed0", 400, "$inc is not a valid key", AS_TARGET,
             b'{"$inc": {"count": 1}}'),
        Case("PATCH to 2**64", "write", "PATCH", RECORDS + "/seed0", 400, OUT_OF_RANGE, AS_TARGET,
             json.dumps({"count": 2**64}).encode()),
        Case("PATCH an unknown id", "write", "PATCH", RECORDS + "/nope", 400, "No record found with id nope",
             AS_TARGET, b'{"count": 1}'),
        Case("DELETE an unknown id", "write", "DELETE", RECORDS + "/nope", 400, "No record found with id nope",
             (bearer(TARGET_TOKEN),)),
        Case("transform without _start_at", "write", "POST", RECORDS + "/transform", 400,
             "You must specify a _start_at timestamp", AS_TARGET, b'{"_end_at": "2014-01-01T00:00:00Z"}'),
        Case("transform with a bad _start_at", "write", "POST", RECORDS + "/transform", 400,
             "_start_at must be a date in the format yyyy-MM-ddT00:00:00Z", AS_TARGET,
             b'{"_start_at": "1; DROP TABLE backdrop_records"}'),
    ]


def _write_paths_and_tokens() -> list[Case]:
    body = record(count=1)
    return [
        post("NUL in the path", body, 400, NUL, path="/data/hostile%00/target"),
        post("NUL in the legacy name", body, 400, NUL, path="/hostile_target%00"),
        post("NUL in the query string", body, 400, NUL, path=RECORDS + "?note=%00"),
        post("surrogate in the path", body, 400, SURROGATE, path="/data/hostile/target%ED%A0%80"),
        post("path traversal ..", body, 404, NO_WRITE_SET, path="/data/../data-sets"),
        post("path traversal %2e%2e", body, 404, NO_WRITE_SET, path="/data/%2e%2e/%2e%2e"),
        post("traversal to the admin API", body, 405, "Method Not Allowed", path="/data/hostile/../../data-sets"),
        post("no Authorization", body, 401, EXPECTED_HEADER, (JSON,)),
        post("empty Authorization", body, 401, BAD_TOKEN, (("Authorization", ""), JSON)),
        post("Bearer alone", body, 401, BAD_TOKEN, (("Authorization", "Bearer"), JSON)),
        post("Bearer and a space", body, 401, BAD_TOKEN, (("Authorization", "Bearer "), JSON)),
        post("Basic scheme", body, 401, BAD_TOKEN, (("Authorization", "Basic aG9zdGlsZTp0YXJnZXQ="), JSON)),
        post("lower-case bearer", body, 401, BAD_TOKEN, (("Authorization", f"bearer {TARGET_TOKEN}"), JSON)),
        post("two tokens", body, 401, BAD_TOKEN, (bearer(f"{TARGET_TOKEN} {TARGET_TOKEN}"), JSON)),
        post("two Authorization headers", body, 401, BAD_TOKEN, (bearer(OTHER_TOKEN), bearer(TARGET_TOKEN), JSON)),
        Case("token with a NUL", "write", "POST", RECORDS, 401, BAD_TOKEN, (bearer(TARGET_TOKEN + "\x00"), JSON),
             body, by_server=400),
        Case("100 kB token", "write", "POST", RECORDS, 401, BAD_TOKEN, (bearer("t" * 100_000), JSON), body,
             by_server=431),
        post("very long token", body, 401, BAD_TOKEN, (bearer("t" * 8000), JSON)),
        post("non-ASCII token (UTF-8)", body, 401, BAD_TOKEN, (bearer("tökén-☃".encode()), JSON)),
        post("non-ASCII token (Latin-1)", body, 401, BAD_TOKEN, (bearer("tökén".encode("latin-1")), JSON)),
        post("surrogate bytes in the token", body, 401, BAD_TOKEN, (bearer(b"\xed\xa0\x80"), JSON)),
        post("another data set's token", body, 401, BAD_TOKEN, (bearer(OTHER_TOKEN), JSON)),
        post("the admin token on a data route", body, 401, BAD_TOKEN, (bearer(ADMIN_TOKEN), JSON)),
        post("token in the query string", body, 401, EXPECTED_HEADER, (JSON,), path=f"{RECORDS}?token={TARGET_TOKEN}"),
        post("legacy route, another token", body, 401, BAD_TOKEN, (bearer(OTHER_TOKEN), JSON), path="/hostile_target"),
        post("unknown data set", body, 404, NO_WRITE_SET, path="/data/hostile/nothing"),
        post("SQL in the group", body, 404, NO_WRITE_SET, path="/data/hostile'%20OR%20'1'='1/target"),
        Case("DELETE a record, other token", "write", "DELETE", RECORDS + "/seed0", 401, BAD_TOKEN,
             (bearer(OTHER_TOKEN),)),
        Case("empty the set, admin token", "write", "PUT", RECORDS, 401, BAD_TOKEN, (bearer(ADMIN_TOKEN), JSON), b"[]"),
    ]


def _admin_cases() -> list[Case]:
    new = json.dumps({"data_group": "hostile", "data_type": "new"}).encode()
    target = "/data-sets/hostile_target"
    return [
        admin("admin without Authorization", "GET", "/data-sets", 401, EXPECTED_HEADER, headers=()),
        admin("admin, Bearer alone", "GET", "/data-sets", 401, EXPECTED_HEADER, headers=(("Authorization", "Bearer"),)),
        admin("admin, Basic scheme", "DELETE", target, 401, EXPECTED_HEADER,
              headers=(("Authorization", "Basic YWRtaW46YWRtaW4="),)),
        admin("admin, a data set's token", "POST", "/data-sets", 401, BAD_ADMIN, new, (bearer(TARGET_TOKEN), JSON)),
        admin("admin, token rotation with a data set's token", "POST", target + "/token", 401, BAD_ADMIN,
              headers=(bearer(TARGET_TOKEN),)),
        admin("admin, two tokens", "DELETE", target, 401, BAD_ADMIN, headers=(bearer(f"{ADMIN_TOKEN} {ADMIN_TOKEN}"),)),
        admin("admin, non-ASCII token", "DELETE", target, 401, BAD_ADMIN, headers=(bearer("ädmin☃".encode()),)),
        admin("admin, malformed JSON", "POST", "/data-sets", 400, parse_error("unexpected end of data"),
              b'{"data_group": '),
        admin("admin, text/plain", "POST", "/data-sets", 400, CONTENT_TYPE, new,
              (bearer(ADMIN_TOKEN), ("Content-Type", "text/plain"))),
        admin("admin, 10,000 nested lists", "POST", "/data-sets", 400, DEPTH, nested(10_000)),
        admin("admin, a list", "POST", "/data-sets", 400, "A data-set configuration must be a JSON object", b"[]"),
        admin("admin, a $ field", "POST", "/data-sets", 400, "Unknown field: $where",
              json.dumps({"data_group": "hostile", "data_type": "new", "$where": "1"}).encode()),
        admin("admin, traversal in the group", "POST", "/data-sets", 400,
              "data_group must match ^[a-z0-9][a-z0-9_-]{0,99}$ (lowercase letters, digits, '_' and '-'), not '../etc'",
              json.dumps({"data_group": "../etc", "data_type": "new"}).encode()),
        admin("admin, SQL in the type", "POST", "/data-sets", 400,
              Prefix("data_type must match ^[a-z0-9][a-z0-9_-]{0,99}$"),
              json.dumps({"data_group": "hostile", "data_type": "x'; DROP TABLE backdrop_records; --"}).encode()),
        admin("admin, NUL in the type", "POST", "/data-sets", 400, Prefix("data_type must match"),
              json.dumps({"data_group": "hostile", "data_type": "new\u0000"}).encode()),
        admin("admin, NUL in a token", "POST", "/data-sets", 400,
              "bearer_token cannot contain the NUL character (U+0000)",
              json.dumps({"data_group": "hostile", "data_type": "new", "bearer_token": "t\u0000"}).encode()),
        admin("admin, taken group and type", "POST", "/data-sets", 409,
              "A data set for hostile/target already exists",
              json.dumps({"data_group": "hostile", "data_type": "target", "name": "another"}).encode()),
        admin("admin, huge max_age_expected", "POST", "/data-sets", 400,
              "max_age_expected must be a whole number of seconds >= 0, or null",
              json.dumps({"data_group": "hostile", "data_type": "new", "max_age_expected": 2**64}).encode()),
        admin("admin, rename by PUT", "PUT", target, 400, "name cannot be changed",
              json.dumps({**{k: v for k, v in TARGET.items() if k != "bearer_token"}, "name": "renamed"}).encode()),
        admin("admin, a schema that is not one", "PUT", target, 400,
              Prefix("schema is not a valid JSON Schema (draft 4)"),
              json.dumps({"data_group": "hostile", "data_type": "target", "schema": {"type": 12}}).encode()),
        admin("admin, NUL in the name", "GET", "/data-sets/hostile_target%00", 400, NUL),
        admin("admin, surrogate in the name", "DELETE", "/data-sets/hostile%ED%A0%80", 400, SURROGATE),
        admin("admin, traversal in the name", "DELETE", "/data-sets/..%2f..%2fetc", 404, "Not Found"),
        admin("admin, delete an unknown set", "DELETE", "/data-sets/x'%20OR%20'1'='1", 404,
              'No collection exists with name "x\' OR \'1\'=\'1"'),
        admin("admin, unknown transform task", "POST", "/transforms", 400, "Unknown transform type 'os.system'",
              json.dumps({"type": {"function": "os.system"}, "query-parameters": {},
                          "input": {"data-group": "hostile", "data-type": "target"},
                          "output": {"data-type": "x"}}).encode()),
        admin("admin, transform with SQL in its query", "POST", "/transforms", 400,
              f"Invalid query-parameters: {BAD_GROUP_FIELD}",
              json.dumps({"type": {"function": "backdrop.transformers.tasks.rate.compute"},
                          "query-parameters": {"group_by": "x; DROP TABLE y"},
                          "input": {"data-group": "hostile", "data-type": "target"},
                          "output": {"data-type": "x"}}).encode()),
        admin("admin, dashboard not an object", "POST", "/dashboards", 400, "A dashboard must be a JSON object",
              b'"slug"'),
    ]


def _read_cases() -> list[Case]:
    sql = "'%20OR%201=1%20--"
    return [
        read("unknown parameter", "token=x", message=UNRECOGNISED),
        read("SQL as a parameter name", "1=1;--=x", message=UNRECOGNISED),
        read("NUL in a value", "filter_by=channel:a%00", message=NUL),
        read("NUL in a parameter name", "filter_by%00=channel:a", message=NUL),
        read("surrogate in a value", "filter_by=channel:%ED%A0%80", message=SURROGATE),
        read("NUL in the path", "", message=NUL, path="/data/hostile/target%00"),
        read("surrogate in the legacy name", "", message=SURROGATE, path="/hostile%ED%BF%BF"),
        read("filter_by without a colon", f"filter_by={sql}",
             message="filter_by must be a field name and value separated by a colon (:) eg. authority:Westminster"),
        read("SQL in the filter field", f"filter_by=channel{sql}:a", message=BAD_FILTER_FIELD),
        read("$ filter field", "filter_by=$where:1", message=BAD_FILTER_FIELD),
        read("dotted filter field", "filter_by=a.b:1", message=BAD_FILTER_FIELD),
        read("SQL in the prefix field", f"filter_by_prefix=channel{sql}:a", message=BAD_FILTER_FIELD),
        read("SQL in group_by", "group_by=channel;DROP%20TABLE%20backdrop_records", message=BAD_GROUP_FIELD),
        read("group_by an internal field", "group_by=_id",
             message="Cannot group by internal fields, internal fields start with an underscore"),
        read("SQL in the sort direction", "sort_by=count:ascending;DROP%20TABLE%20x", message=BAD_SORT_DIRECTION),
        read("SQL in the sort field", "sort_by=count)%20DESC%20--:ascending",
             message="Cannot sort by an invalid field name"),
        read("SQL in the collect method", "group_by=channel&collect=count:sum)%20FROM%20x%20--",
             message="Unknown collection method"),
        read("SQL in the collect field", "group_by=channel&collect=1;DROP:sum",
             message="Cannot collect an invalid field name"),
        read("SQL in period", f"period=day{sql}&start_at=2014-01-06T00:00:00Z&end_at=2014-01-13T00:00:00Z",
             message=BAD_PERIOD),
        read("SQL in start_at", f"start_at=2014-01-06{sql}&end_at=2014-01-13T00:00:00Z",
             message="start_at is not a valid datetime"),
        read("SQL in end_at", f"start_at=2014-01-06T00:00:00Z&end_at=2014-01-13{sql}",
             message="end_at is not a valid datetime"),
        read("SQL in limit", "limit=1;DROP%20TABLE%20x", message="limit must be a positive integer"),
        read("limit 2**64", f"limit={2**64}", message="limit must be a positive integer"),
        read("negative duration", "period=day&duration=-1", message="duration must be a positive integer"),
        read("duration 2**64", f"period=day&duration={2**64}", message="Query would return too many periods"),
        read("SQL in timezone", f"period=day&duration=7&timezone=Europe/London{sql}",
             message="timezone must be a valid IANA time zone name"),
        read("traversal in timezone", "period=day&duration=7&timezone=../../../../etc/passwd",
             message="timezone must be a valid IANA time zone name"),
        read("SQL in page_token", f"limit=2&page_token={sql}",
             message="page_token is malformed: use an empty page_token for the first page, "
                     "then the one in each next link"),
        read("SQL in inclusive", f"start_at=2014-01-06T00:00:00Z&end_at=2014-01-13T00:00:00Z&inclusive=true{sql}",
             message="inclusive must be either 'true' or 'false'"),
        read("SQL in flatten", f"flatten=true{sql}", message="flatten must be either 'true' or 'false'"),
        read("year 99999", "start_at=99999-01-01T00:00:00Z&end_at=99999-02-01T00:00:00Z",
             message="start_at is not a valid datetime"),
        read("range past year 9999", "start_at=9999-12-30T00:00:00Z&period=day&duration=5", message=OUTSIDE_DATES),
        read("a million periods", "period=hour&duration=1000000", message="Query would return too many periods"),
        read("raw read of a private set", "", message="querying for raw data is not allowed",
             path="/data/hostile/other"),
        read("traversal in the path", "", 404, NO_READ_SET, path="/data/../data-sets"),
        read("encoded traversal", "", 404, NO_READ_SET, path="/data/%2e%2e/%2e%2e"),
        read("encoded slashes in a name", "", 404, "Not Found", path="/..%2f..%2fetc%2fpasswd"),
        read("unknown data set", "", 404, NO_READ_SET, path="/data/hostile/nothing"),
        Case("DELETE on the read app", "read", "DELETE", RECORDS, 405, "Method Not Allowed"),
        Case("POST to the read app", "read", "POST", RECORDS, 405, "Method Not Allowed", AS_TARGET, record(count=1)),
    ]


def catalogue() -> list[Case]:
    cases = _write_bodies() + _write_paths_and_tokens() + _admin_cases() + _read_cases()
    names = [f"{case.app}: {case.name}" for case in cases]
    assert len(names) == len(set(names)), "every case needs a name of its own"
    return cases
