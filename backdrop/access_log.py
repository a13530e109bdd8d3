"""gunicorn's logger with tokens kept out of the access log (start-app.sh names it).

Every text gunicorn could write in an access-log line (the request line, path, query,
referer, headers, environ) goes through redaction.redact, and the Authorization header
is never available to a log format at all.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

from backdrop.redaction import redact

_HIDDEN_HEADERS = ("{authorization}i", "{http_authorization}e")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = redact(value)
        for key in _HIDDEN_HEADERS:
            if key in atoms:
                atoms[key] = "-"
        return atoms
