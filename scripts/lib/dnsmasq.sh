#!/usr/bin/env bash
# Run a private dnsmasq (Debian's dnsmasq-base) as a small authoritative DNS
# server on loopback, for the dns cluster strategy's tests and multi-node runs.
#
#   scripts/lib/dnsmasq.sh start DIR PORT [NAME ADDRESS...]
#       Start dnsmasq on 127.0.0.1:PORT answering from DIR/hosts (created
#       empty if missing; NAME ADDRESS... sets NAME's records first). It runs
#       in the background; its pid is in DIR/dnsmasq.pid and its query log in
#       DIR/dnsmasq.log. Prints "127.0.0.1:PORT" on stdout.
#   scripts/lib/dnsmasq.sh set DIR NAME [ADDRESS...]
#       Make NAME answer with exactly these addresses (IPv4 for A records,
#       IPv6 for AAAA; none removes NAME, so it answers NXDOMAIN), keeping the
#       other names, and make a running dnsmasq reload (SIGHUP) at once.
#   scripts/lib/dnsmasq.sh stop DIR
#       Stop it (no error if it is not running).
#
# It answers only from DIR/hosts: no /etc/hosts, no /etc/resolv.conf, no
# upstream servers, and any name not in the file gets NXDOMAIN (--local=/#/),
# so tests see the same answers on every machine. TTLs are 0 and negative
# answers are not cached, so a change is visible on the next query.
# ELTRIX_DNSMASQ_EXTRA_ARGS adds dnsmasq options at start (split on blanks),
# e.g. "--txt-record=empty.eltrix.test,x" for a name that exists without
# addresses (A/AAAA queries then get an empty NOERROR answer, not NXDOMAIN).
# When run as root, dnsmasq drops to nobody:nogroup after binding; DIR is
# made world-readable (not writable) so it can still reread DIR/hosts. If a
# parent directory keeps nobody out, it stays root instead (loopback only).
set -euo pipefail

log() { echo "dnsmasq.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<USAGE
usage: $0 start DIR PORT [NAME ADDRESS...]
       $0 set DIR NAME [ADDRESS...]
       $0 stop DIR
USAGE
  exit 2
}

DNSMASQ=${ELTRIX_DNSMASQ:-}
if [[ -z "$DNSMASQ" ]]; then
  DNSMASQ=$(command -v dnsmasq || true)
  [[ -n "$DNSMASQ" ]] || DNSMASQ=/usr/sbin/dnsmasq
fi

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd -P)
}

# Alive and not a zombie (a daemon's exit is reaped by init, which can be slow).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$state" != Z ]]
}

running_pid() {
  local dir=$1 pid
  [[ -f "$dir/dnsmasq.pid" ]] || return 1
  pid=$(<"$dir/dnsmasq.pid")
  [[ -n "$pid" ]] && alive "$pid" || return 1
  echo "$pid"
}

# Rewrites DIR/hosts with NAME's lines replaced by ADDRESS... (atomically, so
# a reload never reads half a file).
write_name() {
  local dir=$1 name=$2 address tmp
  shift 2
  [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "'$name' is not a DNS name"
  tmp=$(mktemp "$dir/hosts.XXXXXX")
  if [[ -f "$dir/hosts" ]]; then
    awk -v name="$name" '$2 != name' "$dir/hosts" >"$tmp"
  fi
  for address in "$@"; do
    [[ "$address" =~ ^[0-9A-Fa-f.:]+$ ]] || die "'$address' is not an IP address"
    printf '%s %s\n' "$address" "$name" >>"$tmp"
  done
  chmod 644 "$tmp"
  mv -f "$tmp" "$dir/hosts"
}

cmd_start() {
  [[ $# -ge 2 ]] || usage
  local dir port
  dir=$(abs_dir "$1")
  port=$2
  shift 2
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "port '$port' is not a number from 1 to 65535"
  fi
  [[ -x "$DNSMASQ" ]] || die "dnsmasq not found (apt-get install dnsmasq-base)"
  if running_pid "$dir" >/dev/null; then
    die "dnsmasq is already running for $dir (pid $(running_pid "$dir"))"
  fi
  [[ -f "$dir/hosts" ]] || : >"$dir/hosts"
  chmod 644 "$dir/hosts"
  if [[ $# -ge 1 ]]; then write_name "$dir" "$@"; fi

  local user_args=() extra_args=()
  read -r -a extra_args <<<"${ELTRIX_DNSMASQ_EXTRA_ARGS:-}"
  if [[ $(id -u) -eq 0 ]]; then
    chmod 755 "$dir"
    if runuser -u nobody -- test -r "$dir/hosts" 2>/dev/null; then
      user_args=(--user=nobody --group=nogroup)
    else
      # A parent directory is closed to others (pytest's tmp_path is 0700):
      # nobody could not reread the hosts file, so stay root rather than
      # opening up directories that are not ours.
      log "nobody cannot read $dir/hosts; dnsmasq keeps running as root"
      user_args=(--user=root)
    fi
  fi
  rm -f "$dir/dnsmasq.pid"
  # dnsmasq forks into the background only once its socket is bound, and
  # exits non-zero (with the reason on stderr) when it cannot bind.
  "$DNSMASQ" --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port="$port" \
    --addn-hosts="$dir/hosts" --local=/#/ --local-ttl=0 --no-negcache \
    --pid-file="$dir/dnsmasq.pid" --log-facility="$dir/dnsmasq.log" --log-queries \
    "${user_args[@]}" "${extra_args[@]}" || die "dnsmasq did not start on 127.0.0.1:$port"
  local i
  for i in $(seq 1 50); do
    if running_pid "$dir" >/dev/null; then break; fi
    ((i == 50)) && die "dnsmasq wrote no pid file in $dir"
    sleep 0.1
  done
  log "dnsmasq on 127.0.0.1:$port (pid $(running_pid "$dir"), hosts $dir/hosts)"
  echo "127.0.0.1:$port"
}

cmd_set() {
  [[ $# -ge 2 ]] || usage
  local dir pid
  dir=$(abs_dir "$1")
  shift
  write_name "$dir" "$@"
  if pid=$(running_pid "$dir"); then
    kill -HUP "$pid"
  fi
}

cmd_stop() {
  [[ $# -ge 1 ]] || usage
  [[ -d "$1" ]] || return 0
  local dir pid i
  dir=$(cd "$1" && pwd -P)
  pid=$(running_pid "$dir") || {
    log "not running in $dir"
    return 0
  }
  kill -TERM "$pid"
  for i in $(seq 1 50); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    log "dnsmasq (pid $pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/dnsmasq.pid"
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
  start) cmd_start "$@" ;;
  set) cmd_set "$@" ;;
  stop) cmd_stop "$@" ;;
  *) usage ;;
esac
