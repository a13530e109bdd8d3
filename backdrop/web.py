"""What the read and write apps share: JSON responses, JSON error pages, storage per process,
request ids, request metrics and `/_metrics`.

Both apps answer every error as `{"status": "error", "message": …}`; a 500 is logged with
its traceback and answered without leaking internals beyond the exception's class; a
storage failure is a 503 with Retry-After.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import unquote_to_bytes

import orjson
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from backdrop import logs, metrics, request_id
from backdrop.core import tokens
from backdrop.core.storage import check_url, open_storage
from backdrop.core.storage.base import ConnectionLost, QueryTimeout, SchemaError, Storage, StorageError
from backdrop.core.storage.migrations import start_up
from backdrop.settings import Settings
from backdrop.storage_timing import TimedStorage

log = logging.getLogger(__name__)

JSON = "application/json"
ROUTING_MESSAGES = {404: "Not Found", 405: "Method Not Allowed", 413: "Request Entity Too Large"}
RETRY_AFTER_SECONDS = "5"
CONNECTION_LOST = "Service Unavailable: the connection to the database was lost; try again shortly"
STORAGE_FAILED = "Service Unavailable: the database could not answer; try again shortly"
QUERY_TIMED_OUT = ("Service Unavailable: the query took longer than {seconds:g} seconds (BACKDROP_QUERY_TIMEOUT) "
                   "and was cancelled; narrow it (a shorter range, filter_by, fewer group_by fields, a limit) "
                   "or try again later")


def dumps(data: Any) -> bytes:
    """JSON bytes; datetimes as ISO 8601 with +00:00 (naive ones are taken as UTC)."""
    return orjson.dumps(data, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS)


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(data), status=status, mimetype=JSON, headers=headers)


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    return json_response({"status": "error", "message": message}, status, headers)


class ApiError(Exception):
    """Raised anywhere in a request to answer with a JSON error (or any JSON body)."""

    def __init__(self, status: int, message: str | None = None, *, body: Any = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"status": "error", "message": message}
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def register_error_handlers(app: Flask) -> None:
    """JSON answers for routing errors, ApiError and unexpected exceptions."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error.response()

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        message = ROUTING_MESSAGES.get(error.code) or error.description or error.name
        response = error_response(error.code or 500, message)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(StorageError)
    def _storage_failed(error: StorageError):
        """The database failed where a retry later may work: 503, not a 500 (a bug)."""
        log.error("storage failed: %s", error, exc_info=error)
        message = CONNECTION_LOST if isinstance(error, ConnectionLost) else STORAGE_FAILED
        return error_response(503, message, {"Retry-After": RETRY_AFTER_SECONDS})

    @app.errorhandler(QueryTimeout)
    def _query_timed_out(error: QueryTimeout):
        """The engine cancelled a read that ran too long: the worker is free, the client told how to narrow it."""
        log.warning("query cancelled: %s", error)
        seconds = app.config["BACKDROP_SETTINGS"].query_timeout
        return error_response(503, QUERY_TIMED_OUT.format(seconds=seconds), {"Retry-After": RETRY_AFTER_SECONDS})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response(500, f"Internal Server Error: {type(error).__name__}")


NUL_IN_REQUEST = "Paths and query parameters cannot contain the NUL character (U+0000)"
SURROGATE_IN_REQUEST = ("Paths and query parameters cannot contain surrogate code points (U+D800 to U+DFFF): "
                        "they must be valid UTF-8")
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


def refuse_unstorable_input(app: Flask) -> None:
    """Answer 400 to a NUL or an encoded surrogate in the path or the query string, before routing.

    Neither can name anything stored: PostgreSQL's text cannot hold U+0000 (its error would
    be a 500 at the first lookup), and a surrogate is not a character at all, which the
    server would otherwise quietly turn into U+FFFD. Checked once here, for every route of
    both apps, rather than in each lookup of each engine.
    """

    @app.before_request
    def _refuse():
        path = request.environ.get("PATH_INFO", "").encode("latin-1", "replace")
        query = unquote_to_bytes(request.environ.get("QUERY_STRING", "").replace("+", " "))
        if b"\x00" in path or b"\x00" in query:
            raise ApiError(400, NUL_IN_REQUEST)
        if _ENCODED_SURROGATE.search(path) or _ENCODED_SURROGATE.search(query):
            raise ApiError(400, SURROGATE_IN_REQUEST)


