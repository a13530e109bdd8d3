"""Records: validation messages, normalisation, auto ids, dates, schemas (docs/write-api.md, "Record rules")."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from backdrop.core.record_schema import FORMATS, compiled_schema, is_date_time
from backdrop.core.records import (
    BatchError, InvalidDate, check_schema, parse_datetime, prepare_batch, prepare_patch,
    timestamp_bounds,
)
from backdrop.core.timeseries import period_keys

UTC = timezone.utc
NOW = datetime(2020, 6, 1, 9, 30, tzinfo=UTC)
TIMESTAMP_SCHEMA = {
    "type": "object",
    "properties": {"_timestamp": {"type": "string", "format": "date-time"}},
    "required": ["_timestamp"],
}
FORMAT_MESSAGE = "the _timestamp must be a date in the format yyyy-MM-ddT00:00:00Z"


def prepare(items, *, auto_ids=None, schema=None, now=NOW):
    return prepare_batch(items, auto_ids=auto_ids, schema=schema, now=now)


def problems(items, *, auto_ids=None, schema=None) -> list[str]:
    with pytest.raises(BatchError) as caught:
        prepare(items, auto_ids=auto_ids, schema=schema)
    return caught.value.messages


def one(record, **options) -> dict:
    return prepare([record], **options)[0]


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# ---------------------------------------------------------------- per-record checks

@pytest.mark.parametrize("record", [
    {"NAME": "x"}, {"name54": 1}, {"none_is_fine": None}, {"_id": "a"},
    {"flag": True}, {"ratio": 0.5},
])
def test_valid_keys_and_scalar_values_are_accepted(record):
    assert one(record).items() >= record.items()


@pytest.mark.parametrize("key", [
    "son.of.thing", "name-of-thing", "son;of;thing", "son:of:thing", "1field", "a", "    ",
    "foo-bar",
])
def test_invalid_key_is_reported_as_not_a_valid_key(key):
    assert problems([{key: "x"}]) == [f"{key} is not a valid key"]


def test_empty_key_gives_message_starting_with_a_space():
    assert problems([{"": ""}]) == [" is not a valid key"]


@pytest.mark.parametrize("key", ["_foo", "_ID", "_Timestamp"])
def test_unknown_internal_key_is_not_a_recognised_internal_field(key):
    assert problems([{key: "bar"}]) == [f"{key} is not a recognised internal field"]


@pytest.mark.parametrize("key", ["_updated_at", "_day_start_at", "_week_start_at"])
def test_server_added_keys_cannot_be_sent_by_clients(key):
    assert problems([{key: "2012-12-12T00:00:00Z"}]) == [
        f"{key} is not a recognised internal field"]


@pytest.mark.parametrize("value", [{}, [], [1, 2], {"a": 1}])
def test_non_scalar_value_has_an_invalid_value(value):
    assert problems([{"thing": value}]) == ["thing has an invalid value"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_number_has_an_invalid_value(value):
    assert problems([{"thing": value}]) == ["thing has an invalid value"]


OUT_OF_RANGE = ("count has an integer outside the 64-bit range: integers must lie between "
                "-9223372036854775808 and 9223372036854775807 (send a larger number as a double, "
                "such as 1e30, or as a string)")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64, 10**30, -(10**40)])
def test_integer_outside_64_bits_is_refused_naming_the_field(value):
    assert problems([{"name": "x", "count": value}]) == [OUT_OF_RANGE]


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0, -1, 1e30, -1e40, 2.0**63, 1.5e300])
def test_integers_inside_64_bits_and_every_double_are_stored_as_sent(value):
    stored = one({"count": value})["count"]
    assert (stored, type(stored)) == (value, type(value))


def test_integer_range_is_checked_after_the_earlier_rules_of_the_record():
    assert problems([{"count": 2**64, "_foo": 1}]) == [OUT_OF_RANGE]
    assert problems([{"_foo": 1, "count": 2**64}]) == ["_foo is not a recognised internal field"]
    assert problems([{"thing": {}, "count": 2**64}]) == ["thing has an invalid value"]


def test_an_integer_in_an_internal_field_keeps_that_fields_messages():
    assert problems([{"_id": 2**64}]) == ['_id "18446744073709551616" is not a valid id']
    assert problems([{"_timestamp": 10**30}]) == [FORMAT_MESSAGE, "_timestamp is not a valid datetime object"]


def test_out_of_range_integers_are_reported_for_every_record_with_its_index():
    with pytest.raises(BatchError) as caught:
        prepare([{"count": 1}, {"count": 2**63}, {"count": 3}, {"count": -(2**63) - 1}])
    assert caught.value.errors == [{"index": 1, "message": OUT_OF_RANGE},
                                   {"index": 3, "message": OUT_OF_RANGE}]


def test_a_patch_merging_in_a_wide_integer_is_refused():
    stored = one({"_id": "a", "count": 1})
    with pytest.raises(BatchError) as caught:
        prepare_patch(stored, {"count": 10**30}, schema=None, now=NOW)
    assert caught.value.messages == [OUT_OF_RANGE]


def test_unparseable_timestamp_also_fails_the_datetime_object_check():
    assert problems([{"_timestamp": "invalid"}]) == [
        FORMAT_MESSAGE, "_timestamp is not a valid datetime object"]


@pytest.mark.parametrize("field", ["_start_at", "_end_at"])
def test_unparseable_interval_field_fails_its_own_checks(field):
    assert problems([{field: "invalid"}]) == [
        f"{field} must be a date in the format yyyy-MM-ddT00:00:00Z",
        f"{field} is not a valid datetime object"]


@pytest.mark.parametrize("value, shown", [
    ("f o o", "f o o"), ("", ""), ("tab\there", "tab\there"), (7, "7"), (None, "None"),
    (True, "True"),
])
def test_id_must_be_a_non_empty_string_without_whitespace(value, shown):
    assert problems([{"_id": value}]) == [f'_id "{shown}" is not a valid id']


def test_first_failing_key_in_record_order_gives_the_only_message():
    assert problems([{"_foo": 1, "bad-key": 2, "thing": {}}]) == [
        "_foo is not a recognised internal field"]
    assert problems([{"thing": {}, "_foo": 1}]) == ["thing has an invalid value"]


def test_records_sharing_their_keys_are_each_judged_on_their_own_values():
    items = [{"_id": "a", "value": 1}, {"_id": "b c", "value": 2},
             {"_id": "d", "value": float("nan")}, {"_id": "e", "value": 3},
             {"_id": "f", "value": [3]}]
    with pytest.raises(BatchError) as caught:
        prepare(items)
    assert caught.value.errors == [
        {"index": 1, "message": '_id "b c" is not a valid id'},
        {"index": 2, "message": "value has an invalid value"},
        {"index": 4, "message": "value has an invalid value"}]


_keys = st.sampled_from(["_id", "value", "v", "w2", "_timestamp", "bad-key", "_foo"])
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3),
                    st.just([1]), st.just("2012-12-12T00:00:00Z"))


@settings(deadline=None, derandomize=True, max_examples=300)
@given(st.lists(st.dictionaries(_keys, _values, max_size=4), min_size=1, max_size=6))
def test_a_records_message_does_not_depend_on_the_records_before_it(items):
    alone = []
    for item in items:
        try:
            prepare([item])
        except BatchError as error:
            alone.extend(error.messages)
    try:
        prepare(items)
        together = []
    except BatchError as error:
        together = error.messages
    assert sorted(together) == sorted(alone)


@pytest.mark.parametrize("item", [5, "x", None, [], [{"a": 1}], True])
def test_item_that_is_not_an_object_is_reported_not_crashed(item):
    with pytest.raises(BatchError) as caught:
        prepare([{"good": 1}, item])
    assert caught.value.errors == [{"index": 1, "message": "record must be a JSON object"}]


# ---------------------------------------------------------------- stage order

def test_worked_example_gives_eight_messages_in_stage_order():
    items = [{"_timestamp": "2014-06-1xxx0:00:00+0000"}, {"thing": {}}, {"_foo": "bar"}]
    with pytest.raises(BatchError) as caught:
        prepare(items, auto_ids=["_timestamp", "that"], schema=TIMESTAMP_SCHEMA)
    expected = [
        (0, "'2014-06-1xxx0:00:00+0000' is not a 'date-time'"),
        (1, "'_timestamp' is a required property"),
        (2, "'_timestamp' is a required property"),
        (0, "The following required id fields are missing: that"),
        (0, FORMAT_MESSAGE),
        (0, "_timestamp is not a valid datetime object"),
        (1, "thing has an invalid value"),
        (2, "_foo is not a recognised internal field"),
    ]
    assert caught.value.messages == [message for _, message in expected]
    assert caught.value.errors == [{"index": i, "message": m} for i, m in expected]


def test_worked_example_with_valid_first_record_gives_five_messages():
    items = [{"_timestamp": "2012-12-12T00:00:00+00:00", "that": "dog"},
             {"thing": {}}, {"_foo": "bar"}]
    with pytest.raises(BatchError) as caught:
        prepare(items, auto_ids=["_timestamp", "that"], schema=TIMESTAMP_SCHEMA)
    expected = [
        (1, "'_timestamp' is a required property"),
        (2, "'_timestamp' is a required property"),
        (1, "The following required id fields are missing: _timestamp, that"),
        (1, "thing has an invalid value"),
        (2, "_foo is not a recognised internal field"),
    ]
    assert caught.value.messages == [message for _, message in expected]
    assert caught.value.errors == [{"index": i, "message": m} for i, m in expected]


def test_batch_error_text_joins_its_messages():
    with pytest.raises(BatchError, match="a is not a valid key; _x is not a recognised"):
        prepare([{"a": 1}, {"_x": 1}])


def test_empty_batch_prepares_to_nothing():
    assert prepare([], schema=TIMESTAMP_SCHEMA, auto_ids=["foo"]) == []


# ---------------------------------------------------------------- auto ids

@pytest.mark.parametrize("fields, record, expected", [
    (["foo"], {"foo": "foo"}, "Zm9v"),
    (["foo"], {"foo": "bar"}, "YmFy"),
    (["foo", "bar"], {"foo": 1, "bar": "foo"}, "MS5mb28="),
    (["postcode", "number"], {"postcode": "WC2B 6SE", "number": "125"}, b64("WC2B 6SE.125")),
    (["_timestamp", "foo"], {"_timestamp": "2013-08-01T00:00:00+00:00", "foo": "bar"},
     b64("2013-08-01T00:00:00+00:00.bar")),
])
def test_auto_id_is_standard_base64_of_values_joined_with_dots(fields, record, expected):
    assert one(record, auto_ids=fields)["_id"] == expected


def test_auto_id_uses_timestamp_as_received_before_normalisation():
    zulu = one({"_timestamp": "2013-08-01T00:00:00Z"}, auto_ids=["_timestamp"])
    offset = one({"_timestamp": "2013-08-01T00:00:00+00:00"}, auto_ids=["_timestamp"])
    assert zulu["_timestamp"] == offset["_timestamp"]
    assert zulu["_id"] != offset["_id"]


@pytest.mark.parametrize("value, text", [
    (True, "True"), (False, "False"), (None, "None"), (1.5, "1.5"), (0.1, "0.1"),
    (10, "10"), (-3, "-3"), ("é/ü", "é/ü"),
])
def test_auto_id_converts_values_like_python_str(value, text):
    assert one({"foo": value}, auto_ids=["foo"])["_id"] == b64(text)


def test_auto_id_uses_the_standard_alphabet_with_slash_and_plus():
    assert one({"foo": "??>"}, auto_ids=["foo"])["_id"] == "Pz8+"
    assert one({"foo": "???"}, auto_ids=["foo"])["_id"] == "Pz8/"


def test_auto_id_overwrites_the_clients_id():
    assert one({"_id": "mine", "foo": "foo"}, auto_ids=["foo"])["_id"] == "Zm9v"


def test_missing_id_fields_give_one_message_for_the_first_offending_record():
    with pytest.raises(BatchError) as caught:
        prepare([{"postcode": "A"}, {"postcode": "B", "number": "1"}, {"number": "2"}],
                auto_ids=["postcode", "number"])
    assert caught.value.errors == [
        {"index": 0, "message": "The following required id fields are missing: number"}]


def test_missing_id_fields_are_listed_in_configured_order():
    assert problems([{"other": 1}], auto_ids=["zeta", "alpha", "other", "mid"]) == [
        "The following required id fields are missing: zeta, alpha, mid"]


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize("text, expected", [
    ("2012-12-12T12:12:12+01:00", datetime(2012, 12, 12, 11, 12, 12, tzinfo=UTC)),
    ("2013-02-25T15:09:56+0000", datetime(2013, 2, 25, 15, 9, 56, tzinfo=UTC)),
    ("2012-12-12T00:00:00", datetime(2012, 12, 12, tzinfo=UTC)),
    ("2012-12-12T00:00:00Z", datetime(2012, 12, 12, tzinfo=UTC)),
    ("2012-12-12t00:00:00z", datetime(2012, 12, 12, tzinfo=UTC)),
    ("2012-12-12", datetime(2012, 12, 12, tzinfo=UTC)),
    ("2014-12-17 00:00:00", datetime(2014, 12, 17, tzinfo=UTC)),
    ("2012-12-12T12:12:12.250-0530", datetime(2012, 12, 12, 17, 42, 12, 250000, tzinfo=UTC)),
    ("2012-12-12T12:12", datetime(2012, 12, 12, 12, 12, tzinfo=UTC)),
    ("2012-12-12T23:00:00-02", datetime(2012, 12, 13, 1, tzinfo=UTC)),
])
def test_parse_datetime_accepts_iso_forms_and_converts_to_utc(text, expected):
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [
    "invalid", "2014-06-1xxx0:00:00+0000", "", " 2012-12-12", "2012/12/12x", 1355270400,
    12.5, True, None,
])
def test_unrecognisable_date_asks_for_the_format(value):
    with pytest.raises(InvalidDate) as caught:
        parse_datetime(value)
    assert caught.value.shaped is False
    assert str(caught.value) == FORMAT_MESSAGE


@pytest.mark.parametrize("value", [
    "31-11-12T00:00:00", "2013-02-30T00:00:00", "2013-13-01", "2012-12-12T25:00:00",
    "2012-12-12T12:12:60Z", "2012-12-12T12:00:00+01:60", "12-12-2012 00:00:00",
])
def test_date_shaped_string_out_of_range_is_not_a_valid_date(value):
    with pytest.raises(InvalidDate) as caught:
        parse_datetime(value, "_start_at")
    assert caught.value.shaped is True
    assert str(caught.value) == f"{value} in the _start_at field is not a valid date"


def test_invalid_date_is_a_value_error():
    assert issubclass(InvalidDate, ValueError)


def test_parse_datetime_names_the_field_in_the_format_message():
    with pytest.raises(InvalidDate, match="^_end_at must be a date in the format"):
        parse_datetime("soon", "_end_at")


def test_impossible_timestamp_in_a_record_names_the_value():
    assert problems([{"_timestamp": "31-11-12T00:00:00"}]) == [
        "31-11-12T00:00:00 in the _timestamp field is not a valid date",
        "_timestamp is not a valid datetime object"]


@pytest.mark.parametrize("value", [1355270400, None, False])
def test_non_string_timestamp_is_a_format_message_not_a_crash(value):
    assert problems([{"_timestamp": value}]) == [
        FORMAT_MESSAGE, "_timestamp is not a valid datetime object"]


def test_every_bad_date_field_of_a_record_is_reported():
    with pytest.raises(BatchError) as caught:
        prepare([{"_end_at": "later", "_timestamp": "x", "_start_at": "2013-02-30"}])
    assert caught.value.errors == [
        {"index": 0, "message": FORMAT_MESSAGE},
        {"index": 0, "message": "2013-02-30 in the _start_at field is not a valid date"},
        {"index": 0, "message": "_end_at must be a date in the format yyyy-MM-ddT00:00:00Z"},
        {"index": 0, "message": "_end_at is not a valid datetime object"},
    ]


def test_all_three_date_fields_are_stored_as_utc_datetimes():
    record = one({"_timestamp": "2012-12-12T12:12:12+01:00",
                  "_start_at": "2012-12-01", "_end_at": "2013-01-01T01:00:00+0100"})
    assert record["_timestamp"] == datetime(2012, 12, 12, 11, 12, 12, tzinfo=UTC)
    assert record["_start_at"] == datetime(2012, 12, 1, tzinfo=UTC)
    assert record["_end_at"] == datetime(2013, 1, 1, tzinfo=UTC)
    assert all(record[k].tzinfo is UTC for k in ("_timestamp", "_start_at", "_end_at"))


# ---------------------------------------------------------------- normalisation

def test_period_keys_are_added_for_the_timestamp():
    record = one({"_timestamp": "2012-12-12T12:12:00Z"})
    assert {k: v for k, v in record.items() if k.endswith("_start_at")} == {
        "_hour_start_at": datetime(2012, 12, 12, 12, tzinfo=UTC),
        "_day_start_at": datetime(2012, 12, 12, tzinfo=UTC),
        "_week_start_at": datetime(2012, 12, 10, tzinfo=UTC),
        "_month_start_at": datetime(2012, 12, 1, tzinfo=UTC),
        "_quarter_start_at": datetime(2012, 10, 1, tzinfo=UTC),
        "_year_start_at": datetime(2012, 1, 1, tzinfo=UTC),
    }


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)))
def test_cached_period_keys_equal_timeseries_period_keys(moment):
    record = one({"_timestamp": moment.isoformat()})
    assert {k: record[k] for k in period_keys(moment)} == period_keys(moment)


def test_record_without_timestamp_gets_no_period_keys():
    record = one({"value": 1})
    assert not any(key.endswith("_start_at") for key in record)


def test_updated_at_is_now_in_utc():
    naive_now = datetime(2020, 6, 1, 9, 30)
    assert one({"value": 1}, now=naive_now)["_updated_at"] == NOW
    paris = timezone(timedelta(hours=2))
    assert one({"value": 1}, now=NOW.astimezone(paris))["_updated_at"] == NOW


def test_records_without_id_get_fresh_unique_uuid_hex_ids():
    records = prepare([{"value": i} for i in range(500)])
    ids = [record["_id"] for record in records]
    assert len(set(ids)) == 500
    assert all(re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", i) for i in ids)


def test_clients_id_is_kept():
    assert one({"_id": "first", "foo": "bar"})["_id"] == "first"


def test_client_key_order_is_kept_and_server_keys_follow():
    record = one({"zed": 1, "_timestamp": "2012-12-12T00:00:00Z", "alpha": 2})
    assert list(record)[:3] == ["zed", "_timestamp", "alpha"]
    assert list(record)[-1] == "_updated_at"


def test_input_records_are_not_modified():
    item = {"_timestamp": "2012-12-12T00:00:00Z"}
    one(item)
    assert item == {"_timestamp": "2012-12-12T00:00:00Z"}


# ---------------------------------------------------------------- schemas

def test_schema_reports_missing_required_property():
    assert problems([{"value": 1}], schema=TIMESTAMP_SCHEMA)[0] == (
        "'_timestamp' is a required property")


def test_schema_reports_bad_date_time():
    assert problems([{"_timestamp": "555"}], schema=TIMESTAMP_SCHEMA)[0] == (
        "'555' is not a 'date-time'")


def test_schema_reports_every_error_of_every_record():
    schema = {"properties": {"count": {"type": "integer"}}}
    assert problems([{"count": "abc"}, {"count": 1}, {"count": "def"}], schema=schema) == [
        "'abc' is not of type 'integer'", "'def' is not of type 'integer'"]


def test_missing_required_fields_follow_the_schemas_required_order():
    schema = {"type": "object", "required": ["uptime", "downtime"]}
    assert problems([{"other": 1}], schema=schema) == [
        "'uptime' is a required property", "'downtime' is a required property"]


def test_schema_error_order_does_not_depend_on_key_order():
    first = {"required": ["count"], "properties": {"flag": {"type": "boolean"}}}
    second = {"properties": {"flag": {"type": "boolean"}}, "required": ["count"]}
    assert problems([{"flag": 1}], schema=first) == problems([{"flag": 1}], schema=second)


@pytest.mark.parametrize("text", [
    "2014-06-12T00:00:00+0000", "2014-06-12T00:00:00+00:00", "2014-06-12T00:00:00Z",
    "2014-06-12t00:00:00.123456z", "2014-06-12T23:59:59-2359",
])
def test_schema_date_time_accepts_rfc3339_and_colonless_offsets(text):
    assert one({"_timestamp": text}, schema=TIMESTAMP_SCHEMA)["_timestamp"].tzinfo is UTC


@pytest.mark.parametrize("text", [
    "2014-06-12", "2014-06-12T00:00:00", "2014-06-12 00:00:00Z", "2014-06-12T00:00Z",
    "2014-02-30T00:00:00Z", "2014-06-12T00:00:00+24:00", "2014-06-12T00:00:00+01:60",
    "2014-06-12T00:00:00+01",
])
def test_schema_date_time_refuses_everything_else(text):
    assert f"{text!r} is not a 'date-time'" in problems([{"_timestamp": text}],
                                                          schema=TIMESTAMP_SCHEMA)


def test_configuration_style_schema_with_ref_is_applied():
    schema = {"description": "Schema for foo/foo",
              "definitions": {"_timestamp": {
                  "type": "object", "required": ["_timestamp"],
                  "properties": {"_timestamp": {"type": "string", "format": "date-time"}}}},
              "allOf": [{"$ref": "#/definitions/_timestamp"}]}
    assert problems([{"value": 1}], schema=schema) == [
        "'_timestamp' is a required property"]
    assert one({"_timestamp": "2014-06-12T00:00:00Z"}, schema=schema)["_id"]


_SCHEMAS = [
    TIMESTAMP_SCHEMA,
    {"properties": {"n": {"type": "integer"}, "x": {"type": ["number", "null"]}},
     "additionalProperties": False},
    {"allOf": [{"required": ["n"]}, {"properties": {"s": {"type": "string",
                                                          "format": "date-time"}}}]},
    {"properties": {"n": {"type": "integer", "minimum": 3}}},  # outside the quick subset
]
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
                    st.sampled_from(["2014-06-12T00:00:00Z", "2014-06-12T00:00:00+0000",
                                     "2014-06-12", "abc", ""]))


@settings(deadline=None, derandomize=True, max_examples=300)
@given(st.sampled_from(_SCHEMAS),
       st.dictionaries(st.sampled_from(["_timestamp", "n", "x", "s", "other"]), _VALUES))
def test_quick_schema_check_agrees_with_jsonschema(schema, record):
    canonical = json.loads(json.dumps(schema, sort_keys=True))
    full = Draft4Validator(canonical, format_checker=FORMATS)
    assert compiled_schema(schema).messages(record) == [
        e.message for e in full.iter_errors(record)]


def test_usual_schemas_get_a_quick_check_and_others_do_not():
    assert compiled_schema(TIMESTAMP_SCHEMA).quick is not None
    assert compiled_schema({"properties": {"n": {"minimum": 3}}}).quick is None


@pytest.mark.parametrize("value", [5, None, ["2014-06-12"]])
def test_date_time_format_ignores_non_strings(value):
    assert is_date_time(value)


# ---------------------------------------------------------------- PATCH

STORED = {
    "_id": "first", "foo": "bar", "_timestamp": "2012-12-12T12:12:00+00:00",
    "_updated_at": "2019-01-01T00:00:00+00:00",
    **{k: v.isoformat() for k, v in period_keys(datetime(2012, 12, 12, 12, 12,
                                                         tzinfo=UTC)).items()},
}


def test_patch_merges_changes_into_the_stored_record():
    patched = prepare_patch(STORED, {"count": 3, "foo": "baz"}, schema=None, now=NOW)
    assert patched["foo"] == "baz"
    assert patched["count"] == 3
    assert patched["_timestamp"] == datetime(2012, 12, 12, 12, 12, tzinfo=UTC)


def test_patch_keeps_the_stored_id():
    patched = prepare_patch(STORED, {"_id": "other"}, schema=None, now=NOW)
    assert patched["_id"] == "first"


def test_patch_recomputes_period_keys_and_updated_at():
    patched = prepare_patch(STORED, {"_timestamp": "2013-05-05T10:00:00+01:00"},
                            schema=None, now=NOW)
    assert patched["_hour_start_at"] == datetime(2013, 5, 5, 9, tzinfo=UTC)
    assert patched["_quarter_start_at"] == datetime(2013, 4, 1, tzinfo=UTC)
    assert patched["_updated_at"] == NOW


def test_patch_validates_the_merged_record_like_post():
    with pytest.raises(BatchError) as caught:
        prepare_patch(STORED, {"thing": [1], "_timestamp": "nope"},
                      schema=TIMESTAMP_SCHEMA, now=NOW)
    assert caught.value.messages == [
        "'nope' is not a 'date-time'", FORMAT_MESSAGE,
        "_timestamp is not a valid datetime object"]
    assert {error["index"] for error in caught.value.errors} == {0}


def test_patch_refuses_server_keys_in_the_changes():
    with pytest.raises(BatchError, match="_updated_at is not a recognised internal field"):
        prepare_patch(STORED, {"_updated_at": "2020-01-01"}, schema=None, now=NOW)


def test_patch_with_a_non_object_body_is_a_batch_error():
    with pytest.raises(BatchError, match="record must be a JSON object"):
        prepare_patch(STORED, [1], schema=None, now=NOW)


# ---------------------------------------------------------------- bounds, schema checks

def test_timestamp_bounds_cover_records_that_have_a_timestamp():
    records = prepare([{"_timestamp": "2013-01-02"}, {"value": 1},
                       {"_timestamp": "2012-12-31T23:00:00-02:00"}, {"_timestamp": "2013-01-01"}])
    assert timestamp_bounds(records) == (datetime(2013, 1, 1, tzinfo=UTC),
                                         datetime(2013, 1, 2, tzinfo=UTC))


def test_timestamp_bounds_are_none_without_timestamps():
    assert timestamp_bounds(prepare([{"value": 1}])) is None
    assert timestamp_bounds([]) is None


def test_check_schema_accepts_a_valid_draft4_schema():
    check_schema(TIMESTAMP_SCHEMA)
    check_schema(_SCHEMAS[2])


@pytest.mark.parametrize("schema, fragment", [
    ([], "must be a JSON object"),
    ("object", "must be a JSON object"),
    ({"type": 5}, "not a valid JSON Schema"),
    ({"required": []}, "not a valid JSON Schema"),
    ({"properties": {"n": {"pattern": "("}}}, "not a valid JSON Schema"),
    ({"$ref": "http://example.com/schema.json"}, "does not point inside the schema"),
    ({"allOf": [{"$ref": "#/definitions/missing"}]}, "does not point inside the schema"),
])
def test_check_schema_refuses_unusable_schemas_with_a_readable_message(schema, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_schema(schema)
