"""Health endpoints: liveness (`/_status`) and data freshness (`/_status/data-sets`)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app

from backdrop.core.freshness import freshness_report, late_data_sets
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
    late = late_data_sets(get_storage(current_app), utcnow())
    return json_response(freshness_report(late), headers=NO_CACHE)
