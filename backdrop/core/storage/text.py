"""Strings as the SQL engines store them: without U+0000.

Neither SQLite's JSON functions (they stop at it) nor PostgreSQL's JSONB (it refuses it)
can hold U+0000, so both engines store strings through this escape: U+0001 becomes
U+0001 U+0002 and U+0000 becomes U+0001 U+0001. The code is prefix-free and keeps code
point order, so equality, prefix filters, sorting and grouping work on the stored text.
"""
from __future__ import annotations


def escape(text: str) -> str:
    if "\x00" in text or "\x01" in text:
        return text.replace("\x01", "\x01\x02").replace("\x00", "\x01\x01")
    return text


def unescape(text: str) -> str:
    """Undo `escape`; left-to-right replacement cannot misparse its prefix-free code."""
    if "\x01" in text:
        return text.replace("\x01\x01", "\x00").replace("\x01\x02", "\x01")
    return text
