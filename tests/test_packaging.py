"""Packaging: what is installed, every declared dependency used, everything imported declared where it belongs.

Runtime code is backdrop/ and tools/ except backdrop/testing.py; test support is that module
plus tests/, features/ and bench/. Imports are read from the source (every `import`, also
inside functions), and mapped to distributions through the installed metadata.
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

from tools import requirements

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TEST_SUPPORT_MODULE = ROOT / "backdrop" / "testing.py"

# Runtime dependencies that no module imports because a script runs them: name -> (script, text in it).
RUN_BY_SCRIPTS = {"gunicorn": ("start-app.sh", '"$root/.venv/bin/gunicorn"')}


def test_only_the_backdrop_package_is_installed():
    """No top-level package such as `config` or `tools` lands in site-packages beside it."""
    assert PROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["backdrop*"]
    assert metadata.distribution("backdrop").read_text("top_level.txt").split() == ["backdrop"]


def test_every_runtime_dependency_is_imported_by_runtime_code_or_run_by_a_script():
    imported = _imported(_runtime_files())
    for name in _names(PROJECT["project"]["dependencies"]):
        if name in RUN_BY_SCRIPTS:
            script, text = RUN_BY_SCRIPTS[name]
            assert text in (ROOT / script).read_text(encoding="utf-8"), f"{script} no longer runs {name}"
        else:
            assert name in imported, f"{name} is declared but no runtime module imports it"


def test_runtime_code_imports_only_runtime_dependencies():
    declared = _provided(PROJECT["project"]["dependencies"])
    undeclared = {name: files for name, files in _imported(_runtime_files()).items() if name not in declared}
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"


def test_test_support_imports_only_declared_dependencies():
    declared = _provided(PROJECT["project"]["dependencies"] + PROJECT["project"]["optional-dependencies"]["test"])
    undeclared = {name: files for name, files in _imported(_test_files()).items() if name not in declared}
    assert not undeclared, f"imported by test support but declared nowhere: {undeclared}"


def test_every_test_extra_is_imported_by_test_support_only():
    by_tests, by_runtime = _imported(_test_files()), _imported(_runtime_files())
    for name in _names(PROJECT["project"]["optional-dependencies"]["test"]):
        assert name in by_tests, f"{name} is a test extra no test support imports"
        assert name not in by_runtime, f"{name} is imported by runtime code: make it a runtime dependency"


def test_requirements_txt_is_generated_from_pyproject():
    assert requirements.REQUIREMENTS.read_text(encoding="utf-8") == requirements.render(), \
        "requirements.txt is out of date: run .venv/bin/python -m tools.requirements"


def _runtime_files() -> list[Path]:
    files = [*(ROOT / "backdrop").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]
    return [path for path in files if path != TEST_SUPPORT_MODULE]


def _test_files() -> list[Path]:
    return [TEST_SUPPORT_MODULE, *(path for folder in ("tests", "features", "bench")
                                   for path in (ROOT / folder).rglob("*.py"))]


def _name(requirement: str) -> str:
    """The canonical distribution name a requirement line names ("psycopg[pool]>=3" -> "psycopg")."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group(0)).lower()


def _names(requirement_lines: list[str]) -> list[str]:
    return [_name(line) for line in requirement_lines]


def _provided(requirement_lines: list[str]) -> set[str]:
    """The declared distributions plus those their requested extras bring, e.g. psycopg[pool]."""
    provided = set()
    for line in requirement_lines:
        distribution, extras = re.match(r"([A-Za-z0-9._-]+)(?:\[([^\]]*)\])?", line).groups()
        provided.add(_name(distribution))
        for extra in filter(None, (extra.strip() for extra in (extras or "").split(","))):
            marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
            provided.update(_name(needed) for needed in metadata.requires(distribution) or []
                            if marker.search(needed))
    return provided


def _imported(files: list[Path]) -> dict[str, list[str]]:
    """Distribution name -> the files importing it; fails on a module no distribution provides."""
    local = {part for path in files for part in (path.stem, *path.relative_to(ROOT).parts[:-1])}
    local.update(path.name for path in ROOT.iterdir() if (path / "__init__.py").exists())  # backdrop, tools
    distributions = _distributions_of_modules()
    imported: dict[str, list[str]] = {}
    for path in files:
        for module in _top_level_imports(path):
            if module in sys.stdlib_module_names or module in local:
                continue
            assert module in distributions, f"{path.relative_to(ROOT)} imports {module}, which nothing provides"
            for name in distributions[module]:
                imported.setdefault(_name(name), []).append(str(path.relative_to(ROOT)))
    return imported


@cache
def _distributions_of_modules() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _top_level_imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules
