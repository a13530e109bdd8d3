#!/usr/bin/env bash
# Start Backdrop on the embedded defaults: read app, write app and a worker.
# Needs only Python 3.11: SQLite file and filesystem broker live under var/. Ctrl-C stops all three.
# Ports: BACKDROP_READ_PORT (default 3038) and BACKDROP_WRITE_PORT (default 3039); both are
# checked to be free before anything starts, and "ready" is printed once both apps answer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
read_port="${BACKDROP_READ_PORT:-3038}"
write_port="${BACKDROP_WRITE_PORT:-3039}"
bind="${BACKDROP_BIND:-127.0.0.1}"

refuse() { echo "run_development.sh: $1" >&2; exit 1; }

for port in "$read_port" "$write_port"; do
  [[ "$port" =~ ^[0-9]+$ ]] && (( port > 0 && port < 65536 )) \
    || refuse "port '$port' is not a port number (BACKDROP_READ_PORT, BACKDROP_WRITE_PORT: 1 to 65535)"
done
[ "$read_port" != "$write_port" ] || refuse "the read and write apps cannot share port $read_port"

# A port is free when we can bind it ourselves (as gunicorn will, with SO_REUSEADDR),
# asked of the Python the venv is made with (tools/venv.sh), before the venv exists.
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
port_free() {
  "$python" - "$bind" "$1" <<'PY' 2>/dev/null
import socket, sys
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((sys.argv[1], int(sys.argv[2])))
PY
}
for port in "$read_port" "$write_port"; do
  port_free "$port" || refuse "port $port on $bind is in use (another Backdrop still running?): stop it, or pick free ports with BACKDROP_READ_PORT=4038 BACKDROP_WRITE_PORT=4039 ./run_development.sh"
done

. "$root/tools/venv.sh"
ensure_venv "$root"
cd "$root"
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
./start-app.sh read "$read_port" > >(label "read  ") 2>&1 & pids+=($!)
./start-app.sh write "$write_port" > >(label "write ") 2>&1 & pids+=($!)
.venv/bin/celery -A backdrop.transformers.worker worker -l info --concurrency 1 > >(label worker) 2>&1 & pids+=($!)

# Wait until both apps answer GET /_status (or one of the processes ends), then say where
# everything is. The database is shown without any password its URL holds.
.venv/bin/python - "$read_port" "$write_port" "${pids[@]}" <<'PY' || exit 1
import os, sys, time, urllib.request
from urllib.parse import urlsplit

from backdrop.settings import Settings

read_port, write_port, pids = sys.argv[1], sys.argv[2], [int(pid) for pid in sys.argv[3:]]
urls = {f"http://127.0.0.1:{port}" for port in (read_port, write_port)}
deadline = time.monotonic() + 300  # a first run installs gunicorn's workers' imports: be patient


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


while urls and time.monotonic() < deadline and all(alive(pid) for pid in pids):
    for url in list(urls):
        try:
            with urllib.request.urlopen(url + "/_status", timeout=2):
                urls.discard(url)
        except OSError:
            pass
    time.sleep(0.2)
if urls:
    sys.exit(f"run_development.sh: {', '.join(sorted(urls))} did not come up; see the log lines above")
database = Settings.from_env().database_url
parts = urlsplit(database)
if parts.scheme == "sqlite":
    database = database.removeprefix("sqlite:///")
elif parts.password:
    database = database.replace(f":{parts.password}@", ":***@", 1)
print(f"""
Backdrop is ready:
  read API:  http://127.0.0.1:{read_port}   (try /_status)
  write API: http://127.0.0.1:{write_port}
  worker:    celery on {os.environ.get('BACKDROP_BROKER_URL') or 'filesystem://'}
  database:  {database}
Admin token: {os.environ['BACKDROP_ADMIN_TOKEN']}
Press Ctrl-C to stop.
""", flush=True)
PY
wait -n || true
