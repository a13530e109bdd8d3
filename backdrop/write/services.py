"""What a write request reaches through the app: settings, storage, audit log, dispatcher.

Routes live in blueprints that know no app object; these accessors find the per-app
services create_app installed, so tests can build as many independent apps as they like.
"""
from __future__ import annotations

from flask import current_app

from backdrop.core.data_set import DataSet
from backdrop.core.registry import DataSetConfig
from backdrop.web import get_storage


def settings():
    return current_app.config["BACKDROP_SETTINGS"]


def storage():
    return get_storage(current_app)


def audit():
    return current_app.extensions["backdrop_audit"]


def dispatcher():
    return current_app.extensions["backdrop_dispatcher"]


def data_set(config: DataSetConfig) -> DataSet:
    """The data set to write through: each committed write reaches the dispatcher by its hook."""
    return DataSet(storage(), config, on_commit=dispatcher().committed)
