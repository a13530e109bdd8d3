"""Steps that check the last response: status, JSON body, results of a query, headers.

Expected values written in a step are JSON ("Westminster" with its quotes, 27, false, null);
result numbers count from 1 as a reader would."""
import json

from behave import then


def _body(context):
    try:
        return context.response.json()
    except ValueError:
        raise AssertionError(f"not JSON ({context.response.status_code}): {context.response.text[:500]!r}")


def _data(context) -> list:
    body = _body(context)
    assert isinstance(body, dict) and isinstance(body.get("data"), list), f"no data list in {body!r}"
    return body["data"]


def _result(context, number: int) -> dict:
    data = _data(context)
    assert 1 <= number <= len(data), f"asked for result {number} of {len(data)}: {data!r}"
    return data[number - 1]


def _expected(context):
    return json.loads(context.text)


def _assert_contains(actual: dict, expected: dict, where: str) -> None:
    missing = {k: v for k, v in expected.items() if k not in actual or actual[k] != v}
    assert not missing, f"{where}: expected {expected!r} within {actual!r}; differing: {missing!r}"


def _at(body, path: str):
    """The value at a dotted path ("data_sets.0.name"): keys, or list positions from 0."""
    value = body
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


# -- status and body ---------------------------------------------------------------------
@then('the status is {status:d}')
def step_status(context, status):
    actual = context.response.status_code
    assert actual == status, f"status {actual}, expected {status}: {context.response.text[:1000]}"


@then('the message is "{message}"')
def step_message(context, message):
    body = _body(context)
    assert body.get("message") == message, f"message {body.get('message')!r}, expected {message!r}"


@then('the message starts with "{prefix}"')
def step_message_prefix(context, prefix):
    message = _body(context).get("message")
    assert isinstance(message, str) and message.startswith(prefix), f"message {message!r}, expected {prefix!r}…"


@then('the body is:')
def step_body_is(context):
    assert _body(context) == _expected(context), f"body {_body(context)!r}"


@then('the body\'s "{path:q}" is {value}')
def step_body_path(context, path, value):
    actual = _at(_body(context), path)
    assert actual == json.loads(value), f"{path} is {actual!r}, expected {value}"


@then('the body\'s "{path:q}" lies between {low:d} and {high:d}')
def step_body_path_between(context, path, low, high):
    actual = _at(_body(context), path)
    assert isinstance(actual, int) and low <= actual <= high, f"{path} is {actual!r}, expected {low}…{high}"


@then('the "{key:q}" values of the body\'s "{path:q}" are {values} in any order')
def step_body_path_items(context, key, path, values):
    actual = sorted(item.get(key) for item in _at(_body(context), path))
    assert actual == sorted(json.loads(values)), f"{key} of {path}: {actual!r}"


@then('the body lists "{key:q}" values {values}')
def step_body_list_values(context, key, values):
    body = _body(context)
    assert isinstance(body, list), f"not a list: {body!r}"
    actual = [item.get(key) for item in body]
    assert actual == json.loads(values), f"{key} of each item: {actual!r}"


@then('the body is empty')
def step_body_empty(context):
    assert context.response.content == b"", f"body {context.response.content[:500]!r}"


@then('the body mentions "{text}"')
def step_body_mentions(context, text):
    assert text in context.response.text, f"{text!r} not in {context.response.text[:1000]!r}"


@then('the body does not mention "{text}"')
def step_body_does_not_mention(context, text):
    assert text not in context.response.text, f"{text!r} found in {context.response.text[:1000]!r}"


@then('the body is the CSV:')
def step_body_csv(context):
    """CSV lines end with CRLF; the docstring is written with plain lines."""
    expected = "".join(line + "\r\n" for line in context.text.splitlines())
    assert context.response.text == expected, f"CSV {context.response.text!r}, expected {expected!r}"


