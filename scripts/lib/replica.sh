#!/usr/bin/env bash
# Run a streaming replica of a private PostgreSQL cluster (scripts/lib/postgres.sh).
#
#   scripts/lib/replica.sh start PRIMARY_DIR DIR PORT  allow replication on the primary,
#                                                      clone it with pg_basebackup -R into
#                                                      DIR (first time), start the replica
#                                                      on 127.0.0.1:PORT, print its URL
#   scripts/lib/replica.sh stop DIR                    fast shutdown (no error if not running)
#   scripts/lib/replica.sh pause DIR                   pg_wal_replay_pause(): the replica keeps
#                                                      receiving WAL but stops applying it,
#                                                      so it lags behind the primary at will
#   scripts/lib/replica.sh resume DIR                  pg_wal_replay_resume()
#   scripts/lib/replica.sh catch-up DIR [SECONDS]      resume and wait (default 60 s) until the
#                                                      replica has replayed everything the
#                                                      primary had written when called
#   scripts/lib/replica.sh url DIR                     print the URL again
#
# The URL (postgresql://postgres@127.0.0.1:PORT/eltrix) is the only thing written
# to stdout; messages go to stderr. The primary must run (postgres.sh start); the
# replica connects to it as "postgres" over 127.0.0.1, so this script adds a
# "host replication" trust line for 127.0.0.1 to the primary's pg_hba.conf and
# reloads it. PostgreSQL 15 defaults already allow streaming (wal_level=replica,
# max_wal_senders=10). The replica streams through a replication slot
# (eltrix_replica_PORT), so the primary keeps the WAL it has not received while
# it is stopped; the slot goes with the primary's temporary cluster. As root,
# everything runs as the "postgres" user, like postgres.sh.
set -euo pipefail

PG_BIN="${ELTRIX_PG_BIN:-/usr/lib/postgresql/15/bin}"
DB_NAME=eltrix

