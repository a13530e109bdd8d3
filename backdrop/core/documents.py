"""Looking up and deleting administration documents (transforms, dashboards) by key.

Both kinds answer a missing key the same way — a registry `Missing` with the kind's own
message — so the lookups live here once.
"""
from __future__ import annotations

from backdrop.core.registry import Missing
from backdrop.core.storage.base import Storage


def require(storage: Storage, kind: str, key: str, missing: str) -> dict:
    document = storage.get_document(kind, key)
    if document is None:
        raise Missing(missing)
    return document


def remove(storage: Storage, kind: str, key: str, missing: str) -> None:
    if not storage.delete_document(kind, key):
        raise Missing(missing)
