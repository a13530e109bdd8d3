"""Storage engines, chosen by the database URL's scheme from the table in engines.py."""
from __future__ import annotations

from .base import Storage, StorageError
from .engines import UnsupportedDatabase, engine_for_url

__all__ = ["Storage", "StorageError", "UnsupportedDatabase", "check_url", "open_storage"]


def check_url(url: str) -> str:
    """The URL's engine name; UnsupportedDatabase (a clear message) for any other URL.

    The apps call this in create_app, so a wrong URL stops start-up instead of failing
    every request; it connects to nothing and imports no driver.
    """
    return engine_for_url(url).name


def open_storage(url: str, **options) -> Storage:
    """Open the engine serving `url` (sqlite:///…, postgresql://…); nothing connects yet.

    `options` (engines.OPTIONS: pool_size, auto_migrate) go to every engine alike. The
    engine checks its schema on first use (see migrations.py): `auto_migrate` says whether
    it may apply pending migrations then, or must refuse with SchemaError.
    """
    return engine_for_url(url).open(url, **options)
