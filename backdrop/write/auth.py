"""Bearer tokens: a data set's own token for its records, the admin token for administration.

Data-set tokens are checked against their salted hash (core/tokens.py), the admin token
compared in constant time; neither is ever echoed or logged: a refusal says which
data set refused, not what was presented. Every refusal is audited.
"""
from __future__ import annotations

import hmac

from flask import request

from backdrop.core.registry import DataSetConfig
from backdrop.core.tokens import VERIFIED
from backdrop.web import ApiError
from backdrop.write import services

EXPECTED_HEADER = "Expected header of form: Authorization: Bearer <token>"
ADMIN_DISABLED = "Admin API disabled: BACKDROP_ADMIN_TOKEN is not set"
INVALID_ADMIN_TOKEN = "Unauthorized: invalid admin token"
CHALLENGE = {"WWW-Authenticate": "bearer"}


def bearer_token(header: str | None) -> str | None:
    """The token of an exact `Bearer <token>` header; None for anything else or no token."""
    if header is None or not header.startswith("Bearer "):
        return None
    return header[len("Bearer "):] or None


def tokens_match(presented: str | None, expected: str | None) -> bool:
    """Constant-time equality; a missing or empty token on either side never matches."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _refuse(status: int, message: str, audited_as: str) -> ApiError:
    services.audit().bad_auth(audited_as)
    return ApiError(status, message, headers=CHALLENGE if status == 401 else None)


def require_data_set_token(config: DataSetConfig) -> None:
    """Let the request through only with exactly `Bearer <the data set's token>`.

    No header at all is told the expected form; anything else (another scheme, a wrong or
    empty token, a data set without a token) is refused naming the data set only.
    """
    header = request.headers.get("Authorization")
    if header is None:
        raise _refuse(401, EXPECTED_HEADER, config.name)
    if not VERIFIED.check(config.name, bearer_token(header), config.bearer_token_hash):
        raise _refuse(401, f"Unauthorized: Invalid bearer token for '{config.name}'", config.name)


def require_admin_token(audited_as: str) -> None:
    """Let the request through only with BACKDROP_ADMIN_TOKEN; everyone is refused when unset."""
    admin_token = services.settings().admin_token
    if not admin_token:
        raise _refuse(403, ADMIN_DISABLED, audited_as)
    presented = bearer_token(request.headers.get("Authorization"))
    if presented is None:
        raise _refuse(401, EXPECTED_HEADER, audited_as)
    if not tokens_match(presented, admin_token):
        raise _refuse(401, INVALID_ADMIN_TOKEN, audited_as)
