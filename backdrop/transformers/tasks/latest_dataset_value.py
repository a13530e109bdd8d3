"""latest_dataset_value: publish a data set's newest rate/score to every published dashboard showing it.

An older value never overwrites a newer one already published: a record is skipped when
the output already holds its `_id` with a later `_timestamp`.
"""
from __future__ import annotations

from .util import BadSourceData, encode_id, instant, text

VALUE_KEYS = {"completion-rate": "rate", "digital-takeup": "rate", "user-satisfaction-score": "score"}


def compute(rows: list[dict], options: dict, context) -> list[dict]:
    dated = [row for row in rows if row.get("_timestamp") is not None]
    if not dated:
        return []
    data_type = context.data_set["data_type"]
    if data_type not in VALUE_KEYS:
        raise BadSourceData(f"latest_dataset_value cannot read data type {data_type!r}")
    latest = max(dated, key=lambda row: instant(row["_timestamp"]))
    value = latest.get(VALUE_KEYS[data_type])
    if value is None:
        return []
    field = data_type.replace("-", "_")
    moment = instant(latest["_timestamp"])
    output = []
    for dashboard in context.dashboards_showing(context.data_set["name"]):
        if not dashboard.get("published"):
            continue
        record_id = encode_id(dashboard["slug"], field)
        newer = context.newest_output_timestamp(record_id)
        if newer is not None and newer > moment:
            continue
        output.append({"_id": record_id, "dashboard_slug": dashboard["slug"], field: value,
                       "_timestamp": text(moment), "service_id": dashboard["slug"]})
    return output
