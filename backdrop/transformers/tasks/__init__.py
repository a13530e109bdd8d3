"""The transform tasks, one module each, found by name.

Each module defines `compute(rows, options, context) -> list[dict]` (rows are the
flattened read-query rows of the input data set) and `check_options(options)`, which
raises ValueError naming what is wrong, so a bad transform is refused when it is created
rather than discovered in the worker.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType

TASK_NAMES = (
    "rate",
    "user_satisfaction",
    "mapping",
    "latest_dataset_value",
    "latest_transaction_explorer_values",
    "debug",
)

_ORIGINAL_PATHS = {f"backdrop.transformers.tasks.{name}.compute": name for name in TASK_NAMES}
_ORIGINAL_PATHS["backdrop.transformers.tasks.debug.logging"] = "debug"


def task_name(function: str) -> str | None:
    """The task name for a name or one of the original's dotted paths; None if unknown."""
    if function in TASK_NAMES:
        return function
    return _ORIGINAL_PATHS.get(function)


def load_task(name: str) -> ModuleType:
    if name not in TASK_NAMES:
        raise KeyError(name)
    return import_module(f"backdrop.transformers.tasks.{name}")
