"""Importing Backdrop does nothing: no configuration read, nothing opened, no folder made.

Every module of the package is imported in a fresh interpreter whose configuration could
not be read (BACKDROP_ENV is invalid, so reading it raises), whose database and broker
folder point at paths that must stay absent, and which records through an audit hook
every file opened for writing, folder made, database connected or socket opened.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from backdrop.testing import REPOSITORY

IMPORT_EVERYTHING = r"""
import importlib, json, os, pkgutil, sys

EFFECTS = {"os.mkdir", "os.rename", "os.remove", "shutil.rmtree", "sqlite3.connect", "socket.connect",
           "subprocess.Popen", "os.fork"}
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
seen = []

def hook(event, args):
    if event in EFFECTS:
        seen.append([event, repr(args)[:200]])
    elif event == "open" and len(args) > 2 and isinstance(args[2], int) and args[2] & WRITING:
        seen.append([event, repr(args)[:200]])
    elif event == "open" and len(args) > 1 and isinstance(args[1], str) and set(args[1]) & set("wax+"):
        seen.append([event, repr(args)[:200]])

sys.addaudithook(hook)
import backdrop
names = [m.name for m in pkgutil.walk_packages(backdrop.__path__, "backdrop.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "effects": seen}))
"""


def _tree(folder: Path) -> dict[str, int]:
    """Every path under `folder` with its modification time (empty if there is no folder)."""
    if not folder.exists():
        return {}
    return {str(path): path.stat().st_mtime_ns for path in [folder, *folder.rglob("*")]}


def test_importing_every_module_reads_no_configuration_and_creates_nothing(tmp_path):
    cwd, broker, database = tmp_path / "cwd", tmp_path / "broker", tmp_path / "db" / "backdrop.db"
    cwd.mkdir()
    environ = {**os.environ, "BACKDROP_ENV": "not-an-environment", "BACKDROP_BROKER_FOLDER": str(broker),
               "BACKDROP_DATABASE_URL": f"sqlite:///{database}", "BACKDROP_AUDIT_LOG": str(tmp_path / "log" / "a.log"),
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(REPOSITORY)}
    var_before = _tree(REPOSITORY / "var")
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=cwd, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert {"backdrop.transformers.worker", "backdrop.write.app", "backdrop.read.app", "backdrop.cli",
            "backdrop.core.data_set", "backdrop.transformers.tasks.rate"} <= set(report["modules"])
    assert report["effects"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd"] and list(cwd.iterdir()) == []
    assert _tree(REPOSITORY / "var") == var_before
