#!/usr/bin/env bash
# The packaging suite (issue 15, "packages proven"): the packages are built,
# installed into a clean Debian 12 root, run as their systemd unit would run
# them, and removed again.
#
#   tests/packaging/run.sh [STEP...]     steps: deb install units guard image rpm (default: all)
#
# deb      packaging/build-deb (DEB_BUILD_OPTIONS=nocheck: scripts/test runs the
#          suites; noautodbgsym nodwz: no debug symbol packages) in a fixed
#          directory under the cache, with the development build's flags (below).
# install  a Debian 12 minbase root made by mmdebstrap (cached as a tarball),
#          `apt-get install ./eltrix_*.deb ./eltrix-plugin-cache-redis_*.deb`
#          inside it (dependencies resolved by apt, .debs cached), then the
#          server started as packaging/systemd/eltrix.service starts it: user
#          eltrix, /usr/bin/eltrix, /etc/eltrix/eltrix.conf, working directory
#          /var/lib/eltrix, umask 0027, in a PID and mount namespace of its own.
#          --config=check passes, /health/ready and /_matrix/client/versions
#          answer, then the same with cache.backend = redis from the plugin
#          package; then remove and purge, and nothing may be left behind.
# units    systemd-analyze verify on the installed units.
# guard    scripts/install-deps in the clean root with a package that ships a
#          service (redis-server): no policy-rc.d, no enabled unit, no daemon
#          left afterwards, after a failed install too.
# image    packaging/image/build-image: an OCI image from the .debs only; its root
#          filesystem run with the image's user, directory, environment and
#          entry point (no container runtime works on the CI machine), configured
#          by environment variables: /health/live, /health/ready, the nio suite.
# rpm      rpmbuild -bb --without check of packaging/rpm/eltrix.spec with
#          tests/packaging/rpm-macros (Debian's rpm lacks Fedora's macros).
#
# Needs root (chroot, mounts), mmdebstrap, dpkg-dev, debhelper, rpm, systemd
# (scripts/install-deps), and from scripts/test: ELTRIX_TEST_DATABASE_URL (the
# server inside the root uses the test's PostgreSQL on loopback) and
# ELTRIX_TEST_REDIS_URL. Cache: ${ELTRIX_PACKAGING_CACHE:-~/.cache/eltrix/packaging};
# the base tarball is made again after 7 days or with ELTRIX_PACKAGING_REFRESH=1.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
CACHE=${ELTRIX_PACKAGING_CACHE:-${HOME:-/root}/.cache/eltrix/packaging}
JOBS=${ELTRIX_JOBS:-2}
SUITE=bookworm
PYTHON=/usr/bin/python3

log() { echo "packaging: $*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
section() { printf '\n--> %s (+%ds)\n' "$*" "$SECONDS"; }

[[ $(id -u) -eq 0 ]] || die "needs root (chroot and mounts)"
for tool in mmdebstrap dpkg-buildpackage dh rpmbuild systemd-analyze umoci unshare curl psql; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps)"
done
: "${ELTRIX_TEST_DATABASE_URL:?set by scripts/test: the private PostgreSQL}"

