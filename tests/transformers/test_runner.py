"""Running a transform in-process: read the input through the core, write the output."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backdrop.core import dashboards, registry, tokens, transforms
from backdrop.core.data_set import DataSet
from backdrop.core.records import BatchError
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery
from backdrop.transformers.runner import run


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture
def storage():
    engine = open_storage("memory://")
    source = registry.create(engine, {"data_group": "visas", "data_type": "transactions",
                                      "bearer_token": "tok", "published": False, "max_age_expected": 60,
                                      "queryable": False})
    DataSet(engine, source).store([
        {"_timestamp": "2014-01-06T10:00:00Z", "channel": "digital", "count": 3},
        {"_timestamp": "2014-01-07T10:00:00Z", "channel": "paper", "count": 1},
        {"_timestamp": "2014-01-14T10:00:00Z", "channel": "digital", "count": 2},
        {"_timestamp": "2014-01-15T10:00:00Z", "channel": "paper", "count": 2},
    ])
    yield engine
    engine.close()


RATE = {"type": "rate", "input": {"data-group": "visas", "data-type": "transactions"},
        "query-parameters": {"period": "week", "group_by": "channel", "collect": "count:sum"},
        "options": {"matchingAttribute": "channel", "valueAttribute": "count:sum",
                    "numeratorMatcher": "^digital$", "denominatorMatcher": ".+"},
        "output": {"data-type": "digital-takeup"}}


def _run(storage, transform, now=at(2014, 2, 1)):
    source = storage.get_data_set("visas_transactions")
    return run(storage, source, transform, at(2014, 1, 6, 10), at(2014, 1, 15, 10), now)


def test_rate_output_lands_in_a_created_output_data_set(storage):
    outcome = _run(storage, transforms.create(storage, RATE))
    assert outcome.output == "visas_digital_takeup" and outcome.stored == 2
    rows = list(storage.find("visas_digital_takeup", RecordQuery()))
    assert [(r["_timestamp"], r["rate"]) for r in rows] == [
        ("2014-01-06T00:00:00+00:00", 0.75), ("2014-01-13T00:00:00+00:00", 0.5)]


def test_the_created_output_copies_the_inputs_token_and_flags_only(storage):
    _run(storage, transforms.create(storage, RATE))
    output = storage.get_data_set("visas_digital_takeup")
    source = storage.get_data_set("visas_transactions")
    assert output["bearer_token_hash"] == source["bearer_token_hash"] and "bearer_token" not in output
    assert tokens.verify_token("tok", output["bearer_token_hash"])
    assert (output["published"], output["max_age_expected"]) == (False, 60)
    assert output["queryable"] is True and output["raw_queries_allowed"] is False


def test_the_created_output_can_be_read_raw_when_its_input_can(storage):
    registry.replace(storage, "visas_transactions", {"data_group": "visas", "data_type": "transactions",
                                                     "raw_queries_allowed": True})
    _run(storage, transforms.create(storage, RATE))
    assert storage.get_data_set("visas_digital_takeup")["raw_queries_allowed"] is True


def test_running_twice_gives_the_same_output(storage):
    transform = transforms.create(storage, RATE)
    _run(storage, transform)
    first = list(storage.find("visas_digital_takeup", RecordQuery()))
    _run(storage, transform)
    again = list(storage.find("visas_digital_takeup", RecordQuery()))
    assert [(r["_id"], r["rate"]) for r in again] == [(r["_id"], r["rate"]) for r in first]


def test_additional_fields_are_merged_into_the_output(storage):
    transform = transforms.create(storage, {**RATE, "options": {**RATE["options"], "additionalFields": {"service": "visas"}}})
    _run(storage, transform)
    assert {r["service"] for r in storage.find("visas_digital_takeup", RecordQuery())} == {"visas"}


def test_output_that_fails_record_validation_leaves_the_output_unchanged(storage):
    """Saving refuses such options now; a transform stored before that rule still fails safely."""
    mapping = {"id": "old", "type": "mapping", "input": {"data-group": "visas", "data-type": "transactions"},
               "query-parameters": {"period": "week", "group_by": "channel", "collect": "count:sum"},
               "options": {"mapping-keys": ["channel"], "mappings": {"Online": ["digital"]},
                           "mapped-attribute": "channel-group", "value-attribute": "count:sum"},
               "output": {"data-type": "grouped"}}
    storage.put_document(transforms.KIND, "old", mapping, create=True)
    with pytest.raises(BatchError):
        _run(storage, transforms.get(storage, "old"))
    assert list(storage.find("visas_grouped", RecordQuery())) == []


def test_output_holding_an_integer_beyond_64_bits_is_refused_and_stores_nothing(storage):
    options = {**RATE["options"], "additionalFields": {"ceiling": 2**64}}
    with pytest.raises(BatchError) as caught:
        _run(storage, transforms.create(storage, {**RATE, "options": options}))
    assert caught.value.messages[0].startswith("ceiling has an integer outside the 64-bit range")
    assert list(storage.find("visas_digital_takeup", RecordQuery())) == []


def test_latest_value_chain_publishes_to_dashboards(storage):
    _run(storage, transforms.create(storage, RATE))
    dashboards.create(storage, {"slug": "visas", "data_sets": ["visas_digital_takeup"]})
    latest = transforms.create(storage, {"type": "latest_dataset_value",
                                         "input": {"data-group": "*", "data-type": "digital-takeup"},
                                         "output": {"data-group": "aggregates", "data-type": "latest-values"}})
    source = storage.get_data_set("visas_digital_takeup")
    outcome = run(storage, source, latest, at(2014, 1, 6), at(2014, 1, 13), at(2014, 2, 1))
    assert outcome.output == "aggregates_latest_values"
    [record] = storage.find("aggregates_latest_values", RecordQuery())
    assert (record["dashboard_slug"], record["digital_takeup"], record["_timestamp"]) == (
        "visas", 0.5, "2014-01-13T00:00:00+00:00")
