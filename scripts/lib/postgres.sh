#!/usr/bin/env bash
# Run a private PostgreSQL 15 cluster for development and tests.
#
#   scripts/lib/postgres.sh start DIR [PORT]  initdb DIR if needed, start it, create
#                                             database "eltrix", print its URL
#   scripts/lib/postgres.sh stop DIR          fast shutdown (no error if not running)
#   scripts/lib/postgres.sh url DIR [PORT]    print the URL
#
# The URL (postgresql://postgres@127.0.0.1:PORT/eltrix) is the only thing written
# to stdout; all messages go to stderr. Authentication is "trust" for local
# sockets and 127.0.0.1 only. When run as root, the server runs as the
# "postgres" user (initdb refuses to run as root).
set -euo pipefail

PG_BIN="${ELTRIX_PG_BIN:-/usr/lib/postgresql/15/bin}"
DEFAULT_PORT=54329
DB_NAME=eltrix

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<USAGE
usage: $0 start DIR [PORT]
       $0 stop DIR
       $0 url DIR [PORT]
USAGE
  exit 2
}

# Run a command as the cluster owner: "postgres" when we are root, else ourselves.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

abs_dir() {
  local d=$1
  mkdir -p "$d"
  (cd "$d" && pwd -P)
}

# Make every parent directory of $1 traversable (o+x) for the postgres user.
ensure_traversable() {
  local p
  p=$(dirname "$1")
  while [[ "$p" != "/" && -n "$p" ]]; do
    if ! runuser -u postgres -- test -x "$p" 2>/dev/null; then
      log "granting o+x on $p so the postgres user can reach the cluster"
      chmod o+x "$p"
    fi
    p=$(dirname "$p")
  done
}

port_of() {
  # The port the cluster was initialised with, else the argument, else the default.
  local dir=$1 arg=${2:-}
  if [[ -n "$arg" ]]; then
    echo "$arg"
  elif [[ -f "$dir/eltrix-port" ]]; then
    cat "$dir/eltrix-port"
  else
    echo "$DEFAULT_PORT"
  fi
}

url_for() { echo "postgresql://postgres@127.0.0.1:$1/$DB_NAME"; }

is_running() {
  local dir=$1
  [[ -f "$dir/PG_VERSION" ]] || return 1
  as_owner "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1
}

cmd_start() {
  local dir port
  [[ $# -ge 1 ]] || usage
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL binaries not found in $PG_BIN (apt-get install postgresql-15)"
  dir=$(abs_dir "$1")
  port=$(port_of "$dir" "${2:-}")

  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist"
    ensure_traversable "$dir"
    chown postgres: "$dir"
    chmod 700 "$dir"
  fi

  if [[ ! -f "$dir/PG_VERSION" ]]; then
    if [[ -n "$(ls -A "$dir")" ]]; then
      die "$dir is not empty and is not a PostgreSQL cluster"
    fi
    log "initialising cluster in $dir"
    local initdb_log
    initdb_log=$(mktemp)
    as_owner "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$initdb_log" 2>&1 || {
        cat "$initdb_log" >&2 || true
        rm -f "$initdb_log"
        die "initdb failed"
      }
    rm -f "$initdb_log"
    as_owner tee "$dir/pg_hba.conf" >/dev/null <<HBA
# Written by scripts/lib/postgres.sh: trust for local connections only.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
HBA
    as_owner tee -a "$dir/postgresql.conf" >/dev/null <<CONF

# Added by scripts/lib/postgres.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    echo "$port" | as_owner tee "$dir/eltrix-port" >/dev/null
  fi

  if is_running "$dir"; then
    if [[ -f "$dir/eltrix-port" && "$(cat "$dir/eltrix-port")" != "$port" ]]; then
      die "cluster in $dir is already running on port $(cat "$dir/eltrix-port"), not $port"
    fi
    log "already running in $dir"
  else
    echo "$port" | as_owner tee "$dir/eltrix-port" >/dev/null
    log "starting PostgreSQL on 127.0.0.1:$port (log: $dir/postgres.log)"
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir" start >/dev/null 2>&1 || {
        tail -n 30 "$dir/postgres.log" >&2 || true
        die "pg_ctl start failed"
      }
  fi

  local i
  for i in $(seq 1 100); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then break; fi
    [[ $i -eq 100 ]] && die "server did not become ready on port $port"
    sleep 0.1
  done

  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
  if [[ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]]; then
    log "creating database $DB_NAME"
    "${psql[@]}" -c "CREATE DATABASE $DB_NAME" >/dev/null 2>&1 || {
      # A concurrent start may have created it first.
      [[ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" == "1" ]] \
        || die "could not create database $DB_NAME"
    }
  fi
  url_for "$port"
}

cmd_stop() {
  local dir
  [[ $# -ge 1 ]] || usage
  [[ -d "$1" ]] || { log "$1 does not exist; nothing to stop"; return 0; }
  dir=$(cd "$1" && pwd -P)
  if is_running "$dir"; then
    log "stopping PostgreSQL in $dir"
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
  else
    log "not running in $dir"
  fi
}

cmd_url() {
  [[ $# -ge 1 ]] || usage
  local port
  if [[ -d "$1" ]]; then
    port=$(port_of "$1" "${2:-}")
  else
    port=${2:-$DEFAULT_PORT}
  fi
  url_for "$port"
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  url) cmd_url "$@" ;;
  *) usage ;;
esac
