"""Peak resident memory of a read worker while it answers the largest queries.

A fresh read app with one worker per query, so each peak (VmHWM, which only ever grows)
belongs to that query alone; the idle worker's peak is reported beside it.
"""
from __future__ import annotations

import requests

from bench import procfs
from bench.ingest import DataSetRef
from bench.queries import MEMORY_QUERIES, WEEK_QUERY, get
from bench.servers import app_environment, start_app


def peak_rss(database_url: str, folder, data_set: DataSetRef, small: DataSetRef) -> dict:
    """Per query: the worker's peak once warmed on a tiny query, and its peak after the query."""
    results = {}
    environ = app_environment(database_url, folder, workers=1, cache_size=0)
    for spec in MEMORY_QUERIES:
        read = start_app("read", environ, folder, f"read-memory-{spec.name}")
        try:
            (worker,) = read.worker_pids()
            with requests.Session() as session:
                get(session, read.url + small.path, WEEK_QUERY)  # connections open, modules loaded
                idle = procfs.status_kb(worker, "VmHWM")
                response = get(session, read.url + data_set.path, spec)
            peak = procfs.status_kb(worker, "VmHWM")
        finally:
            read.stop()
        results[spec.name] = {
            "query": spec.text,
            "idle_worker_peak_rss_mb": round(idle / 1024, 1),
            "worker_peak_rss_mb": round(peak / 1024, 1),
            "growth_mb": round(max(0, peak - idle) / 1024, 1),
            "response_bytes": len(response.content),
        }
    return results
