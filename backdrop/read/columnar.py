"""How the read app puts the columnar copies (core/storage/columnar.py) in front of its engine."""
from __future__ import annotations

from typing import Callable

from backdrop import metrics
from backdrop.core.storage.base import Storage
from backdrop.settings import Settings

MEGABYTE = 1024 * 1024


def wrapper(settings: Settings) -> Callable[[Storage], Storage] | None:
    """What install_storage wraps the read app's engine in: None when BACKDROP_COLUMNAR is off."""
    if not settings.columnar:
        return None
    from backdrop.core.storage.columnar import ColumnarSettings, ColumnarStorage

    configured = ColumnarSettings(min_records=settings.columnar_min_records,
                                  memory_bytes=settings.columnar_memory * MEGABYTE,
                                  catch_up_records=settings.columnar_catch_up,
                                  answered=lambda source: metrics.count(metrics.COLUMNAR_ANSWERS, source))
    return lambda engine: ColumnarStorage(engine, configured)
