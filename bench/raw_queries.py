"""The raw-engine baselines of the queries: one hand-written SQL statement (or pipeline) each.

Each statement computes the same answer as its read-API query (same records, same buckets,
same sums) in the most direct SQL a person would write against Backdrop's schema
(backdrop/core/storage/sqlite_sql.py and postgres.py): SQLite keeps `ts` as integer
microseconds since the epoch and bodies as JSON text; PostgreSQL keeps `ts` as timestamptz
and bodies as JSONB. Aggregates end with their count (and sum) columns, so fingerprint()
reduces their rows exactly as QuerySpec.fingerprint reduces the API's answer.
"""
from __future__ import annotations

from datetime import datetime

from bench.queries import NINETY_DAYS, ONE_WEEK, ONE_YEAR, RAW_LIMIT, TWO_YEARS, QuerySpec

DAY_US = 86_400_000_000
WEEK_US = 7 * DAY_US
MONDAY_US = 4 * DAY_US  # 1970-01-05, the first Monday after the epoch


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _us(text: str) -> int:
    return int(_instant(text).timestamp()) * 1_000_000


_SQLITE = {
    "raw_filter_limit": (
        "SELECT body FROM records WHERE data_set = :name"
        " AND json_extract(body, '$.region') = 'region-07' ORDER BY seq LIMIT :limit", None),
    "group_by_one_key": (
        "SELECT json_extract(body, '$.department') AS g, count(*) FROM records"
        " WHERE data_set = :name GROUP BY g", None),
    "week_one_year": (
        f"SELECT ts - (ts - {MONDAY_US}) % {WEEK_US} AS w, count(*) FROM records"
        " WHERE data_set = :name AND ts >= :start AND ts < :end GROUP BY w", ONE_YEAR),
    "month_group_sum_two_years": (
        "SELECT strftime('%Y-%m', ts / 1000000, 'unixepoch') AS m,"
        " json_extract(body, '$.channel') AS c, count(*), sum(json_extract(body, '$.cost'))"
        " FROM records WHERE data_set = :name AND ts >= :start AND ts < :end GROUP BY m, c",
        TWO_YEARS),
    "filter_day_90_days": (
        f"SELECT ts / {DAY_US} AS d, count(*) FROM records WHERE data_set = :name"
        " AND ts >= :start AND ts < :end AND json_extract(body, '$.channel') = 'phone'"
        " GROUP BY d", NINETY_DAYS),
    "flatten_week_group_one_year": (
        f"SELECT ts - (ts - {MONDAY_US}) % {WEEK_US} AS w, json_extract(body, '$.channel') AS c,"
        " count(*) FROM records WHERE data_set = :name AND ts >= :start AND ts < :end"
        " GROUP BY w, c", ONE_YEAR),
    "one_week_day_by_channel": (
        f"SELECT ts / {DAY_US} AS d, json_extract(body, '$.channel') AS c, count(*) FROM records"
        " WHERE data_set = :name AND ts >= :start AND ts < :end GROUP BY d, c", ONE_WEEK),
}

_POSTGRES = {
    "raw_filter_limit": (
        "SELECT body::text FROM backdrop_records WHERE data_set = %(name)s"
        " AND body ->> 'region' = 'region-07' ORDER BY seq LIMIT %(limit)s", None),
    "group_by_one_key": (
        "SELECT body ->> 'department' AS g, count(*) FROM backdrop_records"
        " WHERE data_set = %(name)s GROUP BY g", None),
    "week_one_year": (
        "SELECT date_trunc('week', ts AT TIME ZONE 'UTC') AS w, count(*) FROM backdrop_records"
        " WHERE data_set = %(name)s AND ts >= %(start)s AND ts < %(end)s GROUP BY w", ONE_YEAR),
    "month_group_sum_two_years": (
        "SELECT date_trunc('month', ts AT TIME ZONE 'UTC') AS m, body ->> 'channel' AS c,"
        " count(*), sum((body ->> 'cost')::bigint) FROM backdrop_records"
        " WHERE data_set = %(name)s AND ts >= %(start)s AND ts < %(end)s GROUP BY m, c",
        TWO_YEARS),
    "filter_day_90_days": (
        "SELECT date_trunc('day', ts AT TIME ZONE 'UTC') AS d, count(*) FROM backdrop_records"
        " WHERE data_set = %(name)s AND ts >= %(start)s AND ts < %(end)s"
        " AND body ->> 'channel' = 'phone' GROUP BY d", NINETY_DAYS),
    "flatten_week_group_one_year": (
        "SELECT date_trunc('week', ts AT TIME ZONE 'UTC') AS w, body ->> 'channel' AS c,"
        " count(*) FROM backdrop_records WHERE data_set = %(name)s"
        " AND ts >= %(start)s AND ts < %(end)s GROUP BY w, c", ONE_YEAR),
    "one_week_day_by_channel": (
        "SELECT date_trunc('day', ts AT TIME ZONE 'UTC') AS d, body ->> 'channel' AS c,"
        " count(*) FROM backdrop_records WHERE data_set = %(name)s"
        " AND ts >= %(start)s AND ts < %(end)s GROUP BY d, c", ONE_WEEK),
}


