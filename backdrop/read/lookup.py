"""Finding a data set for a request: its version first, then its configuration.

Reading the version before the configuration is what keeps the response cache honest
(see cache.py). Because every configuration change takes a new version, a configuration
already seen at the current version is still the current one, so a repeated request
costs one version read and nothing else.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

from backdrop.core.registry import DataSetConfig
from backdrop.core.storage.base import Storage


class Found(NamedTuple):
    version: int
    config: DataSetConfig


class DataSetLookup:
    """Per-process memory of configurations by (name, version) and names by (group, type)."""

    def __init__(self):
        self._configs: dict[str, Found] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def by_name(self, storage: Storage, name: str) -> Found | None:
        version = storage.data_set_version(name)
        if version is None:
            return None
        known = self._configs.get(name)
        if known is not None and known.version == version:
            return known
        stored = storage.get_data_set(name)
        if stored is None:
            return None
        found = Found(version, DataSetConfig.from_dict(stored))
        with self._lock:
            self._configs[name] = found
        return found

    def by_group_and_type(self, storage: Storage, data_group: str, data_type: str) -> Found | None:
        pair = (data_group, data_type)
        name = self._names.get(pair)
        found = self.by_name(storage, name) if name is not None else None
        if found is not None and _serves(found, pair):
            return found
        stored = storage.find_data_set(data_group, data_type)
        if stored is None:
            return None
        found = self.by_name(storage, stored["name"])
        if found is None or not _serves(found, pair):
            return None  # changed between the two reads: answer as if it had gone
        with self._lock:
            self._names[pair] = found.config.name
        return found


def _serves(found: Found, pair: tuple[str, str]) -> bool:
    return (found.config.data_group, found.config.data_type) == pair
