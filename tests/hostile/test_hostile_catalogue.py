"""Every hostile request of the catalogue gets its 4xx and a JSON error saying what to fix,
and changes nothing stored (configurations, token hashes, records, documents), on every
engine (conftest.py: SQLite and PostgreSQL under gunicorn; mongomock in-process).
"""
from __future__ import annotations

import json

import pytest
from hostile_cases import Case, Prefix, catalogue

CASES = catalogue()


def error_texts(body) -> list[str]:
    """The error's text(s): `message`, or each of `messages` (a list, or one string)."""
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("message"), str):
        return [body["message"]]
    messages = body.get("messages")
    return [messages] if isinstance(messages, str) else [m for m in messages or [] if isinstance(m, str)]


def matches(expected: str | Prefix, text: str) -> bool:
    if isinstance(expected, Prefix):
        return text.startswith(expected.text) and text.strip() != ""
    return text == expected


def test_the_catalogue_is_big_enough():
    assert sum(1 for case in CASES if 400 <= case.status < 500) >= 80


@pytest.fixture
def before(served):
    """What was stored before the case: the previous case's after-snapshot (one per case)."""
    return served.last_snapshot or served.snapshot()


@pytest.mark.parametrize("case", CASES, ids=[f"{case.app}: {case.name}" for case in CASES])
def test_hostile_request_is_refused_and_changes_nothing(served, before, case: Case):
    answer = served.send(case.app, case.method, case.path, case.headers, case.body)
    shown = answer.body[:300]
    if case.by_server and served.over_http:
        assert answer.status == case.by_server, f"{served.engine}: {answer.status} {shown!r}"
        _unchanged(served, before)
        return
    assert answer.status == case.status, f"{served.engine}: {answer.status} {shown!r}"
    assert answer.content_type.startswith("application/json"), f"not JSON: {answer.content_type} {shown!r}"
    body = json.loads(answer.body)
    if "message" in body:
        assert body.get("status") == "error", body
    texts = error_texts(body)
    assert any(matches(case.message, text) for text in texts), f"{served.engine}: {texts!r}"
    _unchanged(served, before)


def _unchanged(served, before: dict) -> None:
    after = served.snapshot()
    assert after == before, "the request changed what is stored"
    served.last_snapshot = after
