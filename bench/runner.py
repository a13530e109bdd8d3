"""One benchmark run: for each engine, load, measure, and stop everything that was started."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench import abuse, columnar, duck, generate, memory, reads
from bench.engines import default_engines, open_engine
from bench.ingest import create_data_set, post_all
from bench.servers import App, app_environment, start_app

BATCH_SIZE = 1000
LARGE_SEED, SMALL_SEED = 6, 7
WEEK_MIDDLE = datetime(2023, 6, 8, 12, tzinfo=timezone.utc)  # middle of queries.ONE_WEEK


@dataclass(frozen=True)
class Options:
    records: int = 1_000_000
    small_records: int = 10_000
    engines: tuple[str, ...] = tuple(default_engines(lambda name: None))
    clients: int = 4
    workers: int = 2
    repeat: int = 10
    abuse_seconds: float = 10.0
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    mongodb_url: str | None = None

    def server_url(self, engine: str) -> str | None:
        """The server option of the engine (--postgres-url, --mongodb-url), if it has one."""
        return {"postgres": self.postgres_url, "mongo": self.mongodb_url}.get(engine)


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(options: Options) -> dict:
    engines = {}
    for name in options.engines:
        with tempfile.TemporaryDirectory(prefix=f"backdrop-bench-{name}-") as folder:
            engines[name] = run_engine(name, options, Path(folder))
    return engines


def run_engine(name: str, options: Options, folder: Path) -> dict:
    progress(f"{name}: preparing a fresh database")
    try:
        engine = open_engine(name, folder, options.server_url(name))
    except Exception as error:  # e.g. no PostgreSQL server: report it, measure the others
        progress(f"{name}: not available: {error}")
        return {"available": False, "reason": f"{type(error).__name__}: {error}"}
    started: list[App] = []
    load_before = os.getloadavg()
    try:
        section = {"available": True, "version": engine.version(),
                   **_measure(engine, options, folder, started)}
        section["load_average"] = {"before": _rounded(load_before), "after": _rounded(os.getloadavg())}
        return section
    except BaseException:
        for app in started:  # the folder and its logs go with the run: show what they said
            progress(f"{name}: the end of {app.log_path.name}:\n"
                     + app.log_path.read_text(errors="replace")[-3000:])
        raise
    finally:
        for app in started:
            app.stop()
        engine.close()


def _rounded(values) -> list[float]:
    return [round(value, 2) for value in values]


def _measure(engine, options: Options, folder: Path, started: list[App]) -> dict:
    def app(kind: str, label: str, cache_size: int = 0, workers: int = options.workers,
            extra: dict | None = None) -> App:
        environ = app_environment(engine.database_url, folder, workers=workers, cache_size=cache_size,
                                  extra=extra)
        started.append(start_app(kind, environ, folder, label))
        return started[-1]

    section: dict = {"records": options.records, "small_records": options.small_records}
    write = app("write", "write")
    large = create_data_set(write, "bench", "large")
    small = create_data_set(write, "bench", "small")
    section["ingest"] = _ingest(engine, write, large, small, options)
    write.stop()
    engine.after_load()
    section["ingest"].update(_raw_ingest(engine, large, options, section["ingest"]))
    table = duck.DuckTable(folder)
    try:
        section["duckdb"] = _duckdb_load(engine, table, options)
        read, cached = app("read", "read-nocache"), app("read", "read-cache", cache_size=1024)
        section.update(_reads(engine, read, cached, large, small, options, table))
        copies = app("read", "read-columnar", workers=1, extra=columnar.environment())
        write = app("write", "write-catch-up")
        section["columnar"] = columnar.measure(copies, read, write, large, options.repeat, table,
                                               lambda message: progress(f"{engine.name}: {message}"))
        copies.stop()
        write.stop()
    finally:
        table.close()  # its memory is the benchmark's, not the read workers' measured below
    if options.abuse_seconds > 0:
        section["abuse"] = _abuse(engine, read, large, options)
    read.stop()
    cached.stop()
    progress(f"{engine.name}: peak memory of a read worker")
    section["memory"] = memory.peak_rss(engine.database_url, folder, large, small)
    return section


def _raw_ingest(engine, large, options: Options, api: dict) -> dict:
    progress(f"{engine.name}: raw ingest baseline")
    seconds, rows = engine.raw_ingest(large.name, generate.records(options.records, LARGE_SEED))
    rate = rows / seconds
    return {"raw": {"seconds": round(seconds, 3), "rows": rows, "records_per_second": round(rate, 1)},
            "ratio_api_to_raw": round(api["records_per_second"] / rate, 3)}


def _duckdb_load(engine, table: duck.DuckTable, options: Options) -> dict:
    progress(f"{engine.name}: DuckDB baseline, loading the same records into typed columns")
    seconds, rows = table.load(generate.records(options.records, LARGE_SEED))
    return {"version": table.version, "load_seconds": round(seconds, 3), "rows": rows,
            "load_records_per_second": round(rows / seconds, 1)}


def _reads(engine, read: App, cached: App, large, small, options: Options,
           table: duck.DuckTable) -> dict:
    reads.warm(read, small)
    reads.warm(cached, small)
    progress(f"{engine.name}: queries ({options.repeat} runs each)")
    status = reads.status_round_trip(read, options.repeat)
    section = {"status_round_trip": status,
               "queries": reads.query_suite(read, engine, large, options.repeat, status["median_ms"],
                                           table)}
    progress(f"{engine.name}: response cache and proportionality")
    section["cache"] = reads.response_cache(cached, large, options.repeat)
    section["proportionality"] = reads.proportionality(read, engine, large, small, options.repeat)
    span = generate.same_density_span(options.small_records, options.records, WEEK_MIDDLE)
    section["proportionality"]["small_span"] = [moment.isoformat() for moment in span]
    return section


# Costly queries of the issue-14 kind on the benchmark's data: groups over two fields of many
# values, and every record of the data set at once.
ABUSIVE_QUERIES = ("group_by=service&group_by=department&collect=count:sum", "limit=1000000000")
PROBE_QUERY = "limit=10"
SLOW_CLIENTS = 2


def _abuse(engine, read: App, large, options: Options) -> dict:
    """The probe's latency (`/_status` and a small query in turn) idle, then while one client
    per query of ABUSIVE_QUERIES loops over it, then with two slow clients trickling headers too."""
    seconds = options.abuse_seconds
    progress(f"{engine.name}: a probe client idle, under abusive queries, and with slow clients too "
             f"({seconds} s each)")
    idle = abuse.probe(read.url, large.path, PROBE_QUERY, seconds)
    queries = abuse.abuse(read.url, large.path, ABUSIVE_QUERIES, PROBE_QUERY, seconds, slow_clients=0)
    both = abuse.abuse(read.url, large.path, ABUSIVE_QUERIES, PROBE_QUERY, seconds, slow_clients=SLOW_CLIENTS)
    return {"seconds": seconds, "abusive_queries": list(ABUSIVE_QUERIES), "probe_query": PROBE_QUERY,
            "slow_clients": SLOW_CLIENTS, "idle": idle.summary(), "queries": queries.summary(),
            "abused": both.summary()}


def _ingest(engine, write: App, large, small, options: Options) -> dict:
    progress(f"{engine.name}: encoding {options.records} records")
    bodies = generate.batches(options.records, BATCH_SIZE, LARGE_SEED)
    progress(f"{engine.name}: posting them from {options.clients} clients")
    result = post_all(write, large, bodies, options.clients, options.records)
    del bodies
    # The small data set is as dense as the large one around the one-week query, so the query
    # touches as many records in both and only the data set's size differs.
    span = generate.same_density_span(options.small_records, options.records, WEEK_MIDDLE)
    small_bodies = generate.batches(options.small_records, BATCH_SIZE, SMALL_SEED, "s", span)
    post_all(write, small, small_bodies, options.clients, options.small_records)
    stored = engine.count(large.name)
    if stored != options.records:
        raise RuntimeError(f"{engine.name}: {stored} records stored, {options.records} posted")
    progress(f"{engine.name}: {result['records_per_second']:.0f} records/s over HTTP")
    return result
