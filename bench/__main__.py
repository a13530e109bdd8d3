"""`python -m bench`: run the benchmark, print the JSON report and a short table.

Progress goes to stderr; stdout holds the JSON report followed by the table, and `--json`
also writes the report to a file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench import report, runner
from bench.engines import benchmark_engines, default_engines

QUICK = {"records": 2_000, "small_records": 200, "repeat": 1, "clients": 2, "abuse_seconds": 1.0}


def parse(argv: list[str]) -> tuple[runner.Options, Path | None, Path | None]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, help="records in the large data set (default 1,000,000)")
    parser.add_argument("--small-records", type=int,
                        help="records in the small data set of the one-week comparison (default 10,000)")
    parser.add_argument("--engines", default=None,
                        help=f"comma-separated: {','.join(benchmark_engines())}")
    parser.add_argument("--clients", type=int, help="concurrent HTTP clients while loading (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (default 2)")
    parser.add_argument("--repeat", type=int, help="timed runs of each query (default 10)")
    parser.add_argument("--abuse-seconds", type=float,
                        help="seconds the probe is timed idle, then under abusive queries and slow "
                             "clients (default 10; 0 leaves it out)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BACKDROP_TEST_POSTGRES_URL", runner.Options.postgres_url),
        help="a PostgreSQL server where the benchmark may CREATE and DROP its own databases")
    parser.add_argument("--mongodb-url", help="a MongoDB replica set where the benchmark may create and "
                                              "drop its own databases (adds mongo to the default engines)")
    parser.add_argument("--json", type=Path, help="also write the JSON report to this file")
    parser.add_argument("--markdown", type=Path, help="also write the figures as Markdown tables")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (2,000 records, 1 run each) to check the benchmark works")
    args = parser.parse_args(argv)
    sizes = dict(QUICK) if args.quick else {}
    for key in ("records", "small_records", "clients", "repeat", "abuse_seconds"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    if any(value < 1 for key, value in sizes.items() if key != "abuse_seconds") or args.workers < 1:
        parser.error("sizes, clients, workers and repeat must be at least 1")
    if sizes.get("abuse_seconds", 0) < 0:
        parser.error("--abuse-seconds cannot be negative")
    if args.engines is None:
        servers = runner.Options(postgres_url=args.postgres_url, mongodb_url=args.mongodb_url)
        args.engines = ",".join(default_engines(servers.server_url))
    engines = tuple(name.strip() for name in args.engines.split(",") if name.strip())
    unknown = set(engines) - set(benchmark_engines())
    if unknown or not engines:
        parser.error(f"--engines takes {' and/or '.join(benchmark_engines())}, not {args.engines!r}")
    options = runner.Options(engines=engines, workers=args.workers, postgres_url=args.postgres_url,
                             mongodb_url=args.mongodb_url, **sizes)
    return options, args.json, args.markdown


def main(argv: list[str] | None = None) -> int:
    options, json_path, markdown_path = parse(sys.argv[1:] if argv is None else argv)
    machine = report.machine()
    engines = runner.run(options)
    result = {"machine": machine, "options": {**vars(options), "engines": list(options.engines)},
              "engines": engines, "targets": report.targets(engines)}
    text = json.dumps(result, indent=2, default=str)
    if json_path is not None:
        json_path.write_text(text + "\n")
    if markdown_path is not None:
        markdown_path.write_text(report.markdown(result))
    print(text)
    print(report.table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
