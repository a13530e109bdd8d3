"""The read app factory: wiring only; each concern lives in its own module of this package."""
from __future__ import annotations

from flask import Flask

from backdrop import about, openapi, readiness
from backdrop.read import columnar, headers, routes, status
from backdrop.read.state import ReadState
from backdrop.settings import Settings
from backdrop.web import (configure_logging, get_storage, install_storage, observe_requests, refuse_unstorable_input,
                         register_error_handlers)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the read app; only the schema check connects to the database before the first request.

    It reads BACKDROP_READ_DATABASE_URL when set (a replica), versions and data alike: the
    response cache is keyed by versions read where the data is read, so a lagging replica
    never gets an answer newer than its own data. Grouped queries of large data sets are
    answered from columnar copies in this process when they are current (BACKDROP_COLUMNAR).
    """
    settings = settings or Settings.from_env()
    configure_logging(settings, "read")
    app = Flask(__name__, static_folder=None)  # no files to serve: no /static/<path> route
    observe_requests(app)
    # A replica's versions key its cache; grouped queries of large data sets go to DuckDB copies.
    install_storage(app, settings, settings.read_database_url, wrap=columnar.wrapper(settings))
    ReadState.install(app, settings)
    register_error_handlers(app)
    refuse_unstorable_input(app)
    headers.install(app)
    app.register_blueprint(status.blueprint)
    readiness.install(app, {"database": readiness.database(lambda: get_storage(app))})
    app.register_blueprint(routes.blueprint)
    openapi.install(app, openapi.read_description())
    about.install(app, "read")
    return app
