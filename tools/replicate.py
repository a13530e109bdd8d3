"""Copy data sets, configurations and records, from one Backdrop database to another.

    .venv/bin/python -m tools.replicate SOURCE_URL TARGET_URL [--exclude NAME ...] [--only NAME ...]

Typically production → a developer's machine: every data set is copied (or only those
named), replacing the target's configuration and records of the same name; transforms and
dashboards are copied too. Each data set is emptied and then refilled batch by batch, so
a copy interrupted midway leaves that data set partial: run it again.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime

from backdrop.core import registry
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery, Storage
from backdrop.core.timeseries import PERIODS

DATE_KEYS = ("_timestamp", "_start_at", "_end_at", "_updated_at") + tuple(p.start_at_key for p in PERIODS.values())
BATCH = 1000


def restored(record: dict) -> dict:
    """A stored record (dates as ISO text) back in the normalised form engines save."""
    return {key: datetime.fromisoformat(value) if key in DATE_KEYS and isinstance(value, str) else value
            for key, value in record.items()}


def copy_data_set(source: Storage, target: Storage, config: registry.DataSetConfig) -> int:
    registry.create_or_replace(target, config.public_dict(), token_hash=config.bearer_token_hash)
    target.empty_data_set(config.name)
    batch, copied = [], 0
    for record in source.find(config.name, RecordQuery()):
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


def replicate(source: Storage, target: Storage, only: set[str], exclude: set[str], say=print) -> None:
    for config in registry.list_all(source):
        if config.name in exclude or (only and config.name not in only):
            continue
        say(f"{config.name}: {copy_data_set(source, target, config)} records")
    copy_documents(source, target)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.replicate", description=__doc__.splitlines()[0])
    parser.add_argument("source"), parser.add_argument("target")
    parser.add_argument("--exclude", action="append", default=[], help="data set to skip (repeatable)")
    parser.add_argument("--only", action="append", default=[], help="copy only these data sets (repeatable)")
    args = parser.parse_args(argv)
    source, target = open_storage(args.source), open_storage(args.target)
    try:
        replicate(source, target, set(args.only), set(args.exclude))
    finally:
        source.close(), target.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
