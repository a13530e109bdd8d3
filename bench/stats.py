"""Repeated timings and their summaries (median and p95, in milliseconds)."""
from __future__ import annotations

import math
import statistics
import time
from typing import Any, Callable


def timed(action: Callable[[], Any], runs: int, warmup: int = 1) -> tuple[list[float], Any]:
    """Seconds per run of `action` after `warmup` untimed runs, and the last run's result."""
    result = None
    for _ in range(warmup):
        result = action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - started)
    return samples, result


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: with few runs p95 is simply the slowest but one or two."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(samples: list[float]) -> dict:
    return {
        "runs": len(samples),
        "median_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(percentile(samples, 0.95) * 1000, 3),
        "min_ms": round(min(samples) * 1000, 3),
    }
