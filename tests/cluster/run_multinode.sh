#!/usr/bin/env bash
# The multi-node test (issue 5): 3 nodes on 127.0.0.2-4 behind nginx
# (round-robin, no stickiness), sharing PostgreSQL through PgBouncer in
# transaction mode, with the cluster enabled.
#
#   tests/cluster/run_multinode.sh [RUN...]      RUN: static, dns (default: both)
#
# Shared services start once and serve every run: PgBouncer (scripts/lib/pgbouncer.sh)
# in front of ELTRIX_TEST_DATABASE_URL (a private PostgreSQL is started when it is
# unset), Redis (ELTRIX_TEST_REDIS_URL, else scripts/lib/redis.sh) and dnsmasq (scripts/lib/dnsmasq.sh,
# answering the cluster name with 127.0.0.2-4).
#
# Each run starts a cluster (tests/cluster/cluster.py) on a database of its own and
# drives it with
#   1. the matrix-nio suite through nginx (tests/clients/nio, attached mode),
#   2. the matrix-js-sdk suite through nginx (tests/clients/js, test:attached),
#   3. the multi-node tests (pytest tests/cluster): cross-node wake-ups, syncs
#      hopping between nodes, logout propagation, media uploaded through one node
#      and downloaded through others (S3 via scripts/lib/s3.sh when built), then
#      kill -9 of one node.
# Run "static": static strategy, ELTRIX_CACHE_BACKEND=local (so the logout test
# proves the mesh's invalidations). Run "dns": dns strategy against dnsmasq,
# ELTRIX_CACHE_BACKEND=redis when scripts/lib/redis.sh exists.
#
# Needs ELTRIX_BINARY (default build/core/eltrix) and the JS suite's node_modules
# (scripts/test installs them). Prints one line per step and exits non-zero when
# any step failed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
PYTHON=/usr/bin/python3
export ELTRIX_BINARY=${ELTRIX_BINARY:-$REPO/build/core/eltrix}
DNS_NAME=eltrix-nodes.cluster.test
runs=("$@")
((${#runs[@]} > 0)) || runs=(static dns)

log() { echo "multinode: $*" >&2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eltrix-multinode.XXXXXX")
STATE=$TMP/cluster.json
private_pg=""
cleanup() {
  local rc=$?
  [[ -f "$STATE" ]] && "$PYTHON" "$REPO/tests/cluster/cluster.py" stop --state "$STATE" >/dev/null 2>&1
  "$REPO/scripts/lib/pgbouncer.sh" stop "$TMP/pgbouncer" >/dev/null 2>&1 || true
  [[ -x "$REPO/scripts/lib/redis.sh" ]] && "$REPO/scripts/lib/redis.sh" stop "$TMP/redis" >/dev/null 2>&1
  [[ -x "$REPO/scripts/lib/dnsmasq.sh" ]] && "$REPO/scripts/lib/dnsmasq.sh" stop "$TMP/dnsmasq" >/dev/null 2>&1
  [[ -x "$REPO/scripts/lib/s3.sh" ]] && "$REPO/scripts/lib/s3.sh" stop "$TMP/s3" >/dev/null 2>&1
  [[ -n "$private_pg" ]] && "$REPO/scripts/lib/postgres.sh" stop "$private_pg" >/dev/null 2>&1
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# plugin_built KIND NAME: the build next to ELTRIX_BINARY has KIND-NAME.so.
plugin_built() {
  [[ -n "$(find "$(dirname "$ELTRIX_BINARY")/.." -name "$1-$2.so" -print -quit 2>/dev/null)" ]]
}

# -- shared services ------------------------------------------------------------
if [[ -z "${ELTRIX_TEST_DATABASE_URL:-}" ]]; then
  private_pg=$TMP/postgres
  ELTRIX_TEST_DATABASE_URL=$("$REPO/scripts/lib/postgres.sh" start "$private_pg" "$(free_port)")
  export ELTRIX_TEST_DATABASE_URL
fi
PGB_URL=$("$REPO/scripts/lib/pgbouncer.sh" start "$TMP/pgbouncer" "$(free_port)" "$ELTRIX_TEST_DATABASE_URL")

# Media: S3 (scripts/lib/s3.sh: s3rver behind a SigV4-checking proxy) once the
# s3 store is built, else one directory shared by the nodes.
MEDIA_ENV=()
if [[ -x "$REPO/scripts/lib/s3.sh" ]] && plugin_built media-store s3; then
  S3_ENDPOINT=$("$REPO/scripts/lib/s3.sh" start "$TMP/s3" "$(free_port)")
  MEDIA_ENV=(--env ELTRIX_MEDIA_STORE=s3 --env ELTRIX_S3_ENDPOINT="$S3_ENDPOINT"
    --env ELTRIX_S3_BUCKET=eltrix-test --env ELTRIX_S3_REGION=us-east-1
    --env ELTRIX_S3_ACCESS_KEY=S3RVER --env ELTRIX_S3_SECRET_KEY=S3RVER)
else
  log "no S3 store yet (scripts/lib/s3.sh or media-store-s3.so): the nodes share a media directory"
fi

REDIS_URL=${ELTRIX_TEST_REDIS_URL:-}
if [[ -n "$REDIS_URL" ]]; then
  log "using scripts/test's Redis at $REDIS_URL (keys prefixed per run)"
elif [[ -x "$REPO/scripts/lib/redis.sh" ]]; then
  REDIS_URL=$("$REPO/scripts/lib/redis.sh" start "$TMP/redis" "$(free_port)")
else
  log "scripts/lib/redis.sh is not there yet: every run uses the local cache"
fi

passed=0
failed=0
skipped=0
failures=()
step() {
  local name=$1 rc=0 started=$SECONDS
  shift
  echo
  echo "--> $name"
  "$@" || rc=$?
  if ((rc == 0)); then
    passed=$((passed + 1))
    echo "<-- $name: ok in $((SECONDS - started))s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "<-- $name: FAILED (exit $rc) in $((SECONDS - started))s"
  fi
}
skip() {
  skipped=$((skipped + 1))
  echo "--- $1: skipped ($2)"
}

# The nodes export eltrix_cluster_messages_sent_total once core/cluster's mesh is
# in the binary; without it syncs are not woken across nodes, so the client
# suites (which expect a message to arrive at once) cannot pass through nginx.
has_mesh() {
  local node metrics
  node=$("$PYTHON" -c 'import json, sys; s = json.load(open(sys.argv[1]))
print("http://%s:%d" % (s["addresses"][0], s["port"]))' "$STATE")
  metrics=$(curl -fsS "$node/metrics") || return 1
  [[ "$metrics" == *"# TYPE eltrix_cluster_messages_sent_total "* ]]
}


run_cluster() {
  local run=$1 strategy cache=local url args=() failed_before=$failed
  case $run in
    static) strategy=static ;;
    dns)
      strategy=dns
      if ! plugin_built cluster-strategy dns || [[ ! -x "$REPO/scripts/lib/dnsmasq.sh" ]]; then
        skip "run dns" "the dns strategy plugin or scripts/lib/dnsmasq.sh is not built yet"
        return 0
      fi
      if [[ ! -f "$TMP/dnsmasq/dnsmasq.pid" ]]; then
        DNS_SERVER=$("$REPO/scripts/lib/dnsmasq.sh" start "$TMP/dnsmasq" "$(free_port)" \
          "$DNS_NAME" 127.0.0.2 127.0.0.3 127.0.0.4)
      fi
      args+=(--dns-server "$DNS_SERVER" --dns-name "$DNS_NAME")
      if [[ -n "$REDIS_URL" ]]; then
        cache=redis
        args+=(--redis-url "$REDIS_URL" --env "ELTRIX_CACHE_REDIS_KEY_PREFIX=multinode-$$-$run:")
      fi
      ;;
    *)
      log "unknown run '$run' (static or dns)"
      return 2
      ;;
  esac
  echo
  echo "==> multinode run '$run': $strategy strategy, $cache cache, PgBouncer, nginx"
  if ! url=$("$PYTHON" "$REPO/tests/cluster/cluster.py" start --state "$STATE" --strategy "$strategy" \
    --cache "$cache" --server-db-url "$PGB_URL" "${args[@]}" "${MEDIA_ENV[@]}" \
    --env ELTRIX_S3_PREFIX="$run/"); then
    failed=$((failed + 1))
    failures+=("$run:start")
    return 0
  fi
  if has_mesh; then
    step "$run: matrix-nio through nginx" env ELTRIX_CLIENTS_ATTACH_URL="$url" \
      ELTRIX_SERVER_NAME=eltrix.test "$PYTHON" -m pytest "$REPO/tests/clients/nio" -q
    step "$run: matrix-js-sdk through nginx" env ELTRIX_URL="$url" ELTRIX_SERVER_NAME=eltrix.test \
      npm --prefix "$REPO/tests/clients/js" run --silent test:attached
  else
    skip "$run: client suites through nginx" "no cluster mesh in this eltrix yet"
  fi
  step "$run: multi-node tests" env ELTRIX_CLUSTER_STATE="$STATE" ELTRIX_CLUSTER_DNSMASQ_DIR="$TMP/dnsmasq" \
    "$PYTHON" -m pytest "$REPO/tests/cluster" -q
  # After a failure, show each node's last log lines.
  local tail=0
  ((failed == failed_before)) || tail=40
  step "$run: no node crashed" "$PYTHON" "$REPO/tests/cluster/cluster.py" stop --state "$STATE" \
    --log-tail "$tail"
}

for run in "${runs[@]}"; do
  run_cluster "$run"
done

echo
((${#failures[@]} == 0)) || echo "multinode failures: ${failures[*]}"
echo "multinode: $passed passed, $failed failed, $skipped skipped"
((failed == 0 && passed > 0))
