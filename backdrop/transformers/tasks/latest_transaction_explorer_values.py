"""latest_transaction_explorer_values: one record per (dashboard, metric) with its latest value.

A value counts only when its row is current: dated at the newest row of its own kind
(quarterly or seasonally adjusted). A missing kind means no row of that kind is current
(the original crashed there), and instants are compared parsed, not as text.
"""
from __future__ import annotations

from .util import encode_id, instant, text

METRICS = (
    ("cost_per_transaction", "quarterly"),
    ("digital_cost_per_transaction", None),
    ("digital_takeup", None),
    ("number_of_digital_transactions", "quarterly"),
    ("number_of_transactions", "quarterly"),
    ("total_cost", "quarterly"),
)
COPIED = ("end_at", "period", "service_id", "type")
SEASONAL = "seasonally-adjusted"


def _newest(rows: list[dict], kind: str):
    return next((instant(r["_timestamp"]) for r in rows if r.get("type") == kind), None)


def _by_service(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row.get("service_id"), []).append(row)
    return grouped


def _record(metric: str, row: dict, current, slug: str) -> dict:
    is_current = current is not None and instant(row["_timestamp"]) == current
    record = {metric: row.get(metric) if is_current and metric in row else None}
    record.update({key: row[key] for key in COPIED if key in row})
    record.update({"dashboard_slug": slug, "_timestamp": text(current), "_id": encode_id(slug, metric)})
    return record


def compute(rows: list[dict], options: dict, context) -> list[dict]:
    rows = sorted((r for r in rows if r.get("_timestamp") is not None),
                  key=lambda r: instant(r["_timestamp"]), reverse=True)
    latest = {"quarterly": _newest(rows, "quarterly"), SEASONAL: _newest(rows, SEASONAL)}
    services = [(rows_, context.dashboards_for_service(sid)) for sid, rows_ in _by_service(rows).items()]
    output = []
    for metric, ignored in METRICS:
        for service_rows, dashboards in services:
            row = next((r for r in service_rows if r.get("type") != ignored), None)
            if row is None:
                continue
            current = latest[SEASONAL] if row.get("type") == SEASONAL else latest["quarterly"]
            if current is None:
                continue
            for dashboard in dashboards:
                record = _record(metric, row, current, dashboard["slug"])
                newer = context.newest_output_timestamp(record["_id"])
                if newer is None or newer <= current:
                    output.append(record)
    return output
