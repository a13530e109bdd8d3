"""`backdrop export`, `import`, `replicate` and `json-to-csv` against temporary SQLite databases.

The round trip between engines, `sync` over HTTP and the memory smoke test are in
tests/test_transfer_http.py.
"""
import http.client
import io
import json
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from backdrop import cli_transfer
from backdrop.cli import main
from backdrop.core import registry
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def run(database):
    def invoke(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input,
                                  env={"BACKDROP_DATABASE_URL": database, "BACKDROP_ENV": "test"})

    return invoke


@pytest.fixture
def storage(database):
    opened = open_storage(database)
    yield opened
    opened.close()


def records(storage, name):
    return sorted(storage.find(name, RecordQuery()), key=lambda record: record["_id"])


def create(storage, name, **fields):
    return registry.create(storage, {"name": name, "data_group": name.replace("_", "-"), "data_type": "t", **fields})


def test_the_commands_have_help(run):
    listed = run("--help").output
    for command in ("export", "import", "sync", "replicate", "json-to-csv"):
        assert command in listed
        result = run(command, "--help")
        assert result.exit_code == 0 and f" {command} [OPTIONS]" in result.output


def test_import_stores_ndjson_through_the_write_path_and_export_writes_it_back(run, storage, tmp_path):
    create(storage, "alpha", auto_ids=["region", "_timestamp"])
    source = tmp_path / "in.ndjson"
    source.write_text('{"_timestamp": "2014-01-06T01:00:00+01:00", "region": "north", "count": 3}\n'
                      '\n'
                      '{"_timestamp": "2014-01-07", "region": "south", "count": 2.5, "ok": true, "note": null}\n')
    result = run("import", "alpha", str(source))
    assert result.exit_code == 0, result.output
    assert result.stdout == "alpha: stored 2 records, rejected 0 (0 batches)\n"
    stored = records(storage, "alpha")
    assert [record["_timestamp"] for record in stored] == ["2014-01-06T00:00:00+00:00", "2014-01-07T00:00:00+00:00"]
    assert all("_updated_at" in record and "_week_start_at" in record for record in stored)  # as a POST stores them
    (request,) = storage.unsent_transform_requests(10)  # the worker's relay sends it, as after a POST
    assert (request.data_set, request.earliest.isoformat()) == ("alpha", "2014-01-06T00:00:00+00:00")
    assert stored[0]["_id"].startswith("bm9ydGgu")  # the auto id: base64 of "north."...
    exported = run("export", "alpha")
    assert exported.exit_code == 0
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(lines, key=lambda record: record["_id"]) == [
        {key: value for key, value in record.items() if key != "_updated_at" and not key.endswith("_start_at")}
        for record in stored]
    assert "exported 2 records of alpha" in exported.stderr


def test_a_batch_with_a_bad_record_is_stored_not_at_all_and_the_exit_says_so(run, storage, tmp_path):
    create(storage, "alpha")
    source = tmp_path / "in.csv"
    source.write_text("_timestamp,count,label\n"
                      "2014-01-06T00:00:00Z,1,a\n"
                      "2014-01-07T00:00:00Z,2,b\n"
                      "yesterday,3,c\n"        # the second batch: refused whole
                      "2014-01-08T00:00:00Z,4,d\n"
                      "2014-01-09T00:00:00Z,5\n"  # a short row: the third batch refused too
                      "2014-01-10T00:00:00Z,6,f\n"
                      "2014-01-11T00:00:00Z,7,g\n")
    result = run("import", "alpha", str(source), "--batch-size", "2")
    assert result.exit_code == 1
    assert result.stdout == "alpha: stored 3 records, rejected 4 (2 batches)\n"
    assert "line 4: the _timestamp must be a date in the format yyyy-MM-ddT00:00:00Z" in result.stderr
    assert "line 6: has 2 cells, the header 3" in result.stderr
    assert "Error: 2 batches of alpha were rejected and not stored" in result.stderr
    assert sorted(record["count"] for record in records(storage, "alpha")) == [1, 2, 7]


def test_csv_cells_become_numbers_and_booleans_and_empty_cells_are_left_out(run, storage, tmp_path):
    create(storage, "alpha")
    source = tmp_path / "in.csv"
    source.write_text('_id,whole,real,flag,text,blank,leading\r\nr1,42,-1.5e3,true,"a, b",,007\r\nr2,0,0.25,false,1x,,-0\r\n')
    assert run("import", "alpha", str(source)).exit_code == 0
    one, two = records(storage, "alpha")
    assert {key: one[key] for key in ("whole", "real", "flag", "text", "leading")} == {
        "whole": 42, "real": -1500.0, "flag": True, "text": "a, b", "leading": "007"}
    assert "blank" not in one and two["leading"] == 0 and two["flag"] is False and two["text"] == "1x"


