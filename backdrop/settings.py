"""Settings shared by every process: one table of variables, what each environment changes, the environment.

The apps, the worker and the command line all build one Settings from the environment, so
an operator configures every process the same way. SETTINGS is the one place where a
variable, its default and its check are written down: Settings.from_env reads it, and a
test holds the README's configuration table to it. Nothing is read at import; only
from_env looks at the environment.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
REPOSITORY_MARK = "<repository>"  # written in defaults; stands for the checkout Backdrop runs from


class SettingsError(ValueError):
    """A setting has a value Backdrop cannot start with."""


def _text(variable: str, text: str) -> str:
    return text


def _upper(variable: str, text: str) -> str:
    return text.upper()


def _whole_number(variable: str, text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise SettingsError(f"{variable} must be a whole number, not {text!r}") from None
    if number < 0:
        raise SettingsError(f"{variable} must not be negative")
    return number


def _at_least_one(variable: str, text: str) -> int:
    number = _whole_number(variable, text)
    if number < 1:
        raise SettingsError(f"{variable} must be at least 1, not {number}")
    return number


def _seconds(variable: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise SettingsError(f"{variable} must be a number of seconds, not {text!r}") from None
    if not 0 <= number < float("inf"):
        raise SettingsError(f"{variable} must be a number of seconds, 0 or more, not {text!r}")
    return number


_SWITCH_WORDS = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}


def _scrypt_cost(variable: str, text: str) -> int:
    cost = _whole_number(variable, text)
    if not 10 <= cost <= 20:
        raise SettingsError(f"{variable} must be between 10 and 20, not {cost}")
    return cost


def _switch(variable: str, text: str) -> bool:
    try:
        return _SWITCH_WORDS[text.strip().lower()]
    except KeyError:
        raise SettingsError(f"{variable} must be one of {', '.join(_SWITCH_WORDS)}, not {text!r}") from None


def _log_format(variable: str, text: str) -> str:
    if text not in ("text", "json"):
        raise SettingsError(f"{variable} must be text or json, not {text!r}")
    return text


def _port(variable: str, text: str) -> int:
    number = _whole_number(variable, text)
    if not 1 <= number <= 65535:
        raise SettingsError(f"{variable} must be a port number (1 to 65535), not {number}")
    return number


def _environment(variable: str, text: str) -> str:
    if text not in ENVIRONMENTS:
        raise SettingsError(f"{variable} must be one of {', '.join(ENVIRONMENTS)}, not {text!r}")
    return text


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: where a value comes from, what it is when unset, how it is read.

    `default` is text as an operator would write it (so it passes the same check as theirs);
    None means unset, and `unset` then says what that means. An empty variable counts as unset.
    """
    variable: str
    field: str
    default: str | None
    parse: Callable[[str, str], object]
    meaning: str
    unset: str = ""

    def read(self, texts: Mapping[str, str | None]) -> object:
        text = texts[self.variable]
        return None if text is None else self.parse(self.variable, text)


ENV = Setting("BACKDROP_ENV", "env", "development", _environment, "`development`, `test` or `production`")

