#!/usr/bin/env bash
# The whole suite: unit + integration on SQLite, again on PostgreSQL, then browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/python -m pytest"
export PG_THROWAWAY_FILE=$(mktemp)
cleanup() {
  if [ -s "$PG_THROWAWAY_FILE" ]; then
    runuser -u postgres -- $(cat "$PG_THROWAWAY_FILE") -m fast stop >/dev/null 2>&1 || true
  fi
  rm -f "$PG_THROWAWAY_FILE"
}
trap cleanup EXIT
export TAIWA_TEST_PG_URL=$(scripts/pg-ensure.sh)
redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || {
  echo "Starting a throwaway Redis for the Redis session-store tests"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
}

echo "== SQLite: unit and integration =="
TAIWA_TEST_DB=sqlite $PYTEST -q -p no:cacheprovider --ignore=tests/browser "$@"
echo "== PostgreSQL ($TAIWA_TEST_PG_URL): unit and integration =="
TAIWA_TEST_DB=postgres $PYTEST -q -p no:cacheprovider --ignore=tests/browser "$@"
echo "== Browser (headless Chromium) =="
TAIWA_TEST_DB=sqlite $PYTEST -q -p no:cacheprovider tests/browser "$@"
