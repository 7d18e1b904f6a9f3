#!/usr/bin/python3
"""Start an Eltrix cluster for the multi-node tests (standard library only).

Three nodes on 127.0.0.2, 127.0.0.3 and 127.0.0.4 (same port on each), one
database shared by all of them (created on the primary, reached through
PgBouncer when a server URL is given), a shared media directory, the cluster
enabled with the static or dns strategy, and nginx in front, configured with
the shipped packaging/nginx/eltrix.conf: round-robin, no stickiness, no
buffering (long-poll syncs stream through), long read timeout, failed nodes
skipped (proxy_next_upstream + max_fails).

The shared services (PostgreSQL, PgBouncer, Redis, dnsmasq) are started once by
tests/cluster/run_multinode.sh and passed in; this module only starts what
belongs to one cluster run (its database, its nodes, its nginx).

From the command line:

    cluster.py start --state FILE [--strategy static|dns] [--cache local|redis]
                     [--redis-url URL] [--dns-server HOST:PORT --dns-name NAME]
                     [--admin-db-url URL] [--server-db-url URL] [--env K=V]...
        prints the nginx URL; FILE records what `stop` and the tests need.
    cluster.py stop --state FILE [--log-tail N]
        stops nginx and every node still running, drops the database; exits 1
        when a node that was not killed on purpose had died.

From Python (tests/cluster/conftest.py): Cluster.from_state(json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "clients"))

from server import (SUITE_SETTINGS, ServerError, _pid_is, http_status, psql,  # noqa: E402
                    url_with_db)

NODE_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
SERVER_NAME = "eltrix.test"
NGINX = os.environ.get("ELTRIX_NGINX", "/usr/sbin/nginx")
SITE_CONFIG = REPO / "packaging" / "nginx" / "eltrix.conf"


def log(msg: str) -> None:
    print(f"cluster.py: {msg}", file=sys.stderr, flush=True)


def port_free_on_all(port: int, hosts) -> bool:
    for host in hosts:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def common_free_port(hosts, avoid=()) -> int:
    """A port that is free on every host (the kernel's pick on the first one)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        if port not in avoid and port_free_on_all(port, hosts):
            return port
    raise ServerError(f"no port free on all of {', '.join(hosts)}")


class Node:
    """One eltrix process of the cluster."""

    def __init__(self, index: int, address: str, port: int, work_dir: Path, binary: str):
        self.index = index
        self.address = address
        self.port = port
        self.url = f"http://{address}:{port}"
        self.work_dir = work_dir
        self.log_path = work_dir / f"node{index}.log"
        self.binary = binary
        self.pid: int | None = None
        self.killed = False  # killed on purpose by a test
        self.proc: subprocess.Popen | None = None

    def spawn(self, env: dict[str, str]) -> None:
        config = self.work_dir / f"node{self.index}.conf"
        config.write_text("# written by tests/cluster/cluster.py; settings come from the environment\n")
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen([self.binary, "--config", str(config)], env=env,
                                         stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _pid_is(self.pid, self.binary)

    def ready(self) -> bool:
        return http_status(self.url + "/health/ready", timeout=1.0)[0] == 200

    def kill9(self) -> None:
        """SIGKILL: no drain, no goodbye to peers (what a crash looks like)."""
        self.killed = True
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.alive():
            log(f"node{self.index} (pid {self.pid}) ignored SIGTERM for {timeout:.0f}s; killing it")
            os.kill(self.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        tail = text.splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail)


class Cluster:
    def __init__(self, *, work_dir: Path, binary: str, admin_db_url: str,
                 server_db_url: str | None = None, strategy: str = "static",
                 cache: str = "local", redis_url: str | None = None,
                 dns_server: str | None = None, dns_name: str | None = None,
                 addresses=NODE_ADDRESSES, extra_env: dict[str, str] | None = None):
        self.work_dir = work_dir
        self.binary = binary
        self.admin_db_url = admin_db_url
        self.server_db_url = server_db_url or admin_db_url
        self.strategy = strategy
        self.cache = cache
        self.redis_url = redis_url
        self.dns_server = dns_server
        self.dns_name = dns_name
        self.addresses = tuple(addresses)
        self.extra_env = dict(extra_env or {})
        self.secret_key = secrets.token_hex(32)
        self.database_name: str | None = None
        self.port: int | None = None
        self.cluster_port: int | None = None
        self.nginx_port: int | None = None
        self.nginx_pid: int | None = None
        self.nodes: list[Node] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def nginx_dir(self) -> Path:
        return self.work_dir / "nginx"

    # -- start ---------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> "Cluster":
        if not os.access(self.binary, os.X_OK):
            raise ServerError(f"server binary {self.binary} is missing (build it, or set ELTRIX_BINARY)")
        try:
            self.database_name = f"cluster_{self.strategy}_{secrets.token_hex(5)}"
            psql(self.admin_db_url, f"CREATE DATABASE {self.database_name}")
            self.port = common_free_port(self.addresses)
            self.cluster_port = common_free_port(self.addresses, avoid=(self.port,))
            self.nodes = [Node(i, a, self.port, self.work_dir, self.binary)
                          for i, a in enumerate(self.addresses)]
            self.start_nginx()
            # All nodes start together: their migrations race, which the
            # migration lock (a transaction-scoped advisory lock) must settle.
            for node in self.nodes:
                node.spawn(self.node_env(node))
            self.wait_ready(self.nodes, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def node_env(self, node: Node) -> dict[str, str]:
        media = self.work_dir / "media"
        media.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ELTRIX_SERVER_NAME": SERVER_NAME,
            "ELTRIX_SECRET_KEY": self.secret_key,
            "DATABASE_URL": url_with_db(self.server_db_url, self.database_name),
            "ELTRIX_BIND_ADDRESS": node.address,
            "ELTRIX_PORT": str(node.port),
            "ELTRIX_PUBLIC_BASEURL": self.url,
            "ELTRIX_MEDIA_PATH": str(media),
            "ELTRIX_LOG_LEVEL": os.environ.get("ELTRIX_CLUSTER_LOG_LEVEL", "info"),
            "ELTRIX_CACHE_BACKEND": self.cache,
            "ELTRIX_CLUSTER_ENABLED": "true",
            "ELTRIX_CLUSTER_STRATEGY": self.strategy,
            "ELTRIX_CLUSTER_PORT": str(self.cluster_port),
            "ELTRIX_CLUSTER_BIND_ADDRESS": node.address,
            # A dead node is noticed within ~3 s (the kill -9 test waits for its
            # users to go offline); the defaults are 5 s and 15 s.
            "ELTRIX_CLUSTER_HEARTBEAT_INTERVAL": "1",
            "ELTRIX_CLUSTER_NODE_TIMEOUT": "3",
            # Explicitly well above the 1 s the cross-node wake tests allow, so
            # that only the mesh can make them pass.
            "ELTRIX_SYNC_RECHECK_INTERVAL": "5000",
            **SUITE_SETTINGS,
        }
        if self.strategy in ("static", "epmd"):
            env["ELTRIX_CLUSTER_PEERS"] = ",".join(f"{a}:{self.cluster_port}" for a in self.addresses)
        elif self.strategy == "dns":
            if not (self.dns_server and self.dns_name):
                raise ServerError("the dns strategy needs --dns-server and --dns-name")
            env["ELTRIX_CLUSTER_DNS_NAME"] = self.dns_name
            env["ELTRIX_CLUSTER_DNS_SERVER"] = self.dns_server
            env["ELTRIX_CLUSTER_DNS_POLL_INTERVAL"] = "1"
        if self.cache == "redis":
            if not self.redis_url:
                raise ServerError("ELTRIX_CACHE_BACKEND=redis needs --redis-url")
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def wait_ready(self, nodes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(nodes)
        while pending and time.monotonic() < deadline:
            for node in list(pending):
                if not node.alive():
                    raise ServerError(f"node{node.index} exited while starting\n" + node.log_tail())
                if node.ready():
                    pending.remove(node)
            time.sleep(0.1)
        if pending:
            raise ServerError("not ready in time: " + ", ".join(n.url for n in pending) + "\n"
                              + "\n".join(n.log_tail(20) for n in pending))

    def nginx_config(self) -> str:
        """nginx.conf around the shipped site config (packaging/nginx/eltrix.conf),
        with its example upstream servers replaced by the nodes and its listen
        line by a local port: the test proves the config operators copy."""
        d = self.nginx_dir
        site = SITE_CONFIG.read_text()
        example = re.compile(r"^(\s*)server \S+:8008 (.*;)$", re.M)
        found = example.findall(site)
        if not found or "listen 80;" not in site:
            raise ServerError(f"{SITE_CONFIG}: expected 'server HOST:8008 ...;' lines and 'listen 80;'")
        indent, options = found[0]
        servers = "\n".join(f"{indent}server {a}:{self.port} {options}" for a in self.addresses)
        site = example.sub("", site, count=len(found) - 1)
        site = example.sub(servers, site)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.nginx_port};")
        user = "user root root;\n" if os.geteuid() == 0 else ""
        return f"""# written by tests/cluster/cluster.py from {SITE_CONFIG}
{user}worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    log_format upstream '$remote_addr "$request" $status $upstream_addr $request_time';
    access_log {d}/access.log upstream;

{site}
}}
"""

    def start_nginx(self) -> None:
        if not os.access(NGINX, os.X_OK):
            raise ServerError(f"{NGINX} not found (apt-get install nginx)")
        (self.nginx_dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.nginx_port = common_free_port(("127.0.0.1",))
        conf = self.nginx_dir / "nginx.conf"
        conf.write_text(self.nginx_config())
        # -e: the start-up error log too (the default, /var/log/nginx, needs root).
        base = [NGINX, "-e", str(self.nginx_dir / "error.log"), "-p", str(self.nginx_dir), "-c", str(conf)]
        check = subprocess.run(base + ["-t", "-q"],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise ServerError(f"nginx rejected {conf}: {check.stderr.strip()}")
        with open(self.nginx_dir / "stderr.log", "ab") as out:
            proc = subprocess.Popen(base,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.nginx_pid = proc.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerError("nginx exited: " + (self.nginx_dir / "error.log").read_text(errors="replace"))
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.nginx_port)) == 0:
                    return
            time.sleep(0.05)
        raise ServerError(f"nginx did not listen on 127.0.0.1:{self.nginx_port}")

    # -- stop ----------------------------------------------------------------

    def stop(self) -> list[Node]:
        """Stops everything; returns the nodes that had died without being killed."""
        crashed = [n for n in self.nodes if not n.killed and n.pid is not None and not n.alive()]
        for node in self.nodes:
            node.stop()
        if self.nginx_pid and _pid_is(self.nginx_pid, NGINX):
            os.kill(self.nginx_pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while _pid_is(self.nginx_pid, NGINX) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_is(self.nginx_pid, NGINX):
                os.kill(self.nginx_pid, signal.SIGKILL)
        self.nginx_pid = None
        if self.database_name:
            try:
                psql(self.admin_db_url, f"DROP DATABASE IF EXISTS {self.database_name} WITH (FORCE)")
            except (ServerError, OSError, subprocess.SubprocessError) as e:
                log(f"could not drop database {self.database_name}: {e}")
            self.database_name = None
        return crashed

    # -- state -----------------------------------------------------------------

    def state(self) -> dict:
        return {
            "work_dir": str(self.work_dir), "binary": self.binary,
            "admin_db_url": self.admin_db_url, "server_db_url": self.server_db_url,
            "strategy": self.strategy, "cache": self.cache, "redis_url": self.redis_url,
            "dns_server": self.dns_server, "dns_name": self.dns_name,
            "addresses": list(self.addresses), "extra_env": self.extra_env,
            "secret_key": self.secret_key, "database_name": self.database_name,
            "port": self.port, "cluster_port": self.cluster_port,
            "nginx_port": self.nginx_port, "nginx_pid": self.nginx_pid, "url": self.url,
            "server_name": SERVER_NAME,
            "nodes": [{"pid": n.pid, "killed": n.killed} for n in self.nodes],
        }

    @classmethod
    def from_state(cls, st: dict) -> "Cluster":
        c = cls(work_dir=Path(st["work_dir"]), binary=st["binary"], admin_db_url=st["admin_db_url"],
                server_db_url=st["server_db_url"], strategy=st["strategy"], cache=st["cache"],
                redis_url=st["redis_url"], dns_server=st["dns_server"], dns_name=st["dns_name"],
                addresses=st["addresses"], extra_env=st["extra_env"])
        c.secret_key = st["secret_key"]
        c.database_name = st["database_name"]
        c.port, c.cluster_port = st["port"], st["cluster_port"]
        c.nginx_port, c.nginx_pid = st["nginx_port"], st["nginx_pid"]
        c.nodes = [Node(i, a, c.port, c.work_dir, c.binary) for i, a in enumerate(c.addresses)]
        for node, ns in zip(c.nodes, st["nodes"]):
            node.pid, node.killed = ns["pid"], ns["killed"]
        return c

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state(), indent=2))
        tmp.replace(path)


# -- command line --------------------------------------------------------------


def _parse_env(pairs) -> dict[str, str]:
    env = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"cluster.py: --env expects KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def cmd_start(args) -> int:
    state_path = Path(args.state)
    if state_path.exists():
        raise SystemExit(f"cluster.py: {state_path} exists; stop that cluster first")
    admin = args.admin_db_url or os.environ.get("ELTRIX_TEST_DATABASE_URL")
    if not admin:
        raise SystemExit("cluster.py: no database (--admin-db-url or ELTRIX_TEST_DATABASE_URL)")
    work_dir = Path(tempfile.mkdtemp(prefix=f"eltrix-cluster-{args.strategy}."))
    cluster = Cluster(work_dir=work_dir,
                      binary=os.environ.get("ELTRIX_BINARY") or str(REPO / "build" / "core" / "eltrix"),
                      admin_db_url=admin, server_db_url=args.server_db_url, strategy=args.strategy,
                      cache=args.cache, redis_url=args.redis_url, dns_server=args.dns_server,
                      dns_name=args.dns_name, extra_env=_parse_env(args.env))
    started = time.monotonic()
    try:
        cluster.start(timeout=args.timeout)
    except ServerError as e:
        log(str(e))
        return 1
    cluster.save(state_path)
    log(f"{len(cluster.nodes)} nodes ({args.strategy} strategy, {args.cache} cache) ready behind "
        f"nginx at {cluster.url} in {time.monotonic() - started:.1f}s; logs in {work_dir}")
    print(cluster.url, flush=True)
    return 0


def cmd_stop(args) -> int:
    state_path = Path(args.state)
    if not state_path.exists():
        log(f"{state_path} does not exist; nothing to stop")
        return 0
    cluster = Cluster.from_state(json.loads(state_path.read_text()))
    if args.log_tail:
        for node in cluster.nodes:
            print(node.log_tail(args.log_tail), file=sys.stderr)
    crashed = cluster.stop()
    for node in crashed:
        log(f"node{node.index} ({node.url}) died during the run\n{node.log_tail()}")
    state_path.unlink()
    if not crashed and not args.keep_logs:
        shutil.rmtree(cluster.work_dir, ignore_errors=True)
    return 1 if crashed else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--state", required=True)
    s.add_argument("--strategy", default="static", choices=("static", "epmd", "dns"))
    s.add_argument("--cache", default="local", choices=("local", "redis"))
    s.add_argument("--redis-url")
    s.add_argument("--dns-server", help="HOST:PORT of the DNS server the dns strategy asks")
    s.add_argument("--dns-name", help="name whose A records list the nodes")
    s.add_argument("--admin-db-url", help="creates/drops the database (default ELTRIX_TEST_DATABASE_URL)")
    s.add_argument("--server-db-url", help="what the nodes connect to, e.g. PgBouncer (default: the admin URL)")
    s.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    s.add_argument("--timeout", type=float, default=90.0)
    s.set_defaults(func=cmd_start)
    t = sub.add_parser("stop")
    t.add_argument("--state", required=True)
    t.add_argument("--log-tail", type=int, default=0)
    t.add_argument("--keep-logs", action="store_true")
    t.set_defaults(func=cmd_stop)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
