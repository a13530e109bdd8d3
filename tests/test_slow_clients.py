"""Slow and stalled clients cannot take an app's threads (issue 14 items 2 and 3), over HTTP
against start-app.sh's gunicorn on SQLite (the engine plays no part: nothing here reaches it
before the headers and the body are in).

The apps run one worker of two threads, so two clients holding a thread each would be enough
to starve `/_status`; fifty slow-header clients are held off, and each limit is set low so the
tests wait seconds, not minutes. No assertion is about speed: every wait is a generous deadline.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests

from backdrop.testing import Stack, app_environment, start_app, wait_until_up
from backdrop.write.records_routes import too_many_records

SLOW_CLIENTS = 50
HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
MAX_BATCH = 5
MAX_BODY = 1_000_000
PROBE_DEADLINE = 10  # seconds a probe may wait: generous, this is liveness, not speed
ADMIN_TOKEN = "slow-admin"
TOKEN = "slow-token"
WRITER = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
RECORDS = "/data/slow/target"


@dataclass
class App:
    url: str
    port: int


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slow-clients")
    environ = app_environment(folder, f"sqlite:///{folder}/backdrop.db", BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN,
                              WEB_CONCURRENCY="1", BACKDROP_WEB_THREADS="2",
                              BACKDROP_HEADER_TIMEOUT=str(HEADER_TIMEOUT), BACKDROP_BODY_TIMEOUT=str(BODY_TIMEOUT),
                              BACKDROP_MAX_BATCH_RECORDS=str(MAX_BATCH), BACKDROP_MAX_BODY_BYTES=str(MAX_BODY))
    stack = Stack()
    try:
        processes = {name: stack.add(start_app(name, environ, folder)) for name in ("read", "write")}
        wait_until_up(list(processes.values()))
        config = {"data_group": "slow", "data_type": "target", "bearer_token": TOKEN, "raw_queries_allowed": True}
        created = requests.post(processes["write"].url + "/data-sets", data=json.dumps(config), timeout=30,
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"})
        assert created.status_code == 201, created.text
        yield {name: App(process.url, int(process.url.rsplit(":", 1)[1])) for name, process in processes.items()}
        for process in processes.values():
            assert "Traceback" not in process.log_text(tail=10**7), process.log_text()
    finally:
        stack.stop()


def _connect(app: App) -> socket.socket:
    return socket.create_connection(("127.0.0.1", app.port), timeout=PROBE_DEADLINE)


@contextmanager
def _slow_header_clients(app: App):
    """SLOW_CLIENTS connections sending a request's headers a byte at a time, every 0.2 s,
    until the block ends; yields the sockets."""
    sockets = [_connect(app) for _ in range(SLOW_CLIENTS)]
    for sock in sockets:
        sock.sendall(b"GET /_status HTTP/1.1\r\nHost: slow\r\n")
    stop = threading.Event()

    def drip():
        while not stop.wait(0.2):
            for sock in sockets:
                try:
                    sock.sendall(b"X")
                except OSError:
                    pass  # closed by the server: what the header timeout does

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        yield sockets
    finally:
        stop.set()
        dripper.join()
        for sock in sockets:
            sock.close()


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes the connection (EOF or reset) before `deadline`, answering nothing."""
    sock.settimeout(max(deadline - time.monotonic(), 0.1))
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("name", ["read", "write"])
def test_fifty_slow_header_clients_do_not_stop_a_probe_getting_status(apps, name):
    app = apps[name]
    with _slow_header_clients(app) as sockets:
        for _ in range(5):  # while the slow clients hold their connections open
            probe = requests.get(app.url + "/_status", timeout=PROBE_DEADLINE)
            assert (probe.status_code, probe.json()["status"]) == (200, "ok")
        deadline = time.monotonic() + HEADER_TIMEOUT + PROBE_DEADLINE
        assert all(_closed_by_server(sock, deadline) for sock in sockets), \
            f"a slow-header client was still connected {HEADER_TIMEOUT} s (BACKDROP_HEADER_TIMEOUT) after it connected"


