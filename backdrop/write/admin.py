"""The administration API for data sets, behind BACKDROP_ADMIN_TOKEN.

Only HTTP lives here: validation and the create/replace/delete rules are in
core/registry.py, which the command line shares.
"""
from __future__ import annotations

from flask import Blueprint, request

from backdrop.core import dashboards, registry, transform_runs, transforms
from backdrop.web import ApiError, json_response
from backdrop.write import body, services
from backdrop.write.auth import require_admin_token

blueprint = Blueprint("admin", __name__)

_STATUS = {registry.ConfigError: 400, registry.Conflict: 409, registry.Missing: 404}


@blueprint.before_request
def authenticate():
    """Every admin route needs the admin token; refusals are audited under the data set's name."""
    name = (request.view_args or {}).get("name")
    require_admin_token(name or request.path)


@blueprint.errorhandler(registry.RegistryError)
def registry_error(error: registry.RegistryError):
    return ApiError(_STATUS.get(type(error), 400), str(error)).response()


def json_body():
    return body.json_body(services.settings().max_body_bytes, body.other_wrong_type)


def _audit(message: str, name: str) -> None:
    services.audit().event(message, data_set=name)


@blueprint.post("/data-sets")
def create_data_set():
    config = registry.create(services.storage(), json_body())
    _audit("Data set created", config.name)
    return json_response(config.public_dict(), 201)


@blueprint.get("/data-sets")
def list_data_sets():
    """Every configuration, or those matching `data-group` and/or `data-type`; other query
    parameters are ignored, as they always were."""
    matching = registry.list_matching(services.storage(), request.args.get("data-group"),
                                      request.args.get("data-type"))
    return json_response([config.public_dict() for config in matching])


@blueprint.get("/data-sets/<name>")
def show_data_set(name: str):
    return json_response(registry.require(services.storage(), name).public_dict())


@blueprint.get("/data-sets/<name>/transform")
def data_set_transforms(name: str):
    """The transforms whose input is this data set (its group or `*`): the call the original's
    client library (`AdminAPI.get_data_set_transforms`) and transform worker make."""
    storage = services.storage()
    config = registry.require(storage, name)
    return json_response(transform_runs.with_last_runs(
        storage, transforms.for_data_set(storage, config.data_group, config.data_type)))


@blueprint.get("/data-sets/<name>/dashboard")
def data_set_dashboards(name: str):
    """The dashboards showing this data set (`AdminAPI.get_data_set_dashboard`), which the
    original's `latest_dataset_value` task asked for."""
    registry.require(services.storage(), name)
    return json_response(dashboards.showing(services.storage(), name))


@blueprint.put("/data-sets/<name>")
def replace_data_set(name: str):
    storage = services.storage()
    registry.require(storage, name)
    config = registry.replace(storage, name, json_body())
    _audit("Data set replaced", config.name)
    return json_response(config.public_dict())


@blueprint.post("/data-sets/<name>/token")
def rotate_token(name: str):
    """A new random token for the data set, answered this once (only its hash is stored)."""
    token = registry.rotate_token(services.storage(), name)
    _audit("Data set token rotated", name)
    return json_response({"name": name, "bearer_token": token})


@blueprint.delete("/data-sets/<name>")
def delete_data_set(name: str):
    registry.delete(services.storage(), name)
    services.audit().delete(request.headers.get("Authorization"), name)
    return json_response({"status": "ok", "message": f"Deleted {name}"})
