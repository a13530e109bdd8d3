"""The columnar path (issue 16) over HTTP: the grouped and period queries answered from a
read process's columnar copy, beside the same app answering from the engine and DuckDB.

The columnar read app runs one gunicorn worker: the copy belongs to a process and is shared
by its threads, so one worker is one copy, one load and one memory figure. Every figure is
checked against the read app's `backdrop_columnar_answers_total` metric, so a timing the
engine answered (the copy not ready, a fall-back) cannot pass for the copy's; and every
answer is compared, as JSON, with the engine path's answer to the same query.
"""
from __future__ import annotations

import re
import statistics
import time

import requests

from bench import duck, generate, procfs, reads, stats
from bench.ingest import DataSetRef, post_all
from bench.queries import BY_NAME, QUERIES, WEEK_QUERY, get
from bench.servers import App

READY_TIMEOUT_SECONDS = 1800
POLL_SECONDS = 0.5  # between readiness checks: each check is a cheap query the engine answers
CATCH_UP_RECORDS = 1000
CATCH_UP_ROUNDS = 5
CATCH_UP_QUERY = BY_NAME["group_by_one_key"]  # reads every record: a stale copy would show
_ANSWERS = re.compile(r'^backdrop_columnar_answers_total\{source="(\w+)"\} (\S+)$', re.MULTILINE)


def environment() -> dict:
    """The columnar app's settings beyond the usual: copies on for data sets of any size, so
    the smoke run's tiny data set takes the same path as a million records."""
    return {"BACKDROP_COLUMNAR": "1", "BACKDROP_COLUMNAR_MIN_RECORDS": "0"}


def answered(app: App) -> dict[str, float]:
    """Grouped queries answered so far by each source, from the app's metrics."""
    text = requests.get(app.url + "/_metrics", timeout=30).text
    return {"columnar": 0.0, "database": 0.0,
            **{source: float(count) for source, count in _ANSWERS.findall(text)}}


def until_ready(app: App, data_set: DataSetRef) -> float:
    """Seconds from the first grouped query until the copy answers one (it loads meanwhile,
    in the background, and the engine answers)."""
    started = time.perf_counter()
    with requests.Session() as session:
        while time.perf_counter() - started < READY_TIMEOUT_SECONDS:
            before = answered(app)["columnar"]
            get(session, app.url + data_set.path, WEEK_QUERY)
            if answered(app)["columnar"] > before:
                return time.perf_counter() - started
            time.sleep(POLL_SECONDS)
    raise RuntimeError(f"the columnar copy was not ready after {READY_TIMEOUT_SECONDS} s; see {app.log_path}")


def measure(app: App, engine_app: App, write: App, data_set: DataSetRef, repeat: int,
            table: duck.DuckTable, progress) -> dict:
    """Load, every grouped query on and off the copy with DuckDB beside it, catch-up, memory."""
    (worker,) = app.worker_pids()
    idle_kb = procfs.status_kb(worker, "VmRSS")
    progress("columnar: loading the copy")
    ready = until_ready(app, data_set)
    loaded_kb = procfs.status_kb(worker, "VmRSS")
    progress(f"columnar: ready after {ready:.1f} s; queries ({repeat} runs each)")
    section = {"ready_seconds": round(ready, 2), "queries": _queries(app, engine_app, data_set, repeat, table)}
    progress(f"columnar: catch-up after {CATCH_UP_ROUNDS} writes of {CATCH_UP_RECORDS} records")
    section["catch_up"] = _catch_up(app, write, data_set, repeat)
    section["memory"] = {"idle_rss_mb": _mb(idle_kb), "loaded_rss_mb": _mb(loaded_kb),
                         "end_rss_mb": _mb(procfs.status_kb(worker, "VmRSS")),
                         "peak_rss_mb": _mb(procfs.status_kb(worker, "VmHWM"))}
    return section


def _mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)


def _queries(app: App, engine_app: App, data_set: DataSetRef, repeat: int, table: duck.DuckTable) -> dict:
    results = {}
    for spec in (spec for spec in QUERIES if duck.answers(spec)):
        before = answered(app)
        api, response = reads.api_timing(app, data_set, spec, repeat)
        after = answered(app)
        with requests.Session() as session:
            engine_answer = get(session, engine_app.url + data_set.path, spec).json()
        answer = response.json()
        results[spec.name] = {
            "query": spec.text, "api": api,
            "columnar_answers": int(after["columnar"] - before["columnar"]),
            "engine_answers": int(after["database"] - before["database"]),
            "same_as_engine": answer == engine_answer,
            "duckdb": reads.duckdb_timing(table, spec, api, answer["data"], repeat),
        }
    return results


def _catch_up(app: App, write: App, data_set: DataSetRef, repeat: int) -> dict:
    """The first query after each write of CATCH_UP_RECORDS new records (catch-up included)
    against the same query with nothing to catch up; each answer must count the new records."""
    url = app.url + data_set.path
    with requests.Session() as session:
        steady, response = stats.timed(lambda: get(session, url, CATCH_UP_QUERY), repeat)
        total = _count(response.json())
        before = answered(app)
        firsts, counted = [], True
        for round_ in range(CATCH_UP_ROUNDS):
            bodies = generate.batches(CATCH_UP_RECORDS, CATCH_UP_RECORDS, 100 + round_, f"c{round_}-")
            post_all(write, data_set, bodies, 1, CATCH_UP_RECORDS)
            total += CATCH_UP_RECORDS
            started = time.perf_counter()
            answer = get(session, url, CATCH_UP_QUERY)
            firsts.append(time.perf_counter() - started)
            counted = counted and _count(answer.json()) == total
        after = answered(app)
    return {"query": CATCH_UP_QUERY.text, "records_per_write": CATCH_UP_RECORDS, "writes": CATCH_UP_ROUNDS,
            "first_query_after_write": stats.summary(firsts), "no_write": stats.summary(steady),
            "catch_up_ms": round((statistics.median(firsts) - statistics.median(steady)) * 1000, 3),
            "every_answer_counted_the_new_records": counted,
            "columnar_answered_every_first_query": after["columnar"] - before["columnar"] == CATCH_UP_ROUNDS}


def _count(answer: dict) -> int:
    return sum(row["_count"] for row in answer["data"])
