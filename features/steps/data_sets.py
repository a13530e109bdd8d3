"""Steps that set the scene: data sets created through the admin API, records posted through
the write API (never written into the database directly), and the passing of time."""
import json
import time
from datetime import datetime, timedelta, timezone

from behave import given, step


def _decode(text: str):
    """Table values are JSON when they parse as JSON (true, 60, null, ["a"]), else strings."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _settings(context) -> dict:
    if context.table is None:
        return {}
    return {row[0]: _decode(row[1]) for row in context.table}


def _create(context, name: str) -> dict:
    config = context.api.create_data_set(name, _settings(context))
    context.data_sets[name] = config
    context.last_data_set = name
    return config


def _load_fixture(context, fixture: str, name: str) -> None:
    """Post a fixture (all of it, in one batch) as the data set's own client would."""
    config = _create(context, name)
    response = context.api.post_records(config, context.api.fixture_records(fixture))
    assert response.status_code == 200, f"posting {fixture} answered {response.status_code}: {response.text}"


@step('a data set "{name:q}" with settings:')
@step('a data set "{name:q}"')
def step_data_set(context, name):
    _create(context, name)


@given('"{fixture:q}" is in data set "{name:q}" with settings:')
@given('"{fixture:q}" is in data set "{name:q}"')
def step_fixture_in_data_set(context, fixture, name):
    _load_fixture(context, fixture, name)


@given('data set "{name:q}" received a record timestamped {seconds:d} seconds ago')
def step_record_in_the_past(context, name, seconds):
    """Scenarios 68–70: the write time is what counts for freshness, not the _timestamp."""
    config = context.data_sets[name]
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=seconds)
    response = context.api.post_records(config, [{"_timestamp": when.isoformat()}])
    assert response.status_code == 200, f"posting answered {response.status_code}: {response.text}"


@given('{seconds:d} seconds pass')
def step_wait(context, seconds):
    time.sleep(seconds)
