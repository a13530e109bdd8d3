"""Sending one hostile request exactly as written, and reading what came back.

`requests` (through urllib3) removes `..` segments and re-encodes paths, so a catalogue
of path tricks would test the client, not the app: requests go out through http.client,
path and header bytes as given. A streamed body stops being sent as soon as the server
has answered (it refuses an oversized body early), so a 100 MB body is never built in
memory and never wholly sent.
"""
from __future__ import annotations

import http.client
import json
import select
from dataclasses import dataclass
from typing import Callable, Iterator
from urllib.parse import urlsplit

PIECE = 256 * 1024


@dataclass(frozen=True)
class Streamed:
    """A body made chunk by chunk; `length` None sends it with chunked transfer encoding."""

    chunks: Callable[[], Iterator[bytes]]
    length: int | None


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self):
        return json.loads(self.body)


def send(base_url: str, method: str, path: str, headers: tuple = (), body: bytes | Streamed | None = None,
         timeout: float = 60) -> Answer:
    """One request on a fresh connection: `path` and header values sent byte for byte."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if isinstance(body, bytes):
            connection.putheader("Content-Length", str(len(body)))
        elif isinstance(body, Streamed):
            connection.putheader(*(("Content-Length", str(body.length)) if body.length is not None
                                   else ("Transfer-Encoding", "chunked")))
        connection.endheaders()
        if isinstance(body, bytes):  # in pieces too: an oversized one is refused early
            body = _pieces(body)
        if isinstance(body, Streamed):
            _stream(connection, body)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Content-Type", ""), response.read())
    finally:
        connection.close()


def _pieces(data: bytes) -> Streamed:
    return Streamed(lambda: (data[start:start + PIECE] for start in range(0, len(data), PIECE)), len(data))


def _stream(connection: http.client.HTTPConnection, body: Streamed) -> None:
    """Send chunks until the server answers (readable socket) or refuses more bytes."""
    chunked = body.length is None
    try:
        for chunk in body.chunks():
            if select.select([connection.sock], [], [], 0)[0]:
                return  # the answer is waiting: the server stopped reading
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        return  # the server closed its side; its answer is read next
