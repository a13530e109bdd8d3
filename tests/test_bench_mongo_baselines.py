"""The benchmark's hand-written MongoDB pipelines answer what the read API answers.

A benchmark run against MongoDB needs a real server (the apps are separate processes), so
the baselines are checked here instead, on mongomock (not a real server): the same
generated records stored through the engine, each query answered by the core's reading
path and by its raw pipeline, both reduced to the benchmark's fingerprint.
"""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # bench/ runs from the checkout, as the benchmark does

from bench import generate, queries, raw_queries  # noqa: E402
from bench.engines import pipeline_rows  # noqa: E402

from backdrop import testing  # noqa: E402
from backdrop.core import reading  # noqa: E402
from backdrop.core.data_set import DataSet  # noqa: E402
from backdrop.core.query import parse_query  # noqa: E402
from backdrop.core.registry import DataSetConfig  # noqa: E402

NOW = datetime(2024, 1, 2, tzinfo=timezone.utc)
SPECS = [*queries.QUERIES, queries.WEEK_QUERY]


@pytest.fixture(scope="module")
def stored():
    """(storage, mongomock database) holding 1,000 generated records, as the write API stores them."""
    with testing.fresh_mongo_database(None, prefix="backdrop_bench_baselines") as url:
        if not url.startswith(f"mongodb://{testing.MONGOMOCK_HOST}/"):
            pytest.skip("BACKDROP_TEST_MONGO_URL names a real server: the benchmark itself measures there")
        storage = testing.open_mongo_database(url)
        config = DataSetConfig.from_dict({"name": "bench", "data_group": "bench", "data_type": "t"})
        storage.create_data_set(config.to_dict())
        DataSet(storage, config, now=lambda: NOW).store(list(generate.records(1000)))
        yield storage, testing.mongomock_server()[url.rsplit("/", 1)[1]]
        storage.close()


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_the_raw_pipeline_answers_as_the_api_does(stored, spec):
    storage, database = stored
    answer = reading.execute(storage, "bench", parse_query(list(spec.params), raw_queries_allowed=True, now=NOW))
    pipeline, _ = raw_queries.statement("mongo", spec.name, "bench")
    rows = pipeline_rows(database.records.aggregate(pipeline))
    assert raw_queries.fingerprint(spec, rows) == spec.fingerprint(answer)
    assert spec.fingerprint(answer)[0] > 0  # each query finds something in the generated span
