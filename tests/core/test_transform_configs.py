"""Transform and dashboard configurations: refused at creation when they cannot work."""
from __future__ import annotations

import pytest

from backdrop.core import dashboards, registry, transforms
from backdrop.core.registry import ConfigError, Conflict, Missing
from backdrop.core.storage import open_storage


@pytest.fixture
def storage():
    engine = open_storage("memory://")
    for group, data_type in [("visas", "transactions"), ("visas", "takeup"), ("carers", "completion-rate")]:
        registry.create(engine, {"data_group": group, "data_type": data_type})
    yield engine
    engine.close()


def rate_transform(**changes):
    transform = {
        "type": "rate",
        "input": {"data-group": "visas", "data-type": "transactions"},
        "query-parameters": {"period": "week", "group_by": "channel", "collect": ["count:sum"]},
        "options": {"denominatorMatcher": ".+", "numeratorMatcher": "digital",
                    "matchingAttribute": "channel", "valueAttribute": "count:sum"},
        "output": {"data-type": "takeup"},
    }
    transform.update(changes)
    return transform


def test_a_created_transform_gets_an_id_and_its_task_name(storage):
    created = transforms.create(storage, rate_transform(type={"function": "backdrop.transformers.tasks.rate.compute"}))
    assert created["type"] == "rate" and isinstance(created["id"], str)
    assert transforms.get(storage, created["id"]) == created
    assert transforms.list_all(storage) == [created]


def test_an_unknown_task_is_refused(storage):
    with pytest.raises(ConfigError, match="Unknown transform type 'frobnicate'"):
        transforms.create(storage, rate_transform(type="frobnicate"))


def test_an_output_without_a_data_type_is_refused(storage):
    with pytest.raises(ConfigError, match="data-type"):
        transforms.create(storage, rate_transform(output={"data-group": "visas"}))


def test_invalid_options_are_refused(storage):
    with pytest.raises(ConfigError, match="Invalid options"):
        transforms.create(storage, rate_transform(options={"matchingAttribute": "channel"}))


def test_invalid_query_parameters_are_refused(storage):
    with pytest.raises(ConfigError, match="Invalid query-parameters"):
        transforms.create(storage, rate_transform(**{"query-parameters": {"period": "fortnight"}}))


def test_a_concrete_input_that_does_not_exist_is_missing(storage):
    with pytest.raises(Missing):
        transforms.create(storage, rate_transform(input={"data-group": "nope", "data-type": "transactions"}))


def test_a_star_input_need_not_exist(storage):
    created = transforms.create(storage, {"type": "latest_dataset_value",
                                          "input": {"data-group": "*", "data-type": "digital-takeup"},
                                          "output": {"data-group": "aggregates", "data-type": "latest-values"}})
    assert transforms.matches(created, "anything", "digital-takeup")
    assert not transforms.matches(created, "anything", "completion-rate")


def test_unknown_fields_are_refused(storage):
    with pytest.raises(ConfigError, match="Unknown transform field: colour"):
        transforms.create(storage, rate_transform(colour="blue"))


def test_an_output_into_its_own_input_is_a_cycle(storage):
    with pytest.raises(ConfigError, match="Transform would create a cycle: visas_transactions -> visas_transactions"):
        transforms.create(storage, rate_transform(output={"data-type": "transactions"}))


def test_a_longer_cycle_is_refused_with_its_path(storage):
    transforms.create(storage, rate_transform())
    back = rate_transform(input={"data-group": "visas", "data-type": "takeup"}, output={"data-type": "transactions"})
    with pytest.raises(ConfigError, match="visas_takeup -> visas_transactions -> visas_takeup"):
        transforms.create(storage, back)


def test_a_cycle_through_a_star_input_is_refused(storage):
    transforms.create(storage, {"type": "debug", "input": {"data-group": "*", "data-type": "takeup"},
                                "output": {"data-type": "transactions"}})
    with pytest.raises(ConfigError, match="cycle"):
        transforms.create(storage, rate_transform())


def test_replace_keeps_the_id_and_checks_again(storage):
    created = transforms.create(storage, rate_transform())
    replaced = transforms.replace(storage, created["id"], rate_transform(output={"data-type": "other"}))
    assert replaced["id"] == created["id"] and replaced["output"] == {"data-type": "other"}
    with pytest.raises(ConfigError, match="cycle"):
        transforms.replace(storage, created["id"], rate_transform(output={"data-type": "transactions"}))


def test_delete_and_missing_transforms(storage):
    created = transforms.create(storage, rate_transform())
    transforms.delete(storage, created["id"])
    with pytest.raises(Missing):
        transforms.get(storage, created["id"])
    with pytest.raises(Missing):
        transforms.delete(storage, created["id"])


def test_transforms_of_a_data_set_include_star_inputs(storage):
    concrete = transforms.create(storage, rate_transform())
    star = transforms.create(storage, {"type": "debug", "input": {"data-group": "*", "data-type": "transactions"},
                                       "output": {"data-type": "debugged"}})
    assert {t["id"] for t in transforms.for_data_set(storage, "visas", "transactions")} == {concrete["id"], star["id"]}
    assert transforms.output_of(star, "visas") == ("visas", "debugged")


def test_dashboards_default_and_conflict(storage):
    created = dashboards.create(storage, {"slug": "visas", "data_sets": ["visas_takeup"]})
    assert created == {"slug": "visas", "published": True, "service_id": None, "data_sets": ["visas_takeup"]}
    with pytest.raises(Conflict, match="Dashboard 'visas' already exists"):
        dashboards.create(storage, {"slug": "visas"})


def test_a_dashboard_naming_an_unknown_data_set_is_refused(storage):
    with pytest.raises(ConfigError, match="not a configured data set"):
        dashboards.create(storage, {"slug": "visas", "data_sets": ["nope"]})


def test_dashboard_lookups_for_the_latest_value_transforms(storage):
    dashboards.create(storage, {"slug": "a", "data_sets": ["visas_takeup"], "service_id": "svc"})
    dashboards.create(storage, {"slug": "b", "published": False, "data_sets": ["visas_takeup"]})
    assert [d["slug"] for d in dashboards.showing(storage, "visas_takeup")] == ["a", "b"]
    assert [d["slug"] for d in dashboards.for_service(storage, "svc")] == ["a"]
    dashboards.delete(storage, "a")
    with pytest.raises(Missing, match="No dashboard named 'a'"):
        dashboards.get(storage, "a")
