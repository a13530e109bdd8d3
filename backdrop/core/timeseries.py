"""Periods (hour … year): the one table of periods and their rules, and bucketing values.

`Period` holds everything the rest of Backdrop needs to know about a period: its name,
where a bucket starts, how to step from one boundary to the next, how long it is (a fixed
length, or a whole number of calendar months), and the alignment rules the read API applies
to data sets without raw queries, with the words of their error messages. Nothing else
spells period names: the query parser, the engines and the transforms all read `PERIODS`.

`Period` counts in UTC: a day runs 00:00 to 00:00 UTC, weeks start on Monday, quarters
on 1 Jan/Apr/Jul/Oct. A `Bucketing` (period plus time zone) counts the same periods on the
clocks of a zone (a London day runs from London midnight to London midnight, 23 or 25
hours at a DST change); it is what engines are handed and what shapes a series.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Callable, Iterator
from zoneinfo import ZoneInfo, available_timezones

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
        return buckets(self, start, end)


def buckets(steps: "Period | Bucketing", start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive (start, end) buckets from start(start) while the bucket starts before end(end)."""
    stop = steps.end(end)
    bucket = steps.start(start)
    while bucket < stop:
        following = steps.add(bucket, 1)
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


# --- local time ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    """The IANA zone names, exactly as spelt (case matters). `localtime` is the machine's own
    setting, not an IANA name; paths (`../x`, `Etc/../UTC`) are not names at all."""
    return frozenset(available_timezones() - {"localtime"})


def known_zone(name: object) -> bool:
    return isinstance(name, str) and name in _zone_names()


def zone_named(name: str | None) -> tzinfo:
    """The zone of a known IANA name; `UTC` and no name are the original's UTC."""
    if name is None or name == "UTC":
        return UTC
    return ZoneInfo(name)



def local_wall(moment: datetime, zone: tzinfo) -> datetime:
    """What the clocks of `zone` read at an instant, as a naive datetime."""
    return as_utc(moment).astimezone(zone).replace(tzinfo=None)


def wall_to_instant(wall: datetime, zone: tzinfo) -> datetime:
    """The earliest instant at which the clocks of `zone` read `wall` (UTC).

    A wall time read twice (clocks put back) is taken at its first reading, so a local
    day starts at its first midnight and no instant belongs to two days. A wall time never
    read (clocks put forward over it) is taken as the instant the clocks jumped past it:
    a day whose midnight does not exist starts when the clocks skip to 01:00. Every
    bucket start, in every engine, is decoded back to an instant through this one rule.
    """
    first, second = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    for candidate in (first, second):
        if local_wall(candidate, zone) == wall:
            return candidate
    # In a gap: the clocks read before `wall` at `first` and after it at `second`; the jump
    # (at a whole second, as every tz database transition) lies between.
    low, high = first, second
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low) // timedelta(seconds=2))
        if local_wall(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high


def _offset_micros(moment: datetime, zone: tzinfo) -> int:
    return as_utc(moment).astimezone(zone).utcoffset() // MICROSECOND


@lru_cache(maxsize=4096)
def _transitions_in_year(zone: tzinfo, year: int) -> tuple[tuple[datetime, int], ...]:
    """(instant, new offset in µs) of every change of the zone's UTC offset during a UTC year.

    zoneinfo does not list transitions, so the offset is sampled daily and each change
    found by bisection to the second. Daily sampling misses a change only if the offset
    changes and changes back within a day; the shortest such return in the tz database is
    four days (Africa/Freetown, 1930s).
    """
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) if year < 9999 else datetime(9999, 12, 31, tzinfo=UTC)
    before = _offset_micros(day, zone)
    while day < end:
        following = min(day + timedelta(days=1), end)
        after = _offset_micros(following, zone)
        if after != before:
            low, high = day, following
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low) // timedelta(seconds=2))
                if _offset_micros(middle, zone) == before:
                    low = middle
                else:
                    high = middle
            found.append((high, after))
        day, before = following, after
    return tuple(found)


