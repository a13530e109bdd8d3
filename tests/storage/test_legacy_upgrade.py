"""Databases made by the release before schema versions open with this one, nothing lost.

The fixtures (tests/fixtures/legacy, built by make_legacy_fixtures.py with that release)
hold several configurations, records of every shape the engines treat specially, a
capped data set past its cap, transforms and dashboards; expected.json is what that
release read back. Every value is compared with its JSON type: 3.0 is not 3.
"""
from __future__ import annotations

import importlib.util
import json
import shutil

import pytest
from schema_support import EVERY_VERSION, LATEST, LEGACY, SQL_ENGINES, kind_of, legacy, recorded_versions

from backdrop.core import registry, tokens
from backdrop.core.data_set import DataSet
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import MigrationsPending, RecordQuery, record_size

EXPECTED = json.loads((LEGACY / "expected.json").read_text(encoding="utf-8"))


def _fixture_script():
    spec = importlib.util.spec_from_file_location("make_legacy_fixtures", LEGACY / "make_legacy_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contents = _fixture_script().contents


def typed(value) -> str:
    """The value as canonical JSON: equal only when every value and every type agree."""
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False)


@pytest.fixture(params=SQL_ENGINES)
def legacy_url(request, tmp_path):
    if request.param == "postgres" and shutil.which("psql") is None:
        pytest.skip("SKIP postgres legacy fixture: psql (needed to load the dump) is not on PATH")
    with legacy(request.param, tmp_path) as url:
        yield url


def with_tokens_checked(found: dict, expected: dict) -> tuple[dict, dict]:
    """Both sides without their tokens, once each stored hash is seen to accept exactly the
    legacy clear token (and the clear token is seen to be gone)."""
    clear = {config["name"]: config["bearer_token"] for config in expected["data_sets"]}
    for config in found["data_sets"]:
        assert "bearer_token" not in config
        stored, token = config["bearer_token_hash"], clear[config["name"]]
        assert (stored is None) == (token is None)
        assert token is None or (tokens.verify_token(token, stored) and token not in stored)
    strip = lambda side, key: {**side, "data_sets": [{k: v for k, v in c.items() if k != key}  # noqa: E731
                                                     for c in side["data_sets"]]}
    return strip(found, "bearer_token_hash"), strip(expected, "bearer_token")


@pytest.mark.parametrize("auto_migrate", [True, False])
def test_every_configuration_record_transform_and_dashboard_survives(legacy_url, auto_migrate):
    engine = open_storage(legacy_url, pool_size=2, auto_migrate=auto_migrate)
    if not auto_migrate:
        with pytest.raises(MigrationsPending, match="2 store data-set bearer tokens as salted scrypt hashes; count wrong tokens per address"):
            engine.list_data_sets()
        assert engine.migrate().after == LATEST
    found = contents(engine)
    assert engine.schema_version() == LATEST and engine.pending_migrations() == []
    engine.close()
    found, expected = with_tokens_checked(found, EXPECTED[kind_of(legacy_url)])
    assert typed(found) == typed(expected)
    assert len(found["data_sets"]) == 5 and len(found["transforms"]) == 2 and len(found["dashboards"]) == 2


def test_auto_migrate_adopts_the_database_as_version_1_then_hashes_tokens_and_off_leaves_it_untouched(
        legacy_url):
    engine = open_storage(legacy_url, pool_size=2, auto_migrate=False)
    with pytest.raises(MigrationsPending):
        engine.list_data_sets()
    engine.close()
    assert recorded_versions(legacy_url) is None
    engine = open_storage(legacy_url, pool_size=2)
    engine.list_data_sets()
    engine.close()
    assert recorded_versions(legacy_url) == EVERY_VERSION


def test_a_legacy_token_still_writes_after_the_upgrade_and_a_wrong_one_does_not(legacy_url):
    engine = open_storage(legacy_url, pool_size=2)
    config = registry.get(engine, "carers_allowance_transactions")
    engine.close()
    assert tokens.VerifiedCache().check(config.name, "ca-token", config.bearer_token_hash)
    assert not tokens.VerifiedCache().check(config.name, "lic-token", config.bearer_token_hash)


def test_the_upgraded_database_keeps_versions_rising_and_caps_applying(legacy_url):
    engine = open_storage(legacy_url, pool_size=2)
    before = {config["name"]: engine.data_set_version(config["name"]) for config in engine.list_data_sets()}
    events = DataSet(engine, registry.get(engine, "audit_events"))
    events.store([{"_id": "after-upgrade", "kind": "logout", "who": "user-9", "at": 99}])
    kept = list(engine.find("audit_events", RecordQuery()))
    after = engine.data_set_version("audit_events")
    engine.close()
    assert after > max(before.values())
    assert kept[-1]["_id"] == "after-upgrade"
    assert sum(record_size(found) for found in kept) <= 700
    assert [found["_id"] for found in kept][0] != "event-1-2"  # the oldest went to make room
