"""The change feed's answer (base.Changes) from what an engine read of it in one snapshot.

Every engine reads the same four things (the data set's version, its floor, the deletions
and the records numbered above the cursor) and the rules that turn them into an answer are
the same everywhere, so they live here once; memory.py spells them out inline as the
reference.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from .base import Changes


def assemble(since: int, limit: int, version: int | None, floor: tuple[int, int] | None,
             deletions: Iterable[tuple[str, int]], records: Sequence[tuple[int, dict]]) -> Changes:
    """The answer from the parts read in one snapshot.

    `floor`: (floor, version that set it), or None when the name never had one;
    `deletions`: (record id, version) of the deletions numbered above `since`;
    `records`: (seq, record) numbered above `since`, oldest first, read with a limit of
    `limit + 1`, so that one more than `limit` says the answer is not complete.

    Only a complete answer moves the cursor past the removals and the version: an
    incomplete one stops at its last record, and the next page repeats the removals
    numbered above it, which a replica applies again harmlessly.
    """
    deletions = list(deletions)
    complete = len(records) <= limit
    records = tuple(records[:limit])
    floor_at, floor_version = floor if floor is not None else (None, 0)
    seen = [since, *(seq for seq, _ in records)]
    if complete:
        seen += [version or 0, floor_version, *(when for _, when in deletions)]
    return Changes(
        version=version,
        cursor=max(seen),
        complete=complete,
        records=records,
        deleted=tuple(sorted(record_id for record_id, _ in deletions)),
        floor=floor_at if floor_version > since else None,
    )
