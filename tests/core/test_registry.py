"""Data-set configurations: validation, defaults and the create/replace/delete rules."""
import json
import re

import pytest

from backdrop.core import registry, tokens
from backdrop.core.registry import ConfigError, Conflict, DataSetConfig, Missing
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery


@pytest.fixture
def storage():
    engine = open_storage("memory://")
    yield engine
    engine.close()


def body(**fields):
    return {"data_group": "carers-allowance", "data_type": "customer-satisfaction", **fields}


# ---------------------------------------------------------------------------- validate


def test_defaults_are_filled_in():
    config = registry.validate(body())
    assert config == DataSetConfig(name="carers_allowance_customer_satisfaction",
                                   data_group="carers-allowance", data_type="customer-satisfaction")
    assert config.to_dict()["upload_filters"] == [] and config.max_age_expected == 2678400


def test_the_default_name_turns_dashes_into_underscores():
    assert registry.default_name("a-b", "c-d") == "a_b_c_d"


def test_a_given_name_is_kept():
    assert registry.validate(body(name="my-set")).name == "my-set"


@pytest.mark.parametrize("name", ["a", "0lead", "with_under", "with-dash", "x" * 100])
def test_valid_names(name):
    assert registry.valid_name(name)


@pytest.mark.parametrize("name", ["", "_lead", "-lead", "Upper", "sp ace", "dot.ted", "x" * 101, 5])
def test_invalid_names(name):
    assert not registry.valid_name(name)


@pytest.mark.parametrize("name", sorted(registry.RESERVED_NAMES))
def test_reserved_names_are_refused(name):
    with pytest.raises(ConfigError, match="reserved"):
        registry.validate(body(name=name))


def test_a_default_name_longer_than_the_rule_allows_is_refused():
    with pytest.raises(ConfigError, match="name"):
        registry.validate({"data_group": "g" * 60, "data_type": "t" * 60})


def test_an_unknown_key_is_named():
    with pytest.raises(ConfigError, match="Unknown field: colour"):
        registry.validate(body(colour="red"))


def test_transforms_is_an_unknown_key_pointing_to_its_resource():
    with pytest.raises(ConfigError, match="Unknown field: transforms .*/transforms"):
        registry.validate(body(transforms=[]))


def test_a_missing_group_is_named():
    with pytest.raises(ConfigError, match="Missing required field: data_group"):
        registry.validate({"data_type": "t1"})


def test_a_non_object_is_refused():
    with pytest.raises(ConfigError):
        registry.validate(["not", "an", "object"])


@pytest.mark.parametrize("field", ["raw_queries_allowed", "queryable", "published", "realtime"])
def test_booleans_must_be_json_booleans(field):
    for value in ("true", 1, 0, None):
        with pytest.raises(ConfigError, match=field):
            registry.validate(body(**{field: value}))


def test_max_age_expected_may_be_null_or_a_non_negative_integer():
    assert registry.validate(body(max_age_expected=None)).max_age_expected is None
    assert registry.validate(body(max_age_expected=0)).max_age_expected == 0
    for value in (-1, 1.5, "360", True):
        with pytest.raises(ConfigError, match="max_age_expected"):
            registry.validate(body(max_age_expected=value))


def test_capped_size_null_means_uncapped():
    assert registry.validate(body(capped_size=None)).capped_size == 0


def test_capped_size_must_be_a_non_negative_integer():
    for value in (-1, 2.5, "4096", False):
        with pytest.raises(ConfigError, match="capped_size"):
            registry.validate(body(capped_size=value))


def test_auto_ids_must_be_valid_field_names():
    assert registry.validate(body(auto_ids=["_timestamp", "foo"])).auto_ids == ("_timestamp", "foo")
    for value in ("foo", ["foo-bar"], ["a"], [5]):
        with pytest.raises(ConfigError, match="auto_ids"):
            registry.validate(body(auto_ids=value))


def test_schema_must_be_a_valid_json_schema():
    schema = {"type": "object", "required": ["_timestamp"]}
    assert registry.validate(body(schema=schema)).schema == schema
    for value in ({"type": "nonsense"}, ["x"], "x", {"$ref": "http://elsewhere/schema"}):
        with pytest.raises(ConfigError, match="schema"):
            registry.validate(body(schema=value))


