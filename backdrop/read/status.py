"""Health endpoints: liveness (`/_status`) and data freshness (`/_status/data-sets`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app

from backdrop.core.registry import DataSetConfig
from backdrop.core.timeseries import as_utc
from backdrop.web import get_storage, json_response

blueprint = Blueprint("status", __name__)
NO_CACHE = {"Cache-Control": "no-cache"}


def utcnow() -> datetime:
    """The clock the freshness check reads (a seam, so tests can fix the time)."""
    return datetime.now(timezone.utc)


@blueprint.get("/_status")
def alive():
    """Answers without the database: it says the process serves, nothing more."""
    return json_response({"status": "ok", "message": "app is up"}, headers=NO_CACHE)


@blueprint.get("/_status/data-sets")
def freshness():
    storage = get_storage(current_app)
    configs = [DataSetConfig.from_dict(stored) for stored in storage.list_data_sets()]
    late = out_of_date(configs, storage.last_updated(), utcnow())
    return json_response(freshness_report(late), headers=NO_CACHE)


def seconds_out_of_date(max_age_expected: int | None, last_updated: datetime | None, now: datetime) -> int | None:
    """How late the data is, in whole seconds truncated toward zero; None when not monitored."""
    if max_age_expected is None or last_updated is None:
        return None
    late = now - as_utc(last_updated) - timedelta(seconds=max_age_expected)
    microseconds = (late.days * 86400 + late.seconds) * 1_000_000 + late.microseconds
    whole = abs(microseconds) // 1_000_000
    return whole if microseconds >= 0 else -whole


def out_of_date(configs: list[DataSetConfig], last_updated: dict[str, datetime], now: datetime) -> list[dict]:
    """The late data sets, in the order given (storage lists them by name)."""
    late = []
    for config in configs:
        updated = last_updated.get(config.name)
        seconds = seconds_out_of_date(config.max_age_expected, updated, now)
        if seconds is not None and seconds >= 0:
            late.append({
                "name": config.name,
                "seconds-out-of-date": seconds,
                "last-updated": as_utc(updated),
                "max-age-expected": config.max_age_expected,
            })
    return late


def freshness_report(late: list[dict]) -> dict:
    if not late:
        return {"status": "ok", "data_sets": None, "message": "All data_sets are in date"}
    message = "1 data-set is out of date" if len(late) == 1 else f"{len(late)} data-sets are out of date"
    return {"status": "not okay", "message": message, "data_sets": late}