# -- query results -------------------------------------------------------------------------
@then('the response has {count:d} results')
@then('the response has {count:d} result')
def step_result_count(context, count):
    data = _data(context)
    assert len(data) == count, f"{len(data)} results, expected {count}: {json.dumps(data)[:2000]}"


@then('the data is:')
def step_data_is(context):
    data = _data(context)
    assert data == _expected(context), f"data {json.dumps(data)}"


@then('result {number:d} is:')
def step_result_is(context, number):
    result = _result(context, number)
    assert result == _expected(context), f"result {number} is {result!r}"


@then('result {number:d} without "{key:q}" is:')
def step_result_without_is(context, number, key):
    result = dict(_result(context, number))
    assert key in result, f"result {number} has no {key!r}: {result!r}"
    del result[key]
    assert result == _expected(context), f"result {number} (without {key}) is {result!r}"


@then('result {number:d} contains:')
def step_result_contains(context, number):
    _assert_contains(_result(context, number), _expected(context), f"result {number}")


@then('the "{key:q}" of result {number:d} is {value}')
def step_result_key(context, key, number, value):
    result = _result(context, number)
    assert key in result and result[key] == json.loads(value), f"{key} of result {number}: {result!r}"


@then('the "{key:q}" of the last result is {value}')
def step_last_result_key(context, key, value):
    result = _data(context)[-1]
    assert key in result and result[key] == json.loads(value), f"{key} of the last result: {result!r}"


@then('the "{key:q}" of result {number:d} contains {value}')
def step_result_key_contains(context, key, number, value):
    collected = _result(context, number).get(key)
    assert isinstance(collected, list) and json.loads(value) in collected, f"{key} of result {number}: {collected!r}"


@then('the results\' "{key:q}" values are {values}')
def step_results_values(context, key, values):
    actual = [result.get(key, "<missing>") for result in _data(context)]
    assert actual == json.loads(values), f"{key} of each result: {actual!r}"


@then('result {number:d} has {count:d} values')
def step_result_values_count(context, number, count):
    values = _result(context, number).get("values")
    assert isinstance(values, list) and len(values) == count, f"values of result {number}: {values!r}"


@then('the values of result {number:d} include:')
def step_result_values_include(context, number):
    """Some entry of the result's time series holds every expected key with its value."""
    expected = _expected(context)
    values = _result(context, number).get("values") or []
    assert any(all(k in v and v[k] == expected[k] for k in expected) for v in values), \
        f"no entry like {expected!r} in {values!r}"


@then('the value counts of result {number:d} are {counts}')
def step_value_counts(context, number, counts):
    actual = [entry["_count"] for entry in _result(context, number).get("values") or []]
    assert actual == json.loads(counts), f"value counts of result {number}: {actual!r}"


# -- headers ---------------------------------------------------------------------------------
@then('the header "{name:q}" is "{value}"')
def step_header_is(context, name, value):
    actual = context.response.headers.get(name)
    assert actual == value, f"{name}: {actual!r}, expected {value!r}"


@then('the header "{name:q}" starts with "{value}"')
def step_header_starts(context, name, value):
    actual = context.response.headers.get(name)
    assert actual is not None and actual.startswith(value), f"{name}: {actual!r}, expected {value!r}…"


@then('the header "{name:q}" is not empty')
def step_header_present(context, name):
    assert context.response.headers.get(name), f"no {name} in {dict(context.response.headers)!r}"


@then('the header "{name:q}" is absent')
def step_header_absent(context, name):
    assert name not in context.response.headers, f"{name}: {context.response.headers.get(name)!r}"


@then('the header "{name:q}" lists {values}')
def step_header_lists(context, name, values):
    """A comma-separated header holding exactly these items, in any order."""
    actual = context.response.headers.get(name) or ""
    items = sorted(item.strip() for item in actual.split(",") if item.strip())
    assert items == sorted(json.loads(values)), f"{name}: {actual!r}"
