"""Data-set configurations: their fields and defaults, validation, and lookups.

Configurations are stored as plain JSON objects; inside the core they travel
as DataSetConfig values so that every reader sees the defaults filled in the same way.
The administration API and the command line both go through the functions here, so a
configuration is validated by one set of rules however it arrives.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from backdrop.core import tokens
from backdrop.core.fields import valid_field_name
from backdrop.core.storage.base import AlreadyExists, NotFound, Storage
from backdrop.core.timeseries import known_zone

DEFAULT_MAX_AGE_EXPECTED = 2678400
NAME_PATTERN = r"[a-z0-9][a-z0-9_-]{0,99}"
RESERVED_NAMES = frozenset(("data", "data-sets", "transforms", "dashboards"))
UPLOAD_FORMATS = ("csv", "excel", "")

_NAME = re.compile(NAME_PATTERN, re.ASCII)


@dataclass(frozen=True)
class DataSetConfig:
    name: str
    data_group: str
    data_type: str
    bearer_token_hash: str | None = None  # never the token itself: see core/tokens.py
    raw_queries_allowed: bool = False
    queryable: bool = True
    published: bool = True
    realtime: bool = False
    max_age_expected: int | None = DEFAULT_MAX_AGE_EXPECTED
    capped_size: int = 0
    auto_ids: tuple[str, ...] | None = None
    schema: dict | None = None
    upload_format: str = "csv"
    upload_filters: tuple[str, ...] = field(default_factory=tuple)
    timezone: str | None = None

    @classmethod
    def from_dict(cls, stored: dict) -> "DataSetConfig":
        """Build from a stored configuration; missing keys take their defaults."""
        known = {k: v for k, v in stored.items() if k in cls.__dataclass_fields__}
        if known.get("auto_ids") is not None:
            known["auto_ids"] = tuple(known["auto_ids"])
        known["upload_filters"] = tuple(known.get("upload_filters") or ())
        known["capped_size"] = known.get("capped_size") or 0
        return cls(**known)

    def to_dict(self) -> dict:
        """The stored (and API) form: every field, lists as JSON lists."""
        data = asdict(self)
        data["auto_ids"] = list(self.auto_ids) if self.auto_ids is not None else None
        data["upload_filters"] = list(self.upload_filters)
        if data["timezone"] is None:  # configurations without one read as they always did
            del data["timezone"]
        return data

    def public_dict(self) -> dict:
        """What the admin API and the command line show: the stored form without the hash,
        saying only whether there is a token (`bearer_token` is write-only)."""
        data = self.to_dict()
        del data["bearer_token_hash"]
        return {"name": data.pop("name"), "data_group": data.pop("data_group"),
                "data_type": data.pop("data_type"), "has_bearer_token": self.bearer_token_hash is not None, **data}


# ---------------------------------------------------------------------------- errors


class RegistryError(Exception):
    """A configuration request that cannot be done; str(error) is the client's message."""


class ConfigError(RegistryError):
    """An invalid configuration (HTTP 400)."""


class Conflict(RegistryError):
    """The name or the (data_group, data_type) pair is taken (HTTP 409)."""


class Missing(RegistryError):
    """No configuration of that name (HTTP 404)."""


# ---------------------------------------------------------------------------- validation


