"""The Query value object, and its parsing and validation from query-string arguments.

`parse_query` turns the read API's query string into a Query (or raises QueryError with
the message the API answers with); relative ranges (`duration`) are resolved against the
`now` it is given, so a Query always holds absolute instants and can key a cache.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterator, Literal, Sequence

from backdrop.core import paging
from backdrop.core.collect import DEFAULT_METHOD, PERCENTILE, PERCENTILE_RANGE, find_method, method_list
from backdrop.core.fields import valid_field_name
from backdrop.core.storage.base import Filter, Position, Sort
from backdrop.core.timeseries import DAY, PERIODS, UTC, Bucketing, Period, as_utc, known_zone, local_wall, zone_named


class QueryError(ValueError):
    """A query string the read API refuses; str(error) is the 400 message."""


@dataclass(frozen=True)
class Query:
    """A validated read query, with any `duration` already resolved to absolute instants.

    `anchor` says which end a `duration` counted from ("start" when `start_at` was given,
    "end" for `end_at` or now) and so which way results shift (see docs/query-language.md,
    "Shifting a duration").
    `collect` holds (field, method) pairs, method a name collect.find_method knows or DEFAULT_METHOD.
    `paged`: a raw query asked for pages (`page_token`, empty for the first page), which
    starts after `after` (see core/paging.py).
    `zone` is the time zone periods are counted in (`timezone`, or the data set's default):
    UTC unless one was named.
    """

    start_at: datetime | None = None
    end_at: datetime | None = None
    inclusive: bool = False
    period: Period | None = None
    duration: int | None = None
    anchor: Literal["start", "end"] | None = None
    filters: tuple[Filter, ...] = ()
    group_by: tuple[str, ...] = ()
    sort_by: Sort | None = None
    limit: int | None = None
    collect: tuple[tuple[str, str], ...] = ()
    flatten: bool = False
    format: str | None = None
    paged: bool = False
    after: Position | None = None
    zone: tzinfo = UTC

    @property
    def is_raw(self) -> bool:
        return not self.group_by and self.period is None

    @property
    def bucketing(self) -> Bucketing | None:
        """The period counted in the query's zone: what engines bucket by and series walk."""
        return None if self.period is None else Bucketing(self.period, self.zone)

    def shifted(self, periods: int) -> "Query":
        """The same query with its range moved by `periods` periods (negative: earlier)."""
        assert self.bucketing is not None and self.start_at is not None and self.end_at is not None
        return replace(
            self,
            start_at=self.bucketing.add(self.start_at, periods),
            end_at=self.bucketing.add(self.end_at, periods),
        )

    def cache_key(self) -> str:
        """Canonical JSON text of every field: equal meanings give one key, others never collide.

        Instants are absolute UTC ISO strings (so `+01:00` and the same instant in `Z` agree,
        and a `duration` resolved against now keys the resolved range); JSON keeps a boolean
        filter value apart from the string "true". A time zone adds its name (a query in UTC
        keys as it always did).
        """

        def instant(moment: datetime | None) -> str | None:
            return None if moment is None else as_utc(moment).isoformat()

        fields = {
            "start_at": instant(self.start_at),
            "end_at": instant(self.end_at),
            "inclusive": self.inclusive,
            "period": None if self.period is None else self.period.name,
            "duration": self.duration,
            "anchor": self.anchor,
            "filters": [[f.field, f.value, f.prefix] for f in self.filters],
            "group_by": list(self.group_by),
            "sort_by": None if self.sort_by is None else [self.sort_by.field, self.sort_by.descending],
            "limit": self.limit or None,
            "collect": [list(pair) for pair in self.collect],
            "flatten": self.flatten,
            "format": self.format,
        }
        if self.paged:  # only then: the keys (and so the ETags) of other queries stay as they were
            fields["page_after"] = None if self.after is None else paging.encode(self.after)
        if self.zone is not UTC:
            fields["timezone"] = str(self.zone)
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))


# --- parsing ---------------------------------------------------------------------------

