"""The `backdrop` command against a temporary SQLite database."""
import json

import pytest
from click.testing import CliRunner

from backdrop.cli import main
from backdrop.core import registry, tokens
from backdrop.core.storage import open_storage


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def run(database, tmp_path):
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input,
                             env={"BACKDROP_DATABASE_URL": database, "BACKDROP_ENV": "test",
                                  "BACKDROP_AUDIT_LOG": str(tmp_path / "audit.log")})

    return invoke


def stored_config(database, name):
    storage = open_storage(database)
    try:
        return registry.get(storage, name)
    finally:
        storage.close()


def test_help_lists_the_data_sets_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    assert "data-sets" in result.output
    sub = run("data-sets", "--help")
    assert all(command in sub.output for command in ("create", "list", "show", "delete", "load"))


def test_create_prints_the_stored_configuration_with_defaults(run, database):
    result = run("data-sets", "create", "--data-group", "carers-allowance", "--data-type", "volumes")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["name"] == "carers_allowance_volumes"
    assert printed["raw_queries_allowed"] is False and printed["published"] is True
    assert stored_config(database, "carers_allowance_volumes").public_dict() == printed


def test_create_takes_every_field(run, database, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object", "required": ["_timestamp"]}')
    result = run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--name", "full",
                 "--bearer-token", "tok", "--raw-queries-allowed", "--not-queryable", "--unpublished",
                 "--realtime", "--max-age-expected", "null", "--capped-size", "4096",
                 "--auto-ids", "_timestamp,foo", "--schema", f"@{schema}", "--upload-format", "excel",
                 "--upload-filter", "a.b", "--upload-filter", "c.d")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == stored_config(database, "full").public_dict() == {
        "name": "full", "data_group": "g1", "data_type": "t1", "has_bearer_token": True,
        "raw_queries_allowed": True, "queryable": False, "published": False, "realtime": True,
        "max_age_expected": None, "capped_size": 4096, "auto_ids": ["_timestamp", "foo"],
        "schema": {"type": "object", "required": ["_timestamp"]}, "upload_format": "excel",
        "upload_filters": ["a.b", "c.d"],
    }


def test_create_without_a_group_fails(run):
    result = run("data-sets", "create", "--data-type", "t1")
    assert result.exit_code != 0
    assert "--data-group" in result.output


def test_create_of_a_taken_name_fails_with_the_message(run):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--name", "taken")
    result = run("data-sets", "create", "--data-group", "g2", "--data-type", "t2", "--name", "taken")
    assert result.exit_code == 1
    assert "Error: Data set 'taken' already exists" in result.output


def test_create_with_an_invalid_value_fails_naming_it(run):
    result = run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--auto-ids", "bad-name")
    assert result.exit_code == 1
    assert "auto_ids" in result.output


