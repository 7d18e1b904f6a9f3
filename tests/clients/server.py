#!/usr/bin/python3
"""Start a fresh Eltrix server for the client test suites (standard library only).

Each start gets its own, newly created PostgreSQL database, its own port and its
own log file, so suite runs never see each other's users or rooms. The server
counts as started only once /health/ready answers 200.

PostgreSQL: the cluster named by ELTRIX_TEST_DATABASE_URL (scripts/test sets it);
without it a private cluster is started in a temporary directory with
scripts/lib/postgres.sh and stopped again afterwards. The database is created
and dropped through that URL; the server itself connects through
ELTRIX_CLIENTS_SERVER_DATABASE_URL instead when it is set (its host, port and
user; the database name is replaced by the new one), e.g. a PgBouncer in front
of the same cluster (scripts/lib/pgbouncer.sh), which cannot create databases.

Read replica: with ELTRIX_CLIENTS_REPLICA_URL (a streaming replica of that
cluster, scripts/lib/replica.sh), the server also gets DATABASE_REPLICA_URL
pointing at its database there. Each start lets the replica catch up (so it
has the new database and schema) and, with ELTRIX_CLIENTS_REPLICA_PAUSE=1,
then pauses its replay (pg_wal_replay_pause) for as long as the server runs:
every write the suite makes is then missing on the replica, and the suite
passes only if read-your-writes holds.

Before such a server stops, its replica metrics are logged, and its whole
/metrics is saved to $ELTRIX_CLIENTS_METRICS_DIR/<database>.prom when that is
set (scripts/test checks them).

Extra server settings: ELTRIX_CLIENTS_SERVER_ENV="KEY=VALUE KEY2=VALUE2".

Binary: ELTRIX_BINARY, else <repo>/build/core/eltrix.

From Python (pytest fixtures):

    with EltrixServer(name="nio") as server:
        server.url, server.server_name, server.log_tail()

From the command line:

    server.py run [--name N] [--env KEY=VALUE]... -- COMMAND [ARGS...]
        start a server, run COMMAND with ELTRIX_URL, ELTRIX_SERVER_NAME and
        ELTRIX_SERVER_LOG set, stop the server; exits with COMMAND's status
        (or 1 when the server died meanwhile). The server's log tail is printed
        when COMMAND fails.
    server.py start [--print-url] [--state FILE] [--name N] [--env KEY=VALUE]...
        start a server that keeps running; prints its URL (--print-url: only
        the URL) and writes what `stop` needs to FILE.
    server.py stop [--state FILE] [--log-tail N]
        stop a server started by `start`, drop its database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PG_HELPER = REPO / "scripts" / "lib" / "postgres.sh"
PG_BIN = Path(os.environ.get("ELTRIX_PG_BIN", "/usr/lib/postgresql/15/bin"))
DEFAULT_STATE = Path(tempfile.gettempdir()) / "eltrix-clients-server.json"
DEFAULT_SERVER_NAME = "eltrix.test"

# Settings every client suite needs: open registration (the suites register
# their own users) and no rate limits (a suite sends bursts no person would).
SUITE_SETTINGS = {
    "ELTRIX_REGISTRATION_ENABLED": "true",
    "ELTRIX_RATELIMIT_ENABLED": "false",
}


class ServerError(RuntimeError):
    """The server (or its database) could not be started; the message says why
    and includes the server's log tail when there is one."""


def log(msg: str) -> None:
    print(f"server.py: {msg}", file=sys.stderr, flush=True)