steps=("$@")
((${#steps[@]})) || steps=(deb install units guard image rpm)
want() { [[ " ${steps[*]} " == *" $1 "* ]]; }

mkdir -p "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eltrix-packaging.XXXXXX")
ROOT=$WORK/root
DEBS=$WORK/debs
SERVER_PID=

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  # Mounts made in the root by this script (none survive the namespaces, but
  # the archive cache is bind-mounted from outside them).
  if [[ -d "$ROOT" ]]; then
    umount -R "$ROOT/var/cache/apt/archives" 2>/dev/null || true
  fi
  # --one-file-system: never into a mount that could not be undone
  rm -rf --one-file-system "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The test database for the packaged server: a database of its own in the
# test's PostgreSQL (which listens on 127.0.0.1, shared with the root).
new_database() {
  local name=eltrix_pkg_$RANDOM$RANDOM
  psql -X -q -d "$ELTRIX_TEST_DATABASE_URL" -c "CREATE DATABASE $name" >/dev/null
  echo "${ELTRIX_TEST_DATABASE_URL%/*}/$name"
}
drop_database() {
  psql -X -q -d "$ELTRIX_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS ${1##*/} WITH (FORCE)" \
    >/dev/null || true
}

# Runs a command inside the root, in new PID and mount namespaces with /proc,
# /dev and /tmp of its own: whatever it starts ends with it (no stray daemons
# on the host), and nothing it mounts outlives it. A shell stays PID 1 and
# the command runs as its child, as under systemd; with IN_ROOT_PID1=1 the
# command itself is PID 1, as a container's entry point is.
in_root() {
  unshare --pid --mount --fork --kill-child -- /bin/sh -euc '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t tmpfs -o mode=755 tmpfs "$root/dev"
    for d in null zero random urandom full tty; do
      touch "$root/dev/$d"; mount --bind "/dev/$d" "$root/dev/$d"
    done
    mkdir -p "$root/dev/pts" "$root/dev/shm"
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    if [ "${IN_ROOT_PID1:-0}" = 1 ]; then exec chroot "$root" "$@"; fi
    chroot "$root" "$@" &
    child=$!
    rc=0
    wait "$child" || rc=$?
    exit "$rc"' in_root "$ROOT" "$@"
}

# ---- deb: build the packages -------------------------------------------------

# The compiler flags. A cold release build (dpkg-buildflags: hardening, -O2,
# -ffile-prefix-map) of the server takes far longer than this suite's budget
# on a 2-core CI machine, and its objects never match the development build's
# in ccache. By default the suite therefore builds the packages with the
# development build's own flags (-O2 -g, what meson's debugoptimized gives
# `scripts/test`, in its locale), so nearly every object comes from ccache:
# what is proven is
# the packaging (layout, dependencies, maintainer scripts, units) and the
# binary's behaviour, not the release flags. ELTRIX_PACKAGING_RELEASE_FLAGS=1
# builds with Debian's release flags instead (packaging/build-deb's default).
# debhelper (compat 13) gives its build commands a HOME of their own, which
# would hide the user's ccache: name it explicitly.
CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo "${HOME:-/root}/.cache/ccache")}
export CCACHE_DIR
DEV_FLAGS=(env)
if [[ "${ELTRIX_PACKAGING_RELEASE_FLAGS:-0}" != 1 ]]; then
  DEV_FLAGS=(env DEB_BUILD_MAINT_OPTIONS=hardening=-all DEB_CFLAGS_SET="-O2 -g"
    DEB_CXXFLAGS_SET="-O2 -g" DEB_CPPFLAGS_SET="" DEB_LDFLAGS_SET="" ELTRIX_MESON_ARGS=-Db_ndebug=false
    CCACHE_NOHASHDIR=1 "CCACHE_BASEDIR=$CACHE"
    # debhelper sets LC_ALL=C.UTF-8 for its commands, and ccache hashes the
    # locale: the compiler runs without it, in the caller's LANG.
    "CC=env -u LC_ALL ccache cc" "CXX=env -u LC_ALL ccache c++")
fi

build_debs() {
  section "build the Debian packages (packaging/build-deb, -j$JOBS)"
  local started=$SECONDS
  mkdir -p "$DEBS"
  DEB_BUILD_OPTIONS="nocheck noautodbgsym nodwz parallel=$JOBS" ELTRIX_JOBS=$JOBS ELTRIX_DEB_WORKDIR=$CACHE/deb \
    "${DEV_FLAGS[@]}" "$REPO/packaging/build-deb" "$DEBS" >"$WORK/build-deb.log" 2>&1 \
    || { tail -40 "$WORK/build-deb.log" >&2; die "packaging/build-deb failed"; }
  log "built in $((SECONDS - started))s: $(cd "$DEBS" && echo *.deb)"
  for pkg in eltrix eltrix-plugin-cache-redis eltrix-plugin-media-store-s3 \
    eltrix-plugin-cluster-strategy-kubernetes eltrix-dev; do
    compgen -G "$DEBS/${pkg}_*.deb" >/dev/null || die "no $pkg package was built"
  done
  # The split: the server package does not carry the split plugins.
  if grep -q 'plugins/cache-redis.so' <<<"$(dpkg-deb --contents "$DEBS"/eltrix_*.deb)"; then
    die "eltrix carries cache-redis.so (it belongs to eltrix-plugin-cache-redis)"
  fi
  grep -q 'plugins/cache-redis.so$' <<<"$(dpkg-deb --contents "$DEBS"/eltrix-plugin-cache-redis_*.deb)" \
    || die "eltrix-plugin-cache-redis lacks cache-redis.so"
}

