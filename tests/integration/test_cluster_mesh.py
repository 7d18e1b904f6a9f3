"""The cluster mesh end to end: several real nodes on loopback aliases
(127.0.0.2, 127.0.0.3, ...) sharing one PostgreSQL, peers from the static
strategy. Wake-ups, typing, presence and cache invalidations cross nodes; a
node with the wrong secret is refused yet its syncs still get events through
the database recheck."""

import re
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import Node, base_env, free_port, http, http_json
from cs_client import Client, register

SECRET = "cluster-secret-" + "k" * 32


class ClusterNode(Node):
    """A Node serving on `host` instead of 127.0.0.1."""

    def __init__(self, binary, env, tmp_path, host, port, args):
        super().__init__(binary, env, tmp_path, port, args=args)
        self.host = host
        self.base = f"http://{host}:{port}"

    def metric(self, name, **labels):
        """The value of one series in /metrics (0 when absent)."""
        status, _, body = http("GET", self.url("/metrics"))
        assert status == 200
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in body.decode().splitlines():
            m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
            if not m or m.group(1) != name:
                continue
            got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
            if got == want:
                return float(m.group(3))
        return 0.0

    def cluster_health(self):
        status, body = http_json("GET", self.url("/health"))
        return body["components"]["cluster"] if status in (200, 503) else None

    def wait_cluster_health(self, status, detail="", timeout=20):
        """The cluster component once it reports `status` with `detail` in its
        detail (checks run every 2 s)."""
        deadline = time.monotonic() + timeout
        health = None
        while time.monotonic() < deadline:
            health = self.cluster_health()
            if health and health["status"] == status and detail in health["detail"]:
                return health
            time.sleep(0.2)
        raise AssertionError(f"cluster health stayed {health}, expected {status}")

    def wait_metric(self, name, predicate, timeout=20, **labels):
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.metric(name, **labels)
            if predicate(value):
                return value
            time.sleep(0.1)
        raise AssertionError(f"{name}{labels} stayed {value}:\n{self.log()}")


@pytest.fixture
def cluster(binary, database, tmp_path):
    """cluster(host, peers=[hosts], **env) -> a ready ClusterNode. Every node
    of one test shares the cluster port (each on its own address)."""
    nodes = []
    cluster_port = free_port()

    def start(host, peers, wait=True, **overrides):
        port = free_port()
        settings = {
            "ELTRIX_BIND_ADDRESS": host,
            "ELTRIX_REGISTRATION_ENABLED": "true",
            "ELTRIX_RATELIMIT_ENABLED": "false",
            "ELTRIX_CLUSTER_ENABLED": "true",
            "ELTRIX_CLUSTER_STRATEGY": "static",
            "ELTRIX_CLUSTER_PORT": cluster_port,
            "ELTRIX_CLUSTER_SECRET": SECRET,
            "ELTRIX_LOG_LEVEL": "debug",
        }
        settings.update(overrides)
        env = base_env(database, tmp_path, port, **settings)
        config = tmp_path / f"eltrix-{host}-{port}.conf"
        config.write_text("cluster.peers = " + ",".join(peers) + "\n")
        node = ClusterNode(env=env, binary=binary, tmp_path=tmp_path, host=host, port=port,
                           args=["--config", str(config)])
        nodes.append(node)
        if wait:
            node.wait_live()
            node.wait_ready()
        return node

    yield start
    for node in nodes:
        node.stop()


HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


def on(node, client):
    """The same session (token) used through another node."""
    return Client(node, client.user_id, client.token, client.device_id)


def send(client, room_id, body):
    txn = f"t{time.monotonic_ns()}"
    return client.ok("PUT", f"/rooms/{urllib.parse.quote(room_id)}/send/m.room.message/{txn}",
                     {"msgtype": "m.text", "body": body})["event_id"]


def timeline_ids(sync, room_id):
    room = sync.get("rooms", {}).get("join", {}).get(room_id, {})
    return [e["event_id"] for e in room.get("timeline", {}).get("events", [])]


