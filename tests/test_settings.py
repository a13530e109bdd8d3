"""Settings: one table of variables, what each environment changes, and the README kept equal to it."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backdrop.settings import ENVIRONMENTS, REPOSITORY, SETTINGS, Settings, SettingsError

README = Path(__file__).resolve().parent.parent / "README.md"
START_APP = Path(__file__).resolve().parent.parent / "start-app.sh"
SCRIPT_VARIABLES = ("WEB_CONCURRENCY", "BACKDROP_BIND")  # read by start-app.sh, not by Settings


def test_the_table_names_every_field_of_settings_once():
    assert [setting.field for setting in SETTINGS] == [field.name for field in dataclasses.fields(Settings)]
    assert len({setting.variable for setting in SETTINGS}) == len(SETTINGS)


def test_the_defaults_without_any_variable():
    settings = Settings.from_env({})
    assert settings == Settings(
        env="development",
        database_url=f"sqlite:///{REPOSITORY}/var/backdrop.db",
        read_database_url=None,
        broker_url="filesystem://",
        broker_folder=f"{REPOSITORY}/var/broker",
        task_queue="backdrop",
        query_cache_size=1024,
        query_max_rows=100_000,
        query_max_bytes=64 * 1024 * 1024,
        query_timeout=20.0,
        columnar=True,
        columnar_min_records=100_000,
        columnar_memory=1024,
        columnar_catch_up=50_000,
        admin_token=None,
        max_body_bytes=10 * 1024 * 1024,
        db_pool_size=10,
        log_level="INFO",
        log_format="text",
        metrics_folder=f"{REPOSITORY}/var/metrics",
        worker_metrics_port=None,
        audit_log=f"{REPOSITORY}/var/log/audit.log",
        token_secret=None,
        token_hash_cost=14,
        token_failures=20,
        relay_after_commit=True,
        relay_interval=30,
        outbox_max_age=300,
        auto_migrate=True,
        transform_runs_kept=100,
        max_batch_records=100_000,
        web_threads=8,
        header_timeout=10,
        body_timeout=60,
    )
    assert settings.database_url.startswith("sqlite:////")  # an absolute path


@pytest.mark.parametrize("env", ["development", "production"])
def test_development_and_production_change_nothing(env):
    assert ENVIRONMENTS[env] == {}
    assert Settings.from_env({"BACKDROP_ENV": env}) == Settings.from_env({}, env=env)


def test_the_test_environment_lowers_the_pool_the_log_level_and_the_hash_cost():
    settings = Settings.from_env({"BACKDROP_ENV": "test"})
    assert (settings.db_pool_size, settings.log_level, settings.token_hash_cost) == (4, "WARNING", 10)
    assert settings == Settings.from_env({}, env="test", db_pool_size=4, log_level="WARNING", token_hash_cost=10)


def test_each_environment_changes_known_variables_to_values_they_accept():
    variables = {setting.variable: setting for setting in SETTINGS}
    for env, changes in ENVIRONMENTS.items():
        assert set(changes) <= set(variables) - {"BACKDROP_ENV"}, env
        for variable, text in changes.items():
            assert text != variables[variable].default, f"{env} repeats the default of {variable}"
            variables[variable].read({variable: text})  # raises SettingsError if refused


def test_the_environment_wins_and_an_empty_variable_counts_as_unset():
    settings = Settings.from_env({"BACKDROP_ENV": "test", "BACKDROP_DB_POOL_SIZE": "7",
                                  "BACKDROP_LOG_LEVEL": "debug", "BACKDROP_ADMIN_TOKEN": "",
                                  "BACKDROP_DATABASE_URL": "postgresql://u@h/db", "BACKDROP_TASK_QUEUE": ""})
    assert (settings.db_pool_size, settings.log_level, settings.admin_token) == (7, "DEBUG", None)
    assert (settings.database_url, settings.task_queue) == ("postgresql://u@h/db", "backdrop")


def test_keyword_overrides_replace_fields():
    assert Settings.from_env({}, db_pool_size=1).db_pool_size == 1


@pytest.mark.parametrize("text, expected", [
    ("1", True), ("true", True), ("Yes", True), ("ON", True),
    ("0", False), ("false", False), (" no ", False), ("Off", False),
])
def test_auto_migrate_switch(text, expected):
    assert Settings.from_env({"BACKDROP_AUTO_MIGRATE": text}).auto_migrate is expected


def test_the_query_timeout_takes_decimal_seconds():
    assert Settings.from_env({"BACKDROP_QUERY_TIMEOUT": "0.25"}).query_timeout == 0.25


@pytest.mark.parametrize("environ, message", [
    ({"BACKDROP_ENV": "staging"}, "BACKDROP_ENV must be one of development, test, production, not 'staging'"),
    ({"BACKDROP_DB_POOL_SIZE": "ten"}, "BACKDROP_DB_POOL_SIZE must be a whole number, not 'ten'"),
    ({"BACKDROP_QUERY_CACHE_SIZE": "-1"}, "BACKDROP_QUERY_CACHE_SIZE must not be negative"),
    ({"BACKDROP_MAX_BODY_BYTES": "1.5"}, "BACKDROP_MAX_BODY_BYTES must be a whole number, not '1.5'"),
    ({"BACKDROP_AUTO_MIGRATE": "maybe"},
     "BACKDROP_AUTO_MIGRATE must be one of 1, true, yes, on, 0, false, no, off, not 'maybe'"),
    ({"BACKDROP_TRANSFORM_RUNS_KEPT": "0"}, "BACKDROP_TRANSFORM_RUNS_KEPT must be at least 1, not 0"),
    ({"BACKDROP_QUERY_TIMEOUT": "soon"}, "BACKDROP_QUERY_TIMEOUT must be a number of seconds, not 'soon'"),
    ({"BACKDROP_QUERY_TIMEOUT": "-1"}, "BACKDROP_QUERY_TIMEOUT must be a number of seconds, 0 or more, not '-1'"),
    ({"BACKDROP_QUERY_TIMEOUT": "nan"}, "BACKDROP_QUERY_TIMEOUT must be a number of seconds, 0 or more, not 'nan'"),
])
def test_a_bad_value_is_refused_naming_the_variable(environ, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value) == message


def test_importing_reads_no_setting():
    """A bad environment only matters once from_env is called, never on import."""
    environ = {"BACKDROP_ENV": "staging", "BACKDROP_DB_POOL_SIZE": "ten", "PATH": ""}
    program = ("import backdrop.settings as s\n"
               "try:\n    s.Settings.from_env()\nexcept s.SettingsError as e:\n    print(e)")
    done = subprocess.run([sys.executable, "-c", program], env=environ, capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout.strip()) == (
        0, "BACKDROP_ENV must be one of development, test, production, not 'staging'"), done.stderr


def test_the_readme_configuration_table_is_the_settings_table():
    rows = _readme_configuration_rows()
    settings_rows = [row for row in rows if not row.startswith(f"| `{SCRIPT_VARIABLES[0]}`")]
    expected = [_markdown_row(setting) for setting in SETTINGS]
    assert settings_rows == expected, "README.md's configuration table should read:\n" + "\n".join(expected)


def test_the_readme_names_what_each_environment_changes():
    section = _readme_configuration_section()
    for env, changes in ENVIRONMENTS.items():
        assert f"`{env}`" in section
        for variable, text in changes.items():
            assert f"`{variable}={text}`" in section


def test_the_readme_row_of_start_app_variables_names_what_the_script_reads():
    rows = [row for row in _readme_configuration_rows() if row.startswith(f"| `{SCRIPT_VARIABLES[0]}`")]
    assert len(rows) == 1
    script = START_APP.read_text(encoding="utf-8")
    for variable in SCRIPT_VARIABLES:
        assert f"`{variable}`" in rows[0] and "${" + variable + ":-" in script


def _markdown_row(setting) -> str:
    default = f"unset: {setting.unset}" if setting.default is None else f"`{setting.default}`"
    return f"| `{setting.variable}` | {setting.meaning} | {default} |"


def _readme_configuration_section() -> str:
    text = README.read_text(encoding="utf-8")
    return re.search(r"^## Configuration\n(.*?)^## ", text, re.S | re.M).group(1)


def _readme_configuration_rows() -> list[str]:
    lines = _readme_configuration_section().splitlines()
    return [line for line in lines if line.startswith("| `")]
