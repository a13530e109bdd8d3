"""The core's imports: no web framework, no task queue, nothing of the apps or the worker.

Every import statement of every module under backdrop/core is read from the source,
including those inside functions, so a lazy import cannot slip past either.
"""
from __future__ import annotations

import ast
from pathlib import Path

import backdrop.core

CORE = Path(backdrop.core.__file__).parent
FORBIDDEN = ("backdrop.transformers", "backdrop.read", "backdrop.write", "backdrop.web", "backdrop.settings",
             "backdrop.cli", "backdrop.testing", "flask", "werkzeug", "celery", "kombu")


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _forbidden(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN)


def test_the_scan_sees_relative_and_lazy_imports():
    names = imported_names(CORE / "data_set.py")
    assert "backdrop.core.records" in names and "backdrop.core.reading" in names  # module level and lazy
    assert "backdrop.core.storage.base" in imported_names(CORE / "storage" / "memory.py")


def test_the_core_imports_nothing_of_the_apps_the_worker_flask_or_celery():
    found = {f"{path.relative_to(CORE)}: {name}"
             for path in sorted(CORE.rglob("*.py")) for name in imported_names(path) if _forbidden(name)}
    assert found == set()


PACKAGE = CORE.parent
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool", "pymongo")
# Each engine's own modules may import its driver; nothing else in the core may.
DRIVER_OWNERS = {"sqlite3": "storage/sqlite", "psycopg": "storage/postgres", "psycopg_pool": "storage/postgres",
                 "pymongo": "storage/mongo"}


def _imports_of(folder: Path, prefixes: tuple[str, ...]) -> set[str]:
    return {f"{path.relative_to(PACKAGE)}: {name}"
            for path in sorted(folder.rglob("*.py")) for name in imported_names(path)
            if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)}


def test_only_an_engines_own_modules_import_its_database_driver():
    found = set()
    for path in sorted(CORE.rglob("*.py")):
        owner = str(path.relative_to(CORE).with_suffix(""))
        for name in imported_names(path):
            driver = name.split(".")[0]
            if driver in DRIVERS and not owner.startswith(DRIVER_OWNERS[driver]):
                found.add(f"{owner}: {name}")
    assert found == set()


def test_the_read_and_write_apps_import_nothing_of_each_other():
    assert _imports_of(PACKAGE / "read", ("backdrop.write",)) == set()
    assert _imports_of(PACKAGE / "write", ("backdrop.read",)) == set()
