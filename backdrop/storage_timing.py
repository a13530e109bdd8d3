"""A storage engine seen through a timer: every call's duration, by method, as a metric.

The web layer wraps the engine it opens (web.install_storage) in TimedStorage, so every
engine is measured the same way without a line of timing code in any of them. A call that
returns an iterator (`find`) is timed until the iterator is exhausted or closed: the rows
of a stream are read from the database while the caller consumes them. A batch saved is
counted as records stored for its data set once `save_records` has returned (committed).
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator

from backdrop import metrics


class TimedStorage:
    """Delegates everything to `engine`; public methods are timed under their own name."""

    def __init__(self, engine) -> None:
        self._engine = engine

    @property
    def engine(self):
        return self._engine

    def __getattr__(self, name: str):
        value = getattr(self._engine, name)
        if name.startswith("_") or not callable(value):
            return value
        return _timed(name, value)


def _timed(kind: str, method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        started = time.perf_counter()
        try:
            result = method(*args, **kwargs)
        except BaseException:
            metrics.observe(metrics.STORAGE_DURATION, time.perf_counter() - started, kind)
            raise
        if isinstance(result, Iterator):
            return _timed_stream(kind, result, started)
        metrics.observe(metrics.STORAGE_DURATION, time.perf_counter() - started, kind)
        if kind == "save_records":
            name = args[0] if args else kwargs["name"]
            records = args[1] if len(args) > 1 else kwargs["records"]
            metrics.count(metrics.RECORDS_STORED, name, amount=len(records))
        return result

    return call


def _timed_stream(kind: str, rows: Iterator, started: float) -> Iterator:
    try:
        yield from rows
    finally:
        metrics.observe(metrics.STORAGE_DURATION, time.perf_counter() - started, kind)
