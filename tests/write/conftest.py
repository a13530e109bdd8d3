"""A write app over a fresh SQLite database, a real filesystem broker and an audit file per test."""
from __future__ import annotations

import pytest
from write_support import TOKEN, build_app

from backdrop.core import registry
from backdrop.web import get_storage


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path)
    yield app
    get_storage(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def storage(app):
    return get_storage(app)


@pytest.fixture
def add_data_set(storage):
    """Configure a data set through the registry (group `dinosaur`, type `droppings` by default)."""

    def add(**fields):
        body = {"data_group": "dinosaur", "data_type": "droppings", "bearer_token": TOKEN}
        body.update(fields)
        return registry.create(storage, body)

    return add


@pytest.fixture
def dinosaurs(add_data_set):
    return add_data_set(name="dinosaurs")
