"""Helpers shared by the write-app tests: building apps, tokens, reading broker and audit files."""
from __future__ import annotations

import base64
import json
from pathlib import Path

from backdrop.settings import Settings
from backdrop.write.app import create_app

ADMIN_TOKEN = "the-admin-token"
TOKEN = "dinosaur-token"
TOKEN_SECRET = "the-token-secret"


def environ(tmp_path: Path, **extra: str) -> dict:
    values = {
        "BACKDROP_ENV": "test",
        "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "BACKDROP_BROKER_URL": "filesystem://",
        "BACKDROP_BROKER_FOLDER": str(tmp_path / "broker"),
        "BACKDROP_AUDIT_LOG": str(tmp_path / "log" / "audit.log"),
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BACKDROP_TOKEN_SECRET": TOKEN_SECRET,
        "BACKDROP_TOKEN_FAILURES": "0",  # tests/write/test_write_guesses.py turns the limit on
    }
    values.update(extra)
    return values


def build_app(tmp_path: Path, **extra: str):
    return create_app(Settings.from_env(environ=environ(tmp_path, **extra)))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


AUTH = bearer(TOKEN)
ADMIN = bearer(ADMIN_TOKEN)


def stored(storage, name: str) -> list[dict]:
    from backdrop.core.storage.base import RecordQuery

    return list(storage.find(name, RecordQuery()))


def queued_tasks(tmp_path: Path) -> list[dict]:
    """The tasks waiting in the filesystem broker: name and args of each, oldest first."""
    folder = tmp_path / "broker" / "out"
    tasks = []
    for path in sorted(folder.glob("*.msg")) if folder.exists() else []:
        message = json.loads(path.read_text())
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        tasks.append({"task": message["headers"]["task"], "args": args, "kwargs": kwargs})
    return tasks


def audit_lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "log" / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def audit_text(tmp_path: Path) -> str:
    path = tmp_path / "log" / "audit.log"
    return path.read_text() if path.exists() else ""
