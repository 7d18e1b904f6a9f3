#!/usr/bin/env bash
# Run a private PgBouncer in transaction pooling mode in front of a PostgreSQL.
#
#   scripts/lib/pgbouncer.sh start DIR PORT UPSTREAM_URL   write DIR/pgbouncer.ini, start
#                                                          PgBouncer on 127.0.0.1:PORT and
#                                                          print its URL
#   scripts/lib/pgbouncer.sh stop DIR                      stop it (no error if not running)
#   scripts/lib/pgbouncer.sh url DIR                       print the URL again
#
# UPSTREAM_URL is a postgresql://USER@HOST:PORT/DB URL such as scripts/lib/postgres.sh
# prints. The printed URL has the same user and database, with PgBouncer's address:
# postgresql://USER@127.0.0.1:PORT/DB. Every database name is forwarded to the same
# name upstream (a "*" entry), so databases created on the primary later (the client
# suites make one each) are reachable through PgBouncer without a restart.
#
# Authentication matches postgres.sh: "trust" (PgBouncer still wants the user in its
# auth_file, so the upstream user is listed there with an empty password). Only
# 127.0.0.1 listens. pool_mode = transaction: a server connection is lent to a
# client for one transaction only, which is what Eltrix must survive (DESIGN.md §4).
#
# PgBouncer refuses to run as root; when run as root it runs as the "postgres" user
# (the same account scripts/lib/postgres.sh uses). The only thing written to stdout
# is the URL; messages go to stderr. The log is DIR/pgbouncer.log.
#
# ELTRIX_PGBOUNCER_POOL_SIZE (default 40) sets default_pool_size, the server
# connections per database: a small one (scripts/test uses 2) makes each node's
# pooled connections take turns on the same few server connections, so anything
# that leaned on session state would show up.
set -euo pipefail

PGBOUNCER=${ELTRIX_PGBOUNCER:-/usr/sbin/pgbouncer}
POOL_SIZE=${ELTRIX_PGBOUNCER_POOL_SIZE:-40}
RUN_AS=postgres

log() { echo "pgbouncer.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<USAGE
usage: $0 start DIR PORT UPSTREAM_URL
       $0 stop DIR
       $0 url DIR
USAGE
  exit 2
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$RUN_AS" -- "$@"
  else
    "$@"
  fi
}

# Make every parent directory of $1 traversable for the postgres user.
ensure_traversable() {
  local p
  p=$(dirname "$1")
  while [[ "$p" != "/" && -n "$p" ]]; do
    if ! runuser -u "$RUN_AS" -- test -x "$p" 2>/dev/null; then
      log "granting o+x on $p so the $RUN_AS user can reach $1"
      chmod o+x "$p"
    fi
    p=$(dirname "$p")
  done
}

# Split postgresql://USER[:PASSWORD]@HOST[:PORT][/DB][?...] into globals.
parse_url() {
  local url=$1 rest userinfo hostport
  [[ "$url" =~ ^postgres(ql)?:// ]] || die "UPSTREAM_URL '$url' is not a postgresql:// URL"
  rest=${url#*://}
  rest=${rest%%\?*}
  if [[ "$rest" == *@* ]]; then
    userinfo=${rest%@*}
    rest=${rest##*@}
  else
    userinfo=postgres
  fi
  [[ "$userinfo" != *:* ]] || die "UPSTREAM_URL has a password; this helper supports trust authentication only"
  up_user=$userinfo
  hostport=${rest%%/*}
  if [[ "$rest" == */* ]]; then up_db=${rest#*/}; else up_db=$up_user; fi
  [[ -n "$up_db" ]] || up_db=$up_user
  up_host=${hostport%%:*}
  if [[ "$hostport" == *:* ]]; then up_port=${hostport##*:}; else up_port=5432; fi
  [[ -n "$up_host" && "$up_port" =~ ^[0-9]+$ ]] || die "cannot read host and port from UPSTREAM_URL '$url'"
}

pid_of() {
  local dir=$1 pid
  [[ -f "$dir/pgbouncer.pid" ]] || return 1
  pid=$(<"$dir/pgbouncer.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Guard against pid reuse: it must still be a pgbouncer.
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$PGBOUNCER")" ]] || return 1
  echo "$pid"
}

cmd_start() {
  [[ $# -eq 3 ]] || usage
  local dir port=$2 url=$3 up_user up_db up_host up_port
  [[ -x "$PGBOUNCER" ]] || die "$PGBOUNCER not found (apt-get install pgbouncer)"
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT '$port' is not a number"
  [[ "$POOL_SIZE" =~ ^[1-9][0-9]*$ ]] || die "ELTRIX_PGBOUNCER_POOL_SIZE '$POOL_SIZE' is not a positive number"
  parse_url "$url"
  mkdir -p "$1"
  dir=$(cd "$1" && pwd -P)
  if [[ $(id -u) -eq 0 ]]; then
    id "$RUN_AS" >/dev/null 2>&1 || die "user '$RUN_AS' does not exist"
    ensure_traversable "$dir"
    chown "$RUN_AS": "$dir"
  fi
  chmod 700 "$dir"

  if pid_of "$dir" >/dev/null; then
    log "already running in $dir"
  else
    as_owner tee "$dir/userlist.txt" >/dev/null <<USERS
"$up_user" ""
USERS
    as_owner tee "$dir/pgbouncer.ini" >/dev/null <<INI
; Written by scripts/lib/pgbouncer.sh
[databases]
; every database name goes to the same name on the primary
* = host=$up_host port=$up_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = $up_user
stats_users = $up_user
pool_mode = transaction
max_client_conn = 500
default_pool_size = $POOL_SIZE
reserve_pool_size = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
log_connections = 0
log_disconnections = 0
INI
    echo "$port $up_user $up_db" | as_owner tee "$dir/eltrix-url" >/dev/null
    log "starting PgBouncer (transaction pooling) on 127.0.0.1:$port -> $up_host:$up_port (log: $dir/pgbouncer.log)"
    as_owner "$PGBOUNCER" -d -q "$dir/pgbouncer.ini" || {
      tail -n 20 "$dir/pgbouncer.log" >&2 || true
      die "pgbouncer did not start"
    }
  fi

  # Ready once a query goes through it to the primary.
  local i
  for i in $(seq 1 100); do
    if psql -X -q -tA -h 127.0.0.1 -p "$port" -U "$up_user" -d "$up_db" -c 'SELECT 1' >/dev/null 2>&1; then
      break
    fi
    if ((i == 100)); then
      tail -n 20 "$dir/pgbouncer.log" >&2 || true
      die "PgBouncer on 127.0.0.1:$port did not answer a query within 10s"
    fi
    sleep 0.1
  done
  cmd_url "$dir"
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  local dir=$1 pid i
  [[ -d "$dir" ]] || {
    log "$dir does not exist; nothing to stop"
    return 0
  }
  if ! pid=$(pid_of "$dir"); then
    log "not running in $dir"
    return 0
  fi
  log "stopping PgBouncer (pid $pid)"
  # SIGTERM: immediate shutdown (SIGINT would wait for clients to leave).
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "PgBouncer (pid $pid) ignored SIGTERM for 10s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_url() {
  [[ $# -eq 1 ]] || usage
  local port user db
  [[ -f "$1/eltrix-url" ]] || die "$1 has no PgBouncer started by this script"
  read -r port user db <"$1/eltrix-url"
  echo "postgresql://$user@127.0.0.1:$port/$db"
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
