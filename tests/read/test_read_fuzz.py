"""Any query string gets an answer, never a 500: random combinations of every parameter."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timezone

import pytest

from backdrop.core.records import prepare_batch
from backdrop.core.registry import DataSetConfig
from backdrop.read.app import create_app
from backdrop.settings import Settings
from backdrop.web import get_storage

DATES = ["2014-01-06T00:00:00Z", "2014-01-13T00:00:00+00:00", "2014-02-01T00:00:00Z", "2013-12-30T00:00:00Z",
         "2014-01-07T12:30:00%2B01:00", "not-a-date", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", ""]
FIELDS = ["channel", "count", "flag", "_timestamp", "_id", "missing", "$where", "a.b", "count:sum", "x' OR 1=1 --", ""]
VALUES = {
    "start_at": DATES, "end_at": DATES,
    "period": ["hour", "day", "week", "month", "quarter", "year", "fortnight", ""],
    "duration": ["1", "3", "0", "-2", "100001", "99999999999999999999", "x"],
    "filter_by": [f"{f}:{v}" for f in FIELDS for v in ("digital", "true", "3", "")] + ["nocolon"],
    "filter_by_prefix": [f"{f}:{v}" for f in FIELDS for v in ("dig", "%", "_")],
    "group_by": FIELDS, "collect": FIELDS + ["count:mean", "flag:set", "channel:count", "count:sum:x", "count:median"],
    "sort_by": [f"{f}:{d}" for f in FIELDS for d in ("ascending", "descending", "sideways")] + ["_count:descending"],
    "limit": ["0", "1", "5", "-1", "10000000000", "x"],
    "flatten": ["true", "false", "maybe"], "inclusive": ["true", "false", "1"], "format": ["csv", "json", ""],
    "callback": ["x"],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    app = create_app(Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": f"sqlite:///{folder}/f.db",
                                        "BACKDROP_QUERY_CACHE_SIZE": "0"}))
    storage = get_storage(app)
    for name, raw in (("open", True), ("closed", False)):
        storage.create_data_set(DataSetConfig(name=name, data_group=name, data_type="t", raw_queries_allowed=raw).to_dict())
        items = [{"_timestamp": f"2014-01-{day:02d}T{day % 24:02d}:00:00Z", "channel": ["digital", "paper", None][day % 3],
                  "count": [day, day / 2, "many", True][day % 4], "flag": day % 2 == 0} for day in range(1, 29)]
        items.append({"channel": "undated", "count": 1})
        storage.save_records(name, prepare_batch(items, auto_ids=None, schema=None, now=datetime.now(timezone.utc)))
    yield app.test_client()
    storage.close()


def _random_queries(count: int, seed: int = 20141128):
    """Seeded random query strings: one to seven parameters, any mix, repeats allowed."""
    chooser = random.Random(seed)
    for _ in range(count):
        names = [chooser.choice(sorted(VALUES)) for _ in range(chooser.randint(0, 7))]
        yield "&".join(f"{name}={chooser.choice(VALUES[name])}" for name in names)


def test_no_query_string_gets_a_server_error(client):
    statuses = Counter()
    for index, query in enumerate(_random_queries(600)):
        path = ("/open", "/closed", "/data/open/t")[index % 3]
        response = client.get(f"{path}?{query}")
        statuses[response.status_code] += 1
        assert response.status_code in (200, 400), (path, query, response.get_data(as_text=True)[:500])
        if response.status_code == 400:
            assert response.json["status"] == "error" and response.json["message"]
    assert statuses[200] > 30 and statuses[400] > 30, statuses  # both kinds of answer were reached
