"""rate: per time bucket, the sum of matching numerator rows over matching denominator rows.

Unlike the original, zero values are kept (a real 0 numerator gives rate 0, not null) and
division is always true division (the original's integer division truncated).
"""
from __future__ import annotations

import re

from .util import buckets, encode_id, number, text


def _matching_sum(rows: list[dict], options: dict, pattern: str):
    attribute, value_key = options["matchingAttribute"], options["valueAttribute"]
    total = None
    for row in rows:
        label, value = row.get(attribute), number(row.get(value_key), value_key)
        if value is None or label in (None, "") or not re.search(pattern, str(label)):
            continue
        total = value if total is None else total + value
    return total


def rate(rows: list[dict], options: dict):
    numerator = _matching_sum(rows, options, options["numeratorMatcher"])
    denominator = _matching_sum(rows, options, options["denominatorMatcher"])
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def compute(rows: list[dict], options: dict, context=None) -> list[dict]:
    output = []
    for (start, end), group in buckets(rows).items():
        output.append({
            "_id": encode_id(start, end),
            "_timestamp": text(start),
            "_start_at": text(start),
            "_end_at": text(end),
            "rate": rate(group, options),
        })
    return output