log() { echo "replica.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<USAGE
usage: $0 start PRIMARY_DIR DIR PORT
       $0 stop DIR
       $0 pause DIR
       $0 resume DIR
       $0 catch-up DIR [SECONDS]
       $0 url DIR
USAGE
  exit 2
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Make every parent directory of $1 traversable (o+x) for the postgres user.
ensure_traversable() {
  local p
  p=$(dirname "$1")
  while [[ "$p" != "/" && -n "$p" ]]; do
    if ! runuser -u postgres -- test -x "$p" 2>/dev/null; then
      log "granting o+x on $p so the postgres user can reach the replica"
      chmod o+x "$p"
    fi
    p=$(dirname "$p")
  done
}

port_of() { cat "$1/eltrix-port"; }
url_for() { echo "postgresql://postgres@127.0.0.1:$1/$DB_NAME"; }

psql_at() {
  local port=$1
  shift
  "$PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

is_running() {
  [[ -f "$1/PG_VERSION" ]] || return 1
  as_owner "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

allow_replication() {
  local primary=$1
  if ! as_owner grep -q '^host[[:space:]]\+replication' "$primary/pg_hba.conf"; then
    log "allowing replication connections from 127.0.0.1 on the primary"
    printf 'host    replication   all   127.0.0.1/32   trust\n' \
      | as_owner tee -a "$primary/pg_hba.conf" >/dev/null
    as_owner "$PG_BIN/pg_ctl" -D "$primary" reload >/dev/null
  fi
}

cmd_start() {
  [[ $# -eq 3 ]] || usage
  local primary dir port primary_port
  [[ -f "$1/PG_VERSION" ]] || die "$1 is not a PostgreSQL cluster (start it with postgres.sh first)"
  primary=$(cd "$1" && pwd -P)
  mkdir -p "$2"
  dir=$(cd "$2" && pwd -P)
  port=$3
  primary_port=$(port_of "$primary")
  is_running "$primary" || die "the primary in $primary is not running"

  if [[ $(id -u) -eq 0 ]]; then
    ensure_traversable "$dir"
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"

  if [[ ! -f "$dir/PG_VERSION" ]]; then
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty and is not a PostgreSQL cluster"
    allow_replication "$primary"
    log "cloning the primary (127.0.0.1:$primary_port) into $dir"
    # A physical replication slot makes the primary keep the WAL this replica
    # has not received, so it can catch up after being stopped (tests stop and
    # restart it). A leftover slot of the same name (a replica deleted without
    # being stopped cleanly) is dropped first.
    local slot="eltrix_replica_$port"
    psql_at "$primary_port" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
      WHERE slot_name = '$slot' AND NOT active" >/dev/null
    # -R writes standby.signal, primary_conninfo and primary_slot_name; -C -S
    # create the slot; -X stream copies the WAL needed to start consistent;
    # -c fast does not wait for a checkpoint.
    as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir" \
      -R -C -S "$slot" -X stream -c fast >&2 || die "pg_basebackup failed"
    # The clone carries the primary's port and socket directory: override them.
    as_owner tee -a "$dir/postgresql.conf" >/dev/null <<CONF

# Added by scripts/lib/replica.sh: this is a hot standby of 127.0.0.1:$primary_port
port = $port
unix_socket_directories = '$dir'
hot_standby = on
CONF
    echo "$port" | as_owner tee "$dir/eltrix-port" >/dev/null
    as_owner rm -f "$dir/postmaster.pid" "$dir/postgres.log"
  fi

  if is_running "$dir"; then
    log "already running in $dir"
  else
    port=$(port_of "$dir")
    log "starting the replica on 127.0.0.1:$port (log: $dir/postgres.log)"
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir" start >/dev/null 2>&1 || {
      tail -n 30 "$dir/postgres.log" >&2 || true
      die "pg_ctl start failed"
    }
  fi
  port=$(port_of "$dir")
  local i
  for i in $(seq 1 100); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then break; fi
    [[ $i -eq 100 ]] && die "replica did not become ready on port $port"
    sleep 0.1
  done
  [[ "$(psql_at "$port" -c 'SELECT pg_is_in_recovery()')" == "t" ]] \
    || die "the server on port $port is not in recovery (not a replica)"
  url_for "$port"
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  [[ -d "$1" ]] || {
    log "$1 does not exist; nothing to stop"
    return 0
  }
  local dir
  dir=$(cd "$1" && pwd -P)
  if is_running "$dir"; then
    log "stopping the replica in $dir"
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
  else
    log "not running in $dir"
  fi
}

cmd_pause() {
  [[ $# -eq 1 ]] || usage
  local port i
  port=$(port_of "$1")
  psql_at "$port" -c 'SELECT pg_wal_replay_pause()' >/dev/null
  # The request takes effect at the next record; wait until it has.
  for i in $(seq 1 100); do
    [[ "$(psql_at "$port" -c 'SELECT pg_get_wal_replay_pause_state()')" != "not paused" ]] && return 0
    sleep 0.1
  done
  die "replay did not pause"
}

cmd_resume() {
  [[ $# -eq 1 ]] || usage
  psql_at "$(port_of "$1")" -c 'SELECT pg_wal_replay_resume()' >/dev/null
}

cmd_catch_up() {
  [[ $# -ge 1 && $# -le 2 ]] || usage
  local dir=$1 seconds=${2:-60} port conninfo target i
  port=$(port_of "$dir")
  cmd_resume "$dir"
  # Where the primary is now, asked through the replica's own primary_conninfo.
  conninfo=$(psql_at "$port" -c 'SHOW primary_conninfo')
  target=$("$PG_BIN/psql" -X -q -tA -d "$conninfo dbname=postgres" -c 'SELECT pg_current_wal_insert_lsn()')
  for i in $(seq 1 $((seconds * 10))); do
    if [[ "$(psql_at "$port" -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" == "t" ]]; then
      return 0
    fi
    sleep 0.1
  done
  die "the replica did not replay up to $target within ${seconds}s"
}

cmd_url() {
  [[ $# -eq 1 ]] || usage
  url_for "$(port_of "$1")"
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  pause) cmd_pause "$@" ;;
  resume) cmd_resume "$@" ;;
  catch-up) cmd_catch_up "$@" ;;
  url) cmd_url "$@" ;;
  *) usage ;;
esac
