"""Which data sets are late: newer records expected than their `max_age_expected` allows.

Pure, so the read app's `/_status/data-sets` (the original's answer, always 200, for the
monitors that parse it) and `backdrop status` (a non-zero exit for cron) judge lateness
the same way, from the configurations and each data set's last write.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from backdrop.core.registry import DataSetConfig
from backdrop.core.storage.base import Storage
from backdrop.core.timeseries import as_utc


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


def late_data_sets(storage: Storage, now: datetime) -> list[dict]:
    """out_of_date over every data set of `storage`, by name."""
    configs = [DataSetConfig.from_dict(stored) for stored in storage.list_data_sets()]
    return out_of_date(configs, storage.last_updated(), now)


def freshness_report(late: list[dict]) -> dict:
    """The body of `/_status/data-sets`, word for word the original's."""
    if not late:
        return {"status": "ok", "data_sets": None, "message": "All data_sets are in date"}
    message = "1 data-set is out of date" if len(late) == 1 else f"{len(late)} data-sets are out of date"
    return {"status": "not okay", "message": message, "data_sets": late}
