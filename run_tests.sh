#!/usr/bin/env bash
# Run every test: pytest (unit tests and the storage contract suite), then behave (features
# over real HTTP) once per available engine. Exit 0 only when everything that ran passed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
. tools/venv.sh
ensure_venv "$root" test || exit 1

started=()   # services this script started, stopped again on exit
cleanup() {
  # Every process this script started (apps, workers, test runners) goes with it.
  local kids
  kids=$(pgrep -P $$ 2>/dev/null || true)
  for pid in $kids; do pkill -TERM -P "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  for service in "${started[@]}"; do
    case "$service" in
      postgres) pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main stop >/dev/null 2>&1 || true ;;
      rabbitmq) rabbitmqctl stop >/dev/null 2>&1 || true ;;
    esac
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PostgreSQL: the machine's server on 127.0.0.1:5432 (trust auth); each run makes its own databases.
export BACKDROP_TEST_POSTGRES_URL="${BACKDROP_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
if ! port_open 5432 && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start && started+=(postgres)
  for _ in $(seq 20); do port_open 5432 && break; sleep 0.5; done
fi
if port_open 5432; then
  export BACKDROP_TEST_POSTGRES=1
else
  echo "SKIP postgres: no PostgreSQL server on 127.0.0.1:5432 and none could be started"
  export BACKDROP_TEST_POSTGRES=0
fi

# RabbitMQ: the machine's broker on 127.0.0.1:5672 (guest/guest), for the transform end-to-end tests.
export BACKDROP_TEST_AMQP_URL="${BACKDROP_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672//}"
if ! port_open 5672 && command -v rabbitmq-server >/dev/null 2>&1; then
  echo "Starting RabbitMQ"
  rabbitmq-server -detached && started+=(rabbitmq)
  for _ in $(seq 60); do port_open 5672 && break; sleep 1; done
fi
if port_open 5672; then
  export BACKDROP_TEST_RABBITMQ=1
else
  echo "SKIP rabbitmq: no RabbitMQ on 127.0.0.1:5672 and none could be started"
  export BACKDROP_TEST_RABBITMQ=0
fi

# MongoDB: a real server only when BACKDROP_TEST_MONGO_URL names one (a replica set, e.g.
# mongodb://127.0.0.1:27017/?replicaSet=rs0); otherwise the contract suite runs on mongomock
# and the tests needing a real server (several processes, HTTP, transactions) are skipped.
if [ -n "${BACKDROP_TEST_MONGO_URL:-}" ]; then
  echo "mongo engine: real server at $(printf '%s' "$BACKDROP_TEST_MONGO_URL" | sed -E 's#//[^@/]*@#//***@#')"
else
  echo "mongo engine: mongomock, not a real server"
fi

export BACKDROP_ENV=test
status=0

echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=1

# The engines of the table (backdrop/core/storage/engines.py) the features can run on here;
# the command prints `SKIP <engine>: <why>` for the others.
engines=$(.venv/bin/python -m backdrop.testing_engines http) || { echo "listing the engines failed"; status=1; }
for engine in $engines; do
  echo "== behave ($engine)"
  BACKDROP_TEST_ENGINE="$engine" .venv/bin/behave --format progress --no-capture-stderr features || status=1
done

if [ "$status" = 0 ]; then echo "All test suites passed."; else echo "Some tests FAILED."; fi
exit "$status"
