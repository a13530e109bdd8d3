"""Defaults for a developer's machine: everything embedded under var/."""
DEFAULTS = {
    "BACKDROP_BROKER_URL": "filesystem://",
    "BACKDROP_QUERY_CACHE_SIZE": "1024",
    "BACKDROP_MAX_BODY_BYTES": str(10 * 1024 * 1024),
    "BACKDROP_DB_POOL_SIZE": "10",
    "BACKDROP_LOG_LEVEL": "INFO",
}
