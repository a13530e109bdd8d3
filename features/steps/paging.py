"""Steps for paging raw queries: many records posted at once, and walks along the next links."""
from datetime import datetime, timedelta, timezone

from behave import given, then, when

START = datetime(2014, 1, 1, tzinfo=timezone.utc)


def _records(count: int, untimed: int) -> list[dict]:
    """`count` records; every 7th shares its timestamp with the one before (ties go by _id),
    and `untimed` of them have no _timestamp at all. Ids run backwards against time, so
    neither write order nor id order is the paging order."""
    made = []
    for number in range(count):
        record = {"_id": f"p{count - number:05}", "number": number}
        if number >= untimed:
            record["_timestamp"] = (START + timedelta(minutes=number - number % 7 // 6)).isoformat()
        made.append(record)
    return made


def _paging_order(records: list[dict]) -> list[str]:
    def key(record):
        stamp = record.get("_timestamp")
        return (stamp is not None, datetime.fromisoformat(stamp) if stamp else START, record["_id"])

    return [record["_id"] for record in sorted(records, key=key)]


@given('{count:d} records are in data set "{name:q}", {untimed:d} of them without a timestamp')
def step_many_records(context, count, untimed, name):
    config = context.api.create_data_set(name, {"raw_queries_allowed": True})
    context.data_sets[name] = config
    context.last_data_set = name
    context.posted = _records(count, untimed)
    response = context.api.post_records(config, context.posted)
    assert response.status_code == 200, f"posting answered {response.status_code}: {response.text[:500]}"


def _get_page(context, path: str) -> dict:
    response = context.api.request("read", "GET", path)
    assert response.status_code == 200, f"{path} answered {response.status_code}: {response.text[:500]}"
    body = response.json()
    link = response.headers.get("Link")
    if "next" in body:
        assert link == f'<{body["next"]}>; rel="next"', (link, body["next"])
    else:
        assert link is None, f"a page without next has a Link header: {link}"
    return body


def _walk(context, path: str, posting: bool) -> None:
    """Follow the next links to the end; with `posting`, write records older and newer than
    every other after the first page, as a concurrent client would."""
    context.pages = []
    while path is not None:
        body = _get_page(context, path)
        context.pages.append([record["_id"] for record in body["data"]])
        if posting and len(context.pages) == 1:
            late = [{"_id": "a-older", "_timestamp": "2013-01-01T00:00:00Z"},
                    {"_id": "z-newer", "_timestamp": "2015-01-01T00:00:00Z"}]
            response = context.api.post_records(context.data_sets[context.last_data_set], late)
            assert response.status_code == 200, response.text
        path = body.get("next")
        assert len(context.pages) <= 10_000, "the walk does not end"


@when('I walk "{path:q}" page by page')
def step_walk(context, path):
    _walk(context, path, posting=False)


@when('I walk "{path:q}" page by page, posting an older and a newer record after the first page')
def step_walk_while_writing(context, path):
    _walk(context, path, posting=True)


@then('the pages hold every posted record once, in _timestamp then _id order')
def step_every_record_once(context):
    walked = [record_id for page in context.pages for record_id in page]
    expected = _paging_order(context.posted)
    assert len(walked) == len(set(walked)), "a record came twice"
    assert walked[:len(expected)] == expected, "the pages differ from the paging order"


@then('the walk ends with "{record_id:q}"')
def step_walk_ends(context, record_id):
    walked = [found for page in context.pages for found in page]
    assert walked[-1] == record_id and "a-older" not in walked, walked[-3:]


@then('there are {count:d} pages of {size:d} and a last page of {last:d}')
def step_page_sizes(context, count, size, last):
    assert [len(page) for page in context.pages] == [size] * count + [last], [len(p) for p in context.pages]


@when('I follow the next link')
def step_follow(context):
    next_link = context.response.json()["next"]
    context.response = context.api.request("read", "GET", next_link)


@then('the body has no "{key:q}"')
def step_no_key(context, key):
    body = context.response.json()
    assert key not in body, f"{key!r} in {body!r}"


@then('the body\'s "{key:q}" starts with "{prefix}"')
def step_key_starts_with(context, key, prefix):
    value = context.response.json().get(key)
    assert isinstance(value, str) and value.startswith(prefix), value
