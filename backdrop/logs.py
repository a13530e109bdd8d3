"""Log lines of every process: text by default, or one JSON object per line, each with its request id.

A line carries the id of the request or task that caused it (request_id.current()), so an
operator can join a client's error to the lines behind it, across the apps and the worker.
One filter adds the id, the data set and the process role to every record that reaches a
handler configured here, whichever logger wrote it (Flask, gunicorn, Celery, Backdrop).
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone

from backdrop import request_id

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"
_data_set: contextvars.ContextVar[str | None] = contextvars.ContextVar("backdrop_log_data_set", default=None)


def bind_data_set(name: str | None) -> contextvars.Token:
    """Name the data set the current request or task is about, for its log lines."""
    return _data_set.set(name)


def unbind_data_set(token: contextvars.Token) -> None:
    _data_set.reset(token)


class ContextFilter(logging.Filter):
    """Adds `role`, `request_id` and `data_set` to each record (values given as `extra` win)."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.current() or "-"
        if getattr(record, "data_set", None) is None:
            record.data_set = _data_set.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, role, request_id, data_set, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "role": getattr(record, "role", "-"),
            "request_id": getattr(record, "request_id", "-"),
            "data_set": getattr(record, "data_set", "-"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def dress(handler: logging.Handler, log_format: str, role: str) -> None:
    """Give a handler someone else made (gunicorn's, Celery's) Backdrop's format and fields."""
    handler.setFormatter(formatter(log_format))
    if not any(isinstance(existing, ContextFilter) for existing in handler.filters):
        handler.addFilter(ContextFilter(role))


def configure(log_level: str, log_format: str, role: str) -> None:
    """Log to standard error in `log_format`, unless the root logger already has handlers of
    another's (a test runner's); called again, it updates the handler it made."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, "backdrop", False)]
    if root.handlers and not ours:
        return
    if not ours:
        handler = logging.StreamHandler(sys.stderr)
        handler.backdrop = True
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.filters.clear()
        dress(handler, log_format, role)
    root.setLevel(getattr(logging, log_level, logging.INFO))
