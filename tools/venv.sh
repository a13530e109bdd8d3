# Sourced by the start-up scripts: make sure .venv exists and holds this checkout's install.
# Installs only when pyproject.toml changed since the last install (stamps in .venv); an
# install with the test extras also satisfies a plain one. A lock keeps two scripts started
# at once (the read and the write app) from installing over each other.
ensure_venv() {
  local root="$1" extras="${2:-}"
  local python="${PYTHON:-python3.11}"
  command -v "$python" >/dev/null 2>&1 || python=python3
  local want
  want=$(sha1sum < "$root/pyproject.toml" | cut -d' ' -f1)
  _venv_current "$root" "$extras" "$want" && return 0
  mkdir -p "$root/var"
  (
    flock 9
    _venv_current "$root" "$extras" "$want" && exit 0
    if [ ! -x "$root/.venv/bin/python" ]; then
      echo "Creating $root/.venv with $python" >&2
      "$python" -m venv "$root/.venv" || exit 1
    fi
    echo "Installing Backdrop into .venv${extras:+ with [$extras] extras}" >&2
    "$root/.venv/bin/python" -m pip install --quiet --upgrade pip >&2 || exit 1
    "$root/.venv/bin/python" -m pip install --quiet -e "$root${extras:+[$extras]}" >&2 || exit 1
    echo "$want" > "$root/.venv/.backdrop-installed${extras:+-$extras}"
  ) 9>"$root/var/.venv.lock"
}

_venv_current() {
  local root="$1" extras="$2" want="$3" stamp
  [ -x "$root/.venv/bin/python" ] || return 1
  for stamp in "$root/.venv/.backdrop-installed${extras:+-$extras}" "$root/.venv/.backdrop-installed-test"; do
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  done
  return 1
}