ALLOWED_PARAMETERS = (
    "start_at", "end_at", "duration", "period", "filter_by", "filter_by_prefix", "group_by",
    "sort_by", "limit", "collect", "flatten", "inclusive", "format", "page_token", "timezone",
)
MAX_PERIODS = 100_000  # a longer series is refused ('Query would return too many periods'), not computed
MAX_LIMIT = 1_000_000_000  # beyond any data set; keeps absurd numbers away from the engines

_COLON = "filter_by must be a field name and value separated by a colon (:) eg. authority:Westminster"
_COLLECT_SHAPE = f"collect must be a field name, optionally followed by a colon and one of {method_list()}"
_TOO_MANY = "Query would return too many periods"
_OUT_OF_RANGE = "Query range is outside the supported dates (years 1 to 9999)"
UNKNOWN_ZONE = "timezone must be a valid IANA time zone name"

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:Z|([+-])(\d{2}):?(\d{2}))", re.ASCII
)
_INTEGER = re.compile(r"([+-]?)0*([0-9]+)", re.ASCII)


def parse_datetime(text: str) -> datetime | None:
    """The UTC instant of a read-API date-time (YYYY-MM-DDTHH:MM:SS then Z or ±HH:MM), or None.

    Strict on purpose: no fractions, no missing offset, nothing after the offset; the
    instant must exist and be representable in UTC.
    """
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    try:
        offset = timedelta(0)
        if sign is not None:
            if int(off_h) > 23 or int(off_m) > 59:
                return None
            offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                         tzinfo=timezone(offset))
        return local.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _integer(text: str) -> int | None:
    """An integer written in decimal (sign allowed), or None; absurdly long ones saturate.

    Saturating keeps int() away from thousands of digits while a huge value still reads as
    huge (a huge `duration` is "too many periods", not "not a number").
    """
    match = _INTEGER.fullmatch(text)
    if match is None:
        return None
    sign, digits = match.groups()
    value = int(digits) if len(digits) <= 18 else 10**18
    return -value if sign == "-" else value


