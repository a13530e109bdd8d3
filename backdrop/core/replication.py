"""Copying data sets, configurations and records, from one Backdrop database to another.

What `backdrop replicate` does (typically production → a developer's machine): every data
set is copied (or only those named), replacing the target's configuration and records of
the same name, with its salted token hash, so the same token writes to the copy;
transforms and dashboards are copied too. Records are copied exactly as stored, their
`_updated_at` included, in write order (which a capped data set evicts by). Each data set
is emptied and then refilled batch by batch (every engine streams `find`: never the whole
data set in memory), so a copy interrupted midway leaves that data set partial: run it
again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from backdrop.core import registry
from backdrop.core.storage.base import RecordQuery, Storage
from backdrop.core.timeseries import PERIODS

DATE_KEYS = ("_timestamp", "_start_at", "_end_at", "_updated_at") + tuple(p.start_at_key for p in PERIODS.values())
BATCH = 1000


class UnknownDataSets(ValueError):
    """`only` names data sets the source does not hold."""


def restored(record: dict) -> dict:
    """A stored record (dates as ISO text) back in the normalised form engines save."""
    return {key: datetime.fromisoformat(value) if key in DATE_KEYS and isinstance(value, str) else value
            for key, value in record.items()}


def copy_data_set(source: Storage, target: Storage, config: registry.DataSetConfig) -> int:
    registry.create_or_replace(target, config.public_dict(), token_hash=config.bearer_token_hash)
    target.empty_data_set(config.name)
    batch, copied = [], 0
    for record in source.find(config.name, RecordQuery()):  # streamed by every engine, in write order
        batch.append(restored(record))
        if len(batch) == BATCH:
            target.save_records(config.name, batch, config.capped_size)
            copied, batch = copied + len(batch), []
    if batch:
        target.save_records(config.name, batch, config.capped_size)
    return copied + len(batch)


def copy_documents(source: Storage, target: Storage) -> None:
    for kind, key in (("transforms", "id"), ("dashboards", "slug")):
        for document in source.list_documents(kind):
            exists = target.get_document(kind, document[key]) is not None
            target.put_document(kind, document[key], document, create=not exists)


def chosen(source: Storage, only: set[str], exclude: set[str]) -> list[registry.DataSetConfig]:
    """The source's configurations to copy; UnknownDataSets when `only` names one it lacks
    (a typo would otherwise copy nothing and report success)."""
    configs = registry.list_all(source)
    missing = sorted(only - {config.name for config in configs})
    if missing:
        raise UnknownDataSets(f"no data set named {', '.join(missing)} in the source")
    return [config for config in configs
            if config.name not in exclude and (not only or config.name in only)]


def replicate(source: Storage, target: Storage, only: set[str], exclude: set[str],
              say: Callable[[str], None] = print) -> None:
    for config in chosen(source, only, exclude):
        say(f"{config.name}: {copy_data_set(source, target, config)} records")
    copy_documents(source, target)
