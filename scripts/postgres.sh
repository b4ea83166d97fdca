#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on a free loopback port and print its URL.
#
#   url=$(scripts/postgres.sh)            # installs Debian's postgresql if needed, starts it
#   NAVAN_TEST_POSTGRES_URL=$url pytest tests/unit/services
#   scripts/postgres.sh stop "$url"       # stops the cluster and deletes its folder
#
# The cluster lives in a temp dir owned by the `postgres` user (initdb refuses to run as
# root), trusts local connections, and listens on 127.0.0.1 only. Logs go to <dir>/server.log.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

if [[ "${1:-}" == "stop" ]]; then
  url="${2:?usage: scripts/postgres.sh stop URL}"
  port="${url##*:}"; port="${port%%/*}"
  dir="$(cat "/tmp/navan-pg-${port}.dir" 2>/dev/null || true)"
  [[ -n "$dir" && -d "$dir" ]] || { log "no cluster recorded for port $port"; exit 1; }
  bindir="$(cat "$dir/bindir")"
  runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
  rm -rf "$dir" "/tmp/navan-pg-${port}.dir"
  log "stopped cluster on port $port"
  exit 0
fi

find_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }
  done
  return 1
}

if ! bindir="$(find_bindir)"; then
  log "installing postgresql with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir="$(find_bindir)" || { log "postgresql did not install"; exit 1; }
fi
id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres

# a free loopback port, chosen by the kernel
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
dir="$(mktemp -d /tmp/navan-pg.XXXXXX)"
echo "$bindir" > "$dir/bindir"
chown postgres "$dir"
runuser -u postgres -- "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
  --no-instructions >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
  start >&2 || { cat "$dir/server.log" >&2; exit 1; }
echo "$dir" > "/tmp/navan-pg-${port}.dir"
log "cluster in $dir on port $port (stop: scripts/postgres.sh stop URL)"
echo "postgresql://postgres@127.0.0.1:${port}/postgres"