class _Args:
    """The query string's (name, value) pairs, read the read API's way.

    Repeatable parameters use every value in order; any other uses its first value only.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]]):
        self.names = [name for name, _ in pairs]
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def has(self, name: str) -> bool:
        return name in self._values

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def date(self, name: str) -> datetime | None:
        value = self.first(name)
        return None if value is None else parse_datetime(value)

    def integer(self, name: str) -> int | None:
        value = self.first(name)
        return None if value is None else _integer(value)


Problems = Iterator[str]


# --- the checks, in the original's order (docs/query-language.md, "Errors, in the order the
# checks run"); each check yields its problems in the order listed ----------------------

def _check_names(args: _Args) -> Problems:
    if any(name not in ALLOWED_PARAMETERS for name in args.names):
        yield "An unrecognised parameter was provided"


def _check_period_needs(args: _Args) -> Problems:
    if not args.has("period"):
        return
    if not args.has("duration") and not (args.has("start_at") and args.has("end_at")):
        yield "Either 'duration' or both 'start_at' and 'end_at' are required for a period query"
    if args.has("limit") and not args.has("group_by"):
        yield "A period query can only be limited if it is grouped - please add 'group_by'"


def _check_date(name: str):
    def check(args: _Args) -> Problems:
        if args.has(name) and args.date(name) is None:
            yield f"{name} is not a valid datetime"

    return check


def _check_order(args: _Args) -> Problems:
    start, end = args.date("start_at"), args.date("end_at")
    if start is not None and end is not None and start > end:
        yield "start_at must be before end_at"


def _check_filters(args: _Args) -> Problems:
    if args.has("filter_by") and args.has("filter_by_prefix"):
        yield "Cannot use both filter_by and filter_by_prefix in the same query"
    for value in args.all("filter_by") + args.all("filter_by_prefix"):
        if ":" not in value:
            yield _COLON
        if not valid_field_name(value.split(":", 1)[0]):
            yield "Cannot filter by an invalid field name"
        if value.startswith("$"):
            yield "filter_by must not start with a $"


def _check_period_name(args: _Args) -> Problems:
    if args.has("period") and args.first("period") not in PERIODS:
        yield f"'period' must be one of {list(PERIODS)}"


def _sortable(field: str) -> bool:
    """A record field, or a collect key `field:method` (why sort_by splits at the last colon)."""
    name, colon, method = field.partition(":")
    return valid_field_name(name) and (not colon or find_method(method) is not None)


def _check_sort(args: _Args) -> Problems:
    value = args.first("sort_by")
    if value is None:
        return
    if args.has("period") and not args.has("group_by"):
        yield "Cannot sort for period queries without group_by. Period queries are always sorted by time."
    if ":" not in value:
        yield "sort_by must be a field name and sort direction separated by a colon (:) eg. authority:ascending"
        return
    field, _, direction = value.rpartition(":")
    if not field or direction not in ("ascending", "descending"):
        yield "Unrecognised sort direction. Supported directions include: ascending, descending"
    if not _sortable(field):
        yield "Cannot sort by an invalid field name"


def _check_group_by(args: _Args) -> Problems:
    for value in args.all("group_by"):
        if not valid_field_name(value):
            yield "Cannot group by an invalid field name"
        if value.startswith("_"):
            yield "Cannot group by internal fields, internal fields start with an underscore"


def _check_limit(args: _Args) -> Problems:
    if args.has("limit"):
        limit = args.integer("limit")
        if limit is None or not 0 <= limit <= MAX_LIMIT:
            yield "limit must be a positive integer"


def _check_duration(args: _Args) -> Problems:
    if args.has("duration"):
        duration = args.integer("duration")
        if duration is None or duration < 0:
            yield "duration must be a positive integer"


def _check_collect_needs(args: _Args) -> Problems:
    if args.has("collect") and not (args.has("group_by") or args.has("period")):
        yield "collect can be used only with either ['group_by', 'period']"


def _check_time_kind(args: _Args) -> Problems:
    start, end, duration = args.has("start_at"), args.has("end_at"), args.has("duration")
    if start and end and duration:
        yield (
            "Absolute and relative time cannot be requested at the same time - either ask for "
            "'start_at' and 'end_at', or ask for 'start_at'/'end_at' with 'duration'"
        )
    if start and not (end or duration):
        yield "Use of 'start_at' requires 'end_at' or 'duration'"
    if end and not (start or duration):
        yield "Use of 'end_at' requires 'start_at' or 'duration'"
    if duration:
        if args.integer("duration") == 0:
            yield "'duration' must not be zero"
        if not args.has("period"):
            yield (
                "If 'duration' is requested (for relative time), 'period' is required - "
                "please add a period (like 'day', 'month' etc)"
            )
        if args.integer("duration") is None:
            yield "'duration' is not a valid Integer"


def _check_collect(args: _Args) -> Problems:
    group_by = args.all("group_by")
    for value in args.all("collect"):
        if value.count(":") > 1:
            yield _COLLECT_SHAPE
        field, colon, method = value.partition(":")
        if colon and find_method(method) is None:
            yield PERCENTILE_RANGE if method.startswith(PERCENTILE) else "Unknown collection method"
        if not valid_field_name(field):
            yield "Cannot collect an invalid field name"
        if field.startswith("_"):
            yield "Cannot collect internal fields, internal fields start with an underscore"
        if field in group_by:
            yield "Cannot collect by a field that is used for group_by"


def _check_boolean(name: str):
    def check(args: _Args) -> Problems:
        if args.has(name) and args.first(name) not in ("true", "false"):
            yield f"{name} must be either 'true' or 'false'"

    return check


def _check_inclusive_needs(args: _Args) -> Problems:
    if args.has("inclusive") and not (args.has("start_at") or args.has("end_at")):
        yield "inclusive can be used only with either ['start_at', 'end_at']"


def _check_page_token(args: _Args) -> Problems:
    """Pages of raw records in one fixed order, each as long as `limit` says."""
    if not args.has("page_token"):
        return
    if args.has("group_by") or args.has("period"):
        yield "page_token is only for raw queries: it cannot be used with group_by or period"
    if args.has("sort_by"):
        yield "sort_by cannot be used with page_token: pages always follow _timestamp, then _id"
    if not args.integer("limit"):
        yield "page_token needs limit: the number of records per page, at least 1"
    try:
        paging.decode(args.first("page_token"))
    except paging.MalformedToken:
        yield paging.MALFORMED
def _check_timezone(args: _Args) -> Problems:
    if not args.has("timezone"):
        return
    if not known_zone(args.first("timezone")):
        yield UNKNOWN_ZONE
    if not args.has("period"):
        yield "timezone needs period"


_CHECKS = (
    _check_names,                 # 1
    _check_period_needs,          # 2
    _check_date("start_at"),      # 3
    _check_date("end_at"),        # 4
    _check_order,                 # start_at must be before end_at (not in the original)
    _check_filters,               # 5
    _check_period_name,           # 6
    _check_sort,                  # 7
    _check_group_by,              # 8
    _check_limit,                 # 9
    _check_duration,              # 10
    _check_collect_needs,         # 11
    _check_time_kind,             # 12
    _check_collect,               # 13
    _check_boolean("flatten"),    # 14
    _check_boolean("inclusive"),  # 15
    _check_inclusive_needs,       # 16
    _check_page_token,            # page_token (not in the original)
    _check_timezone,              # timezone (not in the original)
)


# --- data sets that do not allow raw queries (docs/query-language.md, "Data sets without raw
# queries") --------------------------------------------------------------------------------

def _check_not_raw(args: _Args, zone: tzinfo) -> Problems:
    if not (args.has("group_by") or args.has("period")):
        yield "querying for raw data is not allowed"


def _clock(moment: datetime, zone: tzinfo) -> datetime:
    """What the zone's clocks read, a local day's start reading 00:00 even where the clocks
    skipped midnight (so seven local days are seven days)."""
    day = Bucketing(DAY, zone)
    return day.start_wall(moment) if day.valid_start(moment) else local_wall(moment, zone)


def _check_span_and_midnight(args: _Args, zone: tzinfo) -> Problems:
    """Days are counted, and midnight judged, on the clocks of the query's zone (a local day
    whose midnight does not exist starts when the clocks jump past it)."""
    period = PERIODS.get(args.first("period") or "")
    if period is not None and period.shorter_than_a_day:
        return
    start, end = args.date("start_at"), args.date("end_at")
    if start is not None and end is not None and (_clock(end, zone) - _clock(start, zone)).days < 7:
        yield "The minimum time span for a query is 7 days"
    for name, moment in (("start_at", start), ("end_at", end)):
        if moment is not None and not Bucketing(DAY, zone).valid_start(moment):
            yield f"{name} must be midnight"


def _check_alignment(args: _Args, zone: tzinfo) -> Problems:
    """Ranges of periods with a day rule (weeks, months) start and end on it, judged in the query's zone."""
    period = PERIODS.get(args.first("period") or "")
    if period is None or period.day_rule is None:
        return
    for name in ("start_at", "end_at"):
        moment = args.date(name)
        if moment is not None and not period.day_rule(local_wall(moment, zone)):
            yield period.day_rule_message.format(name=name)