_handed_out: set = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now and never handed out before in this
    process: nodes bind other loopback addresses (127.0.0.2, ...), where a
    port another node already holds would look free on 127.0.0.1."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def http_status(url: str, timeout: float = 2.0) -> tuple[int | None, bytes]:
    """(status, body); status None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError):
        return None, b""


def _psql_binary() -> str:
    for candidate in (shutil.which("psql"), str(PG_BIN / "psql")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ServerError("psql not found (apt-get install postgresql-client-15)")


def psql(url: str, sql: str) -> None:
    proc = subprocess.run(
        [_psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise ServerError(f"psql failed ({sql}): {proc.stderr.strip()}")


def psql_value(url: str, sql: str) -> str:
    proc = subprocess.run(
        [_psql_binary(), "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise ServerError(f"psql failed ({sql}): {proc.stderr.strip()}")
    return proc.stdout.strip()


def replica_catch_up(primary_url: str, replica_url: str, timeout: float = 60.0) -> None:
    """Resumes replay on the replica and waits until it has replayed everything
    the primary had written when called."""
    psql_value(replica_url, "SELECT pg_wal_replay_resume()")
    target = psql_value(primary_url, "SELECT pg_current_wal_insert_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if psql_value(replica_url, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
            return
        time.sleep(0.05)
    raise ServerError(f"the replica did not replay up to {target} within {timeout:.0f}s")


def replica_pause(replica_url: str) -> None:
    psql_value(replica_url, "SELECT pg_wal_replay_pause()")


def url_with_db(url: str, dbname: str) -> str:
    base, _, rest = url.rpartition("/")
    query = rest.partition("?")[2]
    return f"{base}/{dbname}" + (f"?{query}" if query else "")


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (scripts/lib/postgres.sh) in a temp dir."""

    def __init__(self, data_dir: Path | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="eltrix-clients-pg.")) if data_dir is None else None
        self.data_dir = data_dir or self.root / "postgres"
        self.url: str | None = None

    def start(self) -> str:
        port = free_port()
        proc = subprocess.run([str(PG_HELPER), "start", str(self.data_dir), str(port)],
                              capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            raise ServerError(f"could not start PostgreSQL: {proc.stderr.strip()}")
        self.url = proc.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run([str(PG_HELPER), "stop", str(self.data_dir)], capture_output=True, timeout=120)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


class EltrixServer:
    """One freshly started eltrix process on its own database."""

    def __init__(self, *, name: str = "clients", binary: str | None = None,
                 admin_db_url: str | None = None, server_name: str = DEFAULT_SERVER_NAME,
                 env: dict[str, str] | None = None, work_dir: Path | None = None,
                 server_db_url: str | None = None):
        self.name = "".join(c if c.isalnum() else "_" for c in name.lower())
        self.binary = binary or os.environ.get("ELTRIX_BINARY") or str(REPO / "build" / "core" / "eltrix")
        self.admin_db_url = admin_db_url or os.environ.get("ELTRIX_TEST_DATABASE_URL") or None
        # Where the server connects (None: the admin URL's cluster directly).
        self.server_db_url = server_db_url or os.environ.get("ELTRIX_CLIENTS_SERVER_DATABASE_URL") or None
        self.server_name = server_name
        self.replica_url = os.environ.get("ELTRIX_CLIENTS_REPLICA_URL") or None
        self.pause_replica = os.environ.get("ELTRIX_CLIENTS_REPLICA_PAUSE") == "1"
        self.extra_env = _parse_env(os.environ.get("ELTRIX_CLIENTS_SERVER_ENV", "").split())
        self.extra_env.update(env or {})
        self._own_work_dir = work_dir is None
        self.work_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix=f"eltrix-{self.name}."))
        self.private_pg: PrivatePostgres | None = None
        self.database_name: str | None = None
        self.database_url: str | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.log_path = self.work_dir / "eltrix.log"
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 90.0, detach: bool = False) -> "EltrixServer":
        if not os.access(self.binary, os.X_OK):
            raise ServerError(f"server binary {self.binary} is missing or not executable "
                              "(build it: meson setup build && ninja -C build; or set ELTRIX_BINARY)")
        try:
            self._create_database()
            if self.replica_url:
                replica_catch_up(self.admin_db_url, self.replica_url)  # it has the database
            self._spawn(detach)
            self._wait_ready(timeout)
            if self.replica_url:
                replica_catch_up(self.admin_db_url, self.replica_url)  # and the schema
                if self.pause_replica:
                    replica_pause(self.replica_url)
        except BaseException:
            self.stop(quiet=True)
            raise
        return self

    def _create_database(self) -> None:
        if not self.admin_db_url:
            log("ELTRIX_TEST_DATABASE_URL is unset: starting a private PostgreSQL cluster")
            self.private_pg = PrivatePostgres()
            self.admin_db_url = self.private_pg.start()
        self.database_name = f"clients_{self.name}_{secrets.token_hex(5)}"[:63]
        psql(self.admin_db_url, f"CREATE DATABASE {self.database_name}")
        self.database_url = url_with_db(self.server_db_url or self.admin_db_url, self.database_name)

    def server_env(self) -> dict[str, str]:
        media = self.work_dir / "media"
        media.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ELTRIX_SERVER_NAME": self.server_name,
            "ELTRIX_SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": self.database_url or "",
            "ELTRIX_BIND_ADDRESS": "127.0.0.1",
            "ELTRIX_PORT": str(self.port),
            "ELTRIX_PUBLIC_BASEURL": self.url or "",
            "ELTRIX_MEDIA_PATH": str(media),
            "ELTRIX_LOG_LEVEL": os.environ.get("ELTRIX_CLIENTS_LOG_LEVEL", "info"),
            **SUITE_SETTINGS,
        }
        if self.replica_url and self.database_name:
            env["DATABASE_REPLICA_URL"] = url_with_db(self.replica_url, self.database_name)
        env.update(self.extra_env)
        return env

    def _spawn(self, detach: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # An explicit, empty config file keeps the host's /etc/eltrix out of the run.
        config = self.work_dir / "eltrix.conf"
        config.write_text("# written by tests/clients/server.py; settings come from the environment\n")
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                [self.binary, "--config", str(config)], env=self.server_env(),
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=detach)
        self.pid = self.proc.pid

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        status, body = None, b""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"eltrix exited with status {self.proc.returncode} while starting\n"
                                  + self.log_tail())
            status, body = http_status(self.url + "/health/ready")
            if status == 200:
                return
            time.sleep(0.1)
        raise ServerError(f"eltrix did not become ready within {timeout:.0f}s at {self.url}/health/ready "
                          f"(last status {status}: {body[:300]!r})\n" + self.log_tail())

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _pid_is(self.pid, self.binary)

    def stop(self, timeout: float = 30.0, quiet: bool = False) -> int | None:
        """SIGTERM (then SIGKILL), drop the database, stop a private cluster.
        Returns the exit status when known."""
        rc = None
        if self.replica_url and self.url and self.alive():
            self._save_replica_metrics()
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    log(f"eltrix (pid {self.proc.pid}) ignored SIGTERM for {timeout:.0f}s; killing it")
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
        elif self.pid is not None and _pid_is(self.pid, self.binary):
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _pid_is(self.pid, self.binary) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_is(self.pid, self.binary):
                os.kill(self.pid, signal.SIGKILL)
        self.proc = None
        self.pid = None
        if self.database_name and self.admin_db_url:
            try:
                psql(self.admin_db_url, f"DROP DATABASE IF EXISTS {self.database_name} WITH (FORCE)")
            except (ServerError, OSError, subprocess.SubprocessError) as e:
                if not quiet:
                    log(f"could not drop database {self.database_name}: {e}")
            self.database_name = None
        if self.private_pg is not None:
            self.private_pg.stop()
            self.private_pg = None
        return rc

    def _save_replica_metrics(self) -> None:
        status, body = http_status(self.url + "/metrics")
        if status != 200:
            return
        text = body.decode(errors="replace")
        wanted = ("eltrix_db_replica_", 'eltrix_db_query_duration_seconds_count{access="read"')
        lines = [line for line in text.splitlines()
                 if line.startswith(wanted) and not line.startswith("#")]
        log("replica metrics of " + (self.database_name or "?") + ":\n  " + "\n  ".join(lines))
        out_dir = os.environ.get("ELTRIX_CLIENTS_METRICS_DIR")
        if out_dir and self.database_name:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            (Path(out_dir) / f"{self.database_name}.prom").write_text(text)

    def cleanup_work_dir(self) -> None:
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> "EltrixServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- diagnostics -------------------------------------------------------

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, lines: int = 40) -> str:
        """The log lines written after byte `offset` (the last `lines` of them)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return f"(no server log at {self.log_path})"
        all_lines = text.splitlines()
        tail = all_lines[-lines:]
        skipped = f" (last {len(tail)} of {len(all_lines)})" if len(all_lines) > len(tail) else ""
        return f"--- {self.log_path}, lines written during the test{skipped} ---\n" + "\n".join(tail)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no server log at {self.log_path})"
        tail = text.splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail)

    # -- state for `start` / `stop` ----------------------------------------

    def state(self) -> dict:
        return {
            "pid": self.pid, "binary": self.binary, "url": self.url, "port": self.port,
            "server_name": self.server_name, "log": str(self.log_path),
            "work_dir": str(self.work_dir), "own_work_dir": self._own_work_dir,
            "admin_db_url": self.admin_db_url, "database_name": self.database_name,
            "private_pg_dir": str(self.private_pg.data_dir) if self.private_pg else None,
            "private_pg_root": str(self.private_pg.root) if self.private_pg and self.private_pg.root else None,
        }

    @classmethod
    def from_state(cls, st: dict) -> "EltrixServer":
        srv = cls(binary=st["binary"], admin_db_url=st["admin_db_url"],
                  server_name=st["server_name"], work_dir=Path(st["work_dir"]))
        srv._own_work_dir = st.get("own_work_dir", False)
        srv.pid, srv.url, srv.port = st["pid"], st["url"], st["port"]
        srv.database_name = st["database_name"]
        srv.log_path = Path(st["log"])
        if st.get("private_pg_dir"):
            srv.private_pg = PrivatePostgres(Path(st["private_pg_dir"]))
            root = st.get("private_pg_root")
            srv.private_pg.root = Path(root) if root else None
        return srv


def _pid_is(pid: int, binary: str) -> bool:
    """True when pid is alive and runs `binary` (guards against pid reuse)."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except OSError:
        return False
    return os.path.realpath(binary) == exe.removesuffix(" (deleted)")


