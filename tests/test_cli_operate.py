"""The operator commands: `data-sets empty`, `records delete`, `status`, and what
`data-sets load` says (and keeps, with --merge) when it replaces a configuration."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backdrop.cli import main
from backdrop.core import registry
from backdrop.core.data_set import DataSet
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def audit_log(tmp_path):
    return tmp_path / "audit.log"


@pytest.fixture
def run(database, audit_log):
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, env={
            "BACKDROP_DATABASE_URL": database, "BACKDROP_ENV": "test", "BACKDROP_AUDIT_LOG": str(audit_log)})

    return invoke


@pytest.fixture
def storage(database):
    opened = open_storage(database)
    yield opened
    opened.close()


def _store(storage, name: str, records: list[dict]) -> None:
    DataSet(storage, registry.get(storage, name)).store(records)


def _ids(storage, name: str) -> list[str]:
    return sorted(record["_id"] for record in storage.find(name, RecordQuery()))


def _audited(audit_log) -> list[dict]:
    return [json.loads(line) for line in audit_log.read_text().splitlines()]


RECORDS = [{"_id": "a", "_timestamp": "2014-01-06T00:00:00Z", "count": 1},
           {"_id": "b", "_timestamp": "2014-01-07T00:00:00Z", "count": 2}]


def test_empty_deletes_every_record_keeps_the_configuration_and_is_audited(run, storage, audit_log):
    assert run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--bearer-token", "tok").exit_code == 0
    _store(storage, "g1_t1", RECORDS)
    result = run("data-sets", "empty", "g1_t1")
    assert (result.exit_code, result.output) == (0, "g1_t1 now contains 0 records\n")
    assert _ids(storage, "g1_t1") == [] and registry.get(storage, "g1_t1").bearer_token_hash is not None
    [line] = _audited(audit_log)
    assert (line["message"], line["data_set"], line["token_fingerprint"]) == ("Data delete action", "g1_t1", None)


def test_deleting_a_data_set_is_audited_as_the_admin_route_does(run, audit_log):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1")
    assert run("data-sets", "delete", "g1_t1").exit_code == 0
    [line] = _audited(audit_log)
    assert (line["message"], line["data_set"], line["token_fingerprint"]) == ("Data delete action", "g1_t1", None)


def test_empty_of_an_unknown_data_set_fails_in_one_line(run, audit_log):
    result = run("data-sets", "empty", "nobody")
    assert (result.exit_code, result.output) == (1, "Error: No data set named 'nobody'\n")
    assert not audit_log.exists()


def test_records_delete_removes_one_record_and_is_audited_as_the_route_does(run, storage, audit_log):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1")
    _store(storage, "g1_t1", RECORDS)
    result = run("records", "delete", "g1_t1", "a")
    assert (result.exit_code, result.output) == (0, "Deleted a from g1_t1\n")
    assert _ids(storage, "g1_t1") == ["b"]
    [line] = _audited(audit_log)
    assert (line["message"], line["record_id"]) == ("Data delete action", "a")


def test_records_delete_of_a_missing_record_fails_changes_nothing_and_is_audited_rejected(run, storage, audit_log):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1")
    _store(storage, "g1_t1", RECORDS)
    result = run("records", "delete", "g1_t1", "zzz")
    assert (result.exit_code, result.output) == (1, "Error: No record found with id zzz\n")
    assert _ids(storage, "g1_t1") == ["a", "b"]
    [line] = _audited(audit_log)
    assert (line["message"], line["record_id"], line["problems"]) == ("Data delete rejected", "zzz", 1)
    unknown = run("records", "delete", "nobody", "a")
    assert (unknown.exit_code, unknown.output) == (1, "Error: No data set named 'nobody'\n")


def test_status_is_quiet_and_exits_0_when_every_data_set_is_in_date(run, storage):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1")
    _store(storage, "g1_t1", RECORDS)
    result = run("status")
    assert (result.exit_code, result.output) == (0, "All data_sets are in date\n")


def test_status_lists_late_data_sets_and_exits_1(run, storage):
    for group in ("late1", "late2", "fresh"):
        run("data-sets", "create", "--data-group", group, "--data-type", "t1",
            "--max-age-expected", "86400" if group == "fresh" else "0")
        _store(storage, f"{group}_t1", RECORDS)
    run("data-sets", "create", "--data-group", "never", "--data-type", "t1", "--max-age-expected", "0")
    result = run("status")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == ["late1_t1", "late2_t1"]
    assert lines[0].split("\t")[3] == "max age expected 0"
    assert lines[-1] == "2 data-sets are out of date"


def test_status_as_json_is_the_answer_of_the_status_route(run, storage):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--max-age-expected", "0")
    _store(storage, "g1_t1", RECORDS)
    result = run("status", "--json")
    assert result.exit_code == 1
    answer = json.loads(result.output)
    assert (answer["status"], answer["message"]) == ("not okay", "1 data-set is out of date")
    [late] = answer["data_sets"]
    assert late["name"] == "g1_t1" and late["last-updated"].endswith("+00:00")


def _load(run, tmp_path, configs, *options):
    path = tmp_path / "sets.json"
    path.write_text(json.dumps(configs))
    return run("data-sets", "load", str(path), *options), str(path)


def test_load_names_each_field_a_replacement_resets_to_its_default(run, storage, tmp_path):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--bearer-token", "tok",
        "--raw-queries-allowed", "--max-age-expected", "86400", "--unpublished")
    result, path = _load(run, tmp_path, [{"data_group": "g1", "data_type": "t1", "published": False}])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "updated g1_t1",
        f"warning: g1_t1: {path} leaves out raw_queries_allowed (was true), max_age_expected (was 86400),"
        " reset to the default; use --merge to keep stored values"]
    stored = registry.get(storage, "g1_t1")
    assert (stored.raw_queries_allowed, stored.max_age_expected) == (False, 2678400)
    assert stored.bearer_token_hash is not None


def test_load_with_merge_keeps_what_the_file_leaves_out(run, storage, tmp_path):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--bearer-token", "tok",
        "--raw-queries-allowed", "--auto-ids", "day,kind")
    before = registry.get(storage, "g1_t1")
    result, _ = _load(run, tmp_path, [{"data_group": "g1", "data_type": "t1", "published": False}], "--merge")
    assert (result.exit_code, result.output) == (0, "updated g1_t1\n")
    stored = registry.get(storage, "g1_t1")
    assert (stored.raw_queries_allowed, stored.auto_ids, stored.published) == (True, ("day", "kind"), False)
    assert stored.bearer_token_hash == before.bearer_token_hash


def test_load_with_merge_creates_what_does_not_exist(run, storage, tmp_path):
    result, _ = _load(run, tmp_path, [{"data_group": "g2", "data_type": "t2"}], "--merge")
    assert (result.exit_code, result.output) == (0, "created g2_t2\n")
