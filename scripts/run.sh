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

# Say "running" only once the server answers (it takes a few seconds to start), or say it failed.
answered=""
for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "http://$HOST:$PORT/healthz" 2>/dev/null; then
    answered=1
    echo "==> Likeness is running at http://$HOST:$PORT/  (Ctrl-C stops web, worker and sweeper)"
    break
  fi
  if ! kill -0 "$web" 2>/dev/null; then
    echo "==> The web server stopped before it answered; its messages are above." >&2
    stop
  fi
  sleep 0.5
done
[ -n "$answered" ] || echo "==> http://$HOST:$PORT/healthz has not answered after 60 s; still waiting." >&2
# If any of them dies, stop the others too.
wait -n "$web" "$worker" "$sweeper" || true
stop
