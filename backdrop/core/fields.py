"""The one rule for field names, shared by record keys and query parameters.

Letters, digits and underscores, not starting with a digit, at least two characters,
compared case-insensitively. It keeps `$`, `.`, `-`, `:` and spaces out of every key a
query or a record can name, so no user text ever reaches an engine as an operator or a
path.
"""
from __future__ import annotations

import re

_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]+", re.IGNORECASE | re.ASCII)


def valid_field_name(name: str) -> bool:
    return isinstance(name, str) and _FIELD_NAME.fullmatch(name) is not None