# ---- install: a clean root, the packages, the server as its unit runs it ----

# A Debian 12 minbase root with systemd, with apt's lists kept so that installing the
# packages' dependencies needs no `apt-get update`.
base_tarball() {
  local tarball=$CACHE/$SUITE-minbase-systemd.tar
  if [[ -f "$tarball" && "${ELTRIX_PACKAGING_REFRESH:-0}" != 1 ]] \
    && [[ -z "$(find "$tarball" -mtime +7)" ]]; then
    echo "$tarball"
    return
  fi
  log "making a $SUITE minbase root with mmdebstrap (cached in $tarball)"
  # systemd: its targets let systemd-analyze verify the installed units
  # (--root), and install-deps meets systemctl as on a real machine.
  mmdebstrap --quiet --variant=minbase --mode=root --skip=cleanup/apt/lists --include=systemd \
    --aptopt='APT::Install-Recommends "false"' "$SUITE" "$CACHE/new-minbase.tar" >&2
  mv "$CACHE/new-minbase.tar" "$tarball"
  echo "$tarball"
}

make_root() {
  if [[ -d "$ROOT" ]]; then
    umount -R "$ROOT/var/cache/apt/archives" 2>/dev/null || true
    rm -rf --one-file-system "$ROOT"
  fi
  mkdir -p "$ROOT"
  tar -C "$ROOT" -xf "$(base_tarball)"
  # Downloaded .debs are kept across runs (apt-get would download them again).
  mkdir -p "$CACHE/archives/partial"
  mount --bind "$CACHE/archives" "$ROOT/var/cache/apt/archives"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

# apt-get install inside the root, from directory DIR (for ./<file>.deb
# arguments). With a stale cached root (the mirror has moved on) the lists are
# fetched again once.
root_apt_install_in() {
  local dir=$1
  shift
  local cmd=(env DEBIAN_FRONTEND=noninteractive /bin/sh -c 'cd "$0" && exec apt-get install -y -q "$@"'
    "$dir" "$@")
  if ! in_root "${cmd[@]}" >"$WORK/apt.log" 2>&1; then
    log "apt-get install failed; refreshing the package lists and trying again"
    tail -5 "$WORK/apt.log" >&2
    in_root apt-get update -q >/dev/null
    in_root "${cmd[@]}" >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; return 1; }
  fi
}

# apt-get install ./<package>_*.deb for each package named, inside the root.
install_debs() {
  local pkg deb debs=()
  mkdir -p "$ROOT/debs"
  for pkg in "$@"; do
    for deb in "$DEBS/${pkg}"_*.deb; do
      cp "$deb" "$ROOT/debs/"
      debs+=("./$(basename "$deb")")
    done
  done
  root_apt_install_in /debs "${debs[@]}" || die "apt-get install ${debs[*]} failed in the clean root"
}

wait_ready() {
  local port=$1 deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" == 200 ]]; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.3
  done
  return 1
}

# The service's command as eltrix.service runs it (packaging/systemd/eltrix.service:
# User/Group=eltrix, WorkingDirectory=/var/lib/eltrix, UMask=0027,
# EnvironmentFile=-/etc/eltrix/eltrix.env, ExecStart=/usr/bin/eltrix).
as_unit() {
  in_root /bin/sh -c 'umask 0027; cd /var/lib/eltrix || exit 1
    if [ -r /etc/eltrix/eltrix.env ]; then set -a; . /etc/eltrix/eltrix.env; set +a; fi
    exec setpriv --reuid=eltrix --regid=eltrix --init-groups --no-new-privs "$@"' as_unit "$@"
}

