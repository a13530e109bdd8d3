"""Deterministic, realistically shaped records: the same seed always gives the same records.

Shape (issue 6): `_timestamp` spread over two years, four string dimensions with 5 to 500
distinct values (skewed, as real services are: a few channels and services take most of
the traffic), three numeric fields. Records carry their own `_id`, so the API load and
the raw-engine baseline store exactly the same rows.

Records arrive in time order, as collectors post them (and as a backfill is exported):
random arrival order would scatter each week's rows over the whole table, which makes
every time-range query on SQLite pay a random page read per record (see RESULTS.md).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Iterator

import orjson

UTC = timezone.utc
SPAN_START = datetime(2022, 1, 1, tzinfo=UTC)
SPAN_END = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((SPAN_END - SPAN_START).total_seconds())

CHANNELS = ("web", "phone", "paper", "face-to-face", "api")
REGIONS = tuple(f"region-{i:02d}" for i in range(40))
DEPARTMENTS = tuple(f"department-{i:03d}" for i in range(120))
SERVICES = tuple(f"service-{i:03d}" for i in range(500))
DIMENSIONS = {"channel": CHANNELS, "region": REGIONS, "department": DEPARTMENTS, "service": SERVICES}
NUMERIC_FIELDS = ("count", "duration", "cost")


def _zipf_weights(values: tuple[str, ...]) -> list[float]:
    """Skewed like real traffic: the first values are drawn far more often than the last."""
    return [1.0 / (rank + 1) ** 0.8 for rank in range(len(values))]


def records(count: int, seed: int = 6, id_prefix: str = "r",
            span: tuple[datetime, datetime] = (SPAN_START, SPAN_END)) -> Iterator[dict]:
    """`count` records in time order as a client posts them: `_timestamp` ISO with `+00:00`."""
    rng = random.Random(seed)
    start, seconds = span[0], int((span[1] - span[0]).total_seconds())
    offsets = sorted(rng.randrange(seconds) for _ in range(count))
    cumulative = {name: _cumulative(_zipf_weights(values)) for name, values in DIMENSIONS.items()}
    for index, offset in enumerate(offsets):
        moment = start + timedelta(seconds=offset)
        record = {"_id": f"{id_prefix}{index:08d}", "_timestamp": moment.isoformat()}
        for name, values in DIMENSIONS.items():
            record[name] = rng.choices(values, cum_weights=cumulative[name])[0]
        record["count"] = rng.randint(1, 1000)
        record["duration"] = round(rng.lognormvariate(3.0, 1.0), 2)
        record["cost"] = rng.randint(0, 50_000)
        yield record


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def same_density_span(count: int, reference: int, around: datetime) -> tuple[datetime, datetime]:
    """A span, centred on `around`, where `count` records are as dense as `reference` are over
    the two years: a query inside it touches as many records in either data set."""
    if count >= reference:
        return SPAN_START, SPAN_END
    half = timedelta(seconds=SPAN_SECONDS * count / reference / 2)
    return around - half, around + half


def batches(count: int, batch_size: int, seed: int = 6, id_prefix: str = "r",
            span: tuple[datetime, datetime] = (SPAN_START, SPAN_END)) -> list[bytes]:
    """The request bodies, encoded before any clock starts so the client measures the server."""
    bodies, batch = [], []
    for record in records(count, seed, id_prefix, span):
        batch.append(record)
        if len(batch) == batch_size:
            bodies.append(orjson.dumps(batch))
            batch = []
    if batch:
        bodies.append(orjson.dumps(batch))
    return bodies
