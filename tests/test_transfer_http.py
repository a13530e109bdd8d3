"""Data moved between real installations: `backdrop export`/`import` round trips SQLite →
PostgreSQL → SQLite, `backdrop sync` copies from a running write app (gunicorn) through its
admin export route, and `backdrop export` stays flat in memory however many records it writes.

The commands run as real processes (`.venv/bin/backdrop`), as an operator runs them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backdrop.core import registry
from backdrop.core.data_set import DataSet
from backdrop.core.records import SERVER_FIELDS
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery
from backdrop.testing import Stack, app_environment, fresh_postgres_database, start_app, wait_until_up
from backdrop.testing_engines import support_for
from bench.export_memory import peak_rss_mb

BACKDROP = str(Path(sys.executable).with_name("backdrop"))
ADMIN = "transfer-admin-token"

VARIED = [
    {"_id": "a", "_timestamp": "2014-01-06T10:11:12.000345+01:00", "fl": 0.30000000000000004, "tiny": 1e-07,
     "whole": 2.0, "big": 2**63 - 1, "neg": -(2**63), "tr": True, "fa": False, "nu": None, "st": "café ☕ 😀 \"q\""},
    {"_id": "b/slash%2F", "other": "no timestamp", "count": 0},
    {"_id": "c", "_timestamp": "2014-01-06T10:11:12+01:00", "_start_at": "2014-01-06", "_end_at": "2014-01-07",
     "count": 3},
    *({"_timestamp": f"2014-02-{day:02d}T00:00:00Z", "channel": ["digital", "paper"][day % 2], "count": day}
      for day in range(1, 29)),
]


@pytest.fixture
def postgres():
    unavailable = support_for("postgres").unavailable()
    if unavailable:
        pytest.skip(f"SKIP postgres: {unavailable}")
    with fresh_postgres_database(prefix="backdrop_transfer") as url:
        yield url


def backdrop(database_url: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": database_url}
    return subprocess.run([BACKDROP, *args], env=environ, input=input, capture_output=True, text=True, timeout=120)


def fill(url: str, name: str, items: list[dict], **config) -> None:
    storage = open_storage(url)
    try:
        created = registry.create(storage, {"name": name, "data_group": name, "data_type": "t", **config})
        DataSet(storage, created).store(items)
    finally:
        storage.close()


def stored(url: str, name: str) -> str:
    """Every record of `name` without the keys the server computes, by `_id`, as JSON text
    (where 2 and 2.0, or 1 and true, differ)."""
    storage = open_storage(url)
    try:
        found = [{key: value for key, value in record.items() if key not in SERVER_FIELDS}
                 for record in storage.find(name, RecordQuery())]
    finally:
        storage.close()
    return json.dumps(sorted(found, key=lambda record: record["_id"]), sort_keys=True)


def test_export_and_import_round_trip_sqlite_to_postgresql_and_back(tmp_path, postgres):
    first, last = f"sqlite:///{tmp_path}/first.db", f"sqlite:///{tmp_path}/last.db"
    fill(first, "mixed", VARIED, auto_ids=None)
    original = stored(first, "mixed")
    assert original.count('"_id"') == len(VARIED)
    for source, target in ((first, postgres), (postgres, last)):
        exported = backdrop(source, "export", "mixed", "-o", str(tmp_path / "mixed.ndjson"))
        assert exported.returncode == 0, exported.stderr
        assert exported.stdout == "" and f"exported {len(VARIED)} records of mixed" in exported.stderr
        created = backdrop(target, "data-sets", "create", "--data-group", "mixed", "--data-type", "t", "--name", "mixed")
        assert created.returncode == 0, created.stderr
        imported = backdrop(target, "import", "mixed", str(tmp_path / "mixed.ndjson"), "--batch-size", "7")
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout == f"mixed: stored {len(VARIED)} records, rejected 0 (0 batches)\n"
        assert stored(target, "mixed") == original
    exact = stored(last, "mixed")
    assert all(text in exact for text in ('"big": 9223372036854775807', '"neg": -9223372036854775808',
                                          '"whole": 2.0', '"tr": true', '"nu": null', '"_id": "b/slash%2F"'))


@pytest.fixture
def two_installations(tmp_path, postgres):
    """A source installation on SQLite (its write app) and a target on PostgreSQL (its write app)."""
    source_url = f"sqlite:///{tmp_path}/source.db"
    stack = Stack()
    try:
        source = stack.add(start_app("write", app_environment(tmp_path / "source", source_url, WEB_CONCURRENCY="1",
                                                              BACKDROP_ADMIN_TOKEN=ADMIN), tmp_path, name="source"))
        target = stack.add(start_app("write", app_environment(tmp_path / "target", postgres, WEB_CONCURRENCY="1"),
                                     tmp_path, name="target"))
        wait_until_up([source, target])
        yield source.url, source_url, target.url, postgres
    finally:
        stack.stop()


def post(write_url: str, name: str, token: str, records: list[dict]) -> requests.Response:
    return requests.post(f"{write_url}/data/{name}/t", json=records, headers={"Authorization": f"Bearer {token}"},
                         timeout=30)


def test_sync_copies_configuration_and_records_from_a_running_installation(two_installations, tmp_path):
    source_write, source_db, target_write, target_db = two_installations
    admin = {"Authorization": f"Bearer {ADMIN}"}
    created = requests.post(f"{source_write}/data-sets", headers=admin, timeout=30,
                            json={"name": "alpha", "data_group": "alpha", "data_type": "t", "bearer_token": "s3cret",
                                  "auto_ids": ["channel", "_timestamp"], "max_age_expected": 86400})
    assert created.status_code == 201, created.text
    assert post(source_write, "alpha", "s3cret", VARIED[3:]).status_code == 200

    export = requests.get(f"{source_write}/data-sets/alpha/export", headers=admin, timeout=30)
    assert export.status_code == 200 and export.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines[0]["configuration"]["raw_queries_allowed"] is False  # no raw reads needed
    assert lines[0]["configuration"]["bearer_token_hash"].startswith("scrypt$")
    assert "s3cret" not in export.text
    assert lines[-1] == {"end": {"records": 28}} and len(lines) == 30
    audited = [json.loads(line) for line in (tmp_path / "source" / "audit.log").read_text().splitlines()]
    assert any(entry.get("message") == "Data set exported" and entry.get("data_set") == "alpha" for entry in audited)

    result = backdrop(target_db, "sync", "--from", source_write, "--admin-token", ADMIN, "alpha")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "alpha: stored 28 records, rejected 0 (0 batches)\n"
    assert stored(target_db, "alpha") == stored(source_db, "alpha")
    copied = backdrop(target_db, "data-sets", "show", "alpha")
    assert json.loads(copied.stdout)["auto_ids"] == ["channel", "_timestamp"]
    assert post(target_write, "alpha", "s3cret", [{"channel": "new", "_timestamp": "2015-01-01"}]).status_code == 200

    # Again after the source changed: the copy is replaced, not added to; several at once.
    assert post(source_write, "alpha", "s3cret", [{"channel": "late", "_timestamp": "2016-01-01"}]).status_code == 200
    assert requests.post(f"{source_write}/data-sets", headers=admin, timeout=30,
                         json={"name": "beta", "data_group": "beta", "data_type": "t"}).status_code == 201
    again = backdrop(target_db, "sync", "--from", source_write + "/", "--admin-token", ADMIN, "alpha", "beta")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["alpha: stored 29 records, rejected 0 (0 batches)",
                                         "beta: stored 0 records, rejected 0 (0 batches)"]
    assert stored(target_db, "alpha") == stored(source_db, "alpha")
    assert stored(target_db, "alpha").count('"_id"') == 29


def test_the_export_route_and_sync_refuse_without_the_admin_token(two_installations):
    source_write, _, _, target_db = two_installations
    requests.post(f"{source_write}/data-sets", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30,
                  json={"name": "alpha", "data_group": "alpha", "data_type": "t", "bearer_token": "s3cret"})
    for headers, status in (({}, 401), ({"Authorization": "Bearer s3cret"}, 401),
                            ({"Authorization": f"Bearer {ADMIN}x"}, 401)):
        answer = requests.get(f"{source_write}/data-sets/alpha/export", headers=headers, timeout=30)
        assert answer.status_code == status and answer.json()["status"] == "error"
    missing = requests.get(f"{source_write}/data-sets/beta/export", headers={"Authorization": f"Bearer {ADMIN}"},
                           timeout=30)
    assert (missing.status_code, missing.json()["message"]) == (404, "No data set named 'beta'")

    refused = backdrop(target_db, "sync", "--from", source_write, "--admin-token", "wrong", "alpha")
    assert refused.returncode == 1
    assert refused.stderr == f"Error: {source_write} answered 401 for alpha: Unauthorized: invalid admin token\n"
    unknown = backdrop(target_db, "sync", "--from", source_write, "--admin-token", ADMIN, "beta")
    assert unknown.stderr == f"Error: {source_write} answered 404 for beta: No data set named 'beta'\n"
    not_a_url = backdrop(target_db, "sync", "--from", "localhost:1", "--admin-token", ADMIN, "alpha")
    assert not_a_url.returncode == 1 and not_a_url.stderr.count("\n") == 1
    assert "must be the other Backdrop's write app URL" in not_a_url.stderr
    storage = open_storage(target_db)
    try:
        assert storage.get_data_set("alpha") is None and storage.get_data_set("beta") is None
    finally:
        storage.close()


def test_export_memory_does_not_grow_with_the_data_set(tmp_path):
    """A smoke test of the benchmark in bench/RESULTS.md (1,000,000 records): 20,000 records
    (about 33 MB more if they were all held at once) cost `backdrop export` less than 16 MB
    more than 10 records do."""
    url = f"sqlite:///{tmp_path}/many.db"
    fill(url, "tiny", [{"_timestamp": "2014-01-01T00:00:00Z", "count": 1}] * 10)
    storage = open_storage(url)
    try:
        data_set = DataSet(storage, registry.create(storage, {"name": "many", "data_group": "many", "data_type": "t"}))
        for start in range(0, 20000, 5000):
            data_set.store([{"_timestamp": f"2014-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                             "channel": f"channel-{n % 7}", "count": n, "cost": n * 1.5, "note": "x" * 40}
                            for n in range(start, start + 5000)])
    finally:
        storage.close()
    tiny = peak_rss_mb(url, "export", "tiny", "-o", str(tmp_path / "tiny.ndjson"))
    many = peak_rss_mb(url, "export", "many", "-o", str(tmp_path / "many.ndjson"))
    as_csv = peak_rss_mb(url, "export", "many", "--format", "csv", "-o", str(tmp_path / "many.csv"))
    assert len((tmp_path / "many.ndjson").read_text().splitlines()) == 20000
    assert len((tmp_path / "many.csv").read_text().splitlines()) == 20001
    assert many - tiny < 16 and as_csv - tiny < 16, (tiny, many, as_csv)
