"""`GET /data-sets/NAME/export`: a data set whole, configuration and records, for `backdrop sync`.

Behind the admin token like every administration route (it carries the salted token hash,
so it is never on the read app or any public route), and independent of
`raw_queries_allowed`, `published` and `queryable`, which govern the read API's public
reads. The answer is streamed NDJSON (core/transfer.py: a configuration line, one record
a line as the engine's cursor delivers them, an end line), so a data set of any size costs
the worker no more memory than a few records.
"""
from __future__ import annotations

from flask import Blueprint, Response, stream_with_context

from backdrop.core import registry, transfer
from backdrop.web import ApiError
from backdrop.write import services
from backdrop.write.auth import require_admin_token

blueprint = Blueprint("admin_export", __name__)
NDJSON = "application/x-ndjson"


@blueprint.get("/data-sets/<name>/export")
def export_data_set(name: str):
    require_admin_token(name)
    storage = services.storage()
    config = registry.get(storage, name)
    if config is None:
        raise ApiError(404, f"No data set named '{name}'")
    services.audit().event("Data set exported", data_set=name)
    return Response(stream_with_context(transfer.data_set_lines(storage, config)), mimetype=NDJSON)