def install_storage(app: Flask, settings: Settings, database_url: str | None = None,
                    wrap: Callable[[Storage], Storage] | None = None) -> None:
    """Open the engine lazily, once per worker process (gunicorn forks after create_app).

    The URL and the database's schema are checked at once (pending migrations applied
    when BACKDROP_AUTO_MIGRATE allows), so a wrong URL or a refused schema stops start-up
    with its message instead of answering every request with a 500. A `database_url` other
    than BACKDROP_DATABASE_URL is a read replica (BACKDROP_READ_DATABASE_URL): read-only,
    it follows the primary's schema, so it is checked but never migrated. `wrap` puts
    something between the app and the engine (the read app's columnar copies).
    """
    url = database_url or settings.database_url
    auto_migrate = settings.auto_migrate and url == settings.database_url
    check_url(url)
    tokens.set_cost(settings.token_hash_cost)
    check_schema(url, auto_migrate)
    app.config["BACKDROP_SETTINGS"] = settings
    app.extensions["backdrop_storage"] = None
    opening = threading.Lock()  # a worker's threads: the first request opens the one engine

    def storage():
        engine = app.extensions.get("backdrop_storage")
        if engine is None:
            with opening:
                engine = app.extensions.get("backdrop_storage")
                if engine is None:
                    engine = open_storage(url, pool_size=settings.db_pool_size, auto_migrate=auto_migrate)
                    engine = TimedStorage(wrap(engine) if wrap else engine)
                    app.extensions["backdrop_storage"] = engine
        return engine

    app.extensions["backdrop_storage_factory"] = storage


def check_schema(database_url: str, auto_migrate: bool) -> None:
    """Bring the schema up to date, or raise SchemaError saying why this process cannot start.

    Uses an engine of its own, closed again, so no connection outlives the fork into workers.
    A database that cannot be reached right now does not stop start-up: the engine makes
    the same check when it first connects, and the app answers errors until then.
    """
    engine = open_storage(database_url, pool_size=1, auto_migrate=auto_migrate)
    try:
        start_up(engine, auto_migrate)
    except SchemaError as error:
        log.critical("%s", error)
        raise
    except StorageError as error:
        log.warning("schema not checked at start-up (checked again on first use): %s", error)
    finally:
        engine.close()


def get_storage(app: Flask):
    return app.extensions["backdrop_storage_factory"]()


def configure_logging(settings: Settings, role: str) -> None:
    logs.configure(settings.log_level, settings.log_format, role)


REQUEST_ID_HEADERS = ("Govuk-Request-Id", "Request-Id", "X-Request-Id")
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED_ROUTE = "none"
ENVIRON_REQUEST_ID = "backdrop.request_id"
ENVIRON_DATA_SET = "backdrop.data_set"


def given_request_id(headers) -> str | None:
    """The first sane id a client (or a proxy in front) sent; an id that is not is ignored,
    since it would be echoed in a header and written in logs."""
    for header in REQUEST_ID_HEADERS:
        value = headers.get(header)
        if value is not None and SANE_REQUEST_ID.fullmatch(value):
            return value
    return None


def observe_requests(app: Flask) -> None:
    """Every request gets an id (echoed as X-Request-Id, bound for its log lines) and is
    counted and timed by URL rule; `GET /_metrics` exports the counts.

    Installed before any other hook, so the id is bound even when a later hook refuses the
    request, and the answer, an error page too, carries it.
    """

    @app.before_request
    def _start():
        g.backdrop_started = time.perf_counter()
        g.backdrop_request_id = given_request_id(request.headers) or uuid.uuid4().hex
        data_set = _data_set_named()
        g.backdrop_tokens = (request_id.bind(g.backdrop_request_id), logs.bind_data_set(data_set))
        # for gunicorn's access line, written after this request's bindings have ended
        request.environ[ENVIRON_REQUEST_ID], request.environ[ENVIRON_DATA_SET] = g.backdrop_request_id, data_set

    @app.after_request
    def _finish(response: Response) -> Response:
        if "backdrop_request_id" not in g:  # a hook registered earlier refused the request
            return response
        response.headers["X-Request-Id"] = g.backdrop_request_id
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        labels = (route, request.method, str(response.status_code))
        metrics.count(metrics.HTTP_REQUESTS, *labels)
        metrics.observe(metrics.HTTP_DURATION, time.perf_counter() - g.backdrop_started, *labels)
        return response

    @app.teardown_request
    def _unbind(_error):
        tokens = g.pop("backdrop_tokens", None)
        if tokens is not None:
            request_id.unbind(tokens[0])
            logs.unbind_data_set(tokens[1])

    app.add_url_rule(metrics.PATH, "metrics", _metrics, methods=["GET"])


def _data_set_named() -> str | None:
    """The data set the request names in its path, as it names it (`name`, or `group/type`)."""
    arguments = request.view_args or {}
    if "data_group" in arguments and "data_type" in arguments:
        return f"{arguments['data_group']}/{arguments['data_type']}"
    return arguments.get("name")


def _metrics() -> Response:
    return Response(metrics.exposition(), mimetype=None, content_type=metrics.CONTENT_TYPE)