# -- command line --------------------------------------------------------------


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"server.py: --env and ELTRIX_CLIENTS_SERVER_ENV expect KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def cmd_run(args) -> int:
    command = args.command
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise SystemExit("server.py run: no command given (server.py run -- COMMAND ...)")
    server = EltrixServer(name=args.name, env=_parse_env(args.env))
    started = time.monotonic()
    try:
        server.start(timeout=args.timeout)
    except ServerError as e:
        log(str(e))
        server.cleanup_work_dir()
        return 1
    log(f"eltrix ready at {server.url} in {time.monotonic() - started:.1f}s "
        f"(database {server.database_name}"
        + (f" via {server.server_db_url}" if server.server_db_url else "")
        + f", log {server.log_path})")
    child_env = dict(os.environ, ELTRIX_URL=server.url, ELTRIX_SERVER_NAME=server.server_name,
                     ELTRIX_SERVER_LOG=str(server.log_path))
    child = subprocess.Popen(command, env=child_env)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        rc = child.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    crashed = not server.alive()
    if crashed:
        log(f"eltrix died while the tests ran (exit status {server.proc.returncode})")
    if rc != 0 or crashed:
        print(server.log_tail(args.log_tail), file=sys.stderr)
    stop_rc = server.stop()
    if stop_rc not in (0, None) and not crashed:
        log(f"eltrix exited with status {stop_rc} after SIGTERM")
    if rc == 0 and not crashed:
        server.cleanup_work_dir()
    return 1 if crashed and rc == 0 else rc