def valid_name(name: Any) -> bool:
    """Lowercase letters, digits, `_` and `-`, starting with a letter or digit, at most 100
    characters: the rule for names, groups and types alike (and dashboard slugs)."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def default_name(data_group: str, data_type: str) -> str:
    return f"{data_group}_{data_type}".replace("-", "_")


def _check_name_like(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string")
    if not valid_name(value):
        raise ConfigError(f"{key} must match ^{NAME_PATTERN}$ (lowercase letters, digits, '_' and '-'), "
                          f"not {value!r}")
    return value


def _check_bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_max_age(key: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and value >= 0):
        return value
    raise ConfigError(f"{key} must be a whole number of seconds >= 0, or null")


def _check_capped_size(key: str, value: Any) -> int:
    if value is None:  # null means uncapped, like 0
        return 0
    if _is_int(value) and value >= 0:
        return value
    raise ConfigError(f"{key} must be a whole number of bytes >= 0")


def _check_auto_ids(key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list of field names, or null")
    for name in value:
        if not valid_field_name(name):
            raise ConfigError(f"{key} holds an invalid field name: {name!r}")
    return tuple(value)


def _check_schema(key: str, value: Any) -> dict | None:
    if value is None:
        return None
    from backdrop.core.records import check_schema

    try:
        check_schema(value)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return value


def _check_upload_format(key: str, value: Any) -> str:
    if value not in UPLOAD_FORMATS or not isinstance(value, str):
        raise ConfigError(f'{key} must be one of "csv", "excel" or ""')
    return value


def _check_upload_filters(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{key} must be a list of strings")
    return tuple(value)


def _check_timezone(key: str, value: Any) -> str | None:
    """The zone period queries count in when they name none: an IANA name, or null (UTC)."""
    if value is not None and not known_zone(value):
        raise ConfigError(f"{key} must be a valid IANA time zone name (like Europe/London), or null")
    return value


def _check_token(key: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{key} must be a string or null")
    if value and "\x00" in value:  # see tokens.verify_token: it could never be presented
        raise ConfigError(f"{key} cannot contain the NUL character (U+0000)")
    return value or None  # an empty token is no token: nothing could present it


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "name": _check_name_like,
    "data_group": _check_name_like,
    "data_type": _check_name_like,
    "bearer_token": _check_token,
    "has_bearer_token": _check_bool,  # read-only: accepted back from a GET, then ignored
    "raw_queries_allowed": _check_bool,
    "queryable": _check_bool,
    "published": _check_bool,
    "realtime": _check_bool,
    "max_age_expected": _check_max_age,
    "capped_size": _check_capped_size,
    "auto_ids": _check_auto_ids,
    "schema": _check_schema,
    "upload_format": _check_upload_format,
    "upload_filters": _check_upload_filters,
    "timezone": _check_timezone,
}


def validate(body: Any) -> DataSetConfig:
    """A complete configuration from a client's JSON object, defaults filled in.

    Raises ConfigError naming the first offending key: unknown keys (`transforms` has its
    own resource now), missing `data_group`/`data_type`, wrongly typed or invalid values.
    """
    if not isinstance(body, dict):
        raise ConfigError("A data-set configuration must be a JSON object")
    for key in body:
        if key not in _CHECKS:
            hint = " (transforms are managed through /transforms)" if key == "transforms" else ""
            raise ConfigError(f"Unknown field: {key}{hint}")
    for key in ("data_group", "data_type"):
        if key not in body:
            raise ConfigError(f"Missing required field: {key}")
    values = {key: _CHECKS[key](key, value) for key, value in body.items()}
    values.pop("has_bearer_token", None)
    token = values.pop("bearer_token", None)
    values["bearer_token_hash"] = tokens.hash_token(token) if token is not None else None
    if "name" not in values:
        values["name"] = _check_name_like("name", default_name(values["data_group"], values["data_type"]))
    if values["name"] in RESERVED_NAMES:
        raise ConfigError(f"name {values['name']!r} is reserved")
    return DataSetConfig(**values)


# ---------------------------------------------------------------------------- lookups


def get(storage: Storage, name: str) -> DataSetConfig | None:
    """The configuration named `name`, or None."""
    stored = storage.get_data_set(name)
    return DataSetConfig.from_dict(stored) if stored is not None else None


def find(storage: Storage, data_group: str, data_type: str) -> DataSetConfig | None:
    """The configuration for (data_group, data_type), or None."""
    stored = storage.find_data_set(data_group, data_type)
    return DataSetConfig.from_dict(stored) if stored is not None else None


def require(storage: Storage, name: str) -> DataSetConfig:
    """The configuration named `name`; Missing if there is none."""
    config = get(storage, name)
    if config is None:
        raise Missing(f"No data set named '{name}'")
    return config


def list_all(storage: Storage) -> list[DataSetConfig]:
    """Every configuration, sorted by name."""
    return sorted((DataSetConfig.from_dict(c) for c in storage.list_data_sets()), key=lambda c: c.name)


def list_matching(storage: Storage, data_group: str | None = None,
                  data_type: str | None = None) -> list[DataSetConfig]:
    """The configurations with this group and/or type (None: any), sorted by name.

    Both given name at most one data set, found by the storage's own lookup; one alone
    filters the list, which is small (one entry per data set). A value that breaks the name
    rule matches nothing and never reaches the database (a NUL byte would upset PostgreSQL).
    """
    if any(value is not None and not valid_name(value) for value in (data_group, data_type)):
        return []
    if data_group is not None and data_type is not None:
        found = find(storage, data_group, data_type)
        return [found] if found is not None else []
    return [config for config in list_all(storage)
            if data_group in (None, config.data_group) and data_type in (None, config.data_type)]


# ---------------------------------------------------------------------------- changes


def _conflict(storage: Storage, config: DataSetConfig, *, same_name_ok: bool) -> Conflict | None:
    """Which of the two 409s applies, if any (checked before writing for the exact message)."""
    if not same_name_ok and storage.get_data_set(config.name) is not None:
        return Conflict(f"Data set '{config.name}' already exists")
    holder = storage.find_data_set(config.data_group, config.data_type)
    if holder is not None and holder.get("name") != config.name:
        return Conflict(f"A data set for {config.data_group}/{config.data_type} already exists")
    return None


class _Unset:
    """No token hash given: the body's `bearer_token` (or its absence) decides."""


UNSET: Any = _Unset()


def _with_hash(config: DataSetConfig, token_hash: str | None) -> DataSetConfig:
    if token_hash is not None and not tokens.is_hash(token_hash):
        raise ConfigError("bearer_token_hash must be a stored token hash (scrypt$N$r$p$salt$hash)")
    return dataclasses.replace(config, bearer_token_hash=token_hash)


