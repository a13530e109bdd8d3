"""Bearer tokens: a data set's own token for its records, the admin token for administration.

Data-set tokens are checked against their salted hash (core/tokens.py), the admin token
compared in constant time; neither is ever echoed or logged: a refusal says which
data set refused, not what was presented. Every refusal is audited.
"""
from __future__ import annotations

import hmac
import time

from flask import request

from backdrop.core.registry import DataSetConfig
from backdrop.core.tokens import VERIFIED
from backdrop.web import ApiError
from backdrop.write import services

EXPECTED_HEADER = "Expected header of form: Authorization: Bearer <token>"
ADMIN_DISABLED = "Admin API disabled: BACKDROP_ADMIN_TOKEN is not set"
INVALID_ADMIN_TOKEN = "Unauthorized: invalid admin token"
CHALLENGE = {"WWW-Authenticate": "bearer"}
TOO_MANY = "Too many wrong tokens from this address: try again in {seconds} seconds"


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


clock = time.time  # the wall clock of the minute counts (tests set their own)


def _minute() -> tuple[int, int]:
    """The current minute (since the epoch) and the seconds left in it."""
    now = int(clock())
    return now // 60, 60 - now % 60


def _limit_guesses(audited_as: str) -> None:
    """429 with Retry-After while this address has used up its wrong tokens.

    Counted in the database per whole minute, so every worker and process sees the same
    count; nothing sleeps. The current and the previous minute count together, so a burst
    across a minute's end is not forgiven: an address is refused until the sum of both drops
    below the limit (Retry-After says when: the minute's end, or a minute later when the
    current minute alone is over the limit).
    """
    limit = services.settings().token_failures
    if not limit:
        return
    minute, left = _minute()
    storage, address = services.storage(), request.remote_addr or "-"
    current = storage.failures(address, minute)
    if current + storage.failures(address, minute - 1) >= limit:
        seconds = left + 60 if current >= limit else left
        services.audit().bad_auth(audited_as)
        raise ApiError(429, TOO_MANY.format(seconds=seconds), headers={"Retry-After": str(seconds)})


def _count_guess() -> None:
    if services.settings().token_failures:
        services.storage().count_failure(request.remote_addr or "-", _minute()[0])


def require_data_set_token(config: DataSetConfig) -> None:
    """Let the request through only with exactly `Bearer <the data set's token>`.

    No header at all is told the expected form; anything else (another scheme, a wrong or
    empty token, a data set without a token) is refused naming the data set only. A token
    this process verified before passes without scrypt or the database; any other is first
    held against its address's wrong tokens of the minute (429 past the limit).
    """
    header = request.headers.get("Authorization")
    if header is None:
        raise _refuse(401, EXPECTED_HEADER, config.name)
    token = bearer_token(header)
    if VERIFIED.remembers(config.name, token, config.bearer_token_hash):
        return
    _limit_guesses(config.name)
    if not VERIFIED.check(config.name, token, config.bearer_token_hash):
        _count_guess()
        raise _refuse(401, f"Unauthorized: Invalid bearer token for '{config.name}'", config.name)


def require_admin_token(audited_as: str) -> None:
    """Let the request through only with BACKDROP_ADMIN_TOKEN; everyone is refused when unset."""
    admin_token = services.settings().admin_token
    if not admin_token:
        raise _refuse(403, ADMIN_DISABLED, audited_as)
    presented = bearer_token(request.headers.get("Authorization"))
    if presented is None:
        raise _refuse(401, EXPECTED_HEADER, audited_as)
    _limit_guesses(audited_as)
    if not tokens_match(presented, admin_token):
        _count_guess()
        raise _refuse(401, INVALID_ADMIN_TOKEN, audited_as)
