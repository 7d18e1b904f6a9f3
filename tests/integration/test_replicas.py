"""Read replicas against a real streaming replica (scripts/lib/replica.sh): a
hot standby of scripts/test's cluster made with pg_basebackup -R, lagging on
demand through pg_wal_replay_pause().

The nodes keep the paused replica in rotation (database.replica_max_lag_ms of
an hour), so only read-your-writes positions stand between a client and the
replica's stale data: a test that sent a user's reads to the replica would see
its writes missing, and fail."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, free_port, http, http_json, url_with_db
from cs_client import CS, Client, register

REPLICA = str(REPO / "scripts/lib/replica.sh")
REDIS = os.environ.get("ELTRIX_TEST_REDIS_HELPER") or str(REPO / "scripts/lib/redis.sh")
PG_BIN = os.environ.get("ELTRIX_PG_BIN", "/usr/lib/postgresql/15/bin")


class Replica:
    """A streaming replica of the test cluster, on a port of its own."""

    def __init__(self, primary_dir, directory):
        self.primary_dir, self.dir, self.port = primary_dir, directory, free_port()
        self.url = self._run("start", str(primary_dir), str(directory), str(self.port))

    def _run(self, *args):
        out = subprocess.run([REPLICA, *args], capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def start(self):
        self._run("start", str(self.primary_dir), str(self.dir), str(self.port))

    def stop(self):
        self._run("stop", str(self.dir))

    def pause(self):
        self._run("pause", str(self.dir))

    def catch_up(self):
        self._run("catch-up", str(self.dir))

    def count(self, dbname, sql, *params):
        """SELECT count(*) on the replica's copy of `dbname`."""
        out = subprocess.run(["psql", "-X", "-tA", "-d", url_with_db(self.url, dbname), "-c", sql],
                             capture_output=True, text=True, check=True)
        return int(out.stdout.strip())


