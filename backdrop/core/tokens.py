"""Data-set bearer tokens at rest: salted scrypt hashes, checked in constant time.

A configuration keeps only `bearer_token_hash`, written `scrypt$N$r$p$salt$hash` (salt and
hash in unpadded URL-safe base64), so the parameters travel with each hash and can be raised
later without a migration: a hash is always checked with the parameters it was made with.
N=2**14, r=8, p=1 costs about 16 MiB and some 70 ms per hash: cheap for an operator
setting a token, expensive for anyone trying a dictionary against a stolen database.
New hashes use N=2**cost, cost set by each process from BACKDROP_TOKEN_HASH_COST (14; the
test environment lowers it to keep the suite fast); existing hashes keep their own N.

So that writers do not pay scrypt on every request, a process remembers tokens it has
verified (VerifiedCache): keyed by (data set, stored hash), holding an HMAC of the token
under a random key of this process, never the token. A new hash (rotation, a PUT) is a new
key, so a replaced token stops working at once; wrong tokens are never remembered.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict

SCHEME = "scrypt"
DEFAULT_COST, R, P = 14, 8, 1
_cost = DEFAULT_COST


def set_cost(cost: int) -> None:
    """N = 2**cost for the hashes this process makes from now on (BACKDROP_TOKEN_HASH_COST)."""
    global _cost
    if not 10 <= cost <= 20:
        raise ValueError("the scrypt cost must be between 10 and 20")
    _cost = cost
SALT_BYTES, HASH_BYTES = 16, 32
CACHE_ENTRIES = 4096  # verified (data set, hash) pairs each process remembers; the oldest go first


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encoded(token: str) -> bytes:
    return token.encode("utf-8", "surrogatepass")


def _scrypt(token: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(_encoded(token), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=64 * 1024 * 1024)


def hash_token(token: str) -> str:
    """The stored form of `token`, with a fresh random salt."""
    salt, n = os.urandom(SALT_BYTES), 2 ** _cost
    return f"{SCHEME}${n}${R}${P}${_b64(salt)}${_b64(_scrypt(token, salt, n, R, P))}"


def is_hash(value: object) -> bool:
    """Whether `value` has the shape of a stored hash (what replicate and the worker copy)."""
    return _parts(value) is not None


def _parts(value: object):
    if not isinstance(value, str):
        return None
    parts = value.split("$")
    if len(parts) != 6 or parts[0] != SCHEME or not all(part.isdigit() for part in parts[1:4]):
        return None
    try:
        return int(parts[1]), int(parts[2]), int(parts[3]), _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return None


def verify_token(token: str | None, stored: str | None) -> bool:
    """Whether `token` is the one `stored` was made from; no token or no hash never matches.

    A token holding a NUL never matches: scrypt keys HMAC-SHA256 with the token, and HMAC
    pads a short key with zero bytes, so `T` and `T` followed by NULs hash alike.
    """
    parts = _parts(stored)
    if not token or "\x00" in token or parts is None:
        return False
    n, r, p, salt, expected = parts
    try:
        return hmac.compare_digest(_scrypt(token, salt, n, r, p), expected)
    except ValueError:  # parameters this machine cannot run (a corrupt hash)
        return False


def generate_token() -> str:
    """A new random token: 32 bytes, URL-safe (what rotate-token hands out once)."""
    return secrets.token_urlsafe(32)


class VerifiedCache:
    """Tokens this process has verified, so a writer pays scrypt once, not per request.

    At most `size` entries (least recently used go first); each holds an HMAC-SHA256 of the
    token under a key made at random when the process starts, so a memory dump gives no token.
    """

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self._size = size
        self._key = os.urandom(32)
        self._entries: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, token: str) -> bytes:
        return hmac.new(self._key, _encoded(token), hashlib.sha256).digest()

    def remembers(self, data_set: str, token: str | None, stored: str | None) -> bool:
        """Whether this token was verified against this hash before (no scrypt)."""
        if not token or not stored:
            return False
        key = (data_set, stored)
        with self._lock:
            known = self._entries.get(key)
            if known is not None:
                self._entries.move_to_end(key)
        return known is not None and hmac.compare_digest(known, self._digest(token))

    def check(self, data_set: str, token: str | None, stored: str | None) -> bool:
        """verify_token, answered from memory when this token was verified before."""
        if self.remembers(data_set, token, stored):
            return True
        if not token or not stored or not verify_token(token, stored):
            return False
        key, digest = (data_set, stored), self._digest(token)
        with self._lock:
            self._entries[key] = digest
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return True


VERIFIED = VerifiedCache()


def hashed_config(config: dict) -> dict | None:
    """A stored configuration from before tokens were hashed, with its clear `bearer_token`
    replaced by `bearer_token_hash`; None when there is nothing to convert (the migrations)."""
    if "bearer_token" not in config:
        return None
    converted = {key: value for key, value in config.items() if key != "bearer_token"}
    token = config["bearer_token"]
    converted["bearer_token_hash"] = hash_token(token) if isinstance(token, str) and token else None
    return converted
