"""The report: the machine, every figure, the issue's targets met or missed, and a short table."""
from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path

INGEST_TARGET = 50_000  # records/s over HTTP on SQLite, 2 cores
WEEKLY_TARGET_MS = 300.0
CACHE_TARGET_MS = 5.0


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _meminfo_kb(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def targets(engines: dict) -> list[dict]:
    """Each of issue 6's targets, per engine where it applies, with the measured figure."""
    found = []
    for name, section in engines.items():
        if not section.get("available"):
            continue
        if name == "sqlite":
            rate = section["ingest"]["records_per_second"]
            found.append(_target(name, "ingest over HTTP ≥ 50,000 records/s", rate, INGEST_TARGET,
                                 rate >= INGEST_TARGET))
            weekly = section["queries"]["week_one_year"]["api"]["median_ms"]
            found.append(_target(name, f"weekly one-year query ≤ 300 ms median "
                                       f"({section['records']:,} records)",
                                 weekly, WEEKLY_TARGET_MS, weekly <= WEEKLY_TARGET_MS))
        for query, result in section["queries"].items():
            found.append(_target(name, f"{query}: API ≤ 1.5× raw + /_status", result["api"]["median_ms"],
                                 result["allowed_ms"], result["meets_target"]))
        for query, result in section["queries"].items():
            if "duckdb" in result:
                duck = result["duckdb"]
                found.append(_target(name, f"{query}: API ≤ 10× DuckDB (issue 16)", result["api"]["median_ms"],
                                     round(10 * duck["median_ms"], 3), duck["within_target"]))
        for query, result in section.get("columnar", {}).get("queries", {}).items():
            duck = result["duckdb"]
            found.append(_target(name, f"{query}: columnar path ≤ 10× DuckDB (issue 16)", result["api"]["median_ms"],
                                 round(10 * duck["median_ms"], 3), duck["within_target"]))
        cache = section["cache"]
        found.append(_target(name, "cached repeat ≤ 5 ms", cache["hit"]["median_ms"], CACHE_TARGET_MS,
                             cache["meets_target"]))
        found.append(_target(name, "matching ETag → 304", cache["conditional_status"], 304,
                             cache["conditional_status"] == 304))
        ratio = section["proportionality"]["ratio_large_to_small"]
        found.append(_target(name, "one-week query, large ≤ 2× small", ratio, 2.0, ratio <= 2.0))
    return found


def _target(engine: str, what: str, measured, limit, met: bool) -> dict:
    return {"engine": engine, "target": what, "measured": measured, "limit": limit, "met": bool(met)}


def table(report: dict) -> str:
    """A few lines a person reads: rates, per-query medians and ratios, targets missed."""
    lines = []
    for name, section in report["engines"].items():
        if not section.get("available"):
            lines.append(f"{name}: not available ({section['reason']})")
            continue
        ingest = section["ingest"]
        lines.append(f"{name} {section['version']}: {section['records']:,} records")
        lines.append(f"  ingest  API {ingest['records_per_second']:>12,.0f} rec/s   raw "
                     f"{ingest['raw']['records_per_second']:>12,.0f} rec/s   API/raw "
                     f"{ingest['ratio_api_to_raw']:.3f}")
        lines.append(f"  {'query':<30} {'API med':>9} {'API p95':>9} {'raw med':>9} {'ratio':>7} "
                     f"{'allowed':>9}  ok  same")
        for query, result in section["queries"].items():
            lines.append(f"  {query:<30} {result['api']['median_ms']:>9.1f} {result['api']['p95_ms']:>9.1f} "
                         f"{result['raw']['median_ms']:>9.1f} {result['ratio_api_to_raw']:>7.2f} "
                         f"{result['allowed_ms']:>9.1f}  {_mark(result['meets_target'])}  "
                         f"{_mark(result['answers_agree'])}")
        lines += _duckdb_lines(section)
        lines += _columnar_lines(section)
        cache, week = section["cache"], section["proportionality"]
        lines.append(f"  /_status {section['status_round_trip']['median_ms']:.1f} ms; cache hit "
                     f"{cache['hit']['median_ms']:.1f} ms (first {cache['first_request_ms']:.1f} ms), "
                     f"ETag → {cache['conditional_status']}; one week large/small "
                     f"{week['ratio_large_to_small']:.2f}×")
        for query, peak in section["memory"].items():
            lines.append(f"  read worker peak RSS {peak['worker_peak_rss_mb']:.0f} MB "
                         f"(+{peak['growth_mb']:.0f} MB) answering {query}")
        if "abuse" in section:
            lines.append(f"  probe {_probe_line(section['abuse'])}")
    missed = [t for t in report["targets"] if not t["met"]]
    lines.append(f"targets: {len(report['targets']) - len(missed)} met, {len(missed)} missed")
    lines += [f"  MISSED {t['engine']}: {t['target']} (measured {t['measured']}, limit {t['limit']})"
              for t in missed]
    return "\n".join(lines)


def _duckdb_lines(section: dict) -> list[str]:
    """The DuckDB baseline in the short table: its load, then per query its median and the ratio."""
    load = section["duckdb"]
    lines = [f"  DuckDB {load['version']} typed columns: load {load['load_records_per_second']:,.0f} rec/s "
             f"({load['load_seconds']} s)"]
    for query, result in section["queries"].items():
        if "duckdb" in result:
            duck = result["duckdb"]
            lines.append(f"  {query:<30} DuckDB {duck['median_ms']:>8.1f} ms  API/DuckDB "
                         f"{duck['ratio_api_to_duckdb']:>7.1f}×  ≤10× {_mark(duck['within_target'])}  "
                         f"same {_mark(duck['same_answer'])}")
    return lines


def _duckdb_markdown(section: dict) -> list[str]:
    """The DuckDB baseline as a Markdown table for RESULTS.md."""
    load = section["duckdb"]
    lines = [f"DuckDB {load['version']} over typed columns (in the benchmark's process): load "
             f"{load['load_records_per_second']:,.0f} records/s ({load['load_seconds']} s, COPY from CSV).", "",
             "| query | API median ms | DuckDB median ms | DuckDB p95 ms | API/DuckDB | ≤ 10× | same answer |",
             "| --- | ---: | ---: | ---: | ---: | :---: | :---: |"]
    for query, result in section["queries"].items():
        if "duckdb" in result:
            duck = result["duckdb"]
            lines.append(f"| `{query}` | {result['api']['median_ms']:,.1f} | {duck['median_ms']:,.1f} | "
                         f"{duck['p95_ms']:,.1f} | {duck['ratio_api_to_duckdb']} | "
                         f"{_mark(duck['within_target']).strip()} | {_mark(duck['same_answer']).strip()} |")
    return lines + [""]


def _columnar_lines(section: dict) -> list[str]:
    """The columnar path in the short table: load, per query its median beside the engine's, catch-up."""
    if "columnar" not in section:
        return []
    figures = section["columnar"]
    lines = [f"  columnar copy ready after {figures['ready_seconds']} s; worker RSS "
             f"{figures['memory']['loaded_rss_mb']} MB (idle {figures['memory']['idle_rss_mb']} MB, "
             f"peak {figures['memory']['peak_rss_mb']} MB)"]
    for query, result in figures["queries"].items():
        lines.append(f"  {query:<30} columnar {result['api']['median_ms']:>8.1f} ms  engine "
                     f"{section['queries'][query]['api']['median_ms']:>9.1f} ms  API/DuckDB "
                     f"{result['duckdb']['ratio_api_to_duckdb']:>5.1f}×  same {_mark(result['same_as_engine'])}")
    catch_up = figures["catch_up"]
    lines.append(f"  first query after a {catch_up['records_per_write']:,}-record write "
                 f"{catch_up['first_query_after_write']['median_ms']} ms (no write "
                 f"{catch_up['no_write']['median_ms']} ms); counted {_mark(catch_up['every_answer_counted_the_new_records'])}")
    return lines


def _columnar_markdown(section: dict) -> list[str]:
    """The columnar path as Markdown for RESULTS.md: on and off, DuckDB, catch-up, memory."""
    if "columnar" not in section:
        return []
    figures, memory = section["columnar"], section["columnar"]["memory"]
    lines = ["| query | engine path median ms | columnar median ms | columnar p95 ms | DuckDB median ms | "
             "columnar/DuckDB | ≤ 10× | same JSON as engine | answered by the copy |",
             "| --- | ---: | ---: | ---: | ---: | ---: | :---: | :---: | :---: |"]
    for query, result in figures["queries"].items():
        duck = result["duckdb"]
        lines.append(f"| `{query}` | {section['queries'][query]['api']['median_ms']:,.1f} | "
                     f"{result['api']['median_ms']:,.1f} | {result['api']['p95_ms']:,.1f} | "
                     f"{duck['median_ms']:,.1f} | {duck['ratio_api_to_duckdb']} | "
                     f"{_mark(duck['within_target']).strip()} | {_mark(result['same_as_engine']).strip()} | "
                     f"{result['columnar_answers']} of {result['columnar_answers'] + result['engine_answers']} |")
    catch_up = figures["catch_up"]
    return lines + [
        "", f"Copy ready {figures['ready_seconds']} s after the first grouped query. Read worker RSS: "
            f"{memory['idle_rss_mb']} MB idle, {memory['loaded_rss_mb']} MB with the copy loaded, "
            f"{memory['end_rss_mb']} MB at the end, peak {memory['peak_rss_mb']} MB.",
        "", f"Catch-up (`{catch_up['query']}`, {catch_up['writes']} writes of {catch_up['records_per_write']:,} "
            f"new records): first query after a write median {catch_up['first_query_after_write']['median_ms']} ms "
            f"(p95 {catch_up['first_query_after_write']['p95_ms']} ms) against {catch_up['no_write']['median_ms']} ms "
            f"with nothing to catch up; every answer counted the new records: "
            f"{_mark(catch_up['every_answer_counted_the_new_records']).strip()}.", ""]


def _probe_line(figures: dict) -> str:
    """p50/p95/max of the probe idle, under the abusive queries, and with slow clients too."""
    parts = []
    for key, label in (("idle", "idle"), ("queries", "abusive queries"), ("abused", "and slow clients")):
        if key in figures:
            run = figures[key]
            part = f"{label} {run['probe_p50_ms']}/{run['probe_p95_ms']}/{run['probe_max_ms']} ms"
            if key != "idle":
                part += f" ({run['probe_failures']} of {run['probe_tries']} failed, abusers got {run['abuser_statuses']})"
            parts.append(part)
    return "p50/p95/max " + "; ".join(parts)


def _mark(value: bool) -> str:
    return "yes" if value else "NO "


def markdown(report: dict) -> str:
    """The figures as Markdown tables, for bench/RESULTS.md."""
    lines = []
    for name, section in report["engines"].items():
        if not section.get("available"):
            lines += [f"### {name}", "", f"Not available: {section['reason']}", ""]
            continue
        ingest, cache, week = section["ingest"], section["cache"], section["proportionality"]
        lines += [f"### {name} {section['version']}, {section['records']:,} records", "",
                  "| ingest | records/s | seconds |", "| --- | ---: | ---: |",
                  f"| API over HTTP ({ingest['clients']} clients, batches of 1,000) | "
                  f"{ingest['records_per_second']:,.0f} | {ingest['seconds']} |",
                  f"| raw engine | {ingest['raw']['records_per_second']:,.0f} | {ingest['raw']['seconds']} |",
                  f"| ratio API/raw | {ingest['ratio_api_to_raw']} | |", "",
                  f"Write workers' CPU: {ingest['write_workers_cpu_seconds']} s "
                  f"({ingest['records_per_write_worker_cpu_second']:,.0f} records per CPU-second); "
                  f"client CPU {ingest['client_cpu_seconds']} s; machine busy "
                  f"{ingest['machine_busy_cores']} of {report['machine']['cpus']} cores.", "",
                  "| query | API median ms | API p95 ms | raw median ms | raw p95 ms | API/raw | allowed ms | met | same answer |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |"]
        for query, result in section["queries"].items():
            lines.append(f"| `{query}` | {result['api']['median_ms']:,.1f} | {result['api']['p95_ms']:,.1f} | "
                         f"{result['raw']['median_ms']:,.1f} | {result['raw']['p95_ms']:,.1f} | "
                         f"{result['ratio_api_to_raw']} | {result['allowed_ms']:,.1f} | "
                         f"{_mark(result['meets_target']).strip()} | {_mark(result['answers_agree']).strip()} |")
        lines += [""] + _duckdb_markdown(section) + _columnar_markdown(section)
        lines += [f"`/_status` round trip: median {section['status_round_trip']['median_ms']} ms, "
                      f"p95 {section['status_round_trip']['p95_ms']} ms.", "",
                  f"Response cache (`{cache['query']}`): first request {cache['first_request_ms']} ms; "
                  f"repeated: median {cache['hit']['median_ms']} ms, p95 {cache['hit']['p95_ms']} ms; "
                  f"with the ETag: {cache['conditional_status']}, median {cache['conditional']['median_ms']} ms.",
                  "", f"One-week query (`{week['query']}`): {week['large']['api']['median_ms']} ms on "
                      f"{week['large']['data_set_records']:,} records ({week['large']['records_touched']:,} "
                      f"in the week) against {week['small']['api']['median_ms']} ms on "
                      f"{week['small']['data_set_records']:,} ({week['small']['records_touched']:,} in the week): "
                      f"{week['ratio_large_to_small']}×.", ""]
        for query, peak in section["memory"].items():
            lines.append(f"Read worker peak RSS answering `{query}` ({peak['response_bytes']:,} bytes): "
                         f"{peak['worker_peak_rss_mb']} MB (idle {peak['idle_worker_peak_rss_mb']} MB).")
        if "abuse" in section:
            figures = section["abuse"]
            queries = ", ".join(f"`{query}`" for query in figures["abusive_queries"])
            lines += ["", f"Probe (`/_status` and `{figures['probe_query']}` in turn, {figures['seconds']} s each "
                          f"way), with one client looping over each of {queries} and "
                          f"{figures['slow_clients']} slow-header clients: {_probe_line(figures)}."]
        lines.append("")
    return "\n".join(lines)
