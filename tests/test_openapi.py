"""The OpenAPI descriptions (backdrop/openapi.py) describe every route of each app, nothing
more, validate as OpenAPI 3.1, and are what `/openapi.json` serves."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from backdrop import openapi
from backdrop.core import registry
from backdrop.read.app import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.write.app import create_app as create_write_app

# HEAD comes with GET, OPTIONS with every rule unless a route declares it itself.
IMPLIED = {"HEAD"}


def _settings(tmp_path) -> Settings:
    return Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/openapi.db",
                              "BACKDROP_AUDIT_LOG": str(tmp_path / "audit.log")})


APPS = {"read": (create_read_app, openapi.read_description),
        "write": (create_write_app, openapi.write_description)}


def _routes(app) -> set[tuple[str, str]]:
    """(path in OpenAPI form, method) for every rule of the app's url_map."""
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        implied = IMPLIED | ({"OPTIONS"} if rule.provide_automatic_options else set())
        routes |= {(path, method.lower()) for method in rule.methods - implied}
    return routes


def _described(description: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in description["paths"].items()
            for method in item if method != "parameters"}


@pytest.mark.parametrize("app_name", sorted(APPS))
def test_every_route_is_described_and_nothing_else(app_name, tmp_path):
    create, describe = APPS[app_name]
    assert _described(describe()) == _routes(create(_settings(tmp_path)))


@pytest.mark.parametrize("app_name", sorted(APPS))
def test_the_description_validates_as_openapi_3_1(app_name):
    errors = [error.message for error in OpenAPIV31SpecValidator(APPS[app_name][1]()).iter_errors()]
    assert errors == []


@pytest.mark.parametrize("app_name", sorted(APPS))
def test_openapi_json_serves_the_description(app_name, tmp_path):
    create, describe = APPS[app_name]
    answer = create(_settings(tmp_path)).test_client().get("/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json() == describe()


def test_openapi_json_cannot_shadow_a_data_set_name():
    """Names cannot hold a dot, so `/openapi.json` is never a legacy `/<name>` route."""
    assert re.fullmatch(registry.NAME_PATTERN, "openapi") and not re.fullmatch(registry.NAME_PATTERN, "openapi.json")


def test_a_data_set_named_openapi_keeps_its_legacy_routes(tmp_path):
    settings = Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/openapi.db",
                                  "BACKDROP_ADMIN_TOKEN": "admin", "BACKDROP_BROKER_URL": "filesystem://",
                                  "BACKDROP_BROKER_FOLDER": str(tmp_path / "broker"),
                                  "BACKDROP_AUDIT_LOG": str(tmp_path / "audit.log")})
    write = create_write_app(settings).test_client()
    config = {"name": "openapi", "data_group": "open", "data_type": "api", "bearer_token": "token",
              "raw_queries_allowed": True}
    assert write.post("/data-sets", json=config, headers={"Authorization": "Bearer admin"}).status_code == 201
    record = {"_timestamp": "2014-01-06T10:00:00Z", "count": 1}
    posted = write.post("/openapi", json=record, headers={"Authorization": "Bearer token"})
    assert posted.status_code == 200, posted.get_data(as_text=True)
    answer = create_read_app(settings).test_client().get("/openapi")
    assert answer.status_code == 200 and [row["count"] for row in answer.get_json()["data"]] == [1]