def test_create_with_a_schema_that_is_not_json_fails(run):
    result = run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--schema", "{nope")
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_list_prints_names_sorted(run):
    for name, group in (("zebra", "z1"), ("apple", "a1")):
        run("data-sets", "create", "--data-group", group, "--data-type", "t1", "--name", name)
    result = run("data-sets", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["apple\ta1/t1", "zebra\tz1/t1"]


def test_list_as_json(run):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1")
    result = run("data-sets", "list", "--json")
    assert [config["name"] for config in json.loads(result.output)] == ["g1_t1"]


def test_show_prints_one_configuration(run):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--bearer-token", "tok")
    result = run("data-sets", "show", "g1_t1")
    assert result.exit_code == 0
    shown = json.loads(result.output)
    assert shown["has_bearer_token"] is True and "bearer_token" not in shown and "\"tok\"" not in result.output
    listed = run("data-sets", "list", "--json").output
    assert '"has_bearer_token": true' in listed and "bearer_token_hash" not in listed and "scrypt" not in listed


def test_show_of_an_unknown_name_fails(run):
    result = run("data-sets", "show", "nobody")
    assert result.exit_code == 1
    assert "No data set named 'nobody'" in result.output


def test_delete_removes_the_data_set(run, database):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1")
    result = run("data-sets", "delete", "g1_t1")
    assert (result.exit_code, result.output.strip()) == (0, "Deleted g1_t1")
    assert stored_config(database, "g1_t1") is None


def test_delete_of_an_unknown_name_fails(run):
    result = run("data-sets", "delete", "nobody")
    assert result.exit_code == 1
    assert 'No collection exists with name "nobody"' in result.output


def test_load_creates_and_updates(run, database, tmp_path):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--name", "existing")
    configs = [{"name": "existing", "data_group": "g1", "data_type": "t1", "published": False},
               {"data_group": "g2", "data_type": "t2", "bearer_token": "tok"}]
    path = tmp_path / "sets.json"
    path.write_text(json.dumps(configs))
    result = run("data-sets", "load", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["updated existing", "created g2_t2"]
    assert stored_config(database, "existing").published is False
    assert tokens.verify_token("tok", stored_config(database, "g2_t2").bearer_token_hash)


def test_load_without_a_token_keeps_the_stored_hash_and_null_clears_it(run, database, tmp_path):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--bearer-token", "tok")
    kept = stored_config(database, "g1_t1").bearer_token_hash
    path = tmp_path / "sets.json"
    path.write_text(json.dumps([{"data_group": "g1", "data_type": "t1", "published": False}]))
    assert run("data-sets", "load", str(path)).exit_code == 0
    assert stored_config(database, "g1_t1").bearer_token_hash == kept
    path.write_text(json.dumps([{"data_group": "g1", "data_type": "t1", "bearer_token": None}]))
    assert run("data-sets", "load", str(path)).exit_code == 0
    assert stored_config(database, "g1_t1").bearer_token_hash is None


def test_rotate_token_prints_a_new_token_once_and_stores_only_its_hash(run, database):
    run("data-sets", "create", "--data-group", "g1", "--data-type", "t1", "--bearer-token", "old")
    result = run("data-sets", "rotate-token", "g1_t1")
    assert result.exit_code == 0
    token = result.output.strip()
    stored = stored_config(database, "g1_t1").bearer_token_hash
    assert len(token) >= 40 and token not in stored
    assert tokens.verify_token(token, stored) and not tokens.verify_token("old", stored)
    assert token not in run("data-sets", "show", "g1_t1").output
    missing = run("data-sets", "rotate-token", "nobody")
    assert missing.exit_code == 1 and "No data set named 'nobody'" in missing.output


def test_load_reads_stdin(run, database):
    result = run("data-sets", "load", "-", input='[{"data_group": "g1", "data_type": "t1"}]')
    assert result.exit_code == 0, result.output
    assert stored_config(database, "g1_t1") is not None


def test_load_validates_everything_before_writing(run, database, tmp_path):
    path = tmp_path / "sets.json"
    path.write_text(json.dumps([{"data_group": "g1", "data_type": "t1"},
                                {"data_group": "g2", "data_type": "t2", "transforms": []}]))
    result = run("data-sets", "load", str(path))
    assert result.exit_code == 1
    assert "configuration 1: Unknown field: transforms" in result.output
    assert stored_config(database, "g1_t1") is None


def test_load_of_invalid_json_fails(run, tmp_path):
    path = tmp_path / "sets.json"
    path.write_text("[{")
    result = run("data-sets", "load", str(path))
    assert result.exit_code == 1
    assert "is not valid JSON" in result.output


def test_an_unsupported_database_url_fails_cleanly(tmp_path):
    result = CliRunner().invoke(main, ["data-sets", "list"],
                                env={"BACKDROP_DATABASE_URL": "mysql://localhost/x", "BACKDROP_ENV": "test"})
    assert result.exit_code == 1
    assert "mysql" in result.output
    assert "Traceback" not in result.output


def _create_source(run):
    assert run("data-sets", "create", "--data-group", "visas", "--data-type", "transactions",
               "--bearer-token", "tok", "--raw-queries-allowed").exit_code == 0


RATE = {"type": "rate", "input": {"data-group": "visas", "data-type": "transactions"},
        "query-parameters": {"period": "week", "group_by": "channel", "collect": "count:sum"},
        "options": {"matchingAttribute": "channel", "valueAttribute": "count:sum",
                    "numeratorMatcher": "^digital$", "denominatorMatcher": ".+"},
        "output": {"data-type": "digital-takeup"}}


def test_transforms_commands_create_show_update_and_delete(run):
    _create_source(run)
    created = run("transforms", "create", "-", input=json.dumps(RATE))
    assert created.exit_code == 0, created.output
    transform = json.loads(created.output)
    assert json.loads(run("transforms", "show", transform["id"]).output) == transform
    assert json.loads(run("transforms", "list").output) == [transform]
    updated = run("transforms", "update", transform["id"], "-", input=json.dumps({**RATE, "output": {"data-type": "x"}}))
    assert json.loads(updated.output)["output"] == {"data-type": "x"}
    assert run("transforms", "delete", transform["id"]).exit_code == 0
    missing = run("transforms", "show", transform["id"])
    assert missing.exit_code != 0 and "No transform" in missing.output


def test_a_bad_transform_is_refused_with_a_message(run):
    _create_source(run)
    result = run("transforms", "create", "-", input=json.dumps({**RATE, "type": "alchemy"}))
    assert result.exit_code != 0 and "Unknown transform type 'alchemy'" in result.output


def test_creating_an_identical_transform_fails_in_one_line_naming_the_existing_one(run):
    _create_source(run)
    first = json.loads(run("transforms", "create", "-", input=json.dumps(RATE)).output)
    again = run("transforms", "create", "-", input=json.dumps(RATE))
    assert again.exit_code == 1
    assert again.output == f"Error: An identical transform already exists: {first['id']}\n"
    assert len(json.loads(run("transforms", "list").output)) == 1


def test_dashboards_commands(run):
    _create_source(run)
    created = run("dashboards", "create", "-", input=json.dumps({"slug": "visas", "data_sets": ["visas_transactions"]}))
    assert created.exit_code == 0, created.output
    assert json.loads(run("dashboards", "list").output)[0]["slug"] == "visas"
    assert run("dashboards", "delete", "visas").output.strip() == "Deleted visas"


def test_transform_command_runs_the_chain_synchronously(run, database):
    from backdrop.core.data_set import DataSet
    from backdrop.core.storage.base import RecordQuery

    _create_source(run)
    run("transforms", "create", "-", input=json.dumps(RATE))
    storage = open_storage(database)
    try:
        DataSet(storage, registry.get(storage, "visas_transactions")).store([
            {"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
            {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1}])
    finally:
        storage.close()
    result = run("transform", "visas", "transactions", "--start", "2014-01-06T00:00:00Z", "--end", "2014-01-08T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert "1 records into visas_digital_takeup" in result.output
    storage = open_storage(database)
    try:
        [record] = storage.find("visas_digital_takeup", RecordQuery())
    finally:
        storage.close()
    assert record["rate"] == 0.75


def test_transform_command_says_when_a_data_set_has_no_transforms(run):
    _create_source(run)
    result = run("transform", "visas", "transactions", "--start", "2014-01-06T00:00:00Z")
    assert (result.exit_code, result.output) == (0, "no transforms for visas/transactions\n")


def test_transform_command_refuses_an_unknown_data_set_and_bad_dates(run):
    assert "No data set for a/b" in run("transform", "a", "b", "--start", "2014-01-06").output
    bad = run("transform", "a", "b", "--start", "not a date")
    assert bad.exit_code != 0 and "must be a date" in bad.output
