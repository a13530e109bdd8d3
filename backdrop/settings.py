"""Settings shared by every process, read from config/<env>.py and then the environment.

The apps, the worker and the command line all build one Settings from the environment, so
an operator configures every process the same way (see the README's configuration table).
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")


class SettingsError(ValueError):
    """A setting has a value Backdrop cannot start with."""


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    broker_url: str
    broker_folder: str
    task_queue: str
    query_cache_size: int
    admin_token: str | None
    max_body_bytes: int
    db_pool_size: int
    log_level: str
    audit_log: str
    auto_migrate: bool = True

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        environ = os.environ if environ is None else environ
        env = environ.get("BACKDROP_ENV", "development")
        if env not in ENVIRONMENTS:
            raise SettingsError(f"BACKDROP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
        values = dict(importlib.import_module(f"config.{env}").DEFAULTS)
        values.update({k: v for k, v in environ.items() if k.startswith("BACKDROP_")})
        settings = cls(
            env=env,
            database_url=values.get("BACKDROP_DATABASE_URL") or f"sqlite:///{REPOSITORY / 'var' / 'backdrop.db'}",
            broker_url=values.get("BACKDROP_BROKER_URL") or "filesystem://",
            broker_folder=values.get("BACKDROP_BROKER_FOLDER") or str(REPOSITORY / "var" / "broker"),
            task_queue=values.get("BACKDROP_TASK_QUEUE") or "backdrop",
            query_cache_size=_integer(values, "BACKDROP_QUERY_CACHE_SIZE", "1024"),
            admin_token=values.get("BACKDROP_ADMIN_TOKEN") or None,
            max_body_bytes=_integer(values, "BACKDROP_MAX_BODY_BYTES", str(10 * 1024 * 1024)),
            db_pool_size=_integer(values, "BACKDROP_DB_POOL_SIZE", "10"),
            log_level=(values.get("BACKDROP_LOG_LEVEL") or "INFO").upper(),
            audit_log=values.get("BACKDROP_AUDIT_LOG") or str(REPOSITORY / "var" / "log" / "audit.log"),
            auto_migrate=_switch(values, "BACKDROP_AUTO_MIGRATE", True),
        )
        return replace(settings, **overrides) if overrides else settings


def _integer(values: dict, key: str, default: str) -> int:
    text = values.get(key) or default
    try:
        number = int(text)
    except ValueError:
        raise SettingsError(f"{key} must be a whole number, not {text!r}") from None
    if number < 0:
        raise SettingsError(f"{key} must not be negative")
    return number


def _switch(values: dict, key: str, default: bool) -> bool:
    """1/0, true/false, yes/no, on/off (any case); unset or empty: `default`."""
    text = (values.get(key) or "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{key} must be 1 or 0 (true/false, yes/no, on/off), not {values[key]!r}")
