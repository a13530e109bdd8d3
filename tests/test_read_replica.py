"""BACKDROP_READ_DATABASE_URL: the read app on a PostgreSQL streaming replica, the write app
on its primary, both under gunicorn.

The test builds its own primary and replica (two clusters on free ports, run as the
`postgres` user, the replica made by `pg_basebackup -R`), never touching the machine's shared
server. A hot standby refuses every write, so a read app answering 200 there never wrote;
pausing the replica's replay shows the response cache follows the replica's versions: old
data keeps its old ETag until replay resumes.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from backdrop.core.storage.base import MigrationsPending
from backdrop.read.app import create_app
from backdrop.settings import Settings
from backdrop.testing import (Stack, app_environment, fresh_postgres_database, free_ports, start_app,
                              wait_until_up)
from backdrop.testing_engines import support_for

BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN = {"Authorization": "Bearer replica-admin", "Content-Type": "application/json"}
WRITER = {"Authorization": "Bearer replica-token", "Content-Type": "application/json"}
CONFIG = {"name": "rep", "data_group": "rep", "data_type": "things", "bearer_token": "replica-token",
          "raw_queries_allowed": True}
DEADLINE = 30.0


def _unavailable() -> str | None:
    if not (BIN / "initdb").exists() or not (BIN / "pg_basebackup").exists():
        return f"no PostgreSQL 15 binaries in {BIN}"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "the clusters run as the `postgres` user: needs root and runuser"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no `postgres` user"
    return None


def _as_postgres(*command: str | Path) -> None:
    """One PostgreSQL command as the `postgres` user; its output is in the failure's message."""
    done = subprocess.run(["runuser", "-u", "postgres", "--", *map(str, command)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{command[0]} failed: {done.stdout}\n{done.stderr}"


def _settings(data: Path, port: int, socket: Path) -> None:
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket}'\n"
                   "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
                   "synchronous_commit = off\nfull_page_writes = off\n")


