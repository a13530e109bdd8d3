#!/usr/bin/env bash
# Usage: ./start-app.sh read|write PORT — run one app under gunicorn, configured from the environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app="${1:-}"; port="${2:-}"
case "$app" in
  read|write) ;;
  *) echo "usage: $0 read|write PORT" >&2; exit 2 ;;
esac
[[ "$port" =~ ^[0-9]+$ ]] || { echo "usage: $0 read|write PORT" >&2; exit 2; }
# shellcheck source=tools/venv.sh
. "$root/tools/venv.sh"
ensure_venv "$root"
cd "$root"
# The worker class (threads, header and body deadlines), its thread count and the timeouts
# come from backdrop/gunicorn_config.py and the BACKDROP_* settings (README, "Deployment").
exec "$root/.venv/bin/gunicorn" \
  --bind "${BACKDROP_BIND:-127.0.0.1}:$port" \
  --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - \
  --config python:backdrop.gunicorn_config \
  --name "backdrop-$app" \
  "backdrop.$app.app:create_app()"