def _grouped(match: dict, key, total: str | None = None) -> list[dict]:
    """A hand-written $match + $group over the records collection, counting (and summing)."""
    group = {"_id": key, "n": {"$sum": 1}}
    if total:
        group["s"] = {"$sum": f"$r.{total}"}
    return [{"$match": match}, {"$group": group}]


_MONGO = {
    "raw_filter_limit": ([{"$match": {"d": ":name", "r.region": "region-07"}}, {"$sort": {"s": 1}},
                          {"$limit": ":limit"}, {"$replaceRoot": {"newRoot": "$r"}}], None),
    "group_by_one_key": (_grouped({"d": ":name"}, "$r.department"), None),
    "week_one_year": (_grouped({"d": ":name", "t": {"$gte": ":start", "$lt": ":end"}},
                               "$r._week_start_at"), ONE_YEAR),
    "month_group_sum_two_years": (_grouped({"d": ":name", "t": {"$gte": ":start", "$lt": ":end"}},
                                           {"m": "$r._month_start_at", "c": "$r.channel"}, "cost"),
                                  TWO_YEARS),
    "filter_day_90_days": (_grouped({"d": ":name", "t": {"$gte": ":start", "$lt": ":end"},
                                     "r.channel": "phone"}, "$r._day_start_at"), NINETY_DAYS),
    "flatten_week_group_one_year": (_grouped({"d": ":name", "t": {"$gte": ":start", "$lt": ":end"}},
                                             {"w": "$r._week_start_at", "c": "$r.channel"}), ONE_YEAR),
    "one_week_day_by_channel": (_grouped({"d": ":name", "t": {"$gte": ":start", "$lt": ":end"}},
                                         {"d": "$r._day_start_at", "c": "$r.channel"}), ONE_WEEK),
}
"""MongoDB: pipelines over the records collection (see backdrop/core/storage/mongo.py); `t`
is the `_timestamp` in µs and every record carries its `_<period>_start_at` keys, so a
person buckets by those. Parameters are the strings ":name", ":limit", ":start", ":end"."""

STATEMENTS = {"sqlite": _SQLITE, "postgres": _POSTGRES, "mongo": _MONGO}


def statement(engine: str, query: str, data_set: str) -> tuple:
    """The SQL and its parameters (a pipeline with its parameters in place, for MongoDB)
    for `query` over the records of `data_set`."""
    sql, bounds = STATEMENTS[engine][query]
    params: dict = {"name": data_set, "limit": RAW_LIMIT}
    if bounds is not None:
        convert = _instant if engine == "postgres" else _us
        params.update(start=convert(bounds[0]), end=convert(bounds[1]))
    if engine == "mongo":
        return _filled(sql, params), {}
    return sql, {key: params[key] for key in _names(sql)}


def _filled(pipeline, params: dict):
    """The pipeline with each ":name" string replaced by its parameter."""
    if isinstance(pipeline, dict):
        return {key: _filled(value, params) for key, value in pipeline.items()}
    if isinstance(pipeline, list):
        return [_filled(value, params) for value in pipeline]
    if isinstance(pipeline, str) and pipeline.startswith(":"):
        return params[pipeline[1:]]
    return pipeline


def _names(sql: str) -> set[str]:
    return {name for name in ("name", "limit", "start", "end")
            if f":{name}" in sql or f"%({name})s" in sql}


def fingerprint(spec: QuerySpec, rows: list[tuple]) -> tuple:
    """The baseline's rows reduced like QuerySpec.fingerprint reduces the API's answer."""
    if spec.raw:
        return (len(rows),)
    if spec.sum_key:
        return (len(rows), sum(row[-2] for row in rows), sum(row[-1] or 0 for row in rows))
    return (len(rows), sum(row[-1] for row in rows), 0)