# Writes the operator's settings into the packaged /etc/eltrix/eltrix.conf,
# as an operator edits it (the file stays a modified conffile).
configure_server() {
  local db_url=$1 port=$2 extra=${3:-}
  {
    echo
    echo "# tests/packaging/run.sh"
    echo "server.name = pkg.test"
    echo "server.secret_key = $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    echo "database.url = $db_url"
    echo "http.bind_address = 127.0.0.1"
    echo "http.port = $port"
    if [[ -n "$extra" ]]; then printf '%s\n' "$extra"; fi
  } >>"$ROOT/etc/eltrix/eltrix.conf"
}

# SIGTERM to the server as systemd or a container runtime sends it: to the
# process named NAME (eltrix under in_root's shell, or the image's entry point
# tini, PID 1 of its namespace) among the descendants of the background job.
# The shell, unshare and the job pass on its exit status.
stop_server() {
  local name=${1:-eltrix} target="" rc=0 pid
  local -a queue=("$SERVER_PID")
  while ((${#queue[@]})) && [[ -z "$target" ]]; do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$name" ]]; then
      target=$pid
    else
      mapfile -t -O "${#queue[@]}" queue < <(ps -o pid= --ppid "$pid" | tr -d ' ')
    fi
  done
  [[ -n "$target" ]] || die "no $name process under the job: the server is gone"
  kill -TERM "$target"
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=
  return "$rc"
}

serve_and_check() {
  local port=$1 what=$2
  as_unit /usr/bin/eltrix >"$WORK/server-$what.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$port" || { tail -30 "$WORK/server-$what.log" >&2; die "$what: not ready"; }
  grep -q '"versions"' <<<"$(curl -sf "http://127.0.0.1:$port/_matrix/client/versions")" \
    || die "$what: /_matrix/client/versions did not answer"
  curl -sf "http://127.0.0.1:$port/health/ready" >"$WORK/ready.json" \
    || die "$what: /health/ready"
  # The server runs as eltrix and writes its media under the state directory.
  local owner
  owner=$(in_root stat -c '%U:%G %a' /var/lib/eltrix)
  [[ "$owner" == "eltrix:eltrix 750" ]] || die "$what: /var/lib/eltrix is $owner"
  local rc=0
  stop_server || rc=$?
  ((rc == 0)) || { tail -30 "$WORK/server-$what.log" >&2; die "$what: exit $rc after SIGTERM"; }
  log "$what: ready, served /_matrix/client/versions, drained on SIGTERM"
}

install_and_run() {
  section "install into a clean $SUITE root"
  make_root
  local started=$SECONDS
  install_debs eltrix eltrix-plugin-cache-redis
  log "installed in $((SECONDS - started))s"

  # What the packages put in place.
  [[ -x "$ROOT/usr/bin/eltrix" ]] || die "/usr/bin/eltrix missing"
  in_root getent passwd eltrix >/dev/null || die "no eltrix system user"
  local conf_mode
  conf_mode=$(in_root stat -c '%U:%G %a' /etc/eltrix/eltrix.conf)
  [[ "$conf_mode" == "root:eltrix 640" ]] || die "/etc/eltrix/eltrix.conf is $conf_mode"
  [[ -f "$ROOT/lib/systemd/system/eltrix.service" || -f "$ROOT/usr/lib/systemd/system/eltrix.service" ]] \
    || die "eltrix.service is not installed"
  if compgen -G "$ROOT/etc/systemd/system/*.wants/eltrix*" >/dev/null; then
    die "installing enabled eltrix.service (the packages must not)"
  fi
  compgen -G "$ROOT/usr/lib/*/eltrix/plugins/cache-redis.so" >/dev/null \
    || die "cache-redis.so not installed"

  section "the installed server, as eltrix.service runs it"
  local port db_url
  port=$(free_port)
  db_url=$(new_database)
  configure_server "$db_url" "$port"
  as_unit /usr/bin/eltrix --list-plugins >"$WORK/plugins.txt" 2>&1 || die "--list-plugins failed"
  grep -q 'cache-redis' "$WORK/plugins.txt" || die "--list-plugins does not show cache-redis"
  as_unit /usr/bin/eltrix --config=check >"$WORK/check.log" 2>&1 \
    || { cat "$WORK/check.log" >&2; die "--config=check failed"; }
  serve_and_check "$port" "eltrix (cache-local)"

  # The split plugin package: the same server with the Redis cache.
  if [[ -n "${ELTRIX_TEST_REDIS_URL:-}" ]]; then
    echo "cache.backend = redis" >>"$ROOT/etc/eltrix/eltrix.conf"
    echo "cache.redis.url = $ELTRIX_TEST_REDIS_URL" >>"$ROOT/etc/eltrix/eltrix.conf"
    as_unit /usr/bin/eltrix --config=check >"$WORK/check.log" 2>&1 \
      || { cat "$WORK/check.log" >&2; die "--config=check with cache-redis failed"; }
    serve_and_check "$port" "eltrix-plugin-cache-redis"
    grep -q redis "$WORK/ready.json" || log "note: /health/ready does not name redis"
  else
    log "ELTRIX_TEST_REDIS_URL unset: cache-redis not started (installed only)"
  fi
  drop_database "$db_url"

  if want units; then verify_units; fi

  section "remove and purge"
  # Without its plugin package, a config naming cache-redis is a config error (78).
  in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q eltrix-plugin-cache-redis \
    >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "purging eltrix-plugin-cache-redis failed"; }
  if compgen -G "$ROOT/usr/lib/*/eltrix/plugins/cache-redis.so" >/dev/null; then
    die "cache-redis.so left after purging its package"
  fi
  if [[ -n "${ELTRIX_TEST_REDIS_URL:-}" ]]; then
    local rc=0
    as_unit /usr/bin/eltrix --config=check >"$WORK/check.log" 2>&1 || rc=$?
    ((rc == 78)) || die "--config=check without the cache-redis package: exit $rc, expected 78"
  fi
  in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q eltrix >"$WORK/apt.log" 2>&1 \
    || { cat "$WORK/apt.log" >&2; die "removing eltrix failed"; }
  if [[ -e "$ROOT/usr/bin/eltrix" ]]; then die "/usr/bin/eltrix left after remove"; fi
  [[ -f "$ROOT/etc/eltrix/eltrix.conf" ]] || die "remove (not purge) dropped the configuration"
  in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q eltrix >"$WORK/apt.log" 2>&1 \
    || { cat "$WORK/apt.log" >&2; die "purging eltrix failed"; }
  local left=()
  for path in /etc/eltrix /var/lib/eltrix /usr/bin/eltrix /usr/share/doc/eltrix \
    /lib/systemd/system/eltrix.service /usr/lib/systemd/system/eltrix.service; do
    if [[ -e "$ROOT$path" ]]; then left+=("$path"); fi
  done
  if compgen -G "$ROOT/usr/lib/*/eltrix" >/dev/null; then left+=(/usr/lib/*/eltrix); fi
  ((${#left[@]} == 0)) || die "left after purge: ${left[*]}"
  if grep -q eltrix <<<"$(in_root dpkg-statoverride --list)"; then die "stat override left after purge"; fi
  if grep -q '^[ri]' <<<"$(in_root dpkg -l 'eltrix*' 2>/dev/null || true)"; then
    die "eltrix packages still known to dpkg"
  fi
  log "removed and purged: nothing left in /etc/eltrix, /var/lib/eltrix, /usr"
}

# ---- units: systemd-analyze verify -------------------------------------------

verify_units() {
  section "systemd-analyze verify (installed units)"
  local unit_dir=$ROOT/lib/systemd/system
  [[ -f "$unit_dir/eltrix.service" ]] || unit_dir=$ROOT/usr/lib/systemd/system
  # --root resolves ExecStart= and User= inside the root the packages went into;
  # the template is checked through an instance of it.
  systemd-analyze verify --root="$ROOT" --man=no \
    "${unit_dir#"$ROOT"}/eltrix.service" "${unit_dir#"$ROOT"}/eltrix@node1.service" \
    >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log" >&2; die "systemd-analyze verify"; }
  if [[ -s "$WORK/verify.log" ]]; then
    cat "$WORK/verify.log" >&2
    die "systemd-analyze verify printed warnings"
  fi
  log "eltrix.service and eltrix@.service verify cleanly"
}

# ---- guard: scripts/install-deps leaves no service behind ---------------------

guard_test() {
  section "scripts/install-deps leaves no service enabled or running"
  make_root
  cp "$REPO/scripts/install-deps" "$ROOT/install-deps"
  # redis-server enables its unit and, without systemd, starts its init script.
  in_root env ELTRIX_DEPS_PACKAGES=redis-server /bin/bash -c \
    '/install-deps >/tmp/out 2>&1 || { cat /tmp/out; exit 1; }
     [ ! -e /usr/sbin/policy-rc.d ] || { echo "policy-rc.d left behind"; exit 1; }
     links=$(find /etc/systemd/system -path "*.wants/*" -name "redis*")
     [ -z "$links" ] || { echo "left enabled: $links"; exit 1; }
     dpkg-query -W -f="\${Status}" redis-server | grep -q "install ok installed"
     for p in /proc/[0-9]*; do
       if [ "$(cat "$p/comm" 2>/dev/null)" = redis-server ]; then echo "redis-server running"; exit 1; fi
     done
     # A failing install still removes the policy-rc.d.
     if ELTRIX_DEPS_PACKAGES=eltrix-no-such-package /install-deps >/tmp/out 2>&1; then
       echo "a missing package did not fail"; exit 1
     fi
     [ ! -e /usr/sbin/policy-rc.d ] || { echo "policy-rc.d left after a failure"; exit 1; }' \
    || die "install-deps left a service behind (see above)"
  umount -R "$ROOT/var/cache/apt/archives"
  log "no policy-rc.d, no enabled unit and no daemon left, after a failure too"
}

# ---- image: the OCI image, run as its configuration says --------------------------

image_test() {
  section "OCI image (packaging/image/build-image) and the nio suite against it"
  local started=$SECONDS out
  out=$(ELTRIX_APT_CACHE=$CACHE/archives "$REPO/packaging/image/build-image" "$DEBS" "$WORK/image" \
    2>"$WORK/build-image.log") || { tail -30 "$WORK/build-image.log" >&2; die "build-image failed"; }
  echo "$out"
  log "image built in $((SECONDS - started))s"
  local layout
  layout=$(compgen -G "$WORK/image/eltrix-*.oci" | head -1)
  umoci unpack --image "$layout:latest" "$WORK/bundle" >/dev/null

  # The runtime configuration umoci derived from the image: its user, working
  # directory, environment and entry point are what a container runtime uses.
  # No runtime works here (crun: "cgroups in hybrid mode not supported"), so
  # the root filesystem runs in PID and mount namespaces with those settings.
  local -a spec
  mapfile -t spec < <("$PYTHON" - "$WORK/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]
print(p["user"]["uid"]); print(p["user"]["gid"]); print(p["cwd"])
print(json.dumps(p["env"])); print(json.dumps(p["args"]))
PY
  )
  local uid=${spec[0]} gid=${spec[1]} cwd=${spec[2]}
  ((uid != 0)) || die "the image runs as root"
  local port db_url
  port=$(free_port)
  db_url=$(new_database)
  local -a env_args
  mapfile -t env_args < <("$PYTHON" -c 'import json, sys; [print(e) for e in json.loads(sys.argv[1])]' "${spec[3]}")
  local -a args
  mapfile -t args < <("$PYTHON" -c 'import json, sys; [print(a) for a in json.loads(sys.argv[1])]' "${spec[4]}")
  # The settings an operator gives the container (docs/scaling.md).
  env_args+=(ELTRIX_SERVER_NAME=image.test "ELTRIX_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    "DATABASE_URL=$db_url" "ELTRIX_PORT=$port" ELTRIX_REGISTRATION_ENABLED=true
    ELTRIX_RATELIMIT_ENABLED=false "ELTRIX_PUBLIC_BASEURL=http://127.0.0.1:$port")
  local saved_root=$ROOT
  ROOT=$WORK/bundle/rootfs
  # The entry point is PID 1, as in a container: it must pass SIGTERM on.
  IN_ROOT_PID1=1 in_root /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups \
    --no-new-privs /usr/bin/env -i "${env_args[@]}" /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" \
    "${args[@]}" >"$WORK/server-image.log" 2>&1 &
  SERVER_PID=$!
  ROOT=$saved_root
  wait_ready "$port" || { tail -30 "$WORK/server-image.log" >&2; die "image: not ready"; }
  curl -sf "http://127.0.0.1:$port/health/live" >/dev/null || die "image: /health/live"
  log "image: ready as uid $uid; running the nio suite against it"
  local nio_rc=0 stop_rc=0
  (cd "$REPO" && ELTRIX_CLIENTS_ATTACH_URL=http://127.0.0.1:$port ELTRIX_SERVER_NAME=image.test \
    timeout 600 "$PYTHON" -m pytest tests/clients/nio -q -p no:cacheprovider) || nio_rc=$?
  stop_server tini || stop_rc=$?
  drop_database "$db_url"
  ((stop_rc == 0)) || die "image: exit $stop_rc after SIGTERM"
  ((nio_rc == 0)) || { tail -30 "$WORK/server-image.log" >&2; die "image: nio suite exit $nio_rc"; }
  log "image: nio suite passed; drained on SIGTERM"
}

# ---- rpm: rpmbuild the spec ----------------------------------------------------

build_rpm() {
  section "rpmbuild -bb packaging/rpm/eltrix.spec (-j$JOBS)"
  local top=$CACHE/rpmbuild version started=$SECONDS
  version=$(sed -n 's/^Version: *//p' "$REPO/packaging/rpm/eltrix.spec")
  rm -rf "$top"
  mkdir -p "$top/SOURCES"
  # The same files build-deb uses: tracked and new ones, as in the work tree.
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi; done \
    | tar --null -T - --transform "s|^|eltrix-$version/|" -czf "$top/SOURCES/eltrix-$version.tar.gz")
  local -a flags=()
  if [[ "${ELTRIX_PACKAGING_RELEASE_FLAGS:-0}" != 1 ]]; then
    # Debian's rpm's optflags are already "-O2 -g"; assertions on, as above.
    flags=(--define "eltrix_meson_args -Db_ndebug=false")
    export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$CACHE
  fi
  rpmbuild -bb --nodeps --without check --load "$REPO/tests/packaging/rpm-macros" \
    --define "_topdir $top" --define "_smp_build_ncpus $JOBS" "${flags[@]}" \
    "$REPO/packaging/rpm/eltrix.spec" >"$WORK/rpmbuild.log" 2>&1 \
    || { tail -40 "$WORK/rpmbuild.log" >&2; die "rpmbuild failed"; }
  local rpm
  for pkg in eltrix eltrix-devel eltrix-plugin-cache-redis eltrix-plugin-media-store-s3 \
    eltrix-plugin-cluster-strategy-kubernetes; do
    rpm=$(compgen -G "$top/RPMS/*/$pkg-$version-*.rpm" | head -1) || die "no $pkg rpm was built"
    rpm -qp "$rpm" >/dev/null 2>&1 || die "$rpm is not a readable package"
  done
  rpm=$(compgen -G "$top/RPMS/*/eltrix-$version-*.rpm" | head -1)
  local files
  files=$(rpm -qlp "$rpm" 2>/dev/null)
  grep -qx /usr/bin/eltrix <<<"$files" || die "eltrix rpm lacks /usr/bin/eltrix"
  grep -qx /usr/lib/systemd/system/eltrix.service <<<"$files" \
    || die "eltrix rpm lacks eltrix.service"
  grep -q 'useradd -r -g eltrix' <<<"$(rpm -qp --scripts "$rpm" 2>/dev/null)" || die "eltrix rpm lacks its %pre"
  rpm=$(compgen -G "$top/RPMS/*/eltrix-plugin-cache-redis-$version-*.rpm" | head -1)
  grep -q '/eltrix/plugins/cache-redis.so$' <<<"$(rpm -qlp "$rpm" 2>/dev/null)" \
    || die "eltrix-plugin-cache-redis rpm lacks cache-redis.so"
  log "rpms built in $((SECONDS - started))s: $(cd "$top/RPMS" && echo */*.rpm)"
}

# ---- main ------------------------------------------------------------------------

if want deb || want install || want units || want image; then
  build_debs
fi
if want install; then
  install_and_run
elif want units; then
  make_root
  install_debs eltrix
  verify_units
fi
if want guard; then guard_test; fi
if want image; then image_test; fi
if want rpm; then build_rpm; fi
section "packaging suite passed in ${SECONDS}s"
