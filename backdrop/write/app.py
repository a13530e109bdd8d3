"""The write app factory: `gunicorn 'backdrop.write.app:create_app()'`.

Thin by design: it wires the blueprints to per-app services (storage, audit log, transform
relay) and leaves every rule to the modules it registers.
"""
from __future__ import annotations

from flask import Flask, Response

from backdrop import about, openapi, readiness
from backdrop.settings import Settings
from backdrop.transformers.dispatch import Relay
from backdrop.web import (configure_logging, get_storage, install_storage, observe_requests, refuse_unstorable_input,
                         register_error_handlers)
from backdrop.write import admin, admin_documents, admin_export, records_routes
from backdrop.write.audit import AuditLog
from backdrop.write.body import close_after_unread_body


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings, "write")
    app = Flask(__name__, static_folder=None)  # no files to serve: no /static/<path> route
    observe_requests(app)
    app.url_map.converters["legacy_name"] = records_routes.LegacyNameConverter
    install_storage(app, settings)
    app.extensions["backdrop_audit"] = AuditLog(settings.audit_log, settings.token_secret)
    relay = app.extensions["backdrop_relay"] = Relay(settings, lambda: get_storage(app))
    readiness.install(app, {
        "database": readiness.database(lambda: get_storage(app)),
        "broker": relay.broker_problem,
        "outbox": readiness.outbox(lambda: get_storage(app), settings.outbox_max_age, readiness.utcnow),
    })
    register_error_handlers(app)
    refuse_unstorable_input(app)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(admin_documents.blueprint)
    app.register_blueprint(admin_export.blueprint)
    app.register_blueprint(records_routes.blueprint)
    openapi.install(app, openapi.write_description())
    about.install(app, "write")
    app.after_request(_finish)
    app.wsgi_app = close_after_unread_body(app.wsgi_app)
    return app


def _finish(response: Response) -> Response:
    """No caching of any write answer (the request's log line is gunicorn's access line)."""
    response.headers["Cache-Control"] = "no-cache"
    return response
