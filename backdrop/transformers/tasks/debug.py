"""debug: log the input rows and output nothing; useful to see that dispatch works."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def compute(rows: list[dict], options: dict, context=None) -> list[dict]:
    log.info("debug transform received %d rows: %r", len(rows), rows[:20])
    return []
