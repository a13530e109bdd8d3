"""Settings shared by every test: the hypothesis profile property-based tests run under.

The "ci" profile (loaded unless HYPOTHESIS_PROFILE names another) is deterministic and has
no deadline, so a loaded 2-core machine never turns a slow example into a failure.
"thorough" runs many more examples when hunting for a bug by hand.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from backdrop.core import tokens

# What BACKDROP_ENV=test sets in every app process (BACKDROP_TOKEN_HASH_COST=10), here for
# tests that hash tokens without building an app: 2^10 instead of 2^14 keeps the suite fast.
tokens.set_cost(10)

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
