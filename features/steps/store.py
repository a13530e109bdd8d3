"""Steps that look at what a data set holds, read back through the read API's raw queries
(the data set must allow them) — the features never open the database."""
import json

from behave import then


def _show(records) -> str:
    text = json.dumps(records)
    return text if len(text) < 1500 else text[:1500] + "…"


def _matching(context, name, key, predicate):
    return [r for r in context.api.raw_records(name) if key in r and predicate(r[key])]


@then('data set "{name:q}" holds {count:d} records')
@then('data set "{name:q}" holds {count:d} record')
def step_holds(context, name, count):
    records = context.api.raw_records(name)
    assert len(records) == count, f"{name} holds {len(records)} records: {_show(records)}"


@then('data set "{name:q}" holds {count:d} records whose "{key:q}" is {value}')
@then('data set "{name:q}" holds {count:d} record whose "{key:q}" is {value}')
def step_holds_with_value(context, name, count, key, value):
    expected = json.loads(value)
    found = _matching(context, name, key, lambda v: v == expected)
    assert len(found) == count, f"{len(found)} records of {name} with {key} = {value}: {_show(context.api.raw_records(name))}"


@then('data set "{name:q}" holds {count:d} record whose "{key:q}" starts with "{prefix}"')
def step_holds_with_prefix(context, name, count, key, prefix):
    found = _matching(context, name, key, lambda v: isinstance(v, str) and v.startswith(prefix))
    assert len(found) == count, f"{len(found)} records of {name} with {key} = {prefix}…: {_show(context.api.raw_records(name))}"
