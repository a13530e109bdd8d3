"""Data-set JSON Schemas (draft 4): checking them, and applying them to records quickly.

Messages always come from jsonschema, worded as clients have always seen them. But
jsonschema costs tens of microseconds a record, so each schema is also compiled, when it
uses only a common subset of keywords, into a plain predicate that answers "valid" for the
usual good record; jsonschema runs only when the predicate says no or cannot judge the
schema. The predicate is conservative: it may send a valid record on
to jsonschema, never wave through an invalid one.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterator
from urllib.parse import unquote

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import SchemaError

Predicate = Callable[[Any], bool]

# RFC 3339 date-time, plus offsets written ±HHMM, which the original's checker accepted.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)",
    re.ASCII)


def is_date_time(instance: Any) -> bool:
    """`format: date-time`: RFC 3339 (no leap seconds), also with an offset written without
    its colon (`+0000`: the original accepted it, jsonschema's optional checker does not),
    and nothing else. Non-strings are not its business."""
    if not isinstance(instance, str):
        return True
    if _RFC3339.fullmatch(instance) is None:
        return False
    try:
        datetime.fromisoformat(instance.replace("z", "Z"))
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft4Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(is_date_time)
    return checker


FORMATS = _format_checker()


# ---------------------------------------------------------------------------- checking

def check_schema(schema: Any) -> None:
    """Refuse, with a readable ValueError, a `schema` that is not a usable draft-4 JSON
    Schema object, so a bad configuration fails when it is saved rather than on writes."""
    if not isinstance(schema, dict):
        raise ValueError("schema must be a JSON object")
    try:
        Draft4Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.path)
        place = f" at {where}" if where else ""
        raise ValueError(
            f"schema is not a valid JSON Schema (draft 4){place}: {error.message}") from None
    for ref in _refs(schema):
        if _resolve(schema, ref) is None:
            raise ValueError(f"schema $ref {ref!r} does not point inside the schema")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(root: dict, ref: str) -> dict | None:
    """The subschema a local JSON-pointer `$ref` names; None for anything else, since
    nothing is ever fetched from elsewhere."""
    if not ref.startswith("#"):
        return None
    pointer = unquote(ref[1:])
    if pointer and not pointer.startswith("/"):
        return None
    node: Any = root
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node if isinstance(node, dict) else None


# ---------------------------------------------------------------------------- applying

class RecordSchema:
    """One data set's schema, compiled once for every record of every batch."""

    def __init__(self, schema: dict):
        self._validator = Draft4Validator(schema, format_checker=FORMATS)
        self.quick: Predicate | None = _compile(schema, schema, 0)

    def messages(self, record: Any) -> list[str]:
        """Every schema error of `record`, in jsonschema's order (the schema's order)."""
        if self.quick is not None and self.quick(record):
            return []
        return [error.message for error in self._validator.iter_errors(record)]


def compiled_schema(schema: dict) -> RecordSchema:
    return _compiled(json.dumps(schema, sort_keys=True))


@lru_cache(maxsize=64)
def _compiled(canonical: str) -> RecordSchema:
    """Built from the canonical text, so error order never depends on the key order of
    whichever equal schema happened to be seen first."""
    return RecordSchema(json.loads(canonical))


# ---------------------------------------------------------------------------- predicates

_PYTHON_TYPES = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
    "number": (int, float), "boolean": (bool,), "null": (type(None),),
}
_ANNOTATIONS = frozenset(("$schema", "title", "description", "definitions", "default"))
_MAX_DEPTH = 32


def _compile(schema: Any, root: dict, depth: int) -> Predicate | None:
    """A predicate for `schema`, or None when it uses a keyword outside the subset."""
    if type(schema) is not dict or depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:  # draft 4: a $ref replaces its siblings
        target = _resolve(root, schema["$ref"]) if isinstance(schema["$ref"], str) else None
        return None if target is None else _compile(target, root, depth + 1)
    tests = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        builder = _BUILDERS.get(keyword)
        test = builder(value, schema, root, depth) if builder is not None else None
        if test is None:
            return None
        tests.append(test)
    return _all(tests)


def _all(tests: list[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]

    def every(instance: Any) -> bool:
        for test in tests:
            if not test(instance):
                return False
        return True
    return every


def _type(value: Any, schema: dict, root: dict, depth: int) -> Predicate | None:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(n in _PYTHON_TYPES for n in names):
        return None
    kinds = frozenset(kind for name in names for kind in _PYTHON_TYPES[name])
    return lambda instance: type(instance) in kinds  # exact types: a bool is no integer


def _properties(value: Any, schema: dict, root: dict, depth: int) -> Predicate | None:
    if type(value) is not dict:
        return None
    tests = [(name, _compile(sub, root, depth + 1)) for name, sub in value.items()]
    if any(test is None for _, test in tests):
        return None

    def properties(instance: Any) -> bool:
        if type(instance) is not dict:
            return True
        for name, test in tests:
            if name in instance and not test(instance[name]):
                return False
        return True
    return properties


def _required(value: Any, schema: dict, root: dict, depth: int) -> Predicate | None:
    if type(value) is not list:
        return None
    names = tuple(value)
    return lambda instance: type(instance) is not dict or all(n in instance for n in names)


def _format(value: Any, schema: dict, root: dict, depth: int) -> Predicate | None:
    return is_date_time if value == "date-time" else None


def _all_of(value: Any, schema: dict, root: dict, depth: int) -> Predicate | None:
    if type(value) is not list:
        return None
    tests = [_compile(sub, root, depth + 1) for sub in value]
    return None if any(test is None for test in tests) else _all(tests)


def _additional(value: Any, schema: dict, root: dict, depth: int) -> Predicate | None:
    if value is True or value == {}:
        return lambda instance: True
    if value is not False or type(schema.get("properties", {})) is not dict:
        return None
    allowed = frozenset(schema.get("properties", {}))
    return lambda instance: type(instance) is not dict or all(k in allowed for k in instance)


_BUILDERS = {
    "type": _type, "properties": _properties, "required": _required, "format": _format,
    "allOf": _all_of, "additionalProperties": _additional,
}
