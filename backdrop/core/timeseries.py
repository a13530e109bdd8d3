"""Periods (hour … year): the one table of periods and their rules, and bucketing values.

`Period` holds everything the rest of Backdrop needs to know about a period: its name,
where a bucket starts, how to step from one boundary to the next, how long it is (a fixed
length, or a whole number of calendar months), and the alignment rules the read API applies
to data sets without raw queries, with the words of their error messages. Nothing else
spells period names: the query parser, the engines and the transforms all read `PERIODS`.

There is no local time yet: a day runs 00:00 to 00:00 UTC, weeks start on Monday,
quarters on 1 Jan/Apr/Jul/Oct. A `Bucketing` (period plus time zone) is what engines are
handed, so local-time periods can arrive without changing their interface.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable, Iterator

from dateutil.relativedelta import relativedelta

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
FIRST_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)


def as_utc(moment: datetime) -> datetime:
    """Aware instants are converted to UTC, naive ones are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def micros(moment: datetime) -> int:
    """An instant as whole microseconds since the epoch (naive taken as UTC): how engines
    store instants as sortable integers."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


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


@dataclass(frozen=True)
class Period:
    """One period; `start`, `end`, `add` work on aware datetimes in UTC.

    Exactly one of `length` (hour, day, week: fixed lengths aligned on `origin`) and
    `months` (month, quarter, year: calendar blocks) is set. `day_rule` and
    `day_rule_message` are the read API's alignment check for data sets without raw
    queries (weeks must start on a Monday, months on the first), None where none applies.
    """

    name: str
    length: timedelta | None = None
    months: int | None = None
    origin: datetime = EPOCH
    day_rule: Callable[[datetime], bool] | None = None
    day_rule_message: str | None = None

    @property
    def start_at_key(self) -> str:
        """The record key holding the start of this period (`_week_start_at`, …)."""
        return f"_{self.name}_start_at"

    @property
    def shorter_than_a_day(self) -> bool:
        """Hourly queries are exempt from the whole-day rules of data sets without raw queries."""
        return self.length is not None and self.length < timedelta(days=1)

    def _truncate(self, t: datetime) -> datetime:
        if self.length is not None:
            return t - (t - self.origin) % self.length
        return t.replace(month=(t.month - 1) // self.months * self.months + 1, day=1,
                         hour=0, minute=0, second=0, microsecond=0)

    def start(self, moment: datetime) -> datetime:
        """Start of the period containing `moment`."""
        return self._truncate(as_utc(moment))

    def valid_start(self, moment: datetime) -> bool:
        return self.start(moment) == as_utc(moment)

    def end(self, moment: datetime) -> datetime:
        """`moment` itself on a boundary, else the start of the next period (round up)."""
        moment = as_utc(moment)
        start = self._truncate(moment)
        return moment if start == moment else self.add(start, 1)

    def add(self, moment: datetime, count: int) -> datetime:
        """Move a boundary `count` periods forward (negative: back).

        Calendar steps keep the day of the month where it exists and otherwise take the
        month's last day (31 January plus a month is 28 or 29 February).
        """
        moment = as_utc(moment)
        if self.length is not None:
            return moment + self.length * count
        return moment + relativedelta(months=self.months * count)

    def count_between(self, first: datetime, last: datetime) -> int:
        """How many whole periods lie between two boundaries, by arithmetic (never by stepping)."""
        if self.length is not None:
            return (as_utc(last) - as_utc(first)) // self.length
        months = (last.year - first.year) * 12 + last.month - first.month
        return months // self.months

    def range(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Consecutive (start, end) buckets from start(start) while the bucket starts before end(end)."""
        stop = self.end(end)
        bucket = self.start(start)
        while bucket < stop:
            following = self.add(bucket, 1)
            yield bucket, following
            bucket = following


HOUR = Period("hour", length=timedelta(hours=1))
DAY = Period("day", length=timedelta(days=1))
WEEK = Period("week", length=timedelta(weeks=1), origin=FIRST_MONDAY,
              day_rule=lambda t: t.weekday() == 0, day_rule_message="{name} must be a monday")
MONTH = Period("month", months=1, day_rule=lambda t: t.day == 1,
               day_rule_message="'{name}' must be the first of the month for period=month queries")
QUARTER = Period("quarter", months=3)
YEAR = Period("year", months=12)

PERIODS: dict[str, Period] = {p.name: p for p in (HOUR, DAY, WEEK, MONTH, QUARTER, YEAR)}
"""Every period by name, shortest first: the order the read API lists them in its messages."""


@dataclass(frozen=True)
class Bucketing:
    """How an aggregate query buckets time: a period, counted in a time zone.

    Only UTC exists yet; engines check `in_utc` and refuse other zones rather than answer
    them wrongly.
    """

    period: Period
    zone: tzinfo = UTC

    @property
    def in_utc(self) -> bool:
        return self.zone is UTC

    def start(self, moment: datetime) -> datetime:
        return self.period.start(moment)


def period_keys(timestamp: datetime) -> dict[str, datetime]:
    """The six `_<period>_start_at` keys a stored record carries for its `_timestamp`."""
    return {period.start_at_key: period.start(timestamp) for period in PERIODS.values()}
