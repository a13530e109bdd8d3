"""Tokens sent by mistake in a URL never reach a log in clear.

Backdrop takes tokens only from the Authorization header, so a `?token=…` is refused; but
the URL is still logged, by the write app's own request line and by gunicorn's access log.
Both pass URLs through `redact` first, which replaces the value of any query parameter
named like a token (matched after percent-decoding, in any case) by `[redacted]`.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_plus

SECRET_PARAMETERS = frozenset(("token", "bearer_token", "access_token", "bearer-token", "access-token",
                               "authorization"))
REDACTED = "[redacted]"

_PARAMETER = re.compile(r"(?:^|(?<=[?&;]))([^=&;#\s\"?]+)=([^&;#\s\"]*)")


def _hide(match: re.Match) -> str:
    name = unquote_plus(match.group(1)).strip().lower()
    return f"{match.group(1)}={REDACTED}" if name in SECRET_PARAMETERS else match.group(0)


def redact(text: str) -> str:
    """A URL, request line or bare query string with every token-like parameter's value hidden."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_hide, text)
