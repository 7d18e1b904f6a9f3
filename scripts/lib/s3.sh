#!/usr/bin/env bash
# Run a private S3-compatible server for development and tests: s3rver (npm)
# on a private port, behind tests/s3/sigv4_proxy.js, which checks every
# request's AWS Signature V4 with AWS's own signer (s3rver does not).
#
#   scripts/lib/s3.sh start DIR PORT   start both, create the bucket, print the
#                                      endpoint (http://127.0.0.1:PORT)
#   scripts/lib/s3.sh stop DIR         stop both (no error if not running)
#   scripts/lib/s3.sh env DIR PORT     print the ELTRIX_TEST_S3_* settings as
#                                      shell assignments
#
# The proxy listens on PORT and s3rver on PORT+1. DIR holds s3rver's data
# (DIR/data; the proxy reads its pending multipart uploads there), the pid
# files and the logs (DIR/s3rver.log, DIR/proxy.log).
# Bucket "eltrix-test", region us-east-1, access key and secret key "S3RVER"
# (s3rver's built-in account). `npm ci` runs in tests/s3 when node_modules is
# missing or was installed from another package-lock.json.
# Only the endpoint goes to stdout; all messages go to stderr.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
NODE_DIR=$REPO/tests/s3
BUCKET=eltrix-test
REGION=us-east-1
ACCESS_KEY=S3RVER
SECRET_KEY=S3RVER

log() { echo "s3.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<USAGE
usage: $0 start DIR PORT
       $0 stop DIR
       $0 env DIR PORT
USAGE
  exit 2
}

ensure_node_modules() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node/npm are not installed (scripts/install-deps installs them)"
  fi
  local stamp=$NODE_DIR/node_modules/.eltrix-lock-sha256 want
  want=$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)
  if [[ -d "$NODE_DIR/node_modules" && -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
    return 0
  fi
  log "installing tests/s3's packages (npm ci)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund >&2) || die "npm ci failed in $NODE_DIR"
  echo "$want" >"$stamp"
}

# Waits until something accepts connections on 127.0.0.1:$1 (or $2 seconds pass).
wait_for_port() {
  local port=$1 seconds=$2 pid=$3 name=$4 i
  for ((i = 0; i < seconds * 10; i++)); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$name exited while starting (see its log in $DIR)"
    sleep 0.1
  done
  die "$name did not listen on 127.0.0.1:$port within ${seconds}s"
}

stop_pid() {
  local file=$1 pid i
  [[ -f "$file" ]] || return 0
  pid=$(<"$file")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cmd=${1:-}
DIR=${2:-}
[[ -n "$cmd" && -n "$DIR" ]] || usage
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)

case $cmd in
  start)
    PORT=${3:-}
    [[ "$PORT" =~ ^[0-9]+$ ]] || usage
    UPSTREAM=$((PORT + 1))
    ensure_node_modules
    if [[ -f "$DIR/proxy.pid" ]] && kill -0 "$(<"$DIR/proxy.pid")" 2>/dev/null; then
      log "already running (proxy pid $(<"$DIR/proxy.pid"))"
      echo "http://127.0.0.1:$PORT"
      exit 0
    fi
    mkdir -p "$DIR/data"
    # The proxy checks signatures; s3rver's own partial checks are switched
    # off so that only one verifier (AWS's) decides. s3rver encrypts listing
    # continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider
    # (without it a truncated ListObjectsV2 fails with InternalError).
    node --openssl-legacy-provider "$NODE_DIR/node_modules/s3rver/bin/s3rver.js" -d "$DIR/data" -a 127.0.0.1 \
      -p "$UPSTREAM" --silent --no-vhost-buckets --allow-mismatched-signatures \
      --configure-bucket "$BUCKET" >"$DIR/s3rver.log" 2>&1 &
    echo $! >"$DIR/s3rver.pid"
    wait_for_port "$UPSTREAM" 30 "$(<"$DIR/s3rver.pid")" s3rver
    node "$NODE_DIR/sigv4_proxy.js" --listen "$PORT" --upstream "$UPSTREAM" --data "$DIR/data" \
      --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" --region "$REGION" \
      >"$DIR/proxy.log" 2>&1 &
    echo $! >"$DIR/proxy.pid"
    wait_for_port "$PORT" 30 "$(<"$DIR/proxy.pid")" sigv4_proxy
    [[ -d "$DIR/data/$BUCKET" ]] || die "s3rver did not create bucket $BUCKET"
    log "s3rver on 127.0.0.1:$UPSTREAM behind the SigV4 proxy on 127.0.0.1:$PORT, bucket $BUCKET"
    echo "http://127.0.0.1:$PORT"
    ;;
  stop)
    stop_pid "$DIR/proxy.pid"
    stop_pid "$DIR/s3rver.pid"
    ;;
  env)
    PORT=${3:-}
    [[ "$PORT" =~ ^[0-9]+$ ]] || usage
    cat <<ENV
ELTRIX_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
ELTRIX_TEST_S3_BUCKET=$BUCKET
ELTRIX_TEST_S3_REGION=$REGION
ELTRIX_TEST_S3_ACCESS_KEY=$ACCESS_KEY
ELTRIX_TEST_S3_SECRET_KEY=$SECRET_KEY
ELTRIX_TEST_S3_DATA=$DIR/data
ENV
    ;;
  *) usage ;;
esac
