"""Measuring the read API over real HTTP, each figure beside the engine doing the same work.

Queries go to a read app with its response cache off (BACKDROP_QUERY_CACHE_SIZE=0), so
every request runs the query; the cache is measured separately on a second read app with
the cache on. The `/_status` round trip (no database) is the price of HTTP and gunicorn
alone, which the issue's target allows on top of 1.5× the raw engine's time.
"""
from __future__ import annotations

import statistics
import threading

import requests

from bench import duck, stats
from bench.ingest import DataSetRef
from bench.queries import CACHED_QUERY, QUERIES, WEEK_QUERY, QuerySpec, get
from bench.raw_queries import fingerprint, statement
from bench.servers import App

MIN_FAST_RUNS = 20  # cheap requests (status, cache hits) are repeated at least this often


def warm(read: App, data_set: DataSetRef) -> None:
    """Open every worker's database connection before anything is timed.

    Requests sent concurrently must be spread over the sync workers (a busy one does not
    accept), so each worker pays its first-request costs (imports, pool) here.
    """
    def ask() -> None:
        with requests.Session() as session:
            get(session, read.url + data_set.path, WEEK_QUERY)

    for _ in range(2):
        threads = [threading.Thread(target=ask) for _ in range(2 * read.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def status_round_trip(read: App, repeat: int) -> dict:
    with requests.Session() as session:
        samples, _ = stats.timed(lambda: session.get(read.url + "/_status", timeout=30),
                                 max(repeat * 5, MIN_FAST_RUNS), warmup=2)
    return stats.summary(samples)


def api_timing(read: App, data_set: DataSetRef, spec: QuerySpec, repeat: int) -> tuple[dict, object]:
    with requests.Session() as session:
        samples, response = stats.timed(lambda: get(session, read.url + data_set.path, spec), repeat)
    return stats.summary(samples), response


def query_suite(read: App, engine, data_set: DataSetRef, repeat: int, status_ms: float,
                columnar: duck.DuckTable) -> dict:
    """Every query of QUERIES: API and raw times, their ratio, the target, and whether answers
    agree; for the grouped and period ones, the DuckDB baseline beside them."""
    results = {}
    for spec in QUERIES:
        api, response = api_timing(read, data_set, spec, repeat)
        sql, params = statement(engine.name, spec.name, data_set.name)
        raw_samples, rows = stats.timed(lambda: engine.run(sql, params), repeat)
        raw = stats.summary(raw_samples)
        allowed = 1.5 * raw["median_ms"] + status_ms
        api_print, raw_print = spec.fingerprint(response.json()["data"]), fingerprint(spec, rows)
        results[spec.name] = {
            "query": spec.text,
            "api": api,
            "raw": raw,
            "ratio_api_to_raw": round(api["median_ms"] / raw["median_ms"], 2),
            "allowed_ms": round(allowed, 3),
            "meets_target": api["median_ms"] <= allowed,
            "response_bytes": len(response.content),
            "answers_agree": api_print == raw_print,
            "fingerprint": [float(value) if not isinstance(value, int) else value for value in api_print],
        }
        if duck.answers(spec):
            results[spec.name]["duckdb"] = duckdb_timing(columnar, spec, api, response.json()["data"], repeat)
    return results


def duckdb_timing(columnar: duck.DuckTable, spec: QuerySpec, api: dict, data: list[dict],
                  repeat: int) -> dict:
    """DuckDB's times for the query, the API's ratio to them against issue 16's 10×, and
    whether DuckDB's cells are the API's cells."""
    samples, rows = stats.timed(lambda: columnar.run(spec), repeat)
    timing = stats.summary(samples)
    ratio = api["median_ms"] / timing["median_ms"]
    return {**timing, "ratio_api_to_duckdb": round(ratio, 1), "within_target": ratio <= duck.TARGET_RATIO,
            "same_answer": duck.cells(spec, rows) == duck.api_cells(spec, data),
            "cells": len(rows)}


def response_cache(cached: App, data_set: DataSetRef, repeat: int) -> dict:
    """A repeated identical query on unchanged data (cache on), then the same with its ETag."""
    url, runs = cached.url + data_set.path, max(repeat * 5, MIN_FAST_RUNS)
    with requests.Session() as session:
        first, _ = stats.timed(lambda: get(session, url, CACHED_QUERY), 1, warmup=0)
        # Each gunicorn worker has its own cache: warm them all before timing hits.
        hits, response = stats.timed(lambda: get(session, url, CACHED_QUERY), runs,
                                     warmup=4 * cached.workers)
        etag = response.headers.get("ETag")
        conditional = {"If-None-Match": etag} if etag else {}
        revalidations, not_modified = stats.timed(
            lambda: get(session, url, CACHED_QUERY, headers=conditional), runs)
    return {
        "query": CACHED_QUERY.text,
        "first_request_ms": round(first[0] * 1000, 3),
        "hit": stats.summary(hits),
        "meets_target": statistics.median(hits) <= 0.005,
        "etag": etag,
        "conditional_status": not_modified.status_code,
        "conditional": stats.summary(revalidations),
    }


def proportionality(read: App, engine, large: DataSetRef, small: DataSetRef, repeat: int) -> dict:
    """The same one-week query on the large and on the small data set."""
    section = {"query": WEEK_QUERY.text}
    for label, data_set in (("large", large), ("small", small)):
        api, response = api_timing(read, data_set, WEEK_QUERY, repeat)
        sql, params = statement(engine.name, WEEK_QUERY.name, data_set.name)
        rows = engine.run(sql, params)
        section[label] = {"data_set_records": engine.count(data_set.name),
                          "records_touched": sum(row[-1] for row in rows), "api": api}
    ratio = section["large"]["api"]["median_ms"] / section["small"]["api"]["median_ms"]
    section["ratio_large_to_small"] = round(ratio, 2)
    section["meets_target"] = ratio <= 2.0
    return section
