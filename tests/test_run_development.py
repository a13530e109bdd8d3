"""`run_development.sh`: refuses busy or bad ports before starting anything, in one line;
says "ready", with the URLs and the database, only once both apps answer."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from backdrop.testing import Process, app_environment, free_ports

REPOSITORY = Path(__file__).resolve().parent.parent
SCRIPT = REPOSITORY / "run_development.sh"


def _refusal(environ: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT)], env=environ, capture_output=True, text=True, timeout=60)


@pytest.fixture
def environ(tmp_path):
    return app_environment(tmp_path, f"sqlite:///{tmp_path}/dev.db")


@pytest.mark.parametrize("busy", ["BACKDROP_READ_PORT", "BACKDROP_WRITE_PORT"])
def test_a_busy_port_is_refused_in_one_line_before_anything_starts(environ, busy):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    taken = listener.getsockname()[1]
    [free] = free_ports(1)
    other = "BACKDROP_WRITE_PORT" if busy == "BACKDROP_READ_PORT" else "BACKDROP_READ_PORT"
    try:
        done = _refusal({**environ, busy: str(taken), other: str(free)})
    finally:
        listener.close()
    assert done.returncode == 1
    assert done.stdout == ""  # nothing started, not even the installation
    [line] = done.stderr.splitlines()
    assert f"port {taken} on 127.0.0.1 is in use" in line and "BACKDROP_READ_PORT=" in line


@pytest.mark.parametrize("read, write, message", [
    ("4000", "4000", "the read and write apps cannot share port 4000"),
    ("web", "4001", "port 'web' is not a port number"),
    ("4000", "70000", "port '70000' is not a port number"),
])
def test_bad_ports_are_refused_in_one_line(environ, read, write, message):
    done = _refusal({**environ, "BACKDROP_READ_PORT": read, "BACKDROP_WRITE_PORT": write})
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"run_development.sh: {message}")


def test_it_says_ready_with_the_urls_and_the_database_once_both_apps_answer(environ, tmp_path):
    read, write = free_ports(2)
    log = tmp_path / "run_development.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen([str(SCRIPT)], env={**environ, "BACKDROP_READ_PORT": str(read),
                                                     "BACKDROP_WRITE_PORT": str(write)},
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    script = Process("run_development", popen, log)
    try:
        deadline = time.monotonic() + 120
        while "Backdrop is ready:" not in script.log_text() and script.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        text = script.log_text()
        assert "Backdrop is ready:" in text, text
        for port in (read, write):  # ready means answering: no waiting after the message
            assert requests.get(f"http://127.0.0.1:{port}/_status", timeout=5).status_code == 200
        ready = text[text.index("Backdrop is ready:"):]
        assert f"read API:  http://127.0.0.1:{read}" in ready and f"write API: http://127.0.0.1:{write}" in ready
        assert f"database:  {tmp_path}/dev.db" in ready
    finally:
        script.stop()
