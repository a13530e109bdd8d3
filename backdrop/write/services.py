"""What a write request reaches through the app: settings, storage, audit log, transform relay.

Routes live in blueprints that know no app object; these accessors find the per-app
services create_app installed, so tests can build as many independent apps as they like.
"""
from __future__ import annotations

from flask import current_app

from backdrop import request_id
from backdrop.core.data_set import DataSet
from backdrop.core.registry import DataSetConfig
from backdrop.web import get_storage


def settings():
    return current_app.config["BACKDROP_SETTINGS"]


def storage():
    return get_storage(current_app)


def audit():
    return current_app.extensions["backdrop_audit"]


def relay():
    return current_app.extensions["backdrop_relay"]


def data_set(config: DataSetConfig) -> DataSet:
    """The data set to write through: writes that tell a time store their transform request
    with their records, and each commit reaches the relay by its hook, which sends it."""
    return DataSet(storage(), config, on_commit=relay().committed, request_transforms=True,
                   request_id=request_id.current)
