"""The id of the request, or of the task, being served now.

A request's id joins a client's error to the log lines it caused, in the app and in the
transforms it queued: the web layer binds it for each request, whatever queues work stores
it with that work, and the worker binds it again while running the work. A context
variable, so that threads and greenlets each see their own.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Iterator

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("backdrop_request_id", default=None)


def current() -> str | None:
    """The id bound in this context, or None outside any request or task."""
    return _current.get()


@contextmanager
def bound(request_id: str | None) -> Iterator[str | None]:
    """Bind `request_id` for the duration of the block (None binds nothing new)."""
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)


def bind(request_id: str | None) -> contextvars.Token:
    """Bind `request_id` until `unbind(token)`: for hooks that cannot wrap a block (before/after request)."""
    return _current.set(request_id)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)
