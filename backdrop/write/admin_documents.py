"""The administration API for transforms and dashboards.

Same authentication and error answers as the data-set administration (admin.py); the
rules themselves live in core/transforms.py and core/dashboards.py, shared with the
command line.
"""
from __future__ import annotations

from flask import Blueprint, request

from backdrop.core import dashboards, registry, transform_runs, transforms
from backdrop.web import json_response
from backdrop.write import admin, services

blueprint = Blueprint("admin_documents", __name__)
blueprint.before_request(admin.authenticate)
blueprint.register_error_handler(registry.RegistryError, admin.registry_error)


@blueprint.post("/transforms")
def create_transform():
    return json_response(transforms.create(services.storage(), admin.json_body()), 201)


@blueprint.get("/transforms")
def list_transforms():
    storage = services.storage()
    return json_response(transform_runs.with_last_runs(storage, transforms.list_all(storage)))


@blueprint.get("/transforms/<transform_id>")
def show_transform(transform_id: str):
    storage = services.storage()
    return json_response(transform_runs.with_last_run(storage, transforms.get(storage, transform_id)))


@blueprint.get("/transforms/<transform_id>/runs")
def transform_runs_route(transform_id: str):
    """The transform's run history, newest first (at most `limit` runs)."""
    limit = transform_runs.parse_limit(request.args.get("limit"))
    return json_response(transform_runs.runs_of(services.storage(), transform_id, limit))


@blueprint.put("/transforms/<transform_id>")
def replace_transform(transform_id: str):
    return json_response(transforms.replace(services.storage(), transform_id, admin.json_body()))


@blueprint.delete("/transforms/<transform_id>")
def delete_transform(transform_id: str):
    transforms.delete(services.storage(), transform_id)
    return json_response({"status": "ok"})


@blueprint.post("/dashboards")
def create_dashboard():
    return json_response(dashboards.create(services.storage(), admin.json_body()), 201)


@blueprint.get("/dashboards")
def list_dashboards():
    return json_response(dashboards.list_all(services.storage()))


@blueprint.get("/dashboards/<slug>")
def show_dashboard(slug: str):
    return json_response(dashboards.get(services.storage(), slug))


@blueprint.put("/dashboards/<slug>")
def replace_dashboard(slug: str):
    return json_response(dashboards.replace(services.storage(), slug, admin.json_body()))


@blueprint.delete("/dashboards/<slug>")
def delete_dashboard(slug: str):
    dashboards.delete(services.storage(), slug)
    return json_response({"status": "ok", "message": f"Deleted {slug}"})
