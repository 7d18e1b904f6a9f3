"""cache-redis end to end: the server with ELTRIX_CACHE_BACKEND=redis against a
private redis-server (scripts/lib/redis.sh) that the tests stop and restart.

- register, login, sync and send work, and the token lookups land in Redis;
- with Redis stopped, requests are still served (from PostgreSQL), quickly,
  /health/ready stays 200 with the cache "degraded", and
  eltrix_cache_errors_total rises;
- with Redis back on the same port, health returns to ok and the cache is used
  again, without restarting the node;
- two nodes sharing Redis: a logout on one rejects the token on the other at
  once, also when the logout happened while Redis was unreachable (the entry
  it could not update is deleted once Redis answers), and rate-limit counters
  are shared.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, free_port, http, http_json
from cs_client import CS, Client, register

HELPER = os.environ.get("ELTRIX_TEST_REDIS_HELPER") or str(REPO / "scripts/lib/redis.sh")


class Redis:
    """A private redis-server on a fixed port, so it can come back at the same URL."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.port = free_port()
        self.url = None
        self.start()

    def start(self):
        out = subprocess.run([HELPER, "start", str(self.dir), str(self.port)], check=True,
                             capture_output=True, text=True)
        self.url = out.stdout.strip()

    def stop(self):
        subprocess.run([HELPER, "stop", str(self.dir)], check=True, capture_output=True)

    def signal(self, number):
        os.kill(int((self.dir / "redis.pid").read_text()), number)

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                             check=True, capture_output=True, text=True)
        return out.stdout


@pytest.fixture
def redis(tmp_path):
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (scripts/install-deps)")
        pytest.skip("redis-server is not installed (scripts/install-deps installs it)")
    server = Redis(tmp_path / "redis")
    yield server
    try:
        server.signal(signal.SIGCONT)
    except (OSError, ValueError):
        pass
    server.stop()


def redis_node(start_node, redis, **env):
    node = start_node(ELTRIX_CACHE_BACKEND="redis", REDIS_URL=redis.url,
                      ELTRIX_REGISTRATION_ENABLED="true", **env)
    node.wait_ready()
    return node


def metric(node, series):
    """The value of one series in /metrics (0 when absent)."""
    status, _, body = http("GET", node.url("/metrics"))
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def cache_health(node):
    status, body = http_json("GET", node.url("/health"))
    return body["components"]["cache"]


def wait_for_cache(node, wanted, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        component = cache_health(node)
        if component["status"] == wanted:
            return component
        time.sleep(0.1)
    raise AssertionError(f"cache stayed {cache_health(node)}, expected {wanted}")


def login(node, user, password="correct horse battery"):
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}
    return http_json("POST", node.url(CS + "/login"), body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_redis_outage_degrades_and_recovers_without_restart(start_node, redis):
    node = redis_node(start_node, redis, ELTRIX_RATELIMIT_ENABLED="false")
    component = cache_health(node)
    assert component["status"] == "ok", component
    assert f"127.0.0.1:{redis.port}" in component["detail"]

    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {"name": "cached"})["room_id"]
    alice.ok("PUT", f"/rooms/{room}/send/m.room.message/t1", {"msgtype": "m.text", "body": "one"})
    since = alice.sync()["next_batch"]
    for _ in range(5):
        assert alice.ok("GET", "/account/whoami")["user_id"] == alice.user_id
    # Token lookups are cached in Redis under the default prefix, and reused.
    keys = redis.cli("--scan", "--pattern", "eltrix:tok:*").split()
    assert keys, "no token lookup was cached in Redis"
    assert metric(node, "eltrix_cache_hits_total") >= 5
    errors_before = metric(node, 'eltrix_cache_errors_total{op="get"}')

    redis.stop()
    # Every request is still served (PostgreSQL answers), and quickly: the
    # pool backs off instead of waiting for a connect timeout per request.
    for i in range(10):
        (status, body), took = timed(lambda: alice.call("GET", "/account/whoami"))
        assert (status, body["user_id"]) == (200, alice.user_id)
        assert took < 1.0, f"whoami took {took:.2f}s with Redis down"
    alice.ok("PUT", f"/rooms/{room}/send/m.room.message/t2", {"msgtype": "m.text", "body": "two"})
    events = alice.sync(since=since)["rooms"]["join"][room]["timeline"]["events"]
    assert [e["content"]["body"] for e in events if e["type"] == "m.room.message"] == ["two"]
    bob = register(node, "bob")  # registration and its token work too
    assert bob.ok("GET", "/account/whoami")["user_id"] == bob.user_id

    degraded = wait_for_cache(node, "degraded")
    assert "refused" in degraded["detail"], degraded
    status, ready = http_json("GET", node.url("/health/ready"))
    assert status == 200, ready
    assert ready["components"]["cache"]["status"] == "degraded"
    assert metric(node, 'eltrix_cache_errors_total{op="get"}') >= errors_before + 10
    assert metric(node, "eltrix_cache_redis_fast_failures_total") > 0

    redis.start()  # the same port, empty
    recovered = wait_for_cache(node, "ok")
    assert "PONG" in recovered["detail"]
    # The same process uses Redis again: the token is cached anew and hit.
    hits = metric(node, "eltrix_cache_hits_total")
    for _ in range(3):
        alice.ok("GET", "/account/whoami")
    assert redis.cli("--scan", "--pattern", "eltrix:tok:*").split()
    assert metric(node, "eltrix_cache_hits_total") >= hits + 2
    assert node.proc.poll() is None