@pytest.fixture(scope="module")
def replica():
    pgdata = os.environ.get("ELTRIX_TEST_PGDATA")
    if not pgdata:
        pytest.fail("ELTRIX_TEST_PGDATA is not set; run the suite through scripts/test")
    if not os.access(f"{PG_BIN}/pg_basebackup", os.X_OK):
        pytest.fail(f"{PG_BIN}/pg_basebackup is missing (scripts/install-deps)")
    # Not under pytest's basetemp: pytest resets /tmp/pytest-of-<user> to 0700
    # whenever a session starts, which would lock out the postgres user.
    root = Path(tempfile.mkdtemp(prefix="eltrix-replica."))
    server = Replica(pgdata, root / "data")
    yield server
    try:
        server.catch_up()  # leave replay running for whoever comes next
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_url(tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed (scripts/install-deps)")
    port = free_port()
    out = subprocess.run([REDIS, "start", str(tmp_path / "redis"), str(port)], check=True,
                         capture_output=True, text=True)
    yield out.stdout.strip()
    subprocess.run([REDIS, "stop", str(tmp_path / "redis")], capture_output=True)


def metrics(node):
    status, _, body = http("GET", node.url("/metrics"))
    assert status == 200
    return body.decode()


def metric(node, series):
    """The value of one series (0 when absent)."""
    for line in metrics(node).splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def replica_reads(node):
    return metric(node, 'eltrix_db_query_duration_seconds_count{access="read",target="replica1"}')


def health(node):
    status, body = http_json("GET", node.url("/health"))
    return status, body


def wait_for(what, check, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def login(node, user, password="correct horse battery"):
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}
    status, out = http_json("POST", node.url(CS + "/login"), body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"})
    assert status == 200, out
    return Client(node, out["user_id"], out["access_token"], out["device_id"])


def start_nodes(start_node, database, replica, count, **env):
    """`count` nodes on one database, reading from the replica's copy of it."""
    dbname = database.rpartition("/")[2]
    # A callable value is evaluated for each node (a port of its own).
    nodes = [start_node(DATABASE_REPLICA_URL=url_with_db(replica.url, dbname),
                        ELTRIX_DATABASE_REPLICA_MAX_LAG_MS="3600000",
                        ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                        **{k: v() if callable(v) else v for k, v in env.items()})
             for _ in range(count)]
    for node in nodes:
        node.wait_ready()
    return nodes, dbname


def converse_while_paused(nodes, dbname, replica):
    """Send, sync and GET on alternating nodes while the replica replays nothing."""
    replica.catch_up()  # it has the schema
    replica.pause()
    alice = register(nodes[0], "alice")
    room = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    since = alice.sync()["next_batch"]
    for i in range(6):
        writer, reader = nodes[i % 2], nodes[(i + 1) % 2]
        alice.node = writer
        event_id = alice.ok("PUT", f"/rooms/{room}/send/m.room.message/t{i}",
                            {"msgtype": "m.text", "body": f"message {i}"})["event_id"]
        # The replica really lacks it: only read-your-writes can find it.
        assert replica.count(dbname, f"SELECT count(*) FROM events WHERE event_id = '{event_id}'") == 0
        alice.node = reader
        batch = alice.sync(since=since)
        timeline = batch["rooms"]["join"][room]["timeline"]["events"]
        assert event_id in [e["event_id"] for e in timeline], (i, batch)
        since = batch["next_batch"]
        alice.node = writer
        assert alice.ok("GET", f"/rooms/{room}/event/{event_id}")["content"]["body"] == f"message {i}"
        alice.node = reader
        assert alice.ok("GET", f"/rooms/{room}/event/{event_id}")["event_id"] == event_id

    # A user registered and logged in through node A uses the token on node B.
    register(nodes[0], "bob")
    bob = login(nodes[0], "bob")
    bob.node = nodes[1]
    assert bob.ok("GET", "/account/whoami")["user_id"] == bob.user_id
    bob.ok("PUT", f"/profile/{bob.user_id}/displayname", {"displayname": "Bob B"})
    bob.node = nodes[0]
    assert bob.ok("GET", f"/profile/{bob.user_id}/displayname")["displayname"] == "Bob B"
    bob.node = nodes[1]
    assert bob.ok("GET", f"/profile/{bob.user_id}/displayname")["displayname"] == "Bob B"
    return alice, room


@pytest.mark.parametrize("cache", ["local", "redis"])
def test_read_your_writes_on_two_nodes_while_the_replica_is_paused(
        start_node, database, replica, cache, request):
    env = {}
    if cache == "redis":
        env = {"ELTRIX_CACHE_BACKEND": "redis", "REDIS_URL": request.getfixturevalue("redis_url")}
    else:
        # A per-node cache in a cluster: nodes cannot see each other's
        # positions and must ask the primary for its own. (No peers: the
        # mesh carries wake-ups, not positions.)
        env = {"ELTRIX_CLUSTER_ENABLED": "true", "ELTRIX_CLUSTER_PORT": lambda: str(free_port())}
    nodes, dbname = start_nodes(start_node, database, replica, 2, **env)
    try:
        alice, room = converse_while_paused(nodes, dbname, replica)
        # The replica was in rotation all along; it was skipped because it had
        # not replayed what each read needed.
        behind = sum(metric(n, 'eltrix_db_replica_skipped_total{reason="behind",target="replica1"}')
                     for n in nodes)
        assert behind > 0, "\n".join([line for n in nodes for line in metrics(n).splitlines()
                            if "replica" in line and not line.startswith("#") and "bucket" not in line])
        # Its lag shows (the primary wrote, the replica replayed nothing).
        wait_for("replica lag", lambda: metric(
            nodes[0], 'eltrix_db_replica_lag_seconds{target="replica1"}') > 0)
    finally:
        replica.catch_up()

    # Once it replays again, reads really go to it (positions replayed; the
    # probes see it within a round or two).
    before = [replica_reads(n) for n in nodes]

    def reads_reach_replica():
        for n in nodes:
            alice.node = n
            alice.sync()
            alice.ok("GET", f"/rooms/{room}/messages", dir="b")
        return all(replica_reads(n) > b for n, b in zip(nodes, before))

    wait_for("reads on replica1", reads_reach_replica)


def test_a_replica_that_goes_down_is_skipped_and_used_again(start_node, database, replica):
    (node,), dbname = start_nodes(start_node, database, replica, 1)
    replica.catch_up()
    alice = register(node, "carol")
    room = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    wait_for("a read on replica1", lambda: alice.sync() and replica_reads(node) > 0)
    status, body = health(node)
    assert body["components"]["database_replica1"]["status"] == "ok", body

    replica.stop()
    try:
        # The node keeps serving, from the primary.
        for i in range(5):
            alice.ok("PUT", f"/rooms/{room}/send/m.room.message/d{i}", {"msgtype": "m.text", "body": "x"})
            alice.sync()

        def reported_down():
            status, body = health(node)
            component = body["components"].get("database_replica1", {})
            return status == 200 and component.get("status") == "failed" and body
        body = wait_for("replica1 reported down", reported_down)
        assert body["status"] == "degraded", body
        assert http("GET", node.url("/health/ready"))[0] == 200
        alice.sync()  # routed knowing it is down
        assert metric(node, 'eltrix_db_replica_skipped_total{reason="down",target="replica1"}') > 0
    finally:
        replica.start()

    replica.catch_up()
    wait_for("replica1 healthy again",
             lambda: health(node)[1]["components"]["database_replica1"]["status"] == "ok")
    before = replica_reads(node)
    wait_for("reads on replica1 again", lambda: alice.sync() and replica_reads(node) > before)
    log = node.log()
    assert log.count("replica out of rotation") == 1, log
    assert log.count("replica back in rotation") == 1, log
