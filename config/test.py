"""Defaults for test runs: the tests always set BACKDROP_DATABASE_URL to a temporary database."""
DEFAULTS = {
    "BACKDROP_BROKER_URL": "filesystem://",
    "BACKDROP_QUERY_CACHE_SIZE": "1024",
    "BACKDROP_MAX_BODY_BYTES": str(10 * 1024 * 1024),
    "BACKDROP_DB_POOL_SIZE": "4",
    "BACKDROP_LOG_LEVEL": "WARNING",
}