def utc_offsets(zone: tzinfo, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets (µs) in force from `start` to `end`: [(None, offset at start),
    (instant of change, new offset), …] in time order. What the SQLite and MongoDB engines,
    which know no zone rules, add to `_timestamp` to read local clocks."""
    start, end = as_utc(start), as_utc(end)
    table: list[tuple[datetime | None, int]] = [(None, _offset_micros(start, zone))]
    for year in range(start.year, end.year + 1):
        table += [(moment, offset) for moment, offset in _transitions_in_year(zone, year)
                  if start < moment <= end]
    return table


@dataclass(frozen=True)
class Bucketing:
    """How an aggregate query buckets time: a period, counted on the clocks of a time zone.

    In UTC (the default) every method is the period's own. In another zone, days, weeks,
    months, quarters and years start at local midnight (of a Monday, a first of the month,
    …), so they may last 23 or 25 hours; a local midnight that does not exist or exists
    twice is resolved by `wall_to_instant`. Hours stay real UTC hours (in a half-hour zone
    they start at :30 local). Instants in and out are UTC; `shown` gives an instant the
    zone's offset for answers.

    An engine that counts local clocks itself (`local` is true) buckets the *wall time*
    (the instant plus the zone's offset in force, as if it were UTC), truncates it by the
    period's UTC rules and hands the truncated wall time to `from_wall`.
    """

    period: Period
    zone: tzinfo = UTC

    @property
    def in_utc(self) -> bool:
        return self.zone is UTC

    @property
    def local(self) -> bool:
        """Buckets follow the zone's clocks (every period but the hour, in any zone but UTC)."""
        return self.zone is not UTC and not self.period.shorter_than_a_day

    def start_wall(self, moment: datetime) -> datetime:
        """The local wall time (naive) at which the period holding `moment` starts."""
        return self.period.start(local_wall(moment, self.zone).replace(tzinfo=UTC)).replace(tzinfo=None)

    def from_wall(self, wall: datetime) -> datetime:
        """The instant (UTC) of a bucket start an engine computed as local wall time."""
        if not self.local:
            return as_utc(wall)
        return wall_to_instant(wall.replace(tzinfo=None), self.zone)

    def start(self, moment: datetime) -> datetime:
        """Start of the period containing `moment`."""
        if not self.local:
            return self.period.start(moment)
        return self.from_wall(self.start_wall(moment))

    def valid_start(self, moment: datetime) -> bool:
        return self.start(moment) == as_utc(moment)

    def end(self, moment: datetime) -> datetime:
        """`moment` itself on a boundary, else the start of the next period (round up)."""
        start = self.start(moment)
        return as_utc(moment) if start == as_utc(moment) else self.add(start, 1)

    def add(self, moment: datetime, count: int) -> datetime:
        """Move a boundary `count` local periods forward (negative: back)."""
        if not self.local:
            return self.period.add(moment, count)
        wall = self.period.add(self.start_wall(moment).replace(tzinfo=UTC), count)
        return self.from_wall(wall)

    def count_between(self, first: datetime, last: datetime) -> int:
        """How many whole periods lie between two boundaries, by arithmetic on local walls."""
        if not self.local:
            return self.period.count_between(first, last)
        return self.period.count_between(self.start_wall(first).replace(tzinfo=UTC),
                                         self.start_wall(last).replace(tzinfo=UTC))

    def range(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        return buckets(self, start, end)

    def shown(self, moment: datetime) -> datetime:
        """An instant as answers write it: in the zone, so with the offset in force then
        (`2026-03-30T00:00:00+01:00`). For output only: Python compares two datetimes of
        one zone by their clock readings, which an hour put back repeats."""
        if self.zone is UTC:
            return moment
        return as_utc(moment).astimezone(self.zone)

    def wall_offsets(self, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
        """The offsets (µs) engines add to instants from `start` to `end` to read local clocks."""
        if not self.local:
            return [(None, 0)]
        return utc_offsets(self.zone, start, end)


def period_keys(timestamp: datetime) -> dict[str, datetime]:
    """The six `_<period>_start_at` keys a stored record carries for its `_timestamp`."""
    return {period.start_at_key: period.start(timestamp) for period in PERIODS.values()}