def cmd_start(args) -> int:
    state_path = Path(args.state)
    if state_path.exists():
        raise SystemExit(f"server.py: {state_path} exists; stop that server first (server.py stop --state {state_path})")
    server = EltrixServer(name=args.name, env=_parse_env(args.env))
    try:
        server.start(timeout=args.timeout, detach=True)
    except ServerError as e:
        log(str(e))
        return 1
    # The server runs in its own session, so it outlives this process.
    state_path.write_text(json.dumps(server.state(), indent=2))
    if args.print_url:
        print(server.url, flush=True)
    else:
        print(json.dumps({"url": server.url, "server_name": server.server_name,
                          "log": str(server.log_path), "state": str(state_path)}), flush=True)
    log(f"eltrix ready at {server.url}; stop it with: {sys.argv[0]} stop --state {state_path}")
    return 0


def cmd_stop(args) -> int:
    state_path = Path(args.state)
    if not state_path.exists():
        log(f"{state_path} does not exist; nothing to stop")
        return 0
    server = EltrixServer.from_state(json.loads(state_path.read_text()))
    was_alive = server.alive()
    if not was_alive:
        log(f"eltrix (pid {server.pid}) is not running any more")
    if args.log_tail:
        print(server.log_tail(args.log_tail), file=sys.stderr)
    server.stop()
    server.cleanup_work_dir()
    state_path.unlink()
    return 0 if was_alive else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--name", default="clients", help="label used in the database name")
        sp.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra server environment (repeatable)")
        sp.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for /health/ready")

    r = sub.add_parser("run", help="start a server, run a command against it, stop it")
    common(r)
    r.add_argument("--log-tail", type=int, default=80, help="log lines shown when the command fails")
    r.add_argument("command", nargs=argparse.REMAINDER)
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("start", help="start a server that keeps running")
    common(s)
    s.add_argument("--print-url", action="store_true", help="print only the URL")
    s.add_argument("--state", default=str(DEFAULT_STATE), help=f"state file (default {DEFAULT_STATE})")
    s.set_defaults(func=cmd_start)

    t = sub.add_parser("stop", help="stop a server started with `start`")
    t.add_argument("--state", default=str(DEFAULT_STATE))
    t.add_argument("--log-tail", type=int, default=0, help="print this many log lines first")
    t.set_defaults(func=cmd_stop)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
