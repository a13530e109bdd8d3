"""The README's first sessions, run as a newcomer would paste them, against real apps.

The curl session ("A first session with curl") and the command-line session
("Administration") run in order, in one bash each, against a read and a write app started
with `start-app.sh` on free ports over a fresh SQLite database, from a folder holding only
`.venv` and `examples/` (as the checkout does). Every command must succeed (curl with
--fail-with-body, so a 4xx fails it), and every `# → ANSWER` comment is checked: a JSON
answer must equal the command's output, any other text must appear in it. So the README
cannot drift from the code, nor name a file that does not exist.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from backdrop.testing import Stack, app_environment, start_app, wait_until_up

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
ANSWER = "# → "
ADMIN_TOKEN = "dev-admin-token"  # what run_development.sh sets, and the session uses


def readme_block(section: str, containing: str) -> str:
    """The first ```sh block of the README section `section` that contains `containing`."""
    text = README.read_text(encoding="utf-8")
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M).group(1)
    for block in re.findall(r"^```sh\n(.*?)^```", body, re.S | re.M):
        if containing in block:
            return block
    raise AssertionError(f"no sh block with {containing!r} in the README's section {section!r}")


def commands(block: str) -> list[tuple[str, list[str]]]:
    """The block's commands, each with the answers its `# →` lines promise. A command starts
    at the left margin; indented lines continue it; other comments are skipped."""
    found: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith(ANSWER):
            found[-1][1].append(line[len(ANSWER):])
        elif line.startswith("#") or not line.strip():
            continue
        elif line[0].isspace():
            found[-1] = (found[-1][0] + "\n" + line, found[-1][1])
        else:
            found.append((line, []))
    return found


def run_session(block: str, folder: Path, environ: dict, ports: dict[str, int]) -> None:
    """Run the block's commands in order in one bash; fail naming the first that fails or
    answers other than the README says."""
    listed = commands(block)
    script = []
    for index, (command, _) in enumerate(listed):
        for port, actual in ports.items():
            command = command.replace(f"localhost:{port}", f"127.0.0.1:{actual}")
        command = command.replace("curl -s ", "curl -sS --fail-with-body ")
        script.append(f"{command}\nprintf '\\n@@@ {index} %d\\n' $?")
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=folder, env=environ, capture_output=True,
                          text=True, timeout=300)
    parts = re.split(r"\n@@@ (\d+) (\d+)\n", done.stdout)
    outputs = {int(parts[i]): (int(parts[i + 1]), parts[i - 1]) for i in range(1, len(parts) - 1, 3)}
    for index, (command, answers) in enumerate(listed):
        assert index in outputs, f"never ran: {command}\nstderr:\n{done.stderr}"
        status, output = outputs[index]
        assert status == 0, f"exit {status}: {command}\n{output}\nstderr:\n{done.stderr}"
        for answer in answers:
            if answer.startswith(("{", "[")):
                assert json.loads(output) == json.loads(answer), f"{command}\nanswered {output}"
            else:
                assert answer in output, f"{command}\nanswered {output}"


@pytest.fixture
def apps(tmp_path):
    """Both apps on free ports over a fresh SQLite file, and the folder a newcomer works in."""
    database = f"sqlite:///{tmp_path}/backdrop.db"
    environ = app_environment(tmp_path, database, BACKDROP_ADMIN_TOKEN=ADMIN_TOKEN, WEB_CONCURRENCY="1")
    stack = Stack()
    try:
        read = stack.add(start_app("read", environ, tmp_path))
        write = stack.add(start_app("write", environ, tmp_path))
        wait_until_up([read, write])
        checkout = tmp_path / "checkout"
        checkout.mkdir()
        (checkout / ".venv").symlink_to(REPOSITORY / ".venv")
        (checkout / "examples").symlink_to(REPOSITORY / "examples")
        ports = {3038: int(read.url.rsplit(":", 1)[1]), 3039: int(write.url.rsplit(":", 1)[1])}
        yield checkout, environ, ports
    finally:
        stack.stop()


def test_the_readme_sessions_run_top_to_bottom(apps):
    checkout, environ, ports = apps
    run_session(readme_block("A first session with curl", "curl"), checkout, environ, ports)
    run_session(readme_block("Administration", ".venv/bin/backdrop data-sets create"), checkout, environ, ports)


def test_the_readme_transform_is_the_example_file():
    shown = re.search(r'^```json\n(\{"type": "rate".*?)^```', README.read_text(encoding="utf-8"), re.S | re.M)
    assert json.loads(shown.group(1)) == json.loads((REPOSITORY / "examples/rate.json").read_text())


def test_every_example_file_the_readme_names_exists():
    named = set(re.findall(r"examples/[\w.-]+", README.read_text(encoding="utf-8")))
    assert named and all((REPOSITORY / path).is_file() for path in named), named
