# Sourced by the start-up scripts: make sure .venv exists and holds this checkout's install.
# Re-installs only when pyproject.toml changed since the last install (stamp in .venv).
ensure_venv() {
  local root="$1" extras="${2:-}"
  local python="${PYTHON:-python3.11}"
  command -v "$python" >/dev/null 2>&1 || python=python3
  if [ ! -x "$root/.venv/bin/python" ]; then
    echo "Creating $root/.venv with $python" >&2
    "$python" -m venv "$root/.venv"
  fi
  local stamp="$root/.venv/.backdrop-installed${extras:+-$extras}"
  local want
  want=$(cat "$root/pyproject.toml" | sha1sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing Backdrop into .venv${extras:+ with [$extras] extras}" >&2
    "$root/.venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$root/.venv/bin/python" -m pip install --quiet -e "$root${extras:+[$extras]}" >&2
    echo "$want" > "$stamp"
  fi
}
