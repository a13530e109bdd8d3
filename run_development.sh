#!/usr/bin/env bash
# Start Backdrop on the embedded defaults: read app on :3038, write app on :3039, a worker.
# Needs only Python 3.11: SQLite file and filesystem broker live under var/. Ctrl-C stops all three.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$root/tools/venv.sh"
ensure_venv "$root"
cd "$root"
mkdir -p var/log
export BACKDROP_ENV="${BACKDROP_ENV:-development}"
export BACKDROP_ADMIN_TOKEN="${BACKDROP_ADMIN_TOKEN:-dev-admin-token}"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# Each line, standard output and error alike, is labelled with the process that wrote it.
label() { sed -u "s/^/$1 | /"; }
./start-app.sh read 3038 > >(label "read  ") 2>&1 & pids+=($!)
./start-app.sh write 3039 > >(label "write ") 2>&1 & pids+=($!)
.venv/bin/celery -A backdrop.transformers.worker worker -l info --concurrency 1 > >(label worker) 2>&1 & pids+=($!)

cat <<MSG

Backdrop is starting:
  read API:  http://127.0.0.1:3038   (try /_status)
  write API: http://127.0.0.1:3039
  worker:    celery on ${BACKDROP_BROKER_URL:-filesystem://}
Admin token: $BACKDROP_ADMIN_TOKEN
Press Ctrl-C to stop.

MSG
wait -n || true
