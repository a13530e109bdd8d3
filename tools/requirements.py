"""Write requirements.txt from pyproject.toml's runtime dependencies, so the two never differ.

    .venv/bin/python -m tools.requirements           # rewrite requirements.txt
    .venv/bin/python -m tools.requirements --check   # exit 1 if it is out of date

pyproject.toml is the one list of dependencies (`pip install -e '.[test]'` reads it);
requirements.txt exists for platforms that install from a requirements file (Heroku-style
buildpacks reading the Procfile). A test fails while the file is out of date.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS = ROOT / "requirements.txt"

HEADER = """\
# Generated from pyproject.toml's [project] dependencies by `python -m tools.requirements`:
# do not edit; change pyproject.toml and run that. `pip install -e '.[test]'` is the usual way in.
"""


def dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """pyproject.toml's runtime requirements, in its order."""
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]


def render(pyproject: Path = PYPROJECT) -> str:
    """The text requirements.txt should hold for this pyproject.toml."""
    return HEADER + "".join(f"{line}\n" for line in dependencies(pyproject))


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print("usage: python -m tools.requirements [--check]", file=sys.stderr)
        return 2
    wanted = render()
    current = REQUIREMENTS.read_text(encoding="utf-8") if REQUIREMENTS.exists() else ""
    if argv == ["--check"]:
        if current != wanted:
            print("requirements.txt differs from pyproject.toml: run python -m tools.requirements",
                  file=sys.stderr)
            return 1
        return 0
    REQUIREMENTS.write_text(wanted, encoding="utf-8")
    print(f"wrote {REQUIREMENTS.name} ({len(dependencies())} requirements)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
