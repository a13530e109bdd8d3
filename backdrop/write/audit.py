"""The audit log: one JSON object per line for every write, delete and refused token.

Each app gets its own unregistered `backdrop.write.audit` logger with one file handler,
so apps built side by side (tests, several configurations in one process) never write
into each other's files. Tokens are never written: only a short fingerprint, enough to
tell two writers apart without being usable to write. The fingerprint is an HMAC keyed by
BACKDROP_TOKEN_SECRET, so without the secret it cannot be reversed by trying guesses
(an unsalted hash of a weak token can be). With no secret set, each process draws a
random key: fingerprints then tell writers apart within one process's lines only.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from datetime import datetime, timezone
from typing import Any

import orjson

LOGGER_NAME = "backdrop.write.audit"
FINGERPRINT_LENGTH = 12


def fingerprint_key(secret: str | None) -> bytes:
    """The HMAC key: the server secret, or (unset) a random key of this process."""
    return secret.encode("utf-8") if secret else os.urandom(32)


def fingerprint(authorization: str | None, key: bytes) -> str | None:
    """A short keyed HMAC-SHA256 of the presented token (or of the whole header if it is no bearer)."""
    if not authorization:
        return None
    token = authorization[7:] if authorization.startswith("Bearer ") else authorization
    digest = hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


class JsonLineFormatter(logging.Formatter):
    """Standard fields (time, level, logger, message) plus the event's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        line.update(getattr(record, "audit", {}))
        try:
            return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
        except orjson.JSONEncodeError:  # a refused PATCH body may hold an integer orjson cannot write
            return json.dumps(line, default=_plain, separators=(",", ":"))


def _plain(value: Any) -> str:
    """What orjson writes for the values the standard library cannot: ISO dates, else str()."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


class AuditLog:
    def __init__(self, path: str, secret: str | None = None):
        self._key = fingerprint_key(secret)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.path = path
        self._handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        self._handler.setFormatter(JsonLineFormatter())
        self._logger = logging.Logger(LOGGER_NAME, logging.INFO)
        self._logger.addHandler(self._handler)

    def fingerprint(self, authorization: str | None) -> str | None:
        return fingerprint(authorization, self._key)

    def event(self, message: str, **fields: Any) -> None:
        self._logger.info(message, extra={"audit": fields})

    def append(self, authorization: str | None, data_set: str, bounds, datapoints: int) -> None:
        earliest, latest = bounds or (None, None)
        self.event("Data append action", token_fingerprint=self.fingerprint(authorization), data_set=data_set,
                   start_at=earliest, end_at=latest, datapoints=datapoints)

    def patch(self, authorization: str | None, data_set: str, bounds, data: dict) -> None:
        start_at, end_at = bounds or (None, None)
        self.event("Data patch action", token_fingerprint=self.fingerprint(authorization), data_set=data_set,
                   start_at=start_at, end_at=end_at, data=data)

    def delete(self, authorization: str | None, data_set: str) -> None:
        self.event("Data delete action", token_fingerprint=self.fingerprint(authorization), data_set=data_set)

    def bad_auth(self, data_set: str) -> None:
        self.event("Bad auth", data_set=data_set)

    def close(self) -> None:
        self._handler.close()
