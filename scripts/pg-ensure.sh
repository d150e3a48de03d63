#!/usr/bin/env bash
# Print a PostgreSQL URL for the tests. Uses the server on 127.0.0.1:5432 when it answers;
# otherwise starts a throwaway cluster (Debian's postgresql, initdb in a temporary folder)
# and writes its data directory to $PG_THROWAWAY_FILE so the caller can stop it.
set -euo pipefail
url="${TAIWA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 \
   && psql "$url" -qtAc 'select 1' >/dev/null 2>&1; then
  echo "$url"
  exit 0
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bindir" ] || { echo "PostgreSQL binaries not found (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/taiwa-pg.XXXXXX)
chown postgres:postgres "$dir" 2>/dev/null || true
port=55432
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$bindir/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -l "$dir/log" -w start >/dev/null
as_pg "$bindir/createdb" -h 127.0.0.1 -p $port -U postgres test
[ -n "${PG_THROWAWAY_FILE:-}" ] && echo "$bindir/pg_ctl -D $dir/data" > "$PG_THROWAWAY_FILE"
echo "postgresql://postgres@127.0.0.1:$port/test"
