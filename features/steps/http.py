"""Steps that make requests. GETs go to the read app unless a step says otherwise; bodies go to
the write app. Headers chosen by "Given I use …" / "Given I send the header …" steps apply to
every later request of the scenario; the last response is kept on the context."""
import gzip
import json

from behave import given, when

JSON = "application/json"


def _send(context, app, method, path, body=None, headers=None):
    all_headers = {}
    if body is not None:
        all_headers["Content-Type"] = JSON
    all_headers.update(context.headers)
    all_headers.update(headers or {})
    context.response = context.api.request(app, method, path, data=body, headers=all_headers)


def _last_data_set(context) -> dict:
    assert context.last_data_set, "no data set was created in this scenario"
    return context.data_sets[context.last_data_set]


# -- who we are and what we send ----------------------------------------------------
@given('I use the bearer token for the data set')
def step_use_data_set_token(context):
    context.headers["Authorization"] = f"Bearer {_last_data_set(context)['bearer_token']}"


@given('I use the bearer token for data set "{name:q}"')
def step_use_named_data_set_token(context, name):
    context.headers["Authorization"] = f"Bearer {context.data_sets[name]['bearer_token']}"


@given('I use the bearer token "{token}"')
def step_use_token(context, token):
    context.headers["Authorization"] = f"Bearer {token}"


@given('I use the admin token')
def step_use_admin_token(context):
    context.headers["Authorization"] = "Bearer dev-create-endpoint-token"


@given('I send the header "{name}: {value}"')
def step_send_header(context, name, value):
    context.headers[name] = value


# -- the read app ---------------------------------------------------------------------
@when('I GET "{path:q}"')
def step_get(context, path):
    _send(context, "read", "GET", path)


@when('I GET "{path:q}" again with its ETag')
def step_get_with_etag(context, path):
    etag = context.response.headers.get("ETag")
    assert etag, f"the previous response had no ETag: {dict(context.response.headers)}"
    _send(context, "read", "GET", path, headers={"If-None-Match": etag})


@then('I remember the ETag')
def step_remember_etag(context):
    context.etag = context.response.headers.get("ETag")
    assert context.etag, f"the response had no ETag: {dict(context.response.headers)}"


@when('I GET "{path:q}" with the remembered ETag')
def step_get_with_remembered_etag(context, path):
    _send(context, "read", "GET", path, headers={"If-None-Match": context.etag})


# -- either app, any method -------------------------------------------------------------
@when('I send {method:w} "{path:q}" to the {app:w} app with body:')
def step_send_with_body(context, method, path, app):
    _send(context, app, method, path, body=context.text.encode("utf-8"))


@when('I send {method:w} "{path:q}" to the {app:w} app')
def step_send(context, method, path, app):
    _send(context, app, method, path)


# -- the write app ----------------------------------------------------------------------
@when('I {method:w} to "{path:q}" with body:')
def step_write_body(context, method, path):
    _send(context, "write", method, path, body=context.text.encode("utf-8"))


@when('I POST "{fixture:q}" to "{path:q}"')
def step_post_fixture(context, fixture, path):
    _send(context, "write", "POST", path, body=context.api.fixture_bytes(fixture))


@when('I POST "{fixture:q}" gzip-compressed to "{path:q}"')
def step_post_fixture_gzipped(context, fixture, path):
    body = gzip.compress(context.api.fixture_bytes(fixture))
    _send(context, "write", "POST", path, body=body, headers={"Content-Encoding": "gzip"})


@when('I POST the file "{fixture:q}" as a gzip body to "{path:q}"')
def step_post_gzip_file(context, fixture, path):
    """The file is already gzip (the bomb): sent as it is, labelled gzip."""
    _send(context, "write", "POST", path, body=context.api.fixture_bytes(fixture),
          headers={"Content-Encoding": "gzip"})


@when('I POST an empty body to "{path:q}"')
def step_post_empty(context, path):
    _send(context, "write", "POST", path, body=b"")



@when('I POST a JSON body of {size:d} bytes to "{path:q}"')
def step_post_sized_body(context, size, path):
    """`[`, spaces, `]`: valid JSON (an empty list) of exactly the given size."""
    _send(context, "write", "POST", path, body=b"[" + b" " * (size - 2) + b"]")


@when('I POST {count:d} records "r1"… each with a "text" of {size:d} characters to "{path:q}"')
def step_post_numbered_records(context, count, size, path):
    records = [{"_id": f"r{i}", "text": "x" * size} for i in range(1, count + 1)]
    _send(context, "write", "POST", path, body=json.dumps(records).encode("utf-8"))
