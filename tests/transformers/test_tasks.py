"""Each transform task's computation, pinned by the worked examples of docs/transforms.md."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backdrop.core.transform_tasks import TASKS, check_options, task_name
from backdrop.transformers.tasks import load_task
from backdrop.transformers.tasks import latest_dataset_value, latest_transaction_explorer_values
from backdrop.transformers.tasks import mapping, rate, user_satisfaction
from backdrop.transformers.tasks.util import BadSourceData, TaskContext, add_fields, encode_id

W1, W2, W3 = "2013-11-25T00:00:00+00:00", "2013-12-02T00:00:00+00:00", "2013-12-09T00:00:00+00:00"


def test_encode_id_is_url_safe_base64_of_parts_joined_with_underscores():
    assert encode_id("foo", "bar") == "Zm9vX2Jhcg=="


def test_encode_id_writes_instants_as_the_read_api_does():
    moment = datetime(2013, 11, 25, tzinfo=timezone.utc)
    assert encode_id(moment, "x") == encode_id(W1, "x")


def test_additional_fields_are_added_and_rekey_the_record():
    assert add_fields([{"new-data": "point"}], {"foo": "bar"}) == [
        {"new-data": "point", "foo": "bar", "_id": "X2ZvbzpiYXI="}
    ]


def test_additional_fields_never_overwrite_the_records_own_fields():
    assert add_fields([{"foo": "mine"}], {"foo": "bar"})[0]["foo"] == "mine"


def test_task_names_accept_the_original_dotted_paths():
    assert task_name("backdrop.transformers.tasks.rate.compute") == "rate"
    assert task_name("backdrop.transformers.tasks.debug.logging") == "debug"
    assert task_name("rate") == "rate"
    assert task_name("nonsense") is None
    assert load_task("mapping") is mapping


def test_every_task_the_core_accepts_has_a_computation():
    assert all(callable(load_task(name).compute) for name in TASKS)
    with pytest.raises(KeyError):
        load_task("util")


RATE_ROWS = [
    {"_start_at": W1, "_end_at": W2, "eventCategory": "start", "channel": "non-digital", "uniqueEvents:sum": 15},
    {"_start_at": W2, "_end_at": W3, "eventCategory": "start", "channel": "non-digital", "uniqueEvents:sum": 25},
    {"_start_at": W1, "_end_at": W2, "eventCategory": "confirm", "channel": "digital", "uniqueEvents:sum": 8},
    {"_start_at": W2, "_end_at": W3, "eventCategory": "confirm", "channel": "digital", "uniqueEvents:sum": 12},
    {"_start_at": W1, "_end_at": W2, "eventCategory": "done", "channel": "another-channel", "uniqueEvents:sum": 10},
    {"_start_at": W2, "_end_at": W3, "eventCategory": "done", "channel": "another-channel", "uniqueEvents:sum": None},
]


def _rate_options(attribute="eventCategory", numerator="done", denominator="start"):
    return {"valueAttribute": "uniqueEvents:sum", "matchingAttribute": attribute,
            "numeratorMatcher": numerator, "denominatorMatcher": denominator}


def test_rate_divides_matching_sums_per_bucket():
    first, second = rate.compute(RATE_ROWS, _rate_options())
    assert first["rate"] == pytest.approx(10 / 15)
    assert first["_id"] == "MjAxMy0xMS0yNVQwMDowMDowMCswMDowMF8yMDEzLTEyLTAyVDAwOjAwOjAwKzAwOjAw"
    assert first["_timestamp"] == W1 and first["_start_at"] == W1 and first["_end_at"] == W2
    assert second["rate"] is None


def test_rate_matchers_search_anywhere_unless_anchored():
    first, second = rate.compute(RATE_ROWS, _rate_options("channel", "^digital$", "digital$"))
    assert first["rate"] == pytest.approx(8 / 23)
    assert second["rate"] == pytest.approx(12 / 37)


def test_rate_is_zero_when_the_numerator_rows_hold_zero():
    rows = [{"_start_at": W1, "_end_at": W2, "c": "done", "v": 0}, {"_start_at": W1, "_end_at": W2, "c": "start", "v": 4}]
    options = {"valueAttribute": "v", "matchingAttribute": "c", "numeratorMatcher": "done", "denominatorMatcher": "start"}
    assert rate.compute(rows, options)[0]["rate"] == 0


def test_rate_uses_true_division_for_integer_sums():
    rows = [{"_start_at": W1, "_end_at": W2, "c": "a", "v": 2}, {"_start_at": W1, "_end_at": W2, "c": "b", "v": 3}]
    options = {"valueAttribute": "v", "matchingAttribute": "c", "numeratorMatcher": "a", "denominatorMatcher": "a|b"}
    assert rate.compute(rows, options)[0]["rate"] == pytest.approx(0.4)


def test_rate_refuses_text_values_as_bad_source_data():
    rows = [{"_start_at": W1, "_end_at": W2, "c": "a", "v": "two"}]
    options = {"valueAttribute": "v", "matchingAttribute": "c", "numeratorMatcher": "a", "denominatorMatcher": "a"}
    with pytest.raises(BadSourceData):
        rate.compute(rows, options)


def test_rate_options_are_checked():
    with pytest.raises(ValueError, match="numeratorMatcher"):
        check_options("rate", {"valueAttribute": "v", "matchingAttribute": "c", "denominatorMatcher": "a"})
    with pytest.raises(ValueError, match="regular expression"):
        check_options("rate", _rate_options(numerator="(unclosed"))


def _ratings(r1, r2, r3, r4, r5, total):
    return {"_start_at": "2014-11-10T00:00:00+00:00", "_end_at": "2014-11-17T00:00:00+00:00",
            "rating_1:sum": r1, "rating_2:sum": r2, "rating_3:sum": r3, "rating_4:sum": r4,
            "rating_5:sum": r5, "total:sum": total}


@pytest.mark.parametrize("row, expected", [
    (_ratings(1, 1, 1, 1, 1, 5), 0.5),
    (_ratings(1, 1, 1, 1, 6, 10), 0.75),
    (_ratings(6, 1, 1, 1, 1, 10), 0.25),
    (_ratings(None, None, None, None, None, None), None),
    (_ratings(0, 0, 0, 0, 0, 0), None),
])
def test_user_satisfaction_scores(row, expected):
    assert user_satisfaction.compute([row], {})[0]["score"] == expected


def test_user_satisfaction_output_fields_and_id():
    record = user_satisfaction.compute([_ratings(1, 2, 3, 4, 5, 15)], {})[0]
    assert record["_id"] == "MjAxNC0xMS0xMFQwMDowMDowMCswMDowMF8yMDE0LTExLTE3VDAwOjAwOjAwKzAwOjAw"
    assert record["rating_5"] == 5 and record["num_responses"] == 15
    assert record["_timestamp"] == "2014-11-10T00:00:00+00:00"


def test_user_satisfaction_counts_a_null_rating_sum_as_zero():
    assert user_satisfaction.compute([_ratings(None, 0, 0, 0, 2, 2)], {})[0]["score"] == 1.0


BROWSERS = [("Internet Explorer", "6", 10), ("Internet Explorer", "7", 11), ("Internet Explorer", "9", 12),
            ("Internet Explorer", "10", 13), ("Some other browser", "10", 14)]
MAPPING_OPTIONS = {
    "mapping-keys": ["browser", "browserVersion"],
    "mappings": {"OldIE": ["Internet Explorer", "[2-8]{1}(.)*"], "NewIE": ["Internet Explorer", "(9|1)(.)*"]},
    "mapped-attribute": "browser_group", "value-attribute": "sessions",
}


def _browser_rows():
    return [{"_start_at": "2014-12-22T00:00:00+00:00", "_end_at": "2014-12-29T00:00:00+00:00",
             "browser": b, "browserVersion": v, "sessions": n} for b, v, n in BROWSERS]


def test_mapping_sums_values_per_category():
    output = mapping.compute(_browser_rows(), MAPPING_OPTIONS)
    assert [(r["browser_group"], r["sessions"]) for r in output] == [("OldIE", 21), ("NewIE", 25)]
    assert output[0]["_timestamp"] == "2014-12-22T00:00:00+00:00"
    assert output[0]["_id"] == encode_id("2014-12-22T00:00:00+00:00", "2014-12-29T00:00:00+00:00", "OldIE")


def test_mapping_puts_unmatched_rows_in_the_other_category_when_named():
    output = mapping.compute(_browser_rows(), {**MAPPING_OPTIONS, "other-mapping": "other"})
    assert [(r["browser_group"], r["sessions"]) for r in output] == [("OldIE", 21), ("NewIE", 25), ("other", 14)]


def test_mapping_options_need_one_regex_per_key():
    with pytest.raises(ValueError, match="one regex per mapping key"):
        check_options("mapping", {**MAPPING_OPTIONS, "mappings": {"OldIE": ["Internet Explorer"]}})


def _context(data_type="completion-rate", dashboards=(), newest=None, services=None):
    return TaskContext(
        data_set={"name": "apply_carers_allowance_completion_rate", "data_type": data_type},
        transform={},
        dashboards_showing=lambda name: list(dashboards),
        dashboards_for_service=lambda sid: (services or {}).get(sid, []),
        newest_output_timestamp=lambda record_id: newest,
    )


COMPLETION = [{"_timestamp": "2013-10-07T00:00:00+00:00", "rate": 0.2696},
              {"_timestamp": "2013-10-14T00:00:00+00:00", "rate": 0.29334396173774413}]
DASHBOARDS = [{"slug": "published", "published": True}, {"slug": "unpublished", "published": False}]


def test_latest_dataset_value_publishes_the_newest_value_to_published_dashboards():
    assert latest_dataset_value.compute(COMPLETION, {}, _context(dashboards=DASHBOARDS)) == [{
        "_id": "cHVibGlzaGVkX2NvbXBsZXRpb25fcmF0ZQ==", "dashboard_slug": "published",
        "completion_rate": 0.29334396173774413, "_timestamp": "2013-10-14T00:00:00+00:00",
        "service_id": "published",
    }]


def test_latest_dataset_value_never_overwrites_a_newer_published_value():
    newer = datetime(2014, 1, 1, tzinfo=timezone.utc)
    assert latest_dataset_value.compute(COMPLETION, {}, _context(dashboards=DASHBOARDS, newest=newer)) == []


def test_latest_dataset_value_outputs_nothing_for_no_rows():
    assert latest_dataset_value.compute([], {}, _context(dashboards=DASHBOARDS)) == []


def test_latest_dataset_value_reads_score_of_satisfaction_data_sets():
    rows = [{"_timestamp": "2013-10-14T00:00:00+00:00", "score": 0.8}]
    output = latest_dataset_value.compute(rows, {}, _context("user-satisfaction-score", DASHBOARDS))
    assert output[0]["user_satisfaction_score"] == 0.8


def test_latest_dataset_value_refuses_other_data_types():
    with pytest.raises(BadSourceData):
        latest_dataset_value.compute(COMPLETION, {}, _context("visits", DASHBOARDS))


EXPLORER = [
    {"_timestamp": "2014-12-12T00:00:00+00:00", "type": "quarterly", "service_id": "svc-q",
     "digital_cost_per_transaction": 2.36, "digital_takeup": None, "cost_per_transaction": None},
    {"_timestamp": "2014-01-01T00:00:00+00:00", "type": "quarterly", "service_id": "svc-old",
     "digital_cost_per_transaction": 2.36, "digital_takeup": None, "cost_per_transaction": None},
    {"_timestamp": "2013-04-01T00:00:00+00:00", "type": "seasonally-adjusted", "service_id": "bis",
     "digital_cost_per_transaction": 2.52, "digital_takeup": 0.9655, "cost_per_transaction": 5.2},
    {"_timestamp": "2013-01-01T00:00:00+00:00", "type": "seasonally-adjusted", "service_id": "sorn",
     "digital_cost_per_transaction": 2.52, "digital_takeup": 0.9655, "cost_per_transaction": 5.2},
]
SERVICES = {"svc-q": [{"slug": "quarterly-nonsense"}], "svc-old": [{"slug": "quart"}],
            "bis": [{"slug": "bis-returns"}], "sorn": [{"slug": "sorn"}]}


def _explorer(newest=None):
    output = latest_transaction_explorer_values.compute(EXPLORER, {}, _context(services=SERVICES, newest=newest))
    return {(r["dashboard_slug"], next(k for k in r if k in dict(latest_transaction_explorer_values.METRICS))): r
            for r in output}


def test_transaction_explorer_takes_current_quarterly_values():
    record = _explorer()[("quarterly-nonsense", "digital_cost_per_transaction")]
    assert record["digital_cost_per_transaction"] == 2.36
    assert record["_timestamp"] == "2014-12-12T00:00:00+00:00"
    assert record["_id"] == encode_id("quarterly-nonsense", "digital_cost_per_transaction")


def test_transaction_explorer_nulls_values_of_rows_older_than_their_kinds_latest():
    record = _explorer()[("quart", "digital_cost_per_transaction")]
    assert record["digital_cost_per_transaction"] is None
    assert record["_timestamp"] == "2014-12-12T00:00:00+00:00"


def test_transaction_explorer_skips_metrics_whose_only_rows_are_ignored():
    records = _explorer()
    assert ("quart", "cost_per_transaction") not in records
    assert ("quarterly-nonsense", "cost_per_transaction") not in records


def test_transaction_explorer_seasonally_adjusted_values():
    records = _explorer()
    assert records[("bis-returns", "cost_per_transaction")]["cost_per_transaction"] == 5.2
    assert records[("bis-returns", "cost_per_transaction")]["_timestamp"] == "2013-04-01T00:00:00+00:00"
    assert records[("bis-returns", "number_of_digital_transactions")]["number_of_digital_transactions"] is None
    sorn = [r for (slug, _), r in records.items() if slug == "sorn"]
    assert len(sorn) == 6 and all(r[k] is None for r in sorn for k in r if k in dict(latest_transaction_explorer_values.METRICS))


def test_transaction_explorer_outputs_nothing_when_the_output_is_newer():
    assert _explorer(newest=datetime(2018, 1, 1, tzinfo=timezone.utc)) == {}


def test_transaction_explorer_without_seasonal_rows_does_not_crash():
    rows = [r for r in EXPLORER if r["type"] == "quarterly"]
    output = latest_transaction_explorer_values.compute(rows, {}, _context(services=SERVICES))
    assert {r["dashboard_slug"] for r in output} == {"quarterly-nonsense", "quart"}
