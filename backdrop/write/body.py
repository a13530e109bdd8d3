"""Reading a request's JSON body: size limit, gzip, content type, parsing.

The body is read only after the data set was found and the token checked, so unknown data
sets and bad tokens cost nothing. The size limit applies while reading: a plain body stops
at the first byte over the limit, and a gzip body is inflated in 8 KiB blocks, so a bomb
is refused having inflated at most the limit plus one block.
"""
from __future__ import annotations

import json
import zlib
from typing import Callable, Iterator

import orjson
from flask import request
from werkzeug.exceptions import ClientDisconnected

from backdrop.web import ApiError

BLOCK = 8 * 1024
PLAIN_READ = 64 * 1024
GZIP_WBITS = 16 + zlib.MAX_WBITS

TOO_LARGE = "Request Entity Too Large"
ZERO_BYTES = "Expected JSON request body but received zero bytes."
CONTENT_TYPE = "Expected header: Content-type: application/json"
WRAPPED_CONTENT_TYPE = f"ValidationError('{CONTENT_TYPE}',)"  # the original's repr, kept for clients
NOT_GZIP = "Request body is not valid gzip data"
NOT_UTF8 = "Request body is not valid UTF-8"
UNREADABLE = "Request body could not be read whole"

# orjson reads an integer literal beyond its range (above 2**64-1, below -2**63) as a
# double, silently changing it; every such literal has at least 19 digits in a row. Looking
# for them in a copy where every digit is "0" and everything else a space is a plain
# substring search, several times faster than a regular expression over number-heavy JSON.
_DIGITS_AS_ZEROS = bytes(ord("0") if chr(byte) in "0123456789" else ord(" ") for byte in range(256))
_LONG_RUN = b"0" * 19

BODY_READ = "backdrop.body_read"  # environ key: read_body read the whole body


# What a wrong content type (or a JSON null) answers, per route: the original's three
# different bodies, which clients match on. Made fresh for every request: a raised
# exception keeps its traceback, so none is shared.
def post_wrong_type() -> ApiError:
    return ApiError(400, body={"messages": [WRAPPED_CONTENT_TYPE]})


def put_wrong_type() -> ApiError:
    return ApiError(400, WRAPPED_CONTENT_TYPE)


def other_wrong_type() -> ApiError:
    return ApiError(400, CONTENT_TYPE)


def _too_large() -> ApiError:
    return ApiError(413, TOO_LARGE)


def _is_gzip() -> bool:
    return "gzip" in request.headers.get("Content-Encoding", "").lower()


def _raw_chunks(limit: int, size: int) -> Iterator[bytes]:
    """The request's bytes as sent, refusing the first chunk that takes them over `limit`."""
    announced = request.content_length
    if announced is not None and announced > limit:
        raise _too_large()
    stream = request.stream
    total = 0
    while True:
        chunk = _read(stream, size)
        if not chunk:
            if announced is not None and total < announced:  # some servers end the stream quietly
                raise _stopped()
            return
        total += len(chunk)
        if total > limit:
            raise _too_large()
        yield chunk


def _stopped() -> ApiError:
    return ApiError(400, f"{UNREADABLE}: the client stopped sending before its end")


def _read(stream, size: int) -> bytes:
    """The next bytes of the body, or a 400 saying why they could not be read.

    Everything that fails here is the client's doing, whatever the server is: malformed
    chunked encoding, fewer bytes than Content-Length announced before the client stopped
    or hung up, or a body slower than BACKDROP_BODY_TIMEOUT (start-app.sh's worker then
    ends the read). The exceptions differ by server (gunicorn's parse errors, werkzeug's
    ClientDisconnected, a socket timeout), so any of them answers the same 400, never a 500.
    """
    try:
        return stream.read(size)
    except ClientDisconnected:
        raise _stopped() from None
    except Exception as error:  # any failure: see the docstring
        raise ApiError(400, f"{UNREADABLE}: {str(error) or type(error).__name__}") from None


