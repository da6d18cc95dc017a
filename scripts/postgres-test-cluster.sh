#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql, run as the `postgres` user).
# Usage: scripts/postgres-test-cluster.sh start DIR   prints the URL of database resnet18_test on a free port
#        scripts/postgres-test-cluster.sh stop DIR    stops it (the caller removes DIR)
#        scripts/postgres-test-cluster.sh resume DIR  starts a stopped cluster again on its port (fault tests)
# The cluster trusts local connections (loopback TCP and a unix socket in DIR): it holds test data only.
set -euo pipefail
action=${1:?usage: $0 start|stop|resume DIR}
dir=${2:?usage: $0 start|stop|resume DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "postgres-test-cluster.sh: PostgreSQL is not installed: run scripts/setup.sh --test (it installs Debian's postgresql)" >&2
  exit 1
fi
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# Starts the server of $dir/data on port $1 and waits until it accepts connections.
start_server() {
  as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
}
case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    as_postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    start_server "$port"
    as_postgres "$bindir/createdb" -h "$dir" -p "$port" -U postgres resnet18_test
    echo "postgres://postgres@127.0.0.1:$port/resnet18_test?sslmode=disable"
    ;;
  stop)
    [ -d "$dir/data" ] && as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  resume)
    start_server "$(cat "$dir/port")"
    ;;
  *) echo "usage: $0 start|stop|resume DIR" >&2; exit 2 ;;
esac
