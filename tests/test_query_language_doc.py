"""docs/query-language.md, the reference `GET /` and the README link to, stays complete:
every parameter the read API takes, the rules for data sets without raw queries, and every
message a query can be refused with, word for word."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from backdrop import openapi
from backdrop.core import collect, paging
from backdrop.read import render

REPOSITORY = Path(__file__).resolve().parent.parent
DOC = (REPOSITORY / "docs" / "query-language.md").read_text(encoding="utf-8")
QUERY_MODULE = REPOSITORY / "backdrop" / "core" / "query.py"


def _text_parts(node: ast.AST) -> list[str]:
    """The literal text of a message: a string, an f-string's fixed parts, either branch of an if."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [value.value for value in node.values if isinstance(value, ast.Constant)]
    if isinstance(node, ast.IfExp):
        return _text_parts(node.body) + _text_parts(node.orelse)
    return []


def query_messages() -> list[str]:
    """Every message core/query.py refuses a query with: yielded by a check, raised as a
    QueryError, or kept in a module constant (`_TOO_MANY`)."""
    found = []
    for node in ast.walk(ast.parse(QUERY_MODULE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Yield) and node.value is not None:
            found += _text_parts(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "QueryError":
            for argument in node.args:
                found += _text_parts(argument)
        elif (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
              and re.fullmatch(r"_[A-Z_]+", node.targets[0].id)):
            found += _text_parts(node.value)
    return [part.strip(" -") for part in found if len(part.strip(" -")) > 6]


def test_every_query_message_is_in_the_reference():
    messages = query_messages()
    assert len(messages) > 30  # the parse found the checks
    messages += [paging.MALFORMED, collect.PERCENTILE_RANGE, render.UNPUBLISHED_WARNING, "data_set not found"]
    missing = [message for message in messages if message not in DOC]
    assert not missing, f"docs/query-language.md lacks: {missing}"


def test_every_parameter_has_a_row_in_the_reference():
    parameters = [name for name, _, _ in openapi.QUERY_PARAMETERS]
    assert len(parameters) == 15
    table = DOC[DOC.index("## Parameters"):DOC.index("### Date-times")]
    missing = [name for name in parameters if f"| `{name}` |" not in table]
    assert not missing, missing


def test_the_rules_for_data_sets_without_raw_queries_are_in_the_reference():
    section = DOC[DOC.index("## Data sets without raw queries"):DOC.index("## Errors, in the order")]
    for rule in ("**7 whole days**", "**midnight UTC**", "**Monday**", "**first of a month**", "`group_by` or `period`"):
        assert rule in section, rule
