"""`python -m bench.profile`: where the time goes, under cProfile, for a missed target.

py-spy and pyinstrument are not installed here, so the apps run in process (Flask's test
client: no HTTP, no gunicorn) under cProfile against a temporary SQLite or PostgreSQL
database loaded with the benchmark's own records:

    python -m bench.profile ingest --records 50000
    python -m bench.profile query month_group_sum_two_years --records 200000 --engine postgres

The top functions by own time and by cumulative time are printed; `--output FILE` keeps the
raw profile for `python -m pstats FILE`.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from bench import generate
from bench.engines import benchmark_engines, open_engine
from bench.queries import BY_NAME, MEMORY_QUERIES, WEEK_QUERY
from bench.runner import BATCH_SIZE, LARGE_SEED
from bench.servers import ADMIN_TOKEN

QUERY_SPECS = {**BY_NAME, WEEK_QUERY.name: WEEK_QUERY, **{q.name: q for q in MEMORY_QUERIES}}
TOKEN = "bench-profile-token"


def _settings(database_url: str, folder: Path):
    from backdrop.settings import Settings

    return Settings.from_env({
        "BACKDROP_ENV": "production", "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN, "BACKDROP_BROKER_FOLDER": str(folder / "broker"),
        "BACKDROP_AUDIT_LOG": str(folder / "audit.log"), "BACKDROP_QUERY_CACHE_SIZE": "0",
        "BACKDROP_LOG_LEVEL": "WARNING"})


def _write_client(settings):
    from backdrop.write.app import create_app

    client = create_app(settings).test_client()
    response = client.post("/data-sets", json={"data_group": "bench", "data_type": "large",
                                               "bearer_token": TOKEN, "raw_queries_allowed": True},
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return client


def _post(client, bodies: list[bytes]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for body in bodies:
        response = client.post("/data/bench/large", data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)


def profile_ingest(settings, records: int, profiler: cProfile.Profile) -> str:
    client = _write_client(settings)
    bodies = generate.batches(records, BATCH_SIZE, LARGE_SEED)
    _post(client, bodies[:1])  # first-request costs (imports, connections) are not the steady state
    started = time.perf_counter()
    profiler.runcall(_post, client, bodies[1:])
    seconds = time.perf_counter() - started
    return f"{records - BATCH_SIZE} records in {seconds:.2f}s under cProfile"


def profile_query(settings, records: int, name: str, repeat: int, profiler: cProfile.Profile) -> str:
    from backdrop.read.app import create_app

    _post(_write_client(settings), generate.batches(records, BATCH_SIZE, LARGE_SEED))
    client = create_app(settings).test_client()
    spec = QUERY_SPECS[name]

    def ask() -> int:
        response = client.get("/data/bench/large", query_string=list(spec.params))
        assert response.status_code == 200, response.get_data(as_text=True)
        return len(response.get_data())

    ask()
    started = time.perf_counter()
    size = profiler.runcall(lambda: [ask() for _ in range(repeat)])[-1]
    seconds = (time.perf_counter() - started) / repeat
    return f"{name}: {seconds * 1000:.1f} ms per request under cProfile, {size} bytes"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ingest", "query"])
    parser.add_argument("query", nargs="?", choices=sorted(QUERY_SPECS))
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engine", default="sqlite", choices=benchmark_engines())
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.what == "query" and args.query is None:
        parser.error("name the query to profile")
    with tempfile.TemporaryDirectory(prefix="backdrop-profile-") as folder:
        engine = open_engine(args.engine, Path(folder), getattr(args, f"{args.engine}_url", None))
        try:
            settings = _settings(engine.database_url, Path(folder))
            profiler = cProfile.Profile()
            if args.what == "ingest":
                headline = profile_ingest(settings, args.records, profiler)
            else:
                headline = profile_query(settings, args.records, args.query, args.repeat, profiler)
        finally:
            engine.close()
    print(headline)
    if args.output:
        profiler.dump_stats(args.output)
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(args.top)
        print(text.getvalue())


if __name__ == "__main__":
    main()