def test_upload_format_is_one_of_three():
    for value in ("csv", "excel", ""):
        assert registry.validate(body(upload_format=value)).upload_format == value
    for value in ("pdf", None, 1):
        with pytest.raises(ConfigError, match="upload_format"):
            registry.validate(body(upload_format=value))


def test_upload_filters_is_a_list_of_strings():
    assert registry.validate(body(upload_filters=["a.b"])).upload_filters == ("a.b",)
    for value in ("a.b", [1], None):
        with pytest.raises(ConfigError, match="upload_filters"):
            registry.validate(body(upload_filters=value))


def test_bearer_token_is_a_string_or_null():
    assert registry.validate(body(bearer_token=None)).bearer_token_hash is None
    with pytest.raises(ConfigError, match="bearer_token"):
        registry.validate(body(bearer_token=123))


def test_a_stored_configuration_round_trips():
    config = registry.validate(body(auto_ids=["foo_id"], upload_filters=["x"], schema={"type": "object"}))
    assert DataSetConfig.from_dict(config.to_dict()) == config


def test_from_dict_treats_missing_keys_as_defaults():
    config = DataSetConfig.from_dict({"name": "old", "data_group": "g", "data_type": "t", "capped_size": None})
    assert (config.capped_size, config.bearer_token_hash, config.schema) == (0, None, None)


# ---------------------------------------------------------------------------- storage operations


def test_create_stores_and_returns_the_configuration(storage):
    config = registry.create(storage, body())
    assert registry.get(storage, config.name) == config
    assert registry.find(storage, "carers-allowance", "customer-satisfaction") == config


def test_create_of_a_taken_name_conflicts(storage):
    registry.create(storage, body(name="taken"))
    with pytest.raises(Conflict, match="Data set 'taken' already exists"):
        registry.create(storage, body(name="taken", data_type="other"))


def test_create_of_a_taken_pair_conflicts(storage):
    registry.create(storage, body(name="one"))
    with pytest.raises(Conflict, match="A data set for carers-allowance/customer-satisfaction already exists"):
        registry.create(storage, body(name="two"))


def test_lookups_of_unknown_data_sets(storage):
    assert registry.get(storage, "nobody") is None
    assert registry.find(storage, "no", "body") is None
    with pytest.raises(Missing, match="No data set named 'nobody'"):
        registry.require(storage, "nobody")


def test_list_all_is_sorted_by_name(storage):
    for name in ("b-set", "c-set", "a-set"):
        registry.create(storage, body(name=name, data_group=name))
    assert [c.name for c in registry.list_all(storage)] == ["a-set", "b-set", "c-set"]


def test_replace_resets_omitted_fields_but_keeps_name_capped_size_and_token(storage):
    created = registry.create(storage, body(name="kept", capped_size=4096, published=False, bearer_token="t"))
    config = registry.replace(storage, "kept", {"data_group": "g1", "data_type": "t1"})
    assert (config.name, config.capped_size, config.published) == ("kept", 4096, True)
    assert config.bearer_token_hash == created.bearer_token_hash
    assert registry.get(storage, "kept") == config


def test_a_token_is_stored_only_as_a_salted_hash(storage):
    first = registry.create(storage, body(name="one", data_group="g1", bearer_token="same-token"))
    second = registry.create(storage, body(name="two", data_group="g2", bearer_token="same-token"))
    assert "same-token" not in json.dumps(storage.list_data_sets())
    assert re.fullmatch(r"scrypt\$\d+\$8\$1\$[\w-]{22}\$[\w-]{43}", first.bearer_token_hash)
    assert first.bearer_token_hash != second.bearer_token_hash  # salted
    assert tokens.verify_token("same-token", first.bearer_token_hash)
    assert not tokens.verify_token("same-tokeN", first.bearer_token_hash)
    public = first.public_dict()
    assert public["has_bearer_token"] is True
    assert "bearer_token" not in public and "bearer_token_hash" not in public


def test_replace_with_the_same_token_keeps_the_hash_and_null_clears_it(storage):
    created = registry.create(storage, body(name="kept", bearer_token="t"))
    echoed = {**created.public_dict(), "bearer_token": "t"}  # a GET-modify-PUT client
    assert registry.replace(storage, "kept", echoed).bearer_token_hash == created.bearer_token_hash
    changed = registry.replace(storage, "kept", body(bearer_token="new"))
    assert tokens.verify_token("new", changed.bearer_token_hash)
    cleared = registry.replace(storage, "kept", body(bearer_token=None))
    assert cleared.bearer_token_hash is None and cleared.public_dict()["has_bearer_token"] is False


