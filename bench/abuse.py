"""A probe client's experience while others abuse the read app (issue 14, item 5).

While `abusers` threads loop over costly queries (a group_by over a field of many distinct
values, a huge `limit`, ...) and `slow_clients` threads keep connections open that send
their request headers a byte at a time, a probe asks `/_status` and a small query in turn,
each with a generous deadline, and records how long every answer took and which failed.

Used by the benchmark (`python -m bench`: the probe's p50/p95/max under abuse beside its
figures when idle) and by the suite (tests/hostile/test_probe_under_abuse.py: the probe
keeps being served). Slow clients finish their request after SLOW_HOLD_SECONDS, so that
even a server whose every worker they hold (gunicorn's sync workers) answers the probe
within the deadline; a server with threads and read deadlines simply serves it sooner.
"""
from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from bench import stats

PROBE_DEADLINE_SECONDS = 10.0
SLOW_BYTE_SECONDS = 0.2
SLOW_HOLD_SECONDS = 2.0
ABUSER_DEADLINE_SECONDS = 120.0


@dataclass
class Outcome:
    """What the probe saw (latencies in seconds, failures as text) and what the others got."""

    probe_latencies: list[float] = field(default_factory=list)
    probe_failures: list[str] = field(default_factory=list)
    abuser_statuses: Counter = field(default_factory=Counter)
    slow_connections: int = 0

    @property
    def probe_tries(self) -> int:
        return len(self.probe_latencies) + len(self.probe_failures)

    def summary(self) -> dict:
        latencies = self.probe_latencies or [float("nan")]
        return {
            "probe_tries": self.probe_tries,
            "probe_failures": len(self.probe_failures),
            "probe_p50_ms": round(stats.percentile(latencies, 0.5) * 1000, 1),
            "probe_p95_ms": round(stats.percentile(latencies, 0.95) * 1000, 1),
            "probe_max_ms": round(max(latencies) * 1000, 1),
            "abuser_statuses": {str(status): count for status, count in sorted(self.abuser_statuses.items())},
            "slow_connections": self.slow_connections,
        }


def probe(read_url: str, data_path: str, probe_query: str, seconds: float) -> Outcome:
    """The probe alone, for the figures it is compared with."""
    return abuse(read_url, data_path, (), probe_query, seconds, slow_clients=0)


def abuse(read_url: str, data_path: str, abusive_queries: tuple[str, ...], probe_query: str,
          seconds: float, *, slow_clients: int = 2) -> Outcome:
    """Run the abusers (one thread per query of `abusive_queries`) and `slow_clients` for
    `seconds` while the probe asks; every thread has stopped when this returns."""
    outcome, stop = Outcome(), threading.Event()
    threads = [threading.Thread(target=_abuser, args=(f"{read_url}{data_path}?{query}", stop, outcome))
               for query in abusive_queries]
    threads += [threading.Thread(target=_slow_client, args=(read_url, stop, outcome)) for _ in range(slow_clients)]
    for thread in threads:
        thread.start()
    try:
        _probe(read_url, f"{data_path}?{probe_query}", time.monotonic() + seconds, outcome)
    finally:
        stop.set()
        for thread in threads:
            thread.join(ABUSER_DEADLINE_SECONDS + SLOW_HOLD_SECONDS)
    return outcome


def _probe(read_url: str, query_path: str, until: float, outcome: Outcome) -> None:
    with requests.Session() as session:
        while time.monotonic() < until:
            for path in ("/_status", query_path):
                started = time.perf_counter()
                try:
                    answer = session.get(read_url + path, timeout=PROBE_DEADLINE_SECONDS)
                except requests.RequestException as error:
                    outcome.probe_failures.append(f"{path}: {type(error).__name__}")
                    continue
                if answer.status_code == 200:
                    outcome.probe_latencies.append(time.perf_counter() - started)
                else:
                    outcome.probe_failures.append(f"{path}: {answer.status_code} {answer.text[:200]}")


def _abuser(url: str, stop: threading.Event, outcome: Outcome) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            try:
                answer = session.get(url, timeout=ABUSER_DEADLINE_SECONDS)
                outcome.abuser_statuses[answer.status_code] += 1
            except requests.RequestException as error:
                outcome.abuser_statuses[type(error).__name__] += 1


def _slow_client(read_url: str, stop: threading.Event, outcome: Outcome) -> None:
    """Connections that trickle their headers for SLOW_HOLD_SECONDS, one after the other."""
    parts = urlsplit(read_url)
    while not stop.is_set():
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=PROBE_DEADLINE_SECONDS) as slow:
                outcome.slow_connections += 1
                slow.sendall(b"GET /_status HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
                ends = time.monotonic() + SLOW_HOLD_SECONDS
                while time.monotonic() < ends and not stop.is_set():
                    slow.sendall(b"a")
                    stop.wait(SLOW_BYTE_SECONDS)
                slow.sendall(b"\r\nConnection: close\r\n\r\n")
                while slow.recv(65536):
                    pass
        except OSError:
            stop.wait(SLOW_BYTE_SECONDS)  # cut off by the server's read deadline, or refused: again
