"""The audit log: one JSON object per line for every write, delete and refused token.

It says what happened, not what was asked: a batch that validation refused is recorded
as rejected with its number of problems (nothing was appended), a patch and a single-record
delete name the record, and every line carries the id of the request that caused it
(`request_id`, null outside a request), so an entry joins the client's error and the log.

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

from backdrop import request_id

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
        self._logger.info(message, extra={"audit": {"request_id": request_id.current(), **fields}})

    def _write_event(self, action: str, authorization: str | None, data_set: str, problems: int,
                     **fields: Any) -> None:
        """`Data <action> action` when it was done; `Data <action> rejected` with the number
        of `problems` answered when it was refused and nothing changed."""
        if problems:
            message, fields = f"Data {action} rejected", {**fields, "problems": problems}
        else:
            message = f"Data {action} action"
        self.event(message, token_fingerprint=self.fingerprint(authorization), data_set=data_set, **fields)

    def append(self, authorization: str | None, data_set: str, bounds, datapoints: int,
               problems: int = 0) -> None:
        earliest, latest = bounds or (None, None)
        self._write_event("append", authorization, data_set, problems, start_at=earliest, end_at=latest,
                          datapoints=datapoints)

    def patch(self, authorization: str | None, data_set: str, record_id: str, bounds, data: dict,
              problems: int = 0) -> None:
        start_at, end_at = bounds or (None, None)
        self._write_event("patch", authorization, data_set, problems, record_id=record_id, start_at=start_at,
                          end_at=end_at, data=data)

    def delete(self, authorization: str | None, data_set: str, record_id: str | None = None,
               problems: int = 0) -> None:
        """A data set emptied or deleted, or (`record_id`) one record deleted."""
        fields = {} if record_id is None else {"record_id": record_id}
        self._write_event("delete", authorization, data_set, problems, **fields)

    def bad_auth(self, data_set: str) -> None:
        self.event("Bad auth", data_set=data_set)

    def close(self) -> None:
        self._handler.close()
