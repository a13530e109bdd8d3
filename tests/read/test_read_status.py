"""Liveness and data-freshness endpoints."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backdrop.read.app import create_app
from backdrop.core.freshness import seconds_out_of_date
from backdrop.settings import Settings

NOW = datetime(2014, 1, 28, 12, 0, 0, tzinfo=timezone.utc)
ALL_IN_DATE = {"status": "ok", "data_sets": None, "message": "All data_sets are in date"}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("backdrop.read.status.utcnow", lambda: NOW)


@pytest.fixture
def written(add_data_set, add_records):
    """A data set with one record written `ago` before NOW."""

    def written(name: str, ago: timedelta, **settings):
        add_data_set(name, **settings)
        add_records(name, [{"value": 1}], now=NOW - ago)

    return written


def late_entries(client) -> list[dict]:
    return client.get("/_status/data-sets").get_json()["data_sets"]


def test_status_says_the_app_is_up_without_caching(client):
    response = client.get("/_status")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "message": "app is up"}
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_status_does_not_touch_the_database(tmp_path):
    environ = {"BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}  # nothing listens
    client = create_app(Settings.from_env(environ)).test_client()
    assert client.get("/_status").status_code == 200


def test_no_data_sets_are_all_in_date(client):
    response = client.get("/_status/data-sets")
    assert response.status_code == 200
    assert response.get_json() == ALL_IN_DATE
    assert response.headers["Cache-Control"] == "no-cache"


def test_recent_data_is_in_date(client, written):
    written("recent", timedelta(seconds=10), max_age_expected=60)
    assert client.get("/_status/data-sets").get_json() == ALL_IN_DATE


def test_late_data_is_reported_with_its_details(client, written):
    written("recent", timedelta(seconds=10), max_age_expected=1)
    response = client.get("/_status/data-sets")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.get_json() == {
        "status": "not okay",
        "message": "1 data-set is out of date",
        "data_sets": [
            {"name": "recent", "seconds-out-of-date": 9, "last-updated": "2014-01-28T11:59:50+00:00",
             "max-age-expected": 1}
        ],
    }


def test_unmonitored_data_set_is_never_late(client, written):
    written("recent", timedelta(days=400), max_age_expected=None)
    assert client.get("/_status/data-sets").get_json() == ALL_IN_DATE


def test_data_set_without_records_is_not_late(client, add_data_set):
    add_data_set("empty", max_age_expected=0)
    assert client.get("/_status/data-sets").get_json() == ALL_IN_DATE


def test_max_age_zero_and_a_day_old_is_a_day_late(client, written):
    written("daily", timedelta(days=1), max_age_expected=0)
    assert late_entries(client)[0]["seconds-out-of-date"] == 86400


def test_max_age_a_day_and_three_days_old_is_two_days_late(client, written):
    written("daily", timedelta(days=3), max_age_expected=86400)
    assert late_entries(client)[0]["seconds-out-of-date"] == 172800


def test_absent_max_age_means_thirty_one_days(client, storage, add_records):
    storage.create_data_set({"name": "bare", "data_group": "bare", "data_type": "bare"})
    add_records("bare", [{"value": 1}], now=NOW - timedelta(days=32))
    assert late_entries(client)[0]["seconds-out-of-date"] == 86400


def test_every_data_set_is_checked_even_hidden_or_unpublished(client, written):
    written("hidden", timedelta(days=2), max_age_expected=0, queryable=False)
    written("draft", timedelta(days=2), max_age_expected=0, published=False)
    written("fresh", timedelta(days=2), max_age_expected=None)
    body = client.get("/_status/data-sets").get_json()
    assert body["message"] == "2 data-sets are out of date"
    assert [entry["name"] for entry in body["data_sets"]] == ["draft", "hidden"]


def test_freshness_uses_the_newest_write(client, written, add_records):
    written("recent", timedelta(days=3), max_age_expected=86400)
    add_records("recent", [{"value": 2}], now=NOW - timedelta(hours=1))
    assert client.get("/_status/data-sets").get_json() == ALL_IN_DATE


def test_status_failure_is_500_json_with_cors(client, storage, monkeypatch):
    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr(storage, "list_data_sets", broken)
    response = client.get("/_status/data-sets")
    assert response.status_code == 500
    assert response.get_json()["status"] == "error"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- the arithmetic --------------------------------------------------------------------


def test_lateness_is_truncated_toward_zero():
    assert seconds_out_of_date(0, NOW - timedelta(seconds=1.9), NOW) == 1
    assert seconds_out_of_date(2, NOW - timedelta(seconds=0.5), NOW) == -1


def test_a_fraction_of_a_second_early_counts_as_zero_late():
    assert seconds_out_of_date(1, NOW - timedelta(seconds=0.5), NOW) == 0


def test_naive_last_update_is_taken_as_utc():
    naive = datetime(2014, 1, 28, 11, 0, 0)
    assert seconds_out_of_date(0, naive, NOW) == 3600


def test_unmonitored_or_never_written_has_no_lateness():
    assert seconds_out_of_date(None, NOW, NOW) is None
    assert seconds_out_of_date(60, None, NOW) is None
