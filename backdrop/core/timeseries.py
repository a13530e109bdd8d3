"""Periods (hour … year) in UTC: the start of the period holding an instant, its end, ranges.

There is no local time anywhere: a day runs 00:00 to 00:00 UTC, weeks start on Monday,
quarters on 1 Jan/Apr/Jul/Oct. Month arithmetic is calendar arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

UTC = timezone.utc


def as_utc(moment: datetime) -> datetime:
    """Aware instants are converted to UTC, naive ones are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_instant(value) -> datetime | None:
    """A stored date (a datetime or its ISO text) as an aware UTC datetime; None otherwise."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _day(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _week(t: datetime) -> datetime:
    return _day(t) - timedelta(days=t.weekday())


def _month(t: datetime) -> datetime:
    return _day(t).replace(day=1)


def _quarter(t: datetime) -> datetime:
    return _month(t).replace(month=(t.month - 1) // 3 * 3 + 1)


def _year(t: datetime) -> datetime:
    return _month(t).replace(month=1)


@dataclass(frozen=True)
class Period:
    """One of the six periods; `start`, `end`, `add` work on aware datetimes in UTC."""

    name: str
    _truncate: Callable[[datetime], datetime]
    _step: Callable[[datetime, int], datetime]

    @property
    def start_at_key(self) -> str:
        """The record key holding the start of this period (`_week_start_at`, …)."""
        return f"_{self.name}_start_at"

    def start(self, moment: datetime) -> datetime:
        """Start of the period containing `moment`."""
        return self._truncate(as_utc(moment))

    def valid_start(self, moment: datetime) -> bool:
        return self.start(moment) == as_utc(moment)

    def end(self, moment: datetime) -> datetime:
        """`moment` itself on a boundary, else the start of the next period (round up)."""
        moment = as_utc(moment)
        start = self._truncate(moment)
        return moment if start == moment else self._step(start, 1)

    def add(self, moment: datetime, count: int) -> datetime:
        """Move a boundary `count` periods forward (negative: back)."""
        return self._step(as_utc(moment), count)

    def range(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Consecutive (start, end) buckets from start(start) while the bucket starts before end(end)."""
        stop = self.end(end)
        bucket = self.start(start)
        while bucket < stop:
            following = self._step(bucket, 1)
            yield bucket, following
            bucket = following


def _fixed(delta: timedelta) -> Callable[[datetime, int], datetime]:
    return lambda moment, count: moment + delta * count


def _months(size: int) -> Callable[[datetime, int], datetime]:
    return lambda moment, count: _add_months(moment, size * count)


HOUR = Period("hour", _hour, _fixed(timedelta(hours=1)))
DAY = Period("day", _day, _fixed(timedelta(days=1)))
WEEK = Period("week", _week, _fixed(timedelta(weeks=1)))
MONTH = Period("month", _month, _months(1))
QUARTER = Period("quarter", _quarter, _months(3))
YEAR = Period("year", _year, _months(12))

PERIODS: dict[str, Period] = {p.name: p for p in (HOUR, DAY, WEEK, MONTH, QUARTER, YEAR)}


def period_keys(timestamp: datetime) -> dict[str, datetime]:
    """The six `_<period>_start_at` keys a stored record carries for its `_timestamp`."""
    return {period.start_at_key: period.start(timestamp) for period in PERIODS.values()}
