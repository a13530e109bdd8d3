"""start-app.sh's gunicorn worker: threads, with headers gathered off the pool and deadlines on reads.

gunicorn's threaded (gthread) worker gives a connection to a pool thread as soon as its
first byte arrives, and the thread reads the headers with blocking reads that never time
out: clients sending a header byte a second hold a thread each, and once they hold them
all `/_status` waits behind them (issue 14, slowloris). Here the worker's main loop, which
polls every idle connection anyway, also reads what each new request has sent so far
(non-blocking) until its headers are complete, and closes a connection whose headers take
longer than BACKDROP_HEADER_TIMEOUT. Only then does a thread take the connection: it parses
the headers from memory and runs the app at once.

The app reads the body on that thread, under a deadline of BACKDROP_BODY_TIMEOUT: a client
that announces more than it sends, or drips it, makes the read fail when the deadline
passes (answered 400 by backdrop/write/body.py), so no thread waits longer. The same number
of seconds bounds each wait for a client to take the next part of an answer.

It leans on gthread's internals (TConn, enqueue_req, murder_pending, handle_request), which
pyproject.toml's gunicorn version pins; tests/test_slow_clients.py holds it to its promise.
"""
from __future__ import annotations

import selectors
import time
from functools import partial

from gunicorn import http
from gunicorn.http.errors import NoMoreData
from gunicorn.http.unreader import SocketUnreader
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker

from backdrop.settings import Settings

HEAD_END = b"\r\n\r\n"
RECEIVE = 64 * 1024
HANDOVER = 64 * 1024
"""Bytes gathered before a thread takes over however far the headers got: longer headers
are rare and gunicorn's limits refuse them (431) as the thread reads them, under the same
header deadline."""


class ReadTimeout(NoMoreData):
    """A client did not send its headers or body by the deadline. A NoMoreData, so gunicorn
    closes the connection as it does for a client that went away, logging no traceback."""

    def __init__(self, what: str, seconds: int, setting: str):
        super().__init__()
        self.text = f"the {what} did not arrive within {seconds} seconds ({setting})"

    def __str__(self) -> str:
        return self.text


class DeadlineUnreader(SocketUnreader):
    """A socket reader that gives up at `deadline` (a time.monotonic(); None: never).

    Each read waits at most until the deadline, so a client trickling a byte at a time
    cannot stretch it. A shorter timeout already on the socket (gunicorn's own, draining an
    unread body) is kept and raises as before.
    """

    def __init__(self, sock):
        super().__init__(sock)
        self.deadline: float | None = None
        self.expired: ReadTimeout | None = None  # raised once the deadline has passed

    def chunk(self, size_hint=None):
        if self.deadline is None:
            return super().chunk(size_hint)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.expired
        before = self.sock.gettimeout()
        self.sock.settimeout(remaining if before is None else min(before, remaining))
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            if time.monotonic() >= self.deadline:
                raise self.expired from None
            raise
        finally:
            try:
                self.sock.settimeout(before)
            except OSError:  # closed meanwhile
                pass


class Worker(ThreadWorker):
    """gthread, gathering each request's headers in the main loop (see the module's docstring)."""

    def init_process(self):
        settings = Settings.from_env()
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout
        self.gathering: dict = {}  # connection → None, oldest deadline first (one timeout for all)
        super().init_process()

    def _gathers(self, conn) -> bool:
        """Plain HTTP/1 only: TLS and HTTP/2 prior knowledge read their first bytes themselves."""
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)

    def enqueue_req(self, conn):
        if getattr(conn, "head_ready", False) or not self._gathers(conn):
            super().enqueue_req(conn)
            return
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
            conn.parser.unreader = DeadlineUnreader(conn.sock)
        conn.head = bytearray(conn.parser.unreader.take_buffered())
        conn.head_deadline = time.monotonic() + self.header_timeout
        conn.sock.setblocking(False)
        self.gathering[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._receive_head, conn))
        self._receive_head(conn, conn.sock)

    def _receive_head(self, conn, _sock):
        """Read what the client has sent (without waiting); hand the connection to a thread
        once its headers are complete, or close it when the client has gone."""
        if HEAD_END not in conn.head and len(conn.head) < HANDOVER:
            try:
                data = conn.sock.recv(RECEIVE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._stop_gathering(conn)
                self._drop(conn)
                return
            conn.head += data
            if HEAD_END not in conn.head[-len(data) - 3:] and len(conn.head) < HANDOVER:
                return
        self._stop_gathering(conn)
        self._hand_over(conn)

    def _hand_over(self, conn):
        unreader = conn.parser.unreader
        unreader.unread(bytes(conn.head))
        conn.head = None
        if isinstance(unreader, DeadlineUnreader):  # headers past HANDOVER: still bounded
            unreader.deadline = conn.head_deadline
            unreader.expired = ReadTimeout("request headers", self.header_timeout, "BACKDROP_HEADER_TIMEOUT")
        conn.head_ready = True
        conn.data_ready = True
        super().enqueue_req(conn)

    def _stop_gathering(self, conn):
        self.gathering.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn):
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        """Also close the connections whose headers missed their deadline."""
        super().murder_pending()
        now = time.monotonic()
        for conn in list(self.gathering):
            if conn.head_deadline > now:
                break
            self._stop_gathering(conn)
            self._drop(conn)

    def _cap_keepalive(self, deadline):
        """A stopping worker gives clients still sending headers as long as its idle kept-alive
        connections (gthread's short linger), not the whole header timeout."""
        super()._cap_keepalive(deadline)
        for conn in self.gathering:
            conn.head_deadline = min(conn.head_deadline, deadline)

    def handle_request(self, req, conn):
        """Headers are in: the body gets its own deadline, and the next request gathers anew."""
        conn.head_ready = False
        unreader = conn.parser.unreader
        if isinstance(unreader, DeadlineUnreader):
            unreader.deadline = time.monotonic() + self.body_timeout
            unreader.expired = ReadTimeout("request body", self.body_timeout, "BACKDROP_BODY_TIMEOUT")
        conn.sock.settimeout(self.body_timeout)
        return super().handle_request(req, conn)