_RAW_RULES = (_check_not_raw, _check_span_and_midnight, _check_alignment)


def _run(checks, args: _Args, *context) -> None:
    for check in checks:
        for problem in check(args, *context):
            raise QueryError(problem)


# --- building the Query ------------------------------------------------------------------

def _absolute_range(args: _Args, period: Bucketing | None):
    """The user's bounds; for a period query also checks the gap-filled series it implies."""
    start, end = args.date("start_at"), args.date("end_at")
    if period is not None and start is not None and end is not None:
        last = _representable(lambda: period.start(end))
        count = period.count_between(_representable(lambda: period.start(start)), last) + (last != end)
        if count > MAX_PERIODS:
            raise QueryError(_TOO_MANY)
        _representable(lambda: period.end(end))
    return start, end, None


def _relative_range(args: _Args, period: Bucketing, duration: int, now: datetime):
    """`duration` periods back from end_at (or now) or on from start_at, with room left for the
    read API's one shift (docs/query-language.md, "Relative ranges", "Shifting a duration").

    A shift moves the range by fewer than `duration` periods, forward when counting from
    start_at and backward otherwise; refusing ranges that could not shift keeps an
    overflow out of the engines.
    """
    if duration > MAX_PERIODS:
        raise QueryError(_TOO_MANY)
    start = args.date("start_at")

    def resolve():
        if start is not None:
            first = period.start(start)
            last = period.add(first, duration)
            period.add(last, duration - 1)
            return first, last, "start"
        last = period.start(args.date("end_at") or as_utc(now))
        first = period.add(last, -duration)
        period.add(first, 1 - duration)
        return first, last, "end"

    return _representable(resolve)


