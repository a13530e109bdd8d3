"""The transform tasks the core knows by name: their names, aliases and option checks.

A transform is validated when it is created, by the admin API or the command line, long
before a worker runs it; so the core holds everything validation needs, and the worker's
package (backdrop/transformers/tasks/, one module per task defining `compute`) holds only
the computations. The core never imports the worker: the original's dotted function paths
(`backdrop.transformers.tasks.rate.compute`) are plain strings here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from backdrop.core.records import key_problem

ORIGINAL_PREFIX = "backdrop.transformers.tasks."


# ---------------------------------------------------------------------------- option checks
# Each check raises ValueError naming what is wrong with a task's `options`.


def require_text(options: dict, *names: str) -> None:
    for name in names:
        if not isinstance(options.get(name), str) or not options[name]:
            raise ValueError(f"options.{name} is required and must be a non-empty string")


def require_regex(options: dict, *names: str) -> None:
    require_text(options, *names)
    for name in names:
        try:
            re.compile(options[name])
        except re.error as error:
            raise ValueError(f"options.{name} is not a valid regular expression: {error}") from None


def refuse_output_key(option: str, key: str) -> None:
    """An option whose value becomes a key of the output records must be a key record
    validation accepts; otherwise every run would fail storing its output, long after the
    transform was saved (`sessions:sum` names an input row's field but is no record key)."""
    problem = key_problem(key)
    if problem is not None:
        raise ValueError(f"options.{option} {key!r} would be a key of the output records, "
                         f"which record validation refuses: {problem}")


def require_output_key(options: dict, *names: str) -> None:
    for name in names:
        refuse_output_key(name, options[name])


def no_options(options: dict) -> None:
    """The task takes no options of its own; any given are ignored."""


def rate_options(options: dict) -> None:
    require_text(options, "matchingAttribute", "valueAttribute")
    require_regex(options, "numeratorMatcher", "denominatorMatcher")


def mapping_options(options: dict) -> None:
    keys = options.get("mapping-keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("options.mapping-keys must be a non-empty list of field names")
    mappings = options.get("mappings")
    if not isinstance(mappings, dict) or not mappings:
        raise ValueError("options.mappings must be an object of category name → list of regexes")
    for category, patterns in mappings.items():
        if not isinstance(patterns, list) or len(patterns) != len(keys):
            raise ValueError(f"options.mappings.{category} must list one regex per mapping key")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except (re.error, TypeError):
                raise ValueError(f"options.mappings.{category} has an invalid regex: {pattern!r}") from None
    require_text(options, "mapped-attribute", "value-attribute")
    require_output_key(options, "mapped-attribute", "value-attribute")
    other = options.get("other-mapping")
    if other is not None and not isinstance(other, str):
        raise ValueError("options.other-mapping must be a string")


# ---------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Task:
    """One task: its name, the other names a transform may give it, and its option check."""

    name: str
    check_options: Callable[[dict], None]
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every name that selects this task: its own, the original's dotted path, aliases."""
        return (self.name, f"{ORIGINAL_PREFIX}{self.name}.compute", *self.aliases)


TASKS: dict[str, Task] = {task.name: task for task in (
    Task("rate", rate_options),
    Task("user_satisfaction", no_options),
    Task("mapping", mapping_options),
    Task("latest_dataset_value", no_options),
    Task("latest_transaction_explorer_values", no_options),
    Task("debug", no_options, aliases=(f"{ORIGINAL_PREFIX}debug.logging",)),
)}

_BY_NAME = {name: task.name for task in TASKS.values() for name in task.names()}


def task_name(function: str) -> str | None:
    """The task name for a name, an alias or one of the original's dotted paths; None if unknown."""
    return _BY_NAME.get(function)


def check_options(name: str, options: dict) -> None:
    """ValueError naming what is wrong with `options` for task `name` (a registered task).

    `additionalFields` (any task) are merged into every output record, so their names are
    output keys too."""
    TASKS[name].check_options(options)
    for key in options.get("additionalFields", {}):
        refuse_output_key("additionalFields", key)
