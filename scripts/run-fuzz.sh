#!/usr/bin/env bash
# The fuzz suite alone, for longer than `make test` gives it: TAIWA_FUZZ_SECONDS (default 600) of random
# hostile requests after the full sweep of every form of every role. TAIWA_TEST_DB=postgres to run it there
# (with TAIWA_TEST_PG_URL, or a throwaway cluster from scripts/pg-ensure.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export TAIWA_FUZZ_SECONDS="${TAIWA_FUZZ_SECONDS:-600}"
export TAIWA_TEST_DB="${TAIWA_TEST_DB:-sqlite}"
if [ "$TAIWA_TEST_DB" = postgres ] && [ -z "${TAIWA_TEST_PG_URL:-}" ]; then
  export PG_THROWAWAY_FILE=$(mktemp)
  trap 'if [ -s "$PG_THROWAWAY_FILE" ]; then runuser -u postgres -- $(cat "$PG_THROWAWAY_FILE") -m fast stop >/dev/null 2>&1 || true; fi; rm -f "$PG_THROWAWAY_FILE"' EXIT
  export TAIWA_TEST_PG_URL=$(scripts/pg-ensure.sh)
fi
echo "== Fuzz: ${TAIWA_FUZZ_SECONDS}s of random hostile input on ${TAIWA_TEST_DB} (seed: ${TAIWA_FUZZ_SEED:-random}) =="
exec .venv/bin/python -m pytest -q -p no:cacheprovider -s tests/fuzz "$@"
