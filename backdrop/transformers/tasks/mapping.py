"""mapping: sum a value per time bucket and named category, categories found by regexes.

Each output record gets an `_id` from its bucket and category and a `_timestamp` (the
original's had neither), so a re-run replaces instead of duplicating. Categories are tried
in configuration order.
"""
from __future__ import annotations

import re

from .util import encode_id, number, text


def category(values: list, options: dict) -> str | None:
    for name, patterns in options["mappings"].items():
        if all(value is not None and re.search(pattern, str(value)) for pattern, value in zip(patterns, values)):
            return name
    return options.get("other-mapping")


def compute(rows: list[dict], options: dict, context=None) -> list[dict]:
    value_key, mapped = options["value-attribute"], options["mapped-attribute"]
    totals: dict[tuple, object] = {}
    for row in rows:
        name = category([row.get(key) for key in options["mapping-keys"]], options)
        if name is None:
            continue
        bucket = (row.get("_start_at"), row.get("_end_at"), name)
        value = number(row.get(value_key), value_key) or 0
        totals[bucket] = totals.get(bucket, 0) + value
    return [
        {"_id": encode_id(start, end, name), "_timestamp": text(start), "_start_at": text(start),
         "_end_at": text(end), mapped: name, value_key: total}
        for (start, end, name), total in totals.items()
    ]
