"""Per-environment defaults. Each module defines DEFAULTS; environment variables override them."""