SETTINGS: tuple[Setting, ...] = (
    ENV,
    Setting("BACKDROP_DATABASE_URL", "database_url", f"sqlite:///{REPOSITORY_MARK}/var/backdrop.db", _text,
            "`sqlite:///relative/path`, `sqlite:////absolute/path`, `postgresql://user@host:port/db`, or "
            "`mongodb://host:port/db?replicaSet=rs0`"),
    Setting("BACKDROP_READ_DATABASE_URL", "read_database_url", None, _text,
            "database the read app reads from, e.g. a PostgreSQL streaming replica of `BACKDROP_DATABASE_URL` "
            "(the write app, the worker and the `backdrop` command keep the primary); its schema is checked, "
            "never migrated", unset="the read app reads `BACKDROP_DATABASE_URL`"),
    Setting("BACKDROP_BROKER_URL", "broker_url", "filesystem://", _text,
            "Celery broker: `filesystem://` (embedded), `amqp://…` (RabbitMQ), `redis://…`"),
    Setting("BACKDROP_BROKER_FOLDER", "broker_folder", f"{REPOSITORY_MARK}/var/broker", _text,
            "folder of the `filesystem://` broker"),
    Setting("BACKDROP_TASK_QUEUE", "task_queue", "backdrop", _text,
            "broker queue the write app sends to and the worker consumes (separate installations "
            "sharing one RabbitMQ use different queues)"),
    Setting("BACKDROP_QUERY_CACHE_SIZE", "query_cache_size", "1024", _whole_number,
            "entries in each read worker's response cache (0 turns it off)"),
    Setting("BACKDROP_QUERY_MAX_ROWS", "query_max_rows", "100000", _whole_number,
            "rows one read answer may hold (raw records; groups; for a period query, periods × groups), "
            "checked before they are built: more is answered 400 (0 turns the limit off)"),
    Setting("BACKDROP_QUERY_MAX_BYTES", "query_max_bytes", str(64 * 1024 * 1024), _whole_number,
            "bytes of one read answer's body: more is answered 400 (0 turns the limit off)"),
    Setting("BACKDROP_QUERY_TIMEOUT", "query_timeout", "20", _seconds,
            "seconds the database may spend on one read of the read app (decimals allowed) before it is "
            "cancelled and answered 503; transforms and the `backdrop` command have none (0 turns it off)"),
    Setting("BACKDROP_COLUMNAR", "columnar", "1", _switch,
            "answer grouped and period queries of large data sets from typed columns in DuckDB, a copy "
            "held by each read process and kept current from the database (off: the database answers all)"),
    Setting("BACKDROP_COLUMNAR_MIN_RECORDS", "columnar_min_records", "100000", _whole_number,
            "records a data set needs before the read processes copy it into columns"),
    Setting("BACKDROP_COLUMNAR_MEMORY", "columnar_memory", "1024", _at_least_one,
            "megabytes of columnar copies one read process may hold: beyond it the least recently "
            "queried data sets are dropped, and a data set that would not fit alone is left to the database"),
    Setting("BACKDROP_COLUMNAR_CATCH_UP", "columnar_catch_up", "50000", _whole_number,
            "changed records a query waits for while a copy catches up; after a larger change the "
            "database answers until the copy has caught up in the background"),
    Setting("BACKDROP_ADMIN_TOKEN", "admin_token", None, _text,
            "bearer token of the administration API", unset="the admin API answers 403"),
    Setting("BACKDROP_MAX_BODY_BYTES", "max_body_bytes", str(10 * 1024 * 1024), _whole_number,
            "largest request body, plain or after gzip decompression"),
    Setting("BACKDROP_DB_POOL_SIZE", "db_pool_size", "10", _whole_number,
            "PostgreSQL connections per process"),
    Setting("BACKDROP_LOG_LEVEL", "log_level", "INFO", _upper,
            "log level"),
    Setting("BACKDROP_LOG_FORMAT", "log_format", "text", _log_format,
            "`text` (a line with time, level, logger, request id, message) or `json` (one JSON object per "
            "line: time, level, role, request_id, data_set, logger, message)"),
    Setting("BACKDROP_METRICS_FOLDER", "metrics_folder", f"{REPOSITORY_MARK}/var/metrics", _text,
            "where each gunicorn server (`start-app.sh`) keeps its workers' metric files, in a folder per app "
            "and port emptied at start"),
    Setting("BACKDROP_WORKER_METRICS_PORT", "worker_metrics_port", None, _port,
            "port of the worker's `GET /_metrics` listener (on 127.0.0.1)", unset="the worker exports no metrics"),
    Setting("BACKDROP_AUDIT_LOG", "audit_log", f"{REPOSITORY_MARK}/var/log/audit.log", _text,
            "audit log file (JSON lines)"),
    Setting("BACKDROP_TOKEN_SECRET", "token_secret", None, _text,
            "key of the audit log's token fingerprints (an HMAC), the same in every write process",
            unset="each process draws a random key: fingerprints match only within one process's lines"),
    Setting("BACKDROP_TOKEN_HASH_COST", "token_hash_cost", "14", _scrypt_cost,
            "scrypt cost of new data-set token hashes: N = 2^cost (10 to 20), r=8, p=1"),
    Setting("BACKDROP_TOKEN_FAILURES", "token_failures", "20", _whole_number,
            "wrong tokens one address may send in a minute (counted in the database, so across every "
            "process) before it is answered 429 until the minute ends; 0 turns the limit off"),
    Setting("BACKDROP_RELAY_AFTER_COMMIT", "relay_after_commit", "1", _switch,
            "the write app sends a write's transform request to the broker right after its commit; with "
            "`0` it only stores it in the outbox and the worker's relay sends it"),
    Setting("BACKDROP_RELAY_INTERVAL", "relay_interval", "30", _whole_number,
            "seconds between two runs of the worker's relay, which sends every transform request still in "
            "the outbox (it also runs when the worker starts; 0: only then)"),
    Setting("BACKDROP_OUTBOX_MAX_AGE", "outbox_max_age", "300", _at_least_one,
            "seconds a transform request may wait unsent in the outbox before the write app's "
            "`/_status/ready` answers 503 (the relay cannot reach the broker)"),
    Setting("BACKDROP_AUTO_MIGRATE", "auto_migrate", "1", _switch,
            "apply pending schema migrations at start-up; with `0`, `false`, `no` or `off` a process "
            "refuses to start until `backdrop migrate` has applied them"),
    Setting("BACKDROP_TRANSFORM_RUNS_KEPT", "transform_runs_kept", "100", _at_least_one,
            "runs of each transform kept in the run history (older ones are deleted as new ones start)"),
    Setting("BACKDROP_MAX_BATCH_RECORDS", "max_batch_records", "100000", _at_least_one,
            "most records one POST may hold; a larger batch is answered 413 with the limit"),
    Setting("BACKDROP_WEB_THREADS", "web_threads", "8", _at_least_one,
            "threads of each gunicorn worker of `start-app.sh` (gthread): requests one worker serves at once"),
    Setting("BACKDROP_HEADER_TIMEOUT", "header_timeout", "10", _at_least_one,
            "seconds a client has to send a request's line and headers (counted from its connection, or "
            "from the first byte of a next request on a kept-alive one); then the connection is closed"),
    Setting("BACKDROP_BODY_TIMEOUT", "body_timeout", "60", _at_least_one,
            "seconds a client has to send a request's whole body once its headers are in (then: 400 and the "
            "connection closed), and the longest wait for a client to take the next part of an answer"),
)

