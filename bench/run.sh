#!/usr/bin/env bash
# Usage: ./bench/run.sh [options of python -m bench] — the benchmark, from any directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/tools/venv.sh"
ensure_venv "$root"
cd "$root"
exec "$root/.venv/bin/python" -m bench "$@"
