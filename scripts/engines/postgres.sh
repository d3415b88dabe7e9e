#!/usr/bin/env bash
# scripts/engines/postgres.sh up|down|env|status
#
# A throw-away PostgreSQL 15 server for fedmesh's tests: installed from apt,
# data directory under $FEDMESH_CACHE/pg, listening on 127.0.0.1 only, on a
# fixed non-default port. `up` is a no-op when the server already runs.
# `env` prints FEDMESH_PG_DSN (a login with a password) and
# FEDMESH_PG_ADMIN_DSN (the superuser, over the unix socket; tests use it to
# load fixtures and to watch pg_stat_activity).
set -euo pipefail

CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
PGDATA_DIR="$CACHE/pg/data"
PGSOCK_DIR="$CACHE/pg/run"
PGLOG="$CACHE/pg/server.log"
PGPORT="${FEDMESH_PG_PORT:-55432}"
PGUSER_TEST="fedmesh"
PGPASS_TEST="fedmesh-test-pw"
PGDB_TEST="fedmesh"
RUN_AS="postgres" # PostgreSQL refuses to run as root

bindir() {
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  return 1
}

install() {
  if bindir >/dev/null 2>&1; then return; fi
  echo "postgres.sh: installing postgresql-15 from apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql-15 >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q postgresql-15 >/dev/null
  }
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$RUN_AS" -- "$@"
  else
    "$@"
  fi
}

running() {
  local bin; bin="$(bindir)" || return 1
  [ -f "$PGDATA_DIR/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

psql_admin() {
  local bin; bin="$(bindir)"
  as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK_DIR" -p "$PGPORT" -d postgres "$@"
}

up() {
  install
  local bin; bin="$(bindir)"
  mkdir -p "$CACHE/pg"
  if [ "$(id -u)" = 0 ]; then
    # The cache may live under /root: let the postgres user traverse to it.
    local d="$CACHE/pg"
    while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    chown "$RUN_AS" "$CACHE/pg"
  fi
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$PGDATA_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg mkdir -p "$PGSOCK_DIR"
  if ! running; then
    as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGSOCK_DIR -c max_connections=100 -c fsync=off" >/dev/null
  fi
  psql_admin <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PGUSER_TEST') THEN
    CREATE ROLE $PGUSER_TEST LOGIN PASSWORD '$PGPASS_TEST';
  END IF;
END\$\$;
SQL
  if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$PGDB_TEST'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE $PGDB_TEST OWNER $PGUSER_TEST"
  fi
}

down() {
  local bin; bin="$(bindir)" || return 0
  if running; then as_pg "$bin/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null; fi
}

env_() {
  echo "FEDMESH_PG_DSN=postgres://$PGUSER_TEST:$PGPASS_TEST@127.0.0.1:$PGPORT/$PGDB_TEST?sslmode=disable"
  echo "FEDMESH_PG_ADMIN_DSN=host=$PGSOCK_DIR port=$PGPORT user=postgres dbname=$PGDB_TEST sslmode=disable"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  status) if running; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
