"""Headers the read API sets: CORS on everything, Cache-Control by data-set flags, pre-flight."""
from __future__ import annotations

from flask import Flask, Response

from backdrop.core.registry import DataSetConfig

NO_CACHE = "no-cache"
REALTIME_MAX_AGE = "max-age=120, must-revalidate"
DEFAULT_MAX_AGE = "max-age=1800, must-revalidate"
ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
PREFLIGHT_HEADERS = {
    "Access-Control-Max-Age": "86400",
    "Access-Control-Allow-Headers": "cache-control, govuk-request-id, request-id",
    "Allow": ", ".join(ALLOWED_METHODS),
}


def install(app: Flask) -> None:
    """Every response of the app, errors included, may be read by any origin's scripts."""

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response


def cache_control(config: DataSetConfig) -> str:
    """Unpublished data may still change under a client, so it must never be cached."""
    if not config.published:
        return NO_CACHE
    return REALTIME_MAX_AGE if config.realtime else DEFAULT_MAX_AGE


def preflight() -> Response:
    """The CORS pre-flight answer: empty, and good for a day."""
    return Response(b"", status=200, headers=PREFLIGHT_HEADERS)