# What each BACKDROP_ENV changes from the defaults above, written as an operator would export
# it. The test suite starts many app processes at once and wants quiet output.
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "development": {},
    "test": {"BACKDROP_DB_POOL_SIZE": "4", "BACKDROP_LOG_LEVEL": "WARNING", "BACKDROP_TOKEN_HASH_COST": "10"},
    "production": {},
}


@dataclass(frozen=True)
class Settings:
    """Every setting of one process, checked; built by from_env (fields are SETTINGS' `field`s)."""
    env: str
    database_url: str
    read_database_url: str | None
    broker_url: str
    broker_folder: str
    task_queue: str
    query_cache_size: int
    query_max_rows: int
    query_max_bytes: int
    query_timeout: float
    columnar: bool
    columnar_min_records: int
    columnar_memory: int
    columnar_catch_up: int
    admin_token: str | None
    max_body_bytes: int
    db_pool_size: int
    log_level: str
    log_format: str
    metrics_folder: str
    worker_metrics_port: int | None
    audit_log: str
    token_secret: str | None
    token_hash_cost: int
    token_failures: int
    relay_after_commit: bool
    relay_interval: int
    outbox_max_age: int
    auto_migrate: bool
    transform_runs_kept: int
    max_batch_records: int
    web_threads: int
    header_timeout: int
    body_timeout: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """The defaults, then BACKDROP_ENV's changes, then the environment's variables, checked."""
        environ = os.environ if environ is None else environ
        env = ENV.read(_overlay(defaults(ENV.default), environ))
        texts = _overlay(defaults(env), environ)
        settings = cls(**{setting.field: setting.read(texts) for setting in SETTINGS})
        return replace(settings, **overrides) if overrides else settings


def defaults(env: str) -> dict[str, str | None]:
    """Every variable's text in one environment before the process environment is consulted."""
    texts = {setting.variable: setting.default for setting in SETTINGS}
    texts.update(ENVIRONMENTS[env])
    return {name: text and text.replace(REPOSITORY_MARK, str(REPOSITORY)) for name, text in texts.items()}


def _overlay(texts: dict[str, str | None], environ: Mapping[str, str]) -> dict[str, str | None]:
    """The texts with every variable the environment sets (an empty variable counts as unset)."""
    return {name: environ.get(name) or text for name, text in texts.items()}