def _answer(sock: socket.socket) -> tuple[int, dict]:
    """Status and JSON body of the answer on a raw connection (the server closes it after)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _post_raw(app: App, framing: bytes, body: bytes, hang_up: bool) -> tuple[int, dict]:
    """POST records with the given framing headers and body bytes, then send nothing more
    (and with `hang_up`, close the sending side)."""
    with _connect(app) as sock:
        sock.sendall(b"POST " + RECORDS.encode() + b" HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\n" + framing + b"\r\n" + body)
        if hang_up:
            sock.shutdown(socket.SHUT_WR)
        return _answer(sock)


BODY_LATE = ("Request body could not be read whole: the request body did not arrive within "
             f"{BODY_TIMEOUT} seconds (BACKDROP_BODY_TIMEOUT)")


STOPPED = "Request body could not be read whole: the client stopped sending before its end"


@pytest.mark.parametrize("framing, body, hang_up, message", [
    (b"Content-Length: 1000\r\n", b'[{"count": 1}', False, BODY_LATE),
    (b"Transfer-Encoding: chunked\r\n", b'3e8\r\n[{"count": 1}', False, BODY_LATE),
    (b"Content-Length: 1000\r\n", b'[{"count": 1}', True, STOPPED),
    (b"Transfer-Encoding: chunked\r\n", b'zz\r\n[{"count": 1}]\r\n0\r\n\r\n', False,
     "Request body could not be read whole: Invalid chunk size: b'zz'"),
], ids=["Content-Length beyond the body", "chunk size beyond the body", "hang-up inside the body",
        "malformed chunk size"])
def test_a_short_or_malformed_body_is_answered_400_and_stores_nothing(apps, framing, body, hang_up, message):
    status, answer = _post_raw(apps["write"], framing, body, hang_up)
    assert (status, answer) == (400, {"status": "error", "message": message})
    stored = requests.get(apps["read"].url + RECORDS, timeout=PROBE_DEADLINE)
    assert stored.json()["data"] == []


def test_the_batch_size_limit_is_configurable_and_answered_413(apps):
    url = apps["write"].url + RECORDS
    records = [{"_timestamp": "2014-01-06T00:00:00Z", "count": index} for index in range(MAX_BATCH + 1)]
    refused = requests.post(url, data=json.dumps(records), headers=WRITER, timeout=PROBE_DEADLINE)
    assert (refused.status_code, refused.json()) == (
        413, {"status": "error", "message": too_many_records(MAX_BATCH + 1, MAX_BATCH)})
    assert "at most 5 records (BACKDROP_MAX_BATCH_RECORDS), not 6" in refused.json()["message"]
    stored = requests.post(url, data=json.dumps(records[:MAX_BATCH]), headers=WRITER, timeout=PROBE_DEADLINE)
    assert stored.status_code == 200, stored.text
    read = requests.get(apps["read"].url + RECORDS, timeout=PROBE_DEADLINE)
    assert sorted(record["count"] for record in read.json()["data"]) == list(range(MAX_BATCH))
    requests.put(url, data="[]", headers=WRITER, timeout=PROBE_DEADLINE).raise_for_status()


def test_a_second_request_on_a_kept_alive_connection_is_served_and_bounded_too(apps):
    """Gathering starts again for each request of a connection: a pipelined pair is answered
    twice, then the connection's next slow headers are cut off by the header timeout."""
    request = b"GET /_status HTTP/1.1\r\nHost: slow\r\n\r\n"
    with _connect(apps["read"]) as sock:
        sock.sendall(request + request)
        seen = b""
        while seen.count(b'"status":"ok"') < 2:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {seen!r}"
            seen += chunk
        assert seen.count(b"HTTP/1.1 200 OK") == 2
        sock.sendall(b"GET /_status HTTP/1.1\r\n")
        assert _closed_by_server(sock, time.monotonic() + HEADER_TIMEOUT + PROBE_DEADLINE)


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


# A bomb whose first member inflates past the limit, followed by far more than gunicorn's
# 64 KiB drain of compressed bytes the app never reads; and a body announced too large.
BOMB = _gzip(bytes(2 * MAX_BODY)) + _gzip(os.urandom(200_000))
REFUSED_BODIES = {
    "gzip bomb": (BOMB, {"Content-Encoding": "gzip"}),
    "announced too large": (b"[" + b" " * (MAX_BODY + 10) + b"]", {}),
    "bad token": (b"[" + b" " * 200_000 + b"]", {"Authorization": "Bearer wrong"}),
}
REFUSALS = {"gzip bomb": 413, "announced too large": 413, "bad token": 401}


@pytest.mark.parametrize("refusal", REFUSED_BODIES)
def test_a_body_refused_before_its_end_closes_the_connection_and_the_client_carries_on(apps, refusal):
    """The answer says `Connection: close` (the rest of the body is still on the socket), so
    a client's next request goes on a new connection instead of one the server resets."""
    body, headers = REFUSED_BODIES[refusal]
    with requests.Session() as session:
        refused = session.post(apps["write"].url + RECORDS, data=body, headers={**WRITER, **headers},
                               timeout=PROBE_DEADLINE)
        assert refused.status_code == REFUSALS[refusal], refused.text
        assert refused.headers.get("Connection", "").lower() == "close"
        for _ in range(3):
            assert session.get(apps["write"].url + "/_status", timeout=PROBE_DEADLINE).status_code == 200


def test_a_body_read_whole_keeps_the_connection_alive_even_when_refused(apps):
    """Only unread bodies close: a record the app read and refused (400) leaves the connection open."""
    with requests.Session() as session:
        refused = session.post(apps["write"].url + RECORDS, data='[{"_id": 3}]', headers=WRITER, timeout=PROBE_DEADLINE)
        assert refused.status_code == 400, refused.text
        assert refused.headers.get("Connection", "").lower() != "close"
