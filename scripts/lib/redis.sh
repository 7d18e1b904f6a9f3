#!/usr/bin/env bash
# Run a private Redis server for development and tests.
#
#   scripts/lib/redis.sh start DIR PORT [PASSWORD]  start redis-server on 127.0.0.1:PORT
#                                                   with DIR as its directory, print its URL
#   scripts/lib/redis.sh stop DIR                   stop it (no error if not running)
#   scripts/lib/redis.sh url DIR                    print the URL of the server in DIR
#
# The server keeps nothing on disk (no RDB snapshots, no AOF), listens on
# 127.0.0.1 only and, with PASSWORD, requires it (requirepass). The URL
# (redis://[:PASSWORD@]127.0.0.1:PORT/0) is the only thing written to stdout;
# messages go to stderr. Starting again on the same DIR and PORT after a stop
# gives an empty server at the same URL (tests use that to restart Redis).
set -euo pipefail

REDIS_SERVER=${ELTRIX_REDIS_SERVER:-redis-server}
REDIS_CLI=${ELTRIX_REDIS_CLI:-redis-cli}

log() { echo "redis.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<USAGE
usage: $0 start DIR PORT [PASSWORD]
       $0 stop DIR
       $0 url DIR
USAGE
  exit 2
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd -P)
}

url_of() {
  local dir=$1 port password=""
  [[ -f "$dir/eltrix-port" ]] || die "no Redis server was started in $dir"
  port=$(<"$dir/eltrix-port")
  [[ -f "$dir/eltrix-password" ]] && password=$(<"$dir/eltrix-password")
  if [[ -n "$password" ]]; then
    echo "redis://:$password@127.0.0.1:$port/0"
  else
    echo "redis://127.0.0.1:$port/0"
  fi
}

pid_of() {
  local pidfile=$1/redis.pid pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Only a redis-server of ours: a stale pid file may name a reused pid.
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == redis-server* ]] || return 1
  echo "$pid"
}

cli() {
  local dir=$1 port password=""
  shift
  port=$(<"$dir/eltrix-port")
  [[ -f "$dir/eltrix-password" ]] && password=$(<"$dir/eltrix-password")
  if [[ -n "$password" ]]; then
    REDISCLI_AUTH=$password "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"
  else
    "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"
  fi
}

cmd_start() {
  [[ $# -ge 2 && $# -le 3 ]] || usage
  local dir port=$2 password=${3:-} pid i
  if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "port '$port' is not a number from 1 to 65535"
  fi
  command -v "$REDIS_SERVER" >/dev/null || die "$REDIS_SERVER not found (apt-get install redis-server)"
  dir=$(abs_dir "$1")
  if pid=$(pid_of "$dir"); then
    die "a Redis server (pid $pid) is already running in $dir"
  fi
  umask 077
  echo "$port" >"$dir/eltrix-port"
  printf '%s' "$password" >"$dir/eltrix-password"
  {
    echo "# Written by scripts/lib/redis.sh: private, loopback only, nothing on disk."
    echo "bind 127.0.0.1"
    echo "port $port"
    echo "dir $dir"
    echo "daemonize yes"
    echo "pidfile $dir/redis.pid"
    echo "logfile $dir/redis.log"
    echo 'save ""'
    echo "appendonly no"
    echo "protected-mode yes"
    [[ -n "$password" ]] && echo "requirepass \"$password\""
  } >"$dir/redis.conf"
  rm -f "$dir/redis.pid"
  log "starting redis-server on 127.0.0.1:$port (log: $dir/redis.log)"
  "$REDIS_SERVER" "$dir/redis.conf" >/dev/null || {
    tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
    die "redis-server failed to start"
  }
  for i in $(seq 1 100); do
    if [[ "$(cli "$dir" ping 2>/dev/null)" == PONG ]]; then
      url_of "$dir"
      return 0
    fi
    sleep 0.05
    [[ $i -eq 100 ]] && {
      tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
      die "redis-server did not answer on port $port"
    }
  done
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  local dir pid i
  [[ -d "$1" ]] || {
    log "$1 does not exist; nothing to stop"
    return 0
  }
  dir=$(cd "$1" && pwd -P)
  if ! pid=$(pid_of "$dir"); then
    log "not running in $dir"
    return 0
  fi
  log "stopping redis-server (pid $pid) in $dir"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  log "redis-server (pid $pid) ignored SIGTERM for 5 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  url)
    [[ $# -eq 1 ]] || usage
    url_of "$(cd "$1" && pwd -P)"
    ;;
  *) usage ;;
esac
