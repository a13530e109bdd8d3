"""Storage engines, chosen by the database URL's scheme."""
from __future__ import annotations

from .base import Storage, StorageError


class UnsupportedDatabase(StorageError):
    """The URL names an engine this build does not have."""


SCHEMES = ("sqlite", "postgresql", "postgres", "memory")


def check_url(url: str) -> str:
    """The URL's engine name; UnsupportedDatabase (a clear message) for any other URL.

    The apps call this in create_app, so a wrong URL stops start-up instead of failing
    every request; it connects to nothing.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "mongodb":
        raise UnsupportedDatabase(
            "mongodb:// URLs are not supported yet: the MongoDB engine has not landed. "
            "Use sqlite:///path or postgresql://… for BACKDROP_DATABASE_URL."
        )
    if scheme not in SCHEMES:
        raise UnsupportedDatabase(
            f"Unsupported BACKDROP_DATABASE_URL {url.split('://')[0]!r}: use sqlite:///path or postgresql://…"
        )
    return scheme


def open_storage(url: str, *, pool_size: int = 10, auto_migrate: bool = True) -> Storage:
    """Open the engine named by `url` (sqlite:///…, postgresql://…); nothing connects at import.

    The engine checks its schema on first use (see migrations.py): `auto_migrate` says
    whether it may apply pending migrations then, or must refuse with SchemaError.
    """
    scheme = check_url(url)
    if scheme == "memory":  # one process only: the reference engine for tests
        from .memory import MemoryStorage

        return MemoryStorage()
    if scheme == "sqlite":
        from .sqlite import SQLiteStorage

        return SQLiteStorage.from_url(url, auto_migrate=auto_migrate)
    from .postgres import PostgresStorage

    return PostgresStorage.from_url(url, pool_size=pool_size, auto_migrate=auto_migrate)
