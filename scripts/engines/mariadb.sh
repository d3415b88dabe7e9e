#!/usr/bin/env bash
# scripts/engines/mariadb.sh up|down|env|status
#
# A throw-away MariaDB server for fedmesh's tests: installed from apt
# (mariadb-server), data directory under $FEDMESH_CACHE/mariadb, listening on
# 127.0.0.1 only, on a fixed non-default port. `up` is a no-op when the
# server already runs. `env` prints FEDMESH_MYSQL_DSN (the test login, all
# privileges on database fedmesh only) and FEDMESH_MYSQL_ADMIN_DSN (tests use
# it to load fixtures and to watch information_schema.processlist).
set -euo pipefail

CACHE="${FEDMESH_CACHE:-$HOME/.cache/fedmesh}"
DIR="$CACHE/mariadb"
DATADIR="$DIR/data"
SOCK="$DIR/mysqld.sock"
PIDFILE="$DIR/mysqld.pid"
LOG="$DIR/server.log"
PORT="${FEDMESH_MYSQL_PORT:-53306}"
USER_TEST="fedmesh"
PASS_TEST="fedmesh-test-pw"
ADMIN_USER="fedmesh_admin"
ADMIN_PASS="fedmesh-admin-pw"
DB_TEST="fedmesh"
RUN_AS="mysql"

install() {
  if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then return; fi
  echo "mariadb.sh: installing mariadb-server from apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q mariadb-server >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q mariadb-server >/dev/null
  }
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

client() {
  mariadb --no-defaults -uroot --socket="$SOCK" "$@"
}

up() {
  install
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then
    local d="$DIR"
    while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    chown "$RUN_AS" "$DIR"
  fi
  if [ ! -d "$DATADIR/mysql" ]; then
    mariadb-install-db --no-defaults --user="$RUN_AS" --datadir="$DATADIR" \
      --auth-root-authentication-method=socket --skip-test-db >"$DIR/install.log" 2>&1
  fi
  if ! running; then
    # setsid: the server must not die with the shell that started it.
    setsid /usr/sbin/mariadbd --no-defaults --user="$RUN_AS" --datadir="$DATADIR" \
      --socket="$SOCK" --pid-file="$PIDFILE" --port="$PORT" --bind-address=127.0.0.1 \
      --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --log-error="$LOG" \
      </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 120); do
      if client -e 'SELECT 1' >/dev/null 2>&1; then break; fi
      sleep 0.5
    done
    client -e 'SELECT 1' >/dev/null || { echo "mariadb.sh: server did not start; see $LOG" >&2; exit 1; }
  fi
  client <<SQL
CREATE DATABASE IF NOT EXISTS $DB_TEST;
CREATE USER IF NOT EXISTS '$USER_TEST'@'127.0.0.1' IDENTIFIED BY '$PASS_TEST';
GRANT ALL ON $DB_TEST.* TO '$USER_TEST'@'127.0.0.1';
CREATE USER IF NOT EXISTS '$ADMIN_USER'@'127.0.0.1' IDENTIFIED BY '$ADMIN_PASS';
GRANT ALL ON *.* TO '$ADMIN_USER'@'127.0.0.1' WITH GRANT OPTION;
SQL
}

down() {
  if running; then
    local pid; pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  fi
}

env_() {
  echo "FEDMESH_MYSQL_DSN=$USER_TEST:$PASS_TEST@tcp(127.0.0.1:$PORT)/$DB_TEST"
  echo "FEDMESH_MYSQL_ADMIN_DSN=$ADMIN_USER:$ADMIN_PASS@tcp(127.0.0.1:$PORT)/$DB_TEST"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) env_ ;;
  status) if running; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
