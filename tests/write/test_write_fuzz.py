"""Any JSON body gets an answer, never a 500, and a refused batch changes nothing."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from write_support import AUTH, build_app, stored

from backdrop.core import registry
from backdrop.web import get_storage

KEYS = st.sampled_from(["_timestamp", "_id", "_start_at", "_end_at", "_updated_at", "_foo", "name", "count",
                        "a", "a.b", "$set", "", "Name2", "1st"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(["2014-01-06T00:00:00Z", "2014-13-40", "31-11-12T00:00:00"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=6)
RECORDS = st.dictionaries(KEYS, VALUES, max_size=5)
BODIES = st.one_of(RECORDS, st.lists(st.one_of(RECORDS, SCALARS), max_size=5), SCALARS)

@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    app = build_app(tmp_path_factory.mktemp("fuzz"))
    registry.create(get_storage(app), {"name": "fuzz", "data_group": "fuzz", "data_type": "t",
                                       "bearer_token": AUTH["Authorization"].split()[1]})
    yield app.test_client(), get_storage(app)
    get_storage(app).close()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES)
def test_no_body_gets_a_server_error_and_refusals_store_nothing(fuzzed, body):
    client, storage = fuzzed
    before = len(stored(storage, "fuzz"))
    response = client.post("/data/fuzz/t", data=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code in (200, 400), (body, response.get_data(as_text=True)[:300])
    if response.status_code == 400:
        assert len(stored(storage, "fuzz")) == before