def test_a_node_starts_without_redis_and_uses_it_once_it_appears(start_node, redis):
    redis.stop()
    node = start_node(ELTRIX_CACHE_BACKEND="redis", REDIS_URL=redis.url,
                      ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()  # the cache is not critical: ready without it
    assert "refused" in wait_for_cache(node, "degraded")["detail"]
    status, ready = http_json("GET", node.url("/health/ready"))
    assert (status, ready["components"]["cache"]["status"]) == (200, "degraded"), ready
    alice = register(node, "alice")
    assert alice.ok("GET", "/account/whoami")["user_id"] == alice.user_id
    assert "redis is not reachable at start-up" in node.log()

    redis.start()
    wait_for_cache(node, "ok")
    for _ in range(3):
        alice.ok("GET", "/account/whoami")
    assert redis.cli("--scan", "--pattern", "eltrix:tok:*").split()


def test_logout_on_one_node_rejects_the_token_on_another_at_once(start_node, redis):
    a = redis_node(start_node, redis, ELTRIX_RATELIMIT_ENABLED="false")
    b = redis_node(start_node, redis, ELTRIX_RATELIMIT_ENABLED="false")
    alice = register(a, "alice")
    on_b = Client(b, alice.user_id, alice.token, alice.device_id)
    # Node B has looked the token up (and found it in the shared cache).
    for _ in range(3):
        assert on_b.ok("GET", "/account/whoami")["user_id"] == alice.user_id
    assert metric(b, "eltrix_cache_hits_total") >= 2

    alice.ok("POST", "/logout", {})
    status, body = on_b.call("GET", "/account/whoami")
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN")


def test_a_logout_during_a_partition_is_not_undone_when_redis_returns(start_node, redis):
    a = redis_node(start_node, redis, ELTRIX_RATELIMIT_ENABLED="false")
    b = redis_node(start_node, redis, ELTRIX_RATELIMIT_ENABLED="false")
    alice = register(a, "alice")
    on_b = Client(b, alice.user_id, alice.token, alice.device_id)
    assert on_b.ok("GET", "/account/whoami")["user_id"] == alice.user_id  # cached in Redis

    # Redis keeps its data but stops answering (SIGSTOP). A request on A
    # times out first, so A backs off and the logout's "revoked" marker is
    # never sent (a timed-out command may still be applied late).
    redis.signal(signal.SIGSTOP)
    assert alice.ok("GET", "/account/whoami")["user_id"] == alice.user_id
    alice.ok("POST", "/logout", {})
    assert metric(a, 'eltrix_cache_errors_total{op="set"}') >= 1
    status, body = on_b.call("GET", "/account/whoami")  # B reads PostgreSQL meanwhile
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN")

    assert metric(a, "eltrix_cache_redis_stale_keys") >= 1
    redis.signal(signal.SIGCONT)
    # A's health probe finds Redis again and deletes what A failed to update.
    deadline = time.monotonic() + 15
    while metric(a, "eltrix_cache_redis_stale_keys") > 0:
        assert time.monotonic() < deadline, "node A never repaired its stale keys"
        time.sleep(0.1)
    assert metric(a, "eltrix_cache_redis_stale_keys_removed_total") >= 1
    wait_for_cache(a, "ok")
    wait_for_cache(b, "ok")
    for key in redis.cli("--scan", "--pattern", "eltrix:tok:*").split():
        assert redis.cli("GET", key).strip() in ("", "revoked"), key
    # Redis still held the token's lookup from before the logout; node A
    # deleted it before using Redis again, so B does not revive the token.
    for _ in range(3):
        status, body = on_b.call("GET", "/account/whoami")
        assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN")


def test_rate_limit_counters_are_shared_by_the_nodes(start_node, redis):
    limits = {"ELTRIX_RATELIMIT_LOGIN_PER_MINUTE": "1", "ELTRIX_RATELIMIT_LOGIN_BURST": "4"}
    a = redis_node(start_node, redis, **limits)
    b = redis_node(start_node, redis, **limits)
    register(a, "carol")
    # The window is 4 minutes (a burst of 4 at 1 a minute), numbered from the
    # epoch: start well inside one so that all six logins share it.
    window_ms = 4 * 60 * 1000
    left_ms = window_ms - int(time.time() * 1000) % window_ms
    if left_ms < 15000:
        time.sleep(left_ms / 1000 + 0.5)
    # Alternate nodes: the burst of 4 is for the deployment, not per node
    # (with an unshared cache each node would allow 4, and all six pass).
    statuses = [login(node, "carol")[0] for node in (a, b, a, b, a, b)]
    assert statuses == [200, 200, 200, 200, 429, 429], statuses
