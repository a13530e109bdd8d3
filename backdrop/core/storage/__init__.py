"""Storage engines, chosen by the database URL's scheme."""
from __future__ import annotations

from .base import Storage, StorageError


class UnsupportedDatabase(StorageError):
    """The URL names an engine this build does not have."""


def open_storage(url: str, *, pool_size: int = 10) -> Storage:
    """Open the engine named by `url` (sqlite:///…, postgresql://…); nothing connects at import."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":  # one process only: the reference engine for tests
        from .memory import MemoryStorage

        return MemoryStorage()
    if scheme == "sqlite":
        from .sqlite import SQLiteStorage

        return SQLiteStorage.from_url(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStorage
        except ImportError as error:  # the engine lands with its own issue
            raise UnsupportedDatabase(f"PostgreSQL engine unavailable: {error}") from None
        return PostgresStorage.from_url(url, pool_size=pool_size)
    if scheme == "mongodb":
        raise UnsupportedDatabase(
            "mongodb:// URLs are not supported yet: the MongoDB engine has not landed. "
            "Use sqlite:///path or postgresql://… for BACKDROP_DATABASE_URL."
        )
    raise UnsupportedDatabase(
        f"Unsupported BACKDROP_DATABASE_URL scheme {scheme!r}: use sqlite:///path or postgresql://…"
    )
