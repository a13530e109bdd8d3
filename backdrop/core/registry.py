"""Data-set configurations: their fields and defaults, validation, and lookups.

Configurations are stored as plain JSON objects (contract §3); inside the core they travel
as DataSetConfig values so that every reader sees the defaults filled in the same way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

DEFAULT_MAX_AGE_EXPECTED = 2678400


@dataclass(frozen=True)
class DataSetConfig:
    name: str
    data_group: str
    data_type: str
    bearer_token: str | None = None
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
        return data
