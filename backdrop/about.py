"""`GET /` on each app: a short JSON description of the server, for whoever opens its address.

A newcomer's first request is often the bare address; rather than a 404 it answers which
app this is, its version and where to go next (liveness, readiness, the OpenAPI document
and the reference pages in the repository), so the API explains itself.
"""
from __future__ import annotations

from importlib import metadata

from flask import Flask

from backdrop import openapi, readiness
from backdrop.web import json_response

PATH = "/"
QUERY_LANGUAGE = "docs/query-language.md"
REFERENCE = {"read": QUERY_LANGUAGE, "write": "docs/write-api.md"}
TITLES = {"read": "Backdrop read API: queries over data sets",
          "write": "Backdrop write API: records and administration"}


def version() -> str:
    """The installed package's version (the checkout's pyproject.toml)."""
    try:
        return metadata.version("backdrop")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def description(app_name: str) -> dict:
    return {
        "app": app_name,
        "description": TITLES[app_name],
        "version": version(),
        "links": {
            "status": "/_status",
            "ready": readiness.PATH,
            "openapi": openapi.PATH,
            "query_language": QUERY_LANGUAGE,
            "reference": REFERENCE[app_name],
        },
    }


def install(app: Flask, app_name: str) -> None:
    answer = description(app_name)
    app.add_url_rule(PATH, "about", lambda: json_response(answer), methods=["GET"])
