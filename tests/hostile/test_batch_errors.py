"""A batch with many problems is answered with the first 1,000 and their total, on every
engine: a few megabytes of bad records cannot make a body many times their size (issue 14).
A batch with fewer problems is answered as it always was, every problem and no total."""
from __future__ import annotations

import json

from hostile_cases import AS_TARGET, RECORDS

from backdrop.core.records import MAX_REPORTED_PROBLEMS

NOT_AN_OBJECT = "record must be a JSON object"


def _post(served, items: list) -> dict:
    answer = served.send("write", "POST", RECORDS, AS_TARGET, json.dumps(items).encode())
    assert answer.status == 400, answer.body[:300]
    return answer.json()


def test_more_than_1000_problems_answer_the_first_1000_and_the_total(served):
    body = _post(served, [0] * 2500)
    assert body["error_count"] == 2500
    assert body["messages"] == [NOT_AN_OBJECT] * MAX_REPORTED_PROBLEMS
    assert body["errors"] == [{"index": index, "message": NOT_AN_OBJECT} for index in range(MAX_REPORTED_PROBLEMS)]


def test_up_to_1000_problems_answer_every_one_and_no_total(served):
    bad = [{"_timestamp": "2014-01-06T00:00:00Z", "$x": 1}, 0, {"_timestamp": "2014-01-06T00:00:00Z", "a.b": 1}]
    body = _post(served, bad)
    assert body == {"messages": ["$x is not a valid key", NOT_AN_OBJECT, "a.b is not a valid key"],
                    "errors": [{"index": 0, "message": "$x is not a valid key"},
                               {"index": 1, "message": NOT_AN_OBJECT},
                               {"index": 2, "message": "a.b is not a valid key"}]}
    assert len(_post(served, [0] * MAX_REPORTED_PROBLEMS)["messages"]) == MAX_REPORTED_PROBLEMS
    assert "error_count" not in _post(served, [0] * MAX_REPORTED_PROBLEMS)