def create(storage: Storage, body: Any, *, token_hash: str | None = UNSET) -> DataSetConfig:
    """Validate and store a new configuration; ConfigError or Conflict.

    `token_hash` (the worker's outputs, replicate) stores a hash copied from another
    configuration, so the same token works on both.
    """
    config = validate(body)
    if token_hash is not UNSET:
        config = _with_hash(config, token_hash)
    conflict = _conflict(storage, config, same_name_ok=False)
    if conflict is not None:
        raise conflict
    try:
        storage.create_data_set(config.to_dict())
    except AlreadyExists:  # created by someone else since the check above
        raise _conflict(storage, config, same_name_ok=False) or Conflict(
            f"Data set '{config.name}' already exists") from None
    return config


def _kept_hash(current: DataSetConfig, body: Any) -> str | None | _Unset:
    """The stored hash when the body omits `bearer_token` or sends back the same token."""
    if not isinstance(body, dict) or "bearer_token" not in body:
        return current.bearer_token_hash
    token = body["bearer_token"]
    if isinstance(token, str) and tokens.verify_token(token, current.bearer_token_hash):
        return current.bearer_token_hash
    return UNSET


def replace(storage: Storage, name: str, body: Any, *, token_hash: str | None = UNSET) -> DataSetConfig:
    """Replace the configuration `name`, keeping its records.

    Omitted fields take their defaults, except `name` and `capped_size`, which never change
    (a body giving a different value is a ConfigError), and `bearer_token`: omitted, the
    stored hash stays; null clears it. Missing, ConfigError or Conflict.
    """
    current = require(storage, name)
    if token_hash is UNSET:
        token_hash = _kept_hash(current, body)
    if isinstance(body, dict):
        if "name" in body and body["name"] != name:
            raise ConfigError("name cannot be changed")
        if "capped_size" in body and (body["capped_size"] or 0) != current.capped_size:
            raise ConfigError("capped_size cannot be changed")
        body = {"name": name, "capped_size": current.capped_size, **body}
    config = validate(body)
    if token_hash is not UNSET:
        config = _with_hash(config, token_hash)
    conflict = _conflict(storage, config, same_name_ok=True)
    if conflict is not None:
        raise conflict
    try:
        storage.replace_data_set(name, config.to_dict())
    except NotFound:
        raise Missing(f"No data set named '{name}'") from None
    except AlreadyExists:
        raise Conflict(f"A data set for {config.data_group}/{config.data_type} already exists") from None
    return config


def delete(storage: Storage, name: str) -> None:
    """Delete a configuration and all its records; Missing (with the original's text) if absent."""
    if not storage.delete_data_set(name):
        raise Missing(f'No collection exists with name "{name}"')


def create_or_replace(storage: Storage, body: Any, *,
                      token_hash: str | None = UNSET) -> tuple[DataSetConfig, bool]:
    """Store `body` whether or not its data set exists; True when it was created."""
    name = name_of(body)
    if storage.get_data_set(name) is None:
        return create(storage, body, token_hash=token_hash), True
    return replace(storage, name, body, token_hash=token_hash), False


# Fields a replacing body resets to their defaults when it leaves them out (`name` and
# `capped_size` never change, and a left-out `bearer_token` keeps the stored hash).
_RESETTABLE = ("raw_queries_allowed", "queryable", "published", "realtime", "max_age_expected", "auto_ids",
               "schema", "upload_format", "upload_filters", "timezone")


def fields_reset(current: DataSetConfig, body: dict) -> list[str]:
    """The fields of `current` that replacing it by `body` would set back to their defaults:
    those the body leaves out whose stored value is not the default (so a re-load of a
    shorter file can say what it undoes)."""
    defaults = DataSetConfig(name="", data_group="", data_type="")
    return [key for key in _RESETTABLE
            if key not in body and getattr(current, key) != getattr(defaults, key)]


def merged(current: DataSetConfig, body: dict) -> dict:
    """`body` with every field it leaves out taken from `current` (the token stays as
    replace keeps it): a replacement that changes only what the body names."""
    kept = {key: value for key, value in current.public_dict().items() if key != "has_bearer_token"}
    return {**kept, **body}


def name_of(body: Any) -> str:
    """The name a body would get, checked as validate checks it (without hashing its token)."""
    if isinstance(body, dict) and isinstance(body.get("name"), str):
        return body["name"]
    return validate({**body, "bearer_token": None}).name if isinstance(body, dict) else validate(body).name


def rotate_token(storage: Storage, name: str) -> str:
    """Give `name` a new random token, everything else kept; the token is returned once and
    only its hash is stored (the old token stops working at once). Missing if absent."""
    current = require(storage, name)
    token = tokens.generate_token()
    config = dataclasses.replace(current, bearer_token_hash=tokens.hash_token(token))
    try:
        storage.replace_data_set(name, config.to_dict())
    except NotFound:
        raise Missing(f"No data set named '{name}'") from None
    return token
