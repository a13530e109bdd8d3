"""The transform tasks' computations, one module each, found by name.

Each module defines `compute(rows, options, context) -> list[dict]` (rows are the
flattened read-query rows of the input data set). The task names and every task's option
checks live in the core (backdrop/core/transform_tasks.py), so a bad transform is refused
when it is created without the admin API or the command line importing the worker.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType

from backdrop.core.transform_tasks import TASKS


def load_task(name: str) -> ModuleType:
    """The module computing task `name` (a name of the core's registry); KeyError otherwise."""
    if name not in TASKS:
        raise KeyError(name)
    return import_module(f"backdrop.transformers.tasks.{name}")