def inflate(chunks: Iterator[bytes], limit: int) -> bytes:
    """Gunzip incrementally, never holding more than `limit` + one block of output.

    Concatenated gzip members are inflated one after another, as gunzip does; a member
    that stops short, or bytes that are not gzip, are a 400.
    """
    out = bytearray()
    inflater, fed = zlib.decompressobj(GZIP_WBITS), False
    try:
        for chunk in chunks:
            data = chunk
            while data:
                fed = True
                out += inflater.decompress(data, BLOCK)
                _check_size(out, limit)
                data = inflater.unconsumed_tail
                if inflater.eof:
                    data = inflater.unused_data
                    inflater, fed = zlib.decompressobj(GZIP_WBITS), False
        while fed and not inflater.eof:  # output held back by max_length
            piece = inflater.decompress(b"", BLOCK)
            if not piece:
                break
            out += piece
            _check_size(out, limit)
    except zlib.error:
        raise ApiError(400, NOT_GZIP) from None
    if fed and not inflater.eof:
        raise ApiError(400, NOT_GZIP)
    return bytes(out)


def _check_size(out: bytearray, limit: int) -> None:
    if len(out) > limit:
        raise _too_large()


def read_body(limit: int) -> bytes:
    """The request body, gunzipped if it says so, at most `limit` bytes (413 beyond).

    A body read to its end is marked so in the environ: any other request that carried a
    body is answered with the connection closed (`close_after_unread_body`).
    """
    if _is_gzip():
        # Compressed data can be a little larger than its content (stored blocks, headers).
        body = inflate(_raw_chunks(limit + limit // 100 + BLOCK, BLOCK), limit)
    else:
        body = b"".join(_raw_chunks(limit, PLAIN_READ))
    request.environ[BODY_READ] = True
    return body


def _carries_body(environ) -> bool:
    length = environ.get("CONTENT_LENGTH") or "0"
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or length.strip() not in ("", "0")


def close_after_unread_body(wsgi_app):
    """WSGI middleware: the answer to a request whose body was not read to its end (refused
    part-way as too large or not gzip, or before reading: unknown data set, bad token) says
    `Connection: close`, and the connection closes.

    The rest of that body is still on the socket, and gunicorn drains at most 64 KiB of it
    before reusing a kept-alive connection: past that it closes the connection *after* an
    answer that promised keep-alive, and a client sending its next request on it sees the
    connection reset (a gzip bomb did this to the feature tests). gunicorn ignores a
    Connection header set by the app, so the flag goes to its response object, the
    `start_response` it passed (gunicorn's version is pinned); other servers are unaffected.
    """
    def app(environ, start_response):
        def start(status, headers, exc_info=None):
            force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
            if force_close is not None and not environ.get(BODY_READ) and _carries_body(environ):
                force_close()
            return start_response(status, headers, exc_info)
        return wsgi_app(environ, start)
    return app


def parse_json(data: bytes, exact_integers: bool = False):
    """Parse with orjson; the error message names what was wrong.

    With `exact_integers`, a valid body holding a run of 19 digits is read again by the
    standard library, whose integers are exact, so that record validation sees (and
    refuses) an integer too wide to store instead of a double that orjson rounded it to.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, NOT_UTF8) from None
        raise ApiError(400, f'Error parsing JSON: "{error}"') from None
    if exact_integers and _LONG_RUN in data.translate(_DIGITS_AS_ZEROS):
        return json.loads(data)
    return value


def json_body(limit: int, wrong_type: Callable[[], ApiError], exact_integers: bool = False):
    """The parsed JSON body, checked in the original's order: empty, content type, syntax.

    `wrong_type` is the route's answer to a missing or wrong content type and to `null`;
    `exact_integers` is for records (see `parse_json`).
    """
    data = read_body(limit)
    if not data:
        raise ApiError(400, ZERO_BYTES)
    if request.mimetype != "application/json":
        raise wrong_type()
    value = parse_json(data, exact_integers)
    if value is None:
        raise wrong_type()
    return value
