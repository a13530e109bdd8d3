"""user_satisfaction: a 0–1 score per bucket from the sums of ratings 1–5 and the total.

The mean rating maps 1 → 0.0 and 5 → 1.0; true division throughout, and a null rating sum
counts as 0 (the original truncated, and crashed there).
"""
from __future__ import annotations

from .util import encode_id, number, text

RATINGS = range(1, 6)


def score(row: dict):
    total = number(row.get("total:sum"), "total:sum")
    if not total:
        return None
    weighted = sum(i * (number(row.get(f"rating_{i}:sum"), f"rating_{i}:sum") or 0) for i in RATINGS)
    return (weighted / total - 1) / 4


def compute(rows: list[dict], options: dict, context=None) -> list[dict]:
    output = []
    for row in rows:
        start, end = row.get("_start_at"), row.get("_end_at")
        record = {"_id": encode_id(start, end), "_timestamp": text(start),
                  "_start_at": text(start), "_end_at": text(end)}
        record.update({f"rating_{i}": row.get(f"rating_{i}:sum") for i in RATINGS})
        record["num_responses"] = row.get("total:sum")
        record["score"] = score(row)
        output.append(record)
    return output
