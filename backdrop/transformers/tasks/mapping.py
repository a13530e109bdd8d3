"""mapping: sum a value per time bucket and named category, categories found by regexes.

Each output record gets an `_id` from its bucket and category and a `_timestamp` (the
original's had neither), so a re-run replaces instead of duplicating. Categories are tried
in configuration order.
"""
from __future__ import annotations

import re

from .util import encode_id, number, require_text, text


def check_options(options: dict) -> None:
    keys = options.get("mapping-keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("options.mapping-keys must be a non-empty list of field names")
    mappings = options.get("mappings")
    if not isinstance(mappings, dict) or not mappings:
        raise ValueError("options.mappings must be an object of category name → list of regexes")
    for category, patterns in mappings.items():
        if not isinstance(patterns, list) or len(patterns) != len(keys):
            raise ValueError(f"options.mappings.{category} must list one regex per mapping key")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except (re.error, TypeError):
                raise ValueError(f"options.mappings.{category} has an invalid regex: {pattern!r}") from None
    require_text(options, "mapped-attribute", "value-attribute")
    other = options.get("other-mapping")
    if other is not None and not isinstance(other, str):
        raise ValueError("options.other-mapping must be a string")


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
