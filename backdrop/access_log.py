"""gunicorn's logger (backdrop/gunicorn_config.py names it): the one log line of each request.

Its lines are in Backdrop's format (BACKDROP_LOG_FORMAT, see logs.py), and the access line
carries the request's id and data set, which the app left in the WSGI environ (its own
bindings have ended by the time gunicorn writes the line). Every text gunicorn could
write in an access-log line (the request line, path, query, referer, headers, environ)
goes through redaction.redact, and the Authorization header is never available to a log
format at all.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

from backdrop import logs, request_id
from backdrop.redaction import redact
from backdrop.settings import Settings, SettingsError
from backdrop.web import ENVIRON_DATA_SET, ENVIRON_REQUEST_ID

_HIDDEN_HEADERS = ("{authorization}i", "{http_authorization}e")


def role_of(proc_name: str) -> str:
    """`read` or `write` from start-app.sh's `--name backdrop-APP`."""
    return proc_name.removeprefix("backdrop-")


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        try:
            log_format = Settings.from_env().log_format
        except SettingsError:
            log_format = "text"  # the app refuses to start with the same error, in its own words
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                logs.dress(handler, log_format, role_of(cfg.proc_name))

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = redact(value)
        for key in _HIDDEN_HEADERS:
            if key in atoms:
                atoms[key] = "-"
        return atoms

    def access(self, resp, req, environ, request_time) -> None:
        data_set = logs.bind_data_set(environ.get(ENVIRON_DATA_SET))
        try:
            with request_id.bound(environ.get(ENVIRON_REQUEST_ID)):
                super().access(resp, req, environ, request_time)
        finally:
            logs.unbind_data_set(data_set)
