"""`backdrop transforms runs ID` and `backdrop transforms status`, after runs made by `backdrop transform`."""
import json

import pytest
from click.testing import CliRunner
from visas import LATEST_VALUE, RATE

from backdrop.cli import main
from backdrop.core import registry, transforms
from backdrop.core.data_set import DataSet
from backdrop.core.storage import open_storage

RANGE = ("--start", "2014-01-06T00:00:00Z", "--end", "2014-01-08T00:00:00Z")


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def run(database):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), env={
        "BACKDROP_DATABASE_URL": database, "BACKDROP_ENV": "test", "BACKDROP_TRANSFORM_RUNS_KEPT": "2"})


@pytest.fixture
def rate(database):
    """The rate transform of a data set holding two records; its id."""
    storage = open_storage(database)
    try:
        config = registry.create(storage, {"data_group": "visas", "data_type": "transactions", "bearer_token": "t"})
        DataSet(storage, config).store([{"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
                                        {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1}])
        return transforms.create(storage, RATE)["id"]
    finally:
        storage.close()


def add_transform(database, body) -> str:
    storage = open_storage(database)
    try:
        return transforms.create(storage, body)["id"]
    finally:
        storage.close()


def lines(result) -> list[list[str]]:
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.output.splitlines()]


def test_a_transform_never_run_has_no_runs_and_says_so_in_the_status(run, rate):
    assert lines(run("transforms", "runs", rate)) == []
    assert lines(run("transforms", "status")) == [[rate, "never run"]]


def test_runs_of_backdrop_transform_are_listed_newest_first_and_the_status_shows_the_last(run, rate):
    for _ in range(3):
        assert run("transform", "visas", "transactions", *RANGE).exit_code == 0
    runs = lines(run("transforms", "runs", rate))
    assert len(runs) == 2  # BACKDROP_TRANSFORM_RUNS_KEPT
    assert [run_[1:] for run_ in runs] == [["ok", "1 records", "command",
                                            "2014-01-06T00:00:00+00:00..2014-01-08T00:00:00+00:00"]] * 2
    assert runs[0][0] >= runs[1][0]
    [status] = lines(run("transforms", "status"))
    assert status == [rate, "ok", runs[0][0], "1 records"]
    as_json = json.loads(run("transforms", "runs", rate, "--json", "--limit", "1").output)
    assert [(entry["outcome"], entry["trigger"], entry["records_written"]) for entry in as_json] == \
        [("ok", "command", 1)]


def test_a_run_failing_on_its_source_data_is_recorded_and_the_command_fails_in_one_line(run, rate, database):
    failing = add_transform(database, LATEST_VALUE)
    result = run("transform", "visas", "transactions", *RANGE)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (f"Error: latest_dataset_value {failing} failed on its source data:"
                                              " latest_dataset_value cannot read data type 'transactions'")
    [failed] = lines(run("transforms", "runs", failing))
    assert failed[1:4] == ["failed on source data", "0 records", "command"]
    assert failed[-1] == "latest_dataset_value cannot read data type 'transactions'"
    status = {line[0]: line[1:] for line in lines(run("transforms", "status"))}
    assert status[failing][0] == "failed on source data"


def test_an_unknown_transform_fails_in_one_line(run, rate):
    result = run("transforms", "runs", "no-such-id")
    assert (result.exit_code, result.output) == (1, "Error: No transform with id 'no-such-id'\n")


def test_a_limit_below_one_is_refused(run, rate):
    result = run("transforms", "runs", rate, "--limit", "0")
    assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output