def test_csv_export_and_json_import(run, storage, tmp_path):
    create(storage, "alpha")
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"data": [{"_id": "b", "_timestamp": "2014-01-06T00:00:00Z", "nn": 2},
                                           {"_id": "a", "ss": "x,y", "ff": 2.0}]}))
    assert run("import", "alpha", str(answer)).exit_code == 0
    out = tmp_path / "out.csv"
    result = run("export", "alpha", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0
    assert out.read_bytes() == (b'_id,_timestamp,ff,nn,ss\r\nb,2014-01-06T00:00:00+00:00,,2,\r\n'
                                b'a,,2.0,,"x,y"\r\n')  # in write order


def test_export_keeps_to_the_time_range(run, storage, tmp_path):
    create(storage, "alpha")
    source = tmp_path / "in.ndjson"
    source.write_text("".join(json.dumps({"_timestamp": f"2014-01-{day:02d}T00:00:00Z", "day": day}) + "\n"
                              for day in range(1, 11)) + '{"day": 0}\n')
    assert run("import", "alpha", str(source)).exit_code == 0
    result = run("export", "alpha", "--start", "2014-01-03", "--end", "2014-01-05T00:00:00Z")
    assert [json.loads(line)["day"] for line in result.stdout.splitlines()] == [3, 4]
    assert len(run("export", "alpha").stdout.splitlines()) == 11


def test_import_reads_standard_input(run, storage):
    create(storage, "alpha")
    result = run("import", "alpha", "-", input='{"nn": 1}\n{"nn": 2}\n')
    assert result.exit_code == 0 and len(records(storage, "alpha")) == 2


def test_unreadable_input_and_unknown_data_sets_fail_in_one_line(run, storage, tmp_path):
    create(storage, "alpha")
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    for args, message in (
            (("import", "alpha", str(broken)), f"Error: {broken} is not valid json: "),
            (("import", "alpha", str(tmp_path / "missing.ndjson")), "Error: cannot read "),
            (("import", "nosuch", str(broken)), "Error: No data set named 'nosuch'"),
            (("export", "nosuch"), "Error: No data set named 'nosuch'")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.output.startswith(message) and result.output.count("\n") == 1, result.output
    not_json = tmp_path / "lines.ndjson"
    not_json.write_text('{"nn": 1}\nnope\n')
    result = run("import", "alpha", str(not_json))
    assert result.exit_code == 1 and "line 2: not valid JSON" in result.stderr
    assert records(storage, "alpha") == []


def test_a_progress_bar_is_drawn_on_a_terminal_only(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stderr, drawn in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(sys, "stderr", stderr)
        with cli_transfer._progress(iter(range(3)), "exporting alpha") as items:
            assert list(items) == [0, 1, 2]
        assert ("exporting alpha" in stderr.getvalue()) is drawn


def test_an_export_reimported_into_an_auto_id_data_set_keeps_its_ids(run, storage, tmp_path):
    create(storage, "alpha", auto_ids=["region", "_timestamp"])
    create(storage, "beta", auto_ids=["region", "_timestamp"])
    assert run("import", "alpha", "-", input='{"_timestamp": "2014-01-06T00:00:00Z", "region": "north"}\n').exit_code == 0
    exported = run("export", "alpha").stdout
    assert '"_timestamp":"2014-01-06T00:00:00+00:00"' in exported  # another text than the id was made from
    assert run("import", "beta", "-", input=exported).exit_code == 0
    assert [record["_id"] for record in records(storage, "beta")] == [record["_id"] for record in records(storage, "alpha")]


def test_sync_notices_an_export_cut_short(storage):
    """What `sync` reads from the other write app, cut before its end line (the database
    failed mid-stream): the records that came are stored, and the command says the copy is partial."""
    config = create(storage, "alpha")
    stream = [("{\"configuration\": " + json.dumps(config.public_dict()) + "}\n").encode(), b'{"nn": 1}\n']
    with pytest.raises(click.ClickException, match="the export of alpha ended early: 1 records copied"):
        cli_transfer._sync_one(storage, iter(stream), "alpha", 10)
    assert [record["nn"] for record in records(storage, "alpha")] == [1]
    stream.append(b'{"end": {"records": 1}}\n')
    assert cli_transfer._sync_one(storage, iter(stream), "alpha", 10).stored == 1

    def cut_chunked_answer():  # what http.client raises when the other side's worker is ended midway
        yield from stream[:2]
        raise http.client.IncompleteRead(b"", 20)

    with pytest.raises(click.ClickException, match=r"reading the export of alpha failed \(IncompleteRead"):
        cli_transfer._sync_one(storage, cut_chunked_answer(), "alpha", 10)


# ---------------------------------------------------------------------------- replicate


def test_replicate_copies_between_databases(run, storage, tmp_path):
    create(storage, "alpha", bearer_token="tok")
    storage.close()
    assert run("import", "alpha", "-", input='{"nn": 1}\n').exit_code == 0
    target = f"sqlite:///{tmp_path}/copy.db"
    result = run("replicate", f"sqlite:///{tmp_path}/cli.db", target)
    assert result.exit_code == 0 and result.output == "alpha: 1 records\n"
    copy = open_storage(target)
    try:
        assert [record["nn"] for record in copy.find("alpha", RecordQuery())] == [1]
        assert copy.get_data_set("alpha")["bearer_token_hash"] == registry.get(storage, "alpha").bearer_token_hash
    finally:
        copy.close()


def test_replicate_refuses_what_it_cannot_do_in_one_line(run, storage, tmp_path):
    create(storage, "alpha")
    source = f"sqlite:///{tmp_path}/cli.db"
    target = f"sqlite:///{tmp_path}/copy.db"
    missing = tmp_path / "missing.db"
    for args, message in (
            ((f"sqlite:///{missing}", target), f"Error: SOURCE: no SQLite database at {missing}\n"),
            ((str(tmp_path / "cli.db"), target),
             f"Error: SOURCE must be a database URL, not a file path: for this file use sqlite:///{tmp_path}/cli.db\n"),
            ((source, "copy.db"), "Error: TARGET must be a database URL, not a file path: for this file use"
                                  " sqlite:///copy.db\n"),
            ((source, target, "--only", "alpha", "--only", "beta"), "Error: --only: no data set named beta in the source\n")):
        result = run("replicate", *args)
        assert (result.exit_code, result.output) == (1, message)
    assert not missing.exists()  # not created as a new empty database
    assert open_storage(target).get_data_set("alpha") is None  # --only refused before copying anything


# ---------------------------------------------------------------------------- json-to-csv


def test_json_to_csv_writes_a_file_or_standard_output(run, tmp_path):
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"data": [{"a": 1, "b": "x"}, {"a": 2, "c": True}]}))
    result = run("json-to-csv", str(answer), "-")
    assert result.exit_code == 0
    assert result.stdout_bytes == b"a,b,c\r\n1,x,\r\n2,,true\r\n"
    assert result.stderr == "wrote 2 rows to standard output\n"
    assert run("json-to-csv", str(answer), str(tmp_path / "out.csv")).exit_code == 0
    assert (tmp_path / "out.csv").read_bytes() == b"a,b,c\r\n1,x,\r\n2,,true\r\n"
    piped = run("json-to-csv", input='[{"a": 1}]')
    assert piped.stdout_bytes == b"a\r\n1\r\n"


def test_json_to_csv_refuses_nested_answers_and_missing_files_in_one_line(run, tmp_path):
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"data": [{"a": 1, "values": [{"_count": 1}]}]}))
    result = run("json-to-csv", str(answer))
    assert result.exit_code == 1
    assert result.output == f"Error: {answer}: rows hold nested values: save a raw or flatten=true response instead\n"
    result = run("json-to-csv", str(tmp_path / "none.json"))
    assert (result.exit_code, result.output) == (1, f"Error: cannot read {tmp_path}/none.json: No such file or directory\n")


def test_the_readme_moving_data_block_names_only_real_commands_and_options(run):
    """The README's examples name other installations (not runnable here); every command and
    option they use must exist, so the block cannot drift from the code."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("### Moving data: export, import, sync, replicate", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("#", 1)[0].split() for line in block.splitlines()]
    assert {words[1] for words in lines} == {"export", "import", "sync", "replicate", "json-to-csv"}
    for words in lines:
        assert words[0] == ".venv/bin/backdrop"
        helped = run(words[1], "--help")
        assert helped.exit_code == 0
        for option in (word.strip("[") for word in words[2:] if word.strip("[").startswith("-") and word != "-"):
            assert option in helped.output, (words[1], option)