@contextmanager
def primary_and_replica():
    """Yields (primary URL, replica URL) of database `backdrop`; both clusters stopped and
    removed afterwards, whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="backdrop_replica_"))
    shutil.chown(folder, user="postgres", group="postgres")
    primary, replica = folder / "primary", folder / "replica"
    primary_port, replica_port = free_ports(2)
    started = []
    try:
        _as_postgres(BIN / "initdb", "-D", primary, "-U", "postgres", "-A", "trust", "--no-sync")
        _settings(primary, primary_port, folder)
        with open(primary / "pg_hba.conf", "a") as hba:  # the test cluster's own, never the shared server's
            hba.write("\nhost replication postgres 127.0.0.1/32 trust\n")
        _as_postgres(BIN / "pg_ctl", "-D", primary, "-l", folder / "primary.log", "-w", "start")
        started.append(primary)
        _as_postgres(BIN / "createdb", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres", "backdrop")
        _as_postgres(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres",
                     "-D", replica, "-R", "-X", "stream", "-c", "fast", "--no-sync")
        with open(replica / "postgresql.auto.conf", "a") as conf:
            conf.write(f"\nport = {replica_port}\n")
        _as_postgres(BIN / "pg_ctl", "-D", replica, "-l", folder / "replica.log", "-w", "start")
        started.append(replica)
        yield (f"postgresql://postgres@127.0.0.1:{primary_port}/backdrop",
               f"postgresql://postgres@127.0.0.1:{replica_port}/backdrop")
    finally:
        for data in reversed(started):
            subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D", str(data),
                            "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _sql(url: str, statement: str):
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(statement).fetchone()[0]


def _caught_up(primary: str, replica: str) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    target = _sql(primary, "SELECT pg_current_wal_lsn()::text")
    _poll(lambda: _sql(replica, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"), "replica to catch up")


def _poll(ready, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what} after {DEADLINE:g} s")


def _read(read_url: str) -> tuple[list[str], str]:
    """The ids and ETag the replica answers; no ids while it has not replayed the data set yet (404)."""
    answer = requests.get(f"{read_url}/data/rep/things?sort_by=_id:ascending", timeout=30)
    if answer.status_code == 404:
        return [], ""
    assert answer.status_code == 200, answer.text
    return [record["_id"] for record in answer.json()["data"]], answer.headers["ETag"]


def _post(write_url: str, *ids: str) -> None:
    records = [{"_id": id_, "_timestamp": "2014-01-06T10:00:00Z", "value": 1} for id_ in ids]
    answer = requests.post(f"{write_url}/data/rep/things", data=json.dumps(records), headers=WRITER, timeout=30)
    assert answer.status_code == 200, answer.text


def test_the_read_app_reads_a_streaming_replica_and_its_cache_follows_the_replica(tmp_path):
    unavailable = _unavailable()
    if unavailable:
        pytest.skip(f"SKIP streaming replica: {unavailable}")
    with primary_and_replica() as (primary, replica):
        stack = Stack()
        try:
            environ = app_environment(tmp_path, primary, BACKDROP_ADMIN_TOKEN="replica-admin")
            write = stack.add(start_app("write", environ, tmp_path))
            wait_until_up([write])  # it migrated the primary
            _caught_up(primary, replica)  # the replica has the schema: the read app may start
            read = stack.add(start_app("read", dict(environ, BACKDROP_READ_DATABASE_URL=replica), tmp_path))
            wait_until_up([read])
            created = requests.post(f"{write.url}/data-sets", data=json.dumps(CONFIG), headers=ADMIN, timeout=30)
            assert created.status_code == 201, created.text

            _post(write.url, "a", "b")
            ids, etag = _poll(lambda: (found := _read(read.url))[0] == ["a", "b"] and found, "records on the replica")

            assert _sql(replica, "SELECT pg_wal_replay_pause()::text") == ""
            _poll(lambda: _sql(replica, "SELECT pg_get_wal_replay_pause_state()") == "paused", "replay paused")
            _post(write.url, "c")
            stored = "SELECT array_agg(id ORDER BY id) FROM backdrop_records"
            assert (_sql(primary, stored), _sql(replica, stored)) == (["a", "b", "c"], ["a", "b"])  # it lags
            for _ in range(4):  # both read workers: the replica's data under the replica's version
                assert _read(read.url) == (["a", "b"], etag)
            stale = requests.get(f"{read.url}/data/rep/things?sort_by=_id:ascending",
                                 headers={"If-None-Match": etag}, timeout=30)
            assert stale.status_code == 304

            _sql(replica, "SELECT pg_wal_replay_resume()::text")
            ids, new_etag = _poll(lambda: (found := _read(read.url))[0] == ["a", "b", "c"] and found,
                                  "the new record after replay resumed")
            assert new_etag != etag

            assert _sql(replica, "SELECT pg_is_in_recovery()")  # read-only all along: no write could succeed
            assert "read-only transaction" not in read.log_text(tail=10**6)
        finally:
            stack.stop()


def test_a_read_database_behind_the_code_is_refused_and_never_migrated(tmp_path):
    """A replica follows its primary's schema: the read app checks it and refuses to start
    with the usual message, even with BACKDROP_AUTO_MIGRATE on, and writes nothing to it."""
    unavailable = support_for("postgres").unavailable()
    if unavailable:
        pytest.skip(f"SKIP postgres: {unavailable}")
    with fresh_postgres_database() as empty:
        settings = Settings.from_env({"BACKDROP_ENV": "test"}, database_url=f"sqlite:///{tmp_path}/primary.db",
                                     read_database_url=empty, auto_migrate=True)
        with pytest.raises(MigrationsPending, match="BACKDROP_AUTO_MIGRATE is off, so run `backdrop migrate`"):
            create_app(settings)
        assert _sql(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