class ParkedSync(threading.Thread):
    """A long-poll started now; .result and .elapsed once it answered."""

    def __init__(self, client, since, timeout_ms=20000, **query):
        super().__init__(daemon=True)
        self.client, self.since, self.timeout_ms, self.query = client, since, timeout_ms, query
        self.result = None
        self.answered_at = None

    def run(self):
        self.result = self.client.sync(since=self.since, timeout=self.timeout_ms, **self.query)
        self.answered_at = time.monotonic()


def park(client, since, **kwargs):
    """Starts a long-poll and waits until the node counts it as waiting."""
    before = client.node.metric("eltrix_sync_connections")
    waiter = ParkedSync(client, since, **kwargs)
    waiter.start()
    client.node.wait_metric("eltrix_sync_connections", lambda v: v > before, timeout=10)
    return waiter


def test_a_message_on_one_node_wakes_a_sync_waiting_on_another(cluster):
    # A long recheck interval: only the mesh can answer promptly.
    a = cluster(HOSTS[0], HOSTS[:2], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    b = cluster(HOSTS[1], HOSTS[:2], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    for node in (a, b):
        # Each lists itself too: the handshake filters it out.
        node.wait_metric("eltrix_cluster_peers_connected", lambda v: v == 1)
        assert node.metric("eltrix_cluster_peers") == 1
        node.wait_cluster_health("ok", "1 peers seen, 1 connected")

    alice = register(a, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    alice_b = on(b, alice)
    since = alice_b.sync()["next_batch"]

    for i in range(3):
        waiter = park(alice_b, since)
        sent_at = time.monotonic()
        event_id = send(alice, room_id, f"hello {i}")
        waiter.join(15)
        assert waiter.result is not None
        assert event_id in timeline_ids(waiter.result, room_id)
        # Well under the recheck interval (60 s): the wake-up crossed the mesh.
        assert waiter.answered_at - sent_at < 2.0
        since = waiter.result["next_batch"]

    assert a.metric("eltrix_cluster_messages_sent_total", type="wake") >= 3
    assert b.metric("eltrix_cluster_messages_received_total", type="wake") >= 3
    assert b.metric("eltrix_sync_recheck_wakeups_total") == 0


def test_consecutive_syncs_on_different_nodes_have_no_gaps_or_duplicates(cluster):
    a = cluster(HOSTS[0], HOSTS[:2])
    b = cluster(HOSTS[1], HOSTS[:2])
    alice = register(a, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    clients = [alice, on(b, alice)]
    since = clients[1].sync()["next_batch"]
    sent, seen = [], []
    for i in range(6):
        sent.append(send(clients[i % 2], room_id, f"m{i}"))
        result = clients[(i + 1) % 2].sync(since=since, timeout=5000)
        seen += timeline_ids(result, room_id)
        since = result["next_batch"]
    assert seen == sent


def test_a_node_with_the_wrong_secret_is_refused_but_its_syncs_still_get_events(cluster):
    a = cluster(HOSTS[0], HOSTS[:2])
    c = cluster(HOSTS[1], HOSTS[:2], ELTRIX_CLUSTER_SECRET="another-" + "z" * 40,
                ELTRIX_SYNC_RECHECK_INTERVAL=1000)
    # Each side refuses the other's proof.
    a.wait_metric("eltrix_cluster_auth_failures_total", lambda v: v >= 1, reason="bad_proof")
    c.wait_metric("eltrix_cluster_auth_failures_total", lambda v: v >= 1, reason="bad_proof")
    assert a.metric("eltrix_cluster_peers_connected") == 0
    assert c.metric("eltrix_cluster_peers_connected") == 0
    c.wait_cluster_health("ok", "1 peers seen, 0 connected")
    assert "cluster-secret" not in a.log() and "another-" not in c.log()

    alice = register(a, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    alice_c = on(c, alice)
    since = alice_c.sync()["next_batch"]
    waiter = park(alice_c, since)
    event_id = send(alice, room_id, "through the database")
    waiter.join(15)
    assert waiter.result is not None, c.log()[-3000:]
    assert event_id in timeline_ids(waiter.result, room_id)
    assert c.metric("eltrix_sync_recheck_wakeups_total") >= 1


def test_a_peer_that_starts_later_is_picked_up(cluster):
    a = cluster(HOSTS[0], HOSTS[:3], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    b = cluster(HOSTS[1], HOSTS[:3], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    a.wait_metric("eltrix_cluster_peers_connected", lambda v: v == 1)
    assert a.metric("eltrix_cluster_peers") == 2  # the third is listed, not up
    a.wait_cluster_health("ok", "2 peers seen, 1 connected")

    c = cluster(HOSTS[2], HOSTS[:3], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    for node in (a, b, c):
        node.wait_metric("eltrix_cluster_peers_connected", lambda v: v == 2)

    alice = register(a, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    alice_c = on(c, alice)
    waiter = park(alice_c, alice_c.sync()["next_batch"])
    sent_at = time.monotonic()
    event_id = send(on(b, alice), room_id, "from b")
    waiter.join(15)
    assert event_id in timeline_ids(waiter.result, room_id)
    assert waiter.answered_at - sent_at < 2.0


def typing_users(sync, room_id):
    room = sync.get("rooms", {}).get("join", {}).get(room_id, {})
    for event in room.get("ephemeral", {}).get("events", []):
        if event["type"] == "m.typing":
            return event["content"]["user_ids"]
    return None


def test_typing_on_one_node_shows_in_a_sync_on_another(cluster):
    a = cluster(HOSTS[0], HOSTS[:2], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    b = cluster(HOSTS[1], HOSTS[:2], ELTRIX_SYNC_RECHECK_INTERVAL=60000)
    for node in (a, b):
        node.wait_metric("eltrix_cluster_peers_connected", lambda v: v == 1)
    alice = register(a, "alice")
    bob = register(a, "bob")
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/join/{urllib.parse.quote(room_id)}", {})
    bob_b = on(b, bob)
    since = bob_b.sync()["next_batch"]

    waiter = park(bob_b, since)
    alice.ok("PUT", f"/rooms/{urllib.parse.quote(room_id)}/typing/{alice.user_id}",
             {"typing": True, "timeout": 30000})
    waiter.join(15)
    assert typing_users(waiter.result, room_id) == [alice.user_id]

    # Stopping crosses too, and a token from node B is understood by node A.
    waiter = park(on(a, bob), waiter.result["next_batch"])
    alice.ok("PUT", f"/rooms/{urllib.parse.quote(room_id)}/typing/{alice.user_id}",
             {"typing": False})
    waiter.join(15)
    result = waiter.result
    # The wake-up may have been for something else first (Bob's presence):
    # the typing change follows in the next sync.
    if typing_users(result, room_id) is None:
        result = on(a, bob).sync(since=result["next_batch"], timeout=5000)
    assert typing_users(result, room_id) == []
    assert b.metric("eltrix_cluster_messages_received_total", type="typing") >= 2


def test_with_a_local_cache_a_logout_on_one_node_rejects_the_token_on_another(cluster):
    a = cluster(HOSTS[0], HOSTS[:2], ELTRIX_CACHE_BACKEND="local")
    b = cluster(HOSTS[1], HOSTS[:2], ELTRIX_CACHE_BACKEND="local")
    for node in (a, b):
        node.wait_metric("eltrix_cluster_peers_connected", lambda v: v == 1)
    alice = register(a, "alice")
    alice_b = on(b, alice)
    # The token is now in node B's own cache.
    assert alice_b.ok("GET", "/account/whoami")["user_id"] == alice.user_id
    assert alice_b.ok("GET", "/account/whoami")["user_id"] == alice.user_id
    alice.ok("POST", "/logout", {})
    deadline = time.monotonic() + 1.0
    status = None
    while time.monotonic() < deadline:
        status, _ = alice_b.call("GET", "/account/whoami")
        if status == 401:
            break
        time.sleep(0.02)
    assert status == 401  # within a second, not the cache's 30 s
    assert b.metric("eltrix_cluster_messages_received_total", type="cache_invalidation") >= 1


def presence_of(client, user_id):
    return client.ok("GET", f"/presence/{urllib.parse.quote(user_id)}/status")["presence"]


def test_presence_crosses_nodes_and_a_dead_nodes_users_go_offline(cluster):
    # Heartbeats every second, dead after 2 s: offline within
    # 2 x node_timeout + heartbeat_interval = 5 s (docs/operator-guide.md).
    fast = {"ELTRIX_CLUSTER_HEARTBEAT_INTERVAL": 1, "ELTRIX_CLUSTER_NODE_TIMEOUT": 2}
    a = cluster(HOSTS[0], HOSTS[:2], **fast)
    b = cluster(HOSTS[1], HOSTS[:2], **fast)
    for node in (a, b):
        node.wait_metric("eltrix_cluster_peers_connected", lambda v: v == 1)
        node.wait_metric("eltrix_cluster_nodes_alive", lambda v: v == 2)
    alice = register(a, "alice")
    bob = register(b, "bob")
    carol = register(a, "carol")
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    for member in (bob, carol):
        member.ok("POST", f"/join/{urllib.parse.quote(room_id)}", {})

    # Bob waits on B; Alice comes online through A: his sync wakes.
    since = bob.sync()["next_batch"]
    waiter = park(bob, since)
    alice.sync(set_presence="online")
    waiter.join(15)
    events = waiter.result.get("presence", {}).get("events", [])
    assert any(e["sender"] == alice.user_id and e["content"]["presence"] == "online"
               for e in events), waiter.result
    assert presence_of(bob, alice.user_id) == "online"

    # Carol too went online through A, but her client moves to B (as a load
    # balancer would do once A is gone): B takes her presence over.
    carol.sync(set_presence="online")
    carol_b = on(b, carol)

    a.proc.kill()  # kill -9
    killed_at = time.monotonic()
    a.proc.wait()
    # Carol keeps syncing through B, as clients do.
    stop = threading.Event()

    def keep_syncing():
        token = carol_b.sync()["next_batch"]
        while not stop.is_set():
            token = carol_b.sync(since=token, timeout=500)["next_batch"]

    syncer = threading.Thread(target=keep_syncing, daemon=True)
    syncer.start()
    deadline = killed_at + 10
    while time.monotonic() < deadline and presence_of(bob, alice.user_id) != "offline":
        time.sleep(0.2)
    went_offline_after = time.monotonic() - killed_at
    assert presence_of(bob, alice.user_id) == "offline"
    assert went_offline_after < 8, went_offline_after
    # Only Alice: Carol was taken over by B before the sweep.
    assert b.metric("eltrix_cluster_dead_node_users_offline_total") == 1
    assert b.metric("eltrix_cluster_nodes_alive") == 1
    # Carol never went offline: she was still syncing through B.
    time.sleep(1)
    assert presence_of(bob, carol.user_id) == "online"
    stop.set()
    syncer.join(5)


def test_a_cluster_port_in_use_is_a_clear_error_and_a_clean_exit(binary, database, tmp_path):
    # CI once saw this node die with SIGSEGV: the schema thread's health check
    # reached the client API after the failed start had destroyed it.
    cluster_port = free_port()
    with socket.socket() as taken:
        taken.bind((HOSTS[0], cluster_port))
        taken.listen(1)
        port = free_port()
        env = base_env(database, tmp_path, port, ELTRIX_BIND_ADDRESS=HOSTS[0],
                       ELTRIX_CLUSTER_ENABLED="true", ELTRIX_CLUSTER_STRATEGY="static",
                       ELTRIX_CLUSTER_PORT=cluster_port, ELTRIX_CLUSTER_SECRET=SECRET)
        config = tmp_path / "eltrix.conf"
        config.write_text(f"cluster.peers = {HOSTS[0]},{HOSTS[1]}\n")
        node = ClusterNode(env=env, binary=binary, tmp_path=tmp_path, host=HOSTS[0], port=port,
                           args=["--config", str(config)])
        try:
            assert node.proc.wait(timeout=20) == 1, node.log()
        finally:
            node.stop()
    log = node.log()
    assert "cannot start the cluster mesh" in log
    assert f"{HOSTS[0]}:{cluster_port}" in log and "in use" in log, log