def test_the_cost_sets_n_of_new_hashes_and_old_ones_keep_theirs():
    try:
        tokens.set_cost(14)
        strong = tokens.hash_token("t")
        tokens.set_cost(10)
        assert strong.startswith("scrypt$16384$8$1$") and tokens.hash_token("t").startswith("scrypt$1024$8$1$")
        assert tokens.verify_token("t", strong)
        with pytest.raises(ValueError):
            tokens.set_cost(9)
    finally:
        tokens.set_cost(10)


def test_a_copied_hash_must_look_like_one(storage):
    copied = tokens.hash_token("t")
    assert registry.create(storage, body(name="copy"), token_hash=copied).bearer_token_hash == copied
    with pytest.raises(ConfigError, match="bearer_token_hash"):
        registry.create(storage, body(name="bad", data_group="g2"), token_hash="t")


def test_a_token_followed_by_nul_bytes_does_not_match():
    """HMAC (inside scrypt) pads its key with zero bytes: `t` and `t\\x00` would hash alike."""
    stored = tokens.hash_token("good")
    assert tokens.verify_token("good", stored)
    assert not tokens.verify_token("good\x00", stored) and not tokens.verify_token("good\x00\x00", stored)
    with pytest.raises(ConfigError, match="cannot contain the NUL character"):
        registry.validate(body(bearer_token="good\x00"))


def test_the_verified_cache_remembers_good_tokens_only_and_stays_bounded():
    cache, stored = tokens.VerifiedCache(size=2), tokens.hash_token("good")
    assert cache.check("a", "good", stored) and cache.check("a", "good", stored)
    assert not cache.check("a", "bad", stored) and not cache.check("a", None, stored)
    for name in ("b", "c"):
        cache.check(name, "good", stored)
    assert len(cache._entries) == 2 and ("a", stored) not in cache._entries
    assert not cache.check("a", "good", tokens.hash_token("other"))  # a new hash is a new key


def test_replace_refuses_a_new_name_or_capped_size(storage):
    registry.create(storage, body(name="kept"))
    with pytest.raises(ConfigError, match="name cannot be changed"):
        registry.replace(storage, "kept", body(name="other"))
    with pytest.raises(ConfigError, match="capped_size cannot be changed"):
        registry.replace(storage, "kept", body(capped_size=10))


def test_replace_of_an_unknown_name_is_missing(storage):
    with pytest.raises(Missing):
        registry.replace(storage, "nobody", body())


def test_replace_onto_a_taken_pair_conflicts(storage):
    registry.create(storage, body(name="one", data_group="g1"))
    registry.create(storage, body(name="two", data_group="g2"))
    with pytest.raises(Conflict, match="g1/customer-satisfaction"):
        registry.replace(storage, "two", body(data_group="g1"))


def test_delete_removes_configuration_and_records(storage):
    registry.create(storage, body(name="gone"))
    storage.save_records("gone", [{"_id": "a1", "foo": "bar"}])
    registry.delete(storage, "gone")
    assert registry.get(storage, "gone") is None
    assert list(storage.find("gone", RecordQuery())) == []


def test_delete_of_an_unknown_name_is_missing(storage):
    with pytest.raises(Missing, match='No collection exists with name "nobody"'):
        registry.delete(storage, "nobody")


def test_create_or_replace_creates_then_updates(storage):
    config, created = registry.create_or_replace(storage, body(name="loaded"))
    assert created and config.published
    config, created = registry.create_or_replace(storage, body(name="loaded", published=False))
    assert not created and not registry.get(storage, "loaded").published


def test_timezone_is_an_iana_name_or_null_and_left_out_when_null():
    assert registry.validate(body(timezone="Europe/London")).to_dict()["timezone"] == "Europe/London"
    assert registry.validate(body(timezone=None)).timezone is None
    assert "timezone" not in registry.validate(body()).to_dict()
    for value in ("europe/london", "../x", "localtime", 1, ""):
        with pytest.raises(ConfigError, match="timezone must be a valid IANA time zone name"):
            registry.validate(body(timezone=value))