def _representable(compute):
    try:
        return compute()
    except (OverflowError, ValueError):
        raise QueryError(_OUT_OF_RANGE) from None


def _filters(args: _Args) -> tuple[Filter, ...]:
    def exact(value: str) -> Filter:
        field, text = value.split(":", 1)
        return Filter(field, {"true": True, "false": False}.get(text, text))

    def prefix(value: str) -> Filter:
        field, text = value.split(":", 1)
        return Filter(field, text, prefix=True)

    return tuple(exact(v) for v in args.all("filter_by")) + tuple(
        prefix(v) for v in args.all("filter_by_prefix")
    )


def _sort(args: _Args) -> Sort | None:
    value = args.first("sort_by")
    if value is None:
        return None
    field, _, direction = value.rpartition(":")
    return Sort(field, descending=direction == "descending")


def _collect(args: _Args) -> tuple[tuple[str, str], ...]:
    def pair(value: str) -> tuple[str, str]:
        field, _, method = value.partition(":")
        return field, method or DEFAULT_METHOD

    return tuple(pair(value) for value in args.all("collect"))


def parse_query(
    args: Sequence[tuple[str, str]], *, raw_queries_allowed: bool, now: datetime,
    default_timezone: str | None = None,
) -> Query:
    """Validate a query string the read API's way and build its Query.

    Checks run in the order of _CHECKS, then _RAW_RULES when
    raw queries are not allowed; the first problem found is raised as QueryError. Internal
    callers pass raw_queries_allowed=True. `now` anchors a `duration` given without dates.
    `default_timezone` (a data set's `timezone`, a known name) counts periods when the query
    names no `timezone`.
    """
    parsed = _Args(args)
    _run(_CHECKS, parsed)
    period = PERIODS.get(parsed.first("period") or "")
    zone = zone_named(parsed.first("timezone") or default_timezone) if period else UTC
    bucketing = Bucketing(period, zone) if period else None
    duration = parsed.integer("duration")
    if duration is None:
        start_at, end_at, anchor = _absolute_range(parsed, bucketing)
    else:
        start_at, end_at, anchor = _relative_range(parsed, bucketing, duration, now)
    if not raw_queries_allowed:
        _run(_RAW_RULES, parsed, zone)
    return Query(
        start_at=start_at,
        end_at=end_at,
        inclusive=parsed.first("inclusive") == "true",
        period=period,
        duration=duration,
        anchor=anchor,
        filters=_filters(parsed),
        group_by=tuple(parsed.all("group_by")),
        sort_by=_sort(parsed),
        limit=parsed.integer("limit") or None,
        collect=_collect(parsed),
        flatten=parsed.first("flatten") == "true",
        format="csv" if parsed.first("format") == "csv" else None,
        paged=parsed.has("page_token"),
        after=paging.decode(parsed.first("page_token")) if parsed.has("page_token") else None,
        zone=zone,
    )
