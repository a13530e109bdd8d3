"""Dashboards: only what two transforms need to know.

`latest_dataset_value` publishes to the published dashboards showing its input data set;
`latest_transaction_explorer_values` to the dashboards of a transactions-explorer service.
"""
from __future__ import annotations

from backdrop.core import documents
from backdrop.core.registry import ConfigError, Conflict, valid_name
from backdrop.core.storage.base import AlreadyExists, Storage

KIND = "dashboards"
KEYS = ("slug", "published", "service_id", "data_sets")


def validate(body, storage: Storage) -> dict:
    """The stored form of a dashboard, defaults filled in, or ConfigError naming the field."""
    if not isinstance(body, dict):
        raise ConfigError("A dashboard must be a JSON object")
    unknown = [key for key in body if key not in KEYS]
    if unknown:
        raise ConfigError(f"Unknown dashboard field: {unknown[0]}")
    dashboard = {"slug": body.get("slug"), "published": body.get("published", True),
                 "service_id": body.get("service_id"), "data_sets": body.get("data_sets", [])}
    if not valid_name(dashboard["slug"]):
        raise ConfigError("slug must match ^[a-z0-9][a-z0-9_-]{0,99}$")
    if not isinstance(dashboard["published"], bool):
        raise ConfigError("published must be true or false")
    if dashboard["service_id"] is not None and not isinstance(dashboard["service_id"], str):
        raise ConfigError("service_id must be a string or null")
    names = dashboard["data_sets"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError("data_sets must be a list of data-set names")
    for name in names:
        if storage.get_data_set(name) is None:
            raise ConfigError(f"data_sets names '{name}', which is not a configured data set")
    return dashboard


def create(storage: Storage, body) -> dict:
    dashboard = validate(body, storage)
    try:
        storage.put_document(KIND, dashboard["slug"], dashboard, create=True)
    except AlreadyExists:
        raise Conflict(f"Dashboard '{dashboard['slug']}' already exists") from None
    return dashboard


def replace(storage: Storage, slug: str, body) -> dict:
    get(storage, slug)
    if isinstance(body, dict) and body.get("slug", slug) != slug:
        raise ConfigError("slug cannot be changed")
    dashboard = validate({**body, "slug": slug} if isinstance(body, dict) else body, storage)
    storage.put_document(KIND, slug, dashboard, create=False)
    return dashboard


def get(storage: Storage, slug: str) -> dict:
    return documents.require(storage, KIND, slug, f"No dashboard named '{slug}'")


def delete(storage: Storage, slug: str) -> None:
    documents.remove(storage, KIND, slug, f"No dashboard named '{slug}'")


def list_all(storage: Storage) -> list[dict]:
    return storage.list_documents(KIND)


def showing(storage: Storage, data_set_name: str) -> list[dict]:
    """Dashboards whose data_sets include the data set (each with slug and published)."""
    return [d for d in list_all(storage) if data_set_name in d["data_sets"]]


def for_service(storage: Storage, service_id: str) -> list[dict]:
    return [d for d in list_all(storage) if service_id is not None and d["service_id"] == service_id]
