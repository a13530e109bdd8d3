"""Contract: data-set configurations and their versions, on every engine."""
from __future__ import annotations

import pytest
from storage_support import CONFIG, record

from backdrop.core.storage.base import AlreadyExists, NotFound


def config(name: str, group: str, data_type: str, **extra) -> dict:
    return {"name": name, "data_group": group, "data_type": data_type, **extra}


def test_a_created_configuration_is_returned_by_name_and_by_group_and_type(engine):
    stored = config("ds", "g", "t", capped_size=0, schema={"type": "object"})
    engine.create_data_set(stored)
    assert engine.get_data_set("ds") == stored
    assert engine.find_data_set("g", "t") == stored


def test_unknown_names_and_pairs_find_nothing(engine):
    engine.create_data_set(config("ds", "g", "t"))
    assert engine.get_data_set("other") is None
    assert engine.find_data_set("g", "other") is None
    assert engine.find_data_set("other", "t") is None


def test_creating_a_taken_name_is_refused(engine):
    engine.create_data_set(config("ds", "g", "t"))
    with pytest.raises(AlreadyExists):
        engine.create_data_set(config("ds", "g2", "t2"))
    assert engine.get_data_set("ds")["data_group"] == "g"


def test_creating_a_taken_group_and_type_is_refused(engine):
    engine.create_data_set(config("ds", "g", "t"))
    with pytest.raises(AlreadyExists):
        engine.create_data_set(config("other", "g", "t"))
    assert engine.get_data_set("other") is None


def test_list_returns_every_configuration_sorted_by_name(engine):
    for name in ("b_set", "a_set", "c_set"):
        engine.create_data_set(config(name, "g", name))
    assert [c["name"] for c in engine.list_data_sets()] == ["a_set", "b_set", "c_set"]


def test_list_is_empty_without_configurations(engine):
    assert engine.list_data_sets() == []


def test_replace_changes_the_configuration_and_keeps_the_records(engine):
    engine.create_data_set(config("ds", "g", "t", realtime=False))
    engine.save_records("ds", [record("a")])
    engine.replace_data_set("ds", config("ds", "g", "t2", realtime=True))
    assert engine.get_data_set("ds") == config("ds", "g", "t2", realtime=True)
    assert engine.find_data_set("g", "t") is None
    assert engine.get_record("ds", "a") is not None


def test_replace_of_an_unknown_data_set_is_not_found(engine):
    with pytest.raises(NotFound):
        engine.replace_data_set("ds", config("ds", "g", "t"))


def test_replace_onto_another_data_sets_group_and_type_is_refused(engine):
    engine.create_data_set(config("one", "g", "t1"))
    engine.create_data_set(config("two", "g", "t2"))
    with pytest.raises(AlreadyExists):
        engine.replace_data_set("two", config("two", "g", "t1"))
    assert engine.get_data_set("two")["data_type"] == "t2"


def test_replace_keeping_its_own_group_and_type_is_allowed(engine):
    engine.create_data_set(config("ds", "g", "t"))
    engine.replace_data_set("ds", config("ds", "g", "t", published=False))
    assert engine.get_data_set("ds")["published"] is False


def test_delete_removes_the_configuration_and_its_records(engine):
    engine.create_data_set(config("ds", "g", "t"))
    engine.save_records("ds", [record("a")])
    assert engine.delete_data_set("ds") is True
    assert engine.get_data_set("ds") is None
    assert engine.get_record("ds", "a") is None
    assert engine.data_set_version("ds") is None


def test_delete_leaves_other_data_sets_alone(engine):
    engine.create_data_set(config("one", "g", "t1"))
    engine.create_data_set(config("two", "g", "t2"))
    engine.save_records("two", [record("a")])
    engine.delete_data_set("one")
    assert engine.get_record("two", "a") is not None


def test_delete_of_an_unknown_data_set_answers_false(engine):
    assert engine.delete_data_set("ds") is False


def test_a_deleted_name_and_pair_can_be_created_again(engine):
    engine.create_data_set(config("ds", "g", "t"))
    engine.delete_data_set("ds")
    engine.create_data_set(config("ds", "g", "t"))
    assert engine.get_data_set("ds") == config("ds", "g", "t")


# --- versions -------------------------------------------------------------------------


def test_an_unknown_data_set_has_no_version(engine):
    assert engine.data_set_version("ds") is None


def test_a_created_data_set_has_a_version(engine):
    engine.create_data_set(CONFIG)
    assert isinstance(engine.data_set_version("ds"), int)


CHANGES = {
    "replace": lambda e: e.replace_data_set("ds", dict(CONFIG, realtime=True)),
    "save": lambda e: e.save_records("ds", [record("new")]),
    "save an empty batch": lambda e: e.save_records("ds", []),
    "upsert": lambda e: e.save_records("ds", [record("kept", value=2)]),
    "empty": lambda e: e.empty_data_set("ds"),
    "delete a record": lambda e: e.delete_record("ds", "kept"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_every_change_takes_a_newer_version(engine, change):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("kept", value=1)])
    before = engine.data_set_version("ds")
    CHANGES[change](engine)
    assert engine.data_set_version("ds") > before


def test_deleting_a_missing_record_keeps_the_version(engine):
    engine.create_data_set(CONFIG)
    before = engine.data_set_version("ds")
    assert engine.delete_record("ds", "missing") is False
    assert engine.data_set_version("ds") == before


def test_reads_never_change_the_version(engine):
    from backdrop.core.storage.base import AggregateQuery, RecordQuery

    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("a")])
    before = engine.data_set_version("ds")
    engine.get_data_set("ds")
    engine.list_data_sets()
    engine.get_record("ds", "a")
    list(engine.find("ds", RecordQuery()))
    engine.aggregate("ds", AggregateQuery(group_by=("_id",)))
    engine.last_updated()
    assert engine.data_set_version("ds") == before


def test_versions_come_from_one_sequence_across_data_sets(engine):
    engine.create_data_set(config("one", "g", "t1"))
    engine.create_data_set(config("two", "g", "t2"))
    engine.save_records("one", [record("a")])
    one = engine.data_set_version("one")
    engine.save_records("two", [record("a")])
    two = engine.data_set_version("two")
    assert two > one
    engine.save_records("one", [record("b")])
    assert engine.data_set_version("one") > two


def test_a_recreated_data_set_never_reuses_an_old_version(engine):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("a")])
    old = engine.data_set_version("ds")
    engine.delete_data_set("ds")
    engine.create_data_set(CONFIG)
    assert engine.data_set_version("ds") > old


def test_a_failed_create_keeps_the_existing_version(engine):
    engine.create_data_set(CONFIG)
    before = engine.data_set_version("ds")
    with pytest.raises(AlreadyExists):
        engine.create_data_set(CONFIG)
    assert engine.data_set_version("ds") == before
