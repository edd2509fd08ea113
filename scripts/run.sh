#!/usr/bin/env bash
# Runs the product on the embedded defaults: the web server, one render worker and the sweeper.
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export DEBUG="${DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
.venv/bin/python manage.py seed_demo

.venv/bin/python manage.py runserver "$HOST:$PORT" --noreload &
web=$!
.venv/bin/python manage.py db_worker --queue-name "default,gpu" --no-reload --interval 0.5 &
worker=$!
.venv/bin/python manage.py render_sweeper --every 10 &
sweeper=$!

stop() {
  trap - INT TERM
  echo; echo "==> Stopping web ($web), worker ($worker) and sweeper ($sweeper)"
  kill -TERM "$web" "$worker" "$sweeper" 2>/dev/null || true
  wait "$web" "$worker" "$sweeper" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

echo "==> Likeness is running at http://$HOST:$PORT/  (Ctrl-C stops web, worker and sweeper)"
# If any of them dies, stop the others too.
wait -n "$web" "$worker" "$sweeper" || true
stop
