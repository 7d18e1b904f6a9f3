"""Fixtures for the end-to-end tests: the real eltrix binary against a real
PostgreSQL started by scripts/test (ELTRIX_TEST_DATABASE_URL)."""

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set; run the suite through scripts/test")
    return value


@pytest.fixture(scope="session")
def binary():
    return _env("ELTRIX_BINARY")


@pytest.fixture(scope="session")
def admin_url():
    return _env("ELTRIX_TEST_DATABASE_URL")


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   capture_output=True, text=True)


def url_with_db(url, dbname):
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture
def database(admin_url):
    """A fresh database per test, so server-name pinning and migrations start clean."""
    name = "e2e_" + secrets.token_hex(6)
    psql(admin_url, f"CREATE DATABASE {name}")
    yield url_with_db(admin_url, name)
    psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_handed_out: set = set()


def free_port():
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


def http(method, url, body=None, headers=None, timeout=10):
    """(status, headers, body bytes) without raising on 4xx/5xx."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_json(method, url, **kwargs):
    status, headers, body = http(method, url, **kwargs)
    return status, json.loads(body) if body else None


class Node:
    def __init__(self, binary, env, tmp_path, port, args=()):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = tmp_path / f"eltrix-{port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, *args], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def url(self, path):
        return self.base + path

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_live(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"eltrix exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if http("GET", self.url("/health/live"), timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"eltrix did not come up:\n{self.log()}")

    def wait_ready(self, expected=200, timeout=30):
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status, body = http_json("GET", self.url("/health/ready"), timeout=2)
            if status == expected:
                return body
            time.sleep(0.1)
        raise AssertionError(f"/health/ready stayed {status}, expected {expected}:\n{self.log()}")

    def stop(self, sig=None, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig or 15)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def base_env(database_url, tmp_path, port, **overrides):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ELTRIX_SERVER_NAME": "e2e.test",
        "ELTRIX_SECRET_KEY": "x" * 48,
        "DATABASE_URL": database_url,
        "ELTRIX_BIND_ADDRESS": "127.0.0.1",
        "ELTRIX_PORT": str(port),
        "ELTRIX_MEDIA_PATH": str(tmp_path / "media"),
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@pytest.fixture
def start_node(binary, database, tmp_path):
    """start_node(**env_overrides) -> a live Node (wait=False: just started);
    every node is stopped afterwards."""
    nodes = []

    def start(database_url=None, config_text="", wait=True, **overrides):
        port = free_port()
        env = base_env(database_url or database, tmp_path, port, **overrides)
        # An explicit (usually empty) file keeps a host's /etc/eltrix out of the test.
        config = tmp_path / f"eltrix-{port}.conf"
        config.write_text(config_text)
        node = Node(binary, env, tmp_path, port, args=["--config", str(config)])
        nodes.append(node)
        if wait:
            node.wait_live()
        return node

    yield start
    for node in nodes:
        node.stop()


def run_eltrix(binary, args, env, timeout=30):
    return subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def node(start_node):
    """A ready node with open registration and no rate limits: the usual
    starting point of the Client-Server tests (a module may define its own)."""
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    n.wait_ready()
    return n


# Users registered on that node, for the modules that need them. (cs_client
# imports this module, hence the import inside.)
@pytest.fixture
def alice(node):
    from cs_client import register
    return register(node, "alice")


@pytest.fixture
def bob(node):
    from cs_client import register
    return register(node, "bob")


@pytest.fixture
def carol(node):
    from cs_client import register
    return register(node, "carol")
