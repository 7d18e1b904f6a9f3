"""Cross-node behaviour of a 3-node cluster: the load balancer spreads
requests, a client's syncs may hop between nodes, and what happens on one node
wakes the syncs waiting on another."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.request

import pytest
from cluster import REPO
from conftest import WAKE_BOUND_S, gap
from matrix_http import HttpError, register, timeline_events, wait_until


def sync_waiting(node_url: str) -> float:
    """The node's eltrix_sync_connections gauge (syncs parked right now)."""
    with urllib.request.urlopen(node_url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    m = re.search(r"^eltrix_sync_connections(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class ParkedSync(threading.Thread):
    """A long-poll /sync on one node, in the background; records when it
    returned."""

    def __init__(self, client, base, since, timeout_ms=10000, **query):
        super().__init__(daemon=True)
        self.client, self.base, self.since, self.timeout_ms = client, base, since, timeout_ms
        self.query = query
        self.result = None
        self.error = None
        self.returned_at = None

    def run(self):
        try:
            self.result = self.client.sync(base=self.base, since=self.since,
                                           timeout=str(self.timeout_ms), **self.query)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        self.returned_at = time.monotonic()

    def start_and_wait_parked(self, before: float):
        """Starts the sync and waits until the node counts one more waiter."""
        self.start()
        parked = wait_until(lambda: sync_waiting(self.base) > before, 5.0, 0.02)
        assert parked, f"the sync never parked on {self.base}"


def test_nginx_spreads_requests_over_every_node(cluster):
    log = cluster.nginx_dir / "access.log"
    before = log.stat().st_size
    for _ in range(9):
        with urllib.request.urlopen(cluster.url + "/_matrix/client/versions", timeout=5) as resp:
            assert resp.status == 200
    with open(log, "rb") as f:
        f.seek(before)
        lines = f.read().decode().splitlines()
    used = {line.split()[-2].rsplit(":", 1)[0] for line in lines if "/versions" in line}
    assert used == set(cluster.addresses), lines


def test_syncs_hopping_between_nodes_see_every_event_once_in_order(cluster, pair):
    """No session affinity: each send and each sync of a client goes to the
    next node; the syncs' tokens carry over with no gap and no duplicate."""
    alice, bob, room = pair
    since = bob.sync(timeout="0")["next_batch"]
    sent, seen = [], []
    for i in range(12):
        sent.append(alice.send_text(room, f"hop {i}", base=cluster.nodes[i % 3].url))
        if i % 2:  # two events per sync, some syncs with an empty answer in between
            for hop in (i + 1, i + 2):
                out = bob.sync(base=cluster.nodes[hop % 3].url, since=since, timeout="200")
                since = out["next_batch"]
                seen += [e["event_id"] for e in timeline_events(out, room)
                         if e["type"] == "m.room.message"]
    assert seen == sent, "events missing, duplicated or out of order across nodes"


def test_message_on_one_node_wakes_a_sync_waiting_on_another(cluster, mesh, pair):
    alice, bob, room = pair
    for a, b in ((0, 1), (1, 2), (2, 0)):
        sender, waiter = cluster.nodes[a].url, cluster.nodes[b].url
        since = bob.sync(base=waiter, timeout="0")["next_batch"]
        parked = ParkedSync(bob, waiter, since, timeout_ms=10000)
        parked.start_and_wait_parked(sync_waiting(waiter))
        event_id = alice.send_text(room, f"from node{a} to node{b}", base=sender)
        acked = time.monotonic()
        parked.join(WAKE_BOUND_S + 1.0)
        assert not parked.is_alive() and parked.returned_at - acked < WAKE_BOUND_S, (
            f"a send on node{a} did not wake the sync on node{b} within {WAKE_BOUND_S}s "
            "(cross-node delivery is off or slow; the database recheck would be later)")
        assert parked.error is None, parked.error
        assert event_id in [e["event_id"] for e in timeline_events(parked.result, room)]


@gap("typing")
def test_typing_on_one_node_shows_in_a_sync_on_another(cluster, mesh, pair):
    alice, bob, room = pair
    sender, waiter = cluster.nodes[0].url, cluster.nodes[2].url
    since = bob.sync(base=waiter, timeout="0")["next_batch"]
    parked = ParkedSync(bob, waiter, since, timeout_ms=10000)
    parked.start_and_wait_parked(sync_waiting(waiter))
    alice.ok("PUT", f"/rooms/{room}/typing/{alice.user_id}", {"typing": True, "timeout": 20000},
             base=sender)
    acked = time.monotonic()
    parked.join(WAKE_BOUND_S + 1.0)
    assert not parked.is_alive() and parked.returned_at - acked < WAKE_BOUND_S, \
        "typing on node0 did not wake the sync on node2 in time"
    ephemeral = parked.result["rooms"]["join"][room].get("ephemeral", {}).get("events", [])
    typing = [e for e in ephemeral if e["type"] == "m.typing"]
    assert typing and alice.user_id in typing[-1]["content"]["user_ids"], ephemeral


def test_account_data_on_one_node_wakes_a_sync_on_another(cluster, mesh):
    alice = register(cluster.url)
    sender, waiter = cluster.nodes[1].url, cluster.nodes[0].url
    since = alice.sync(base=waiter, timeout="0")["next_batch"]
    parked = ParkedSync(alice, waiter, since, timeout_ms=10000)
    parked.start_and_wait_parked(sync_waiting(waiter))
    alice.ok("PUT", f"/user/{alice.user_id}/account_data/org.eltrix.test", {"n": 1}, base=sender)
    acked = time.monotonic()
    parked.join(WAKE_BOUND_S + 1.0)
    assert not parked.is_alive() and parked.returned_at - acked < WAKE_BOUND_S, \
        "account data set on node1 did not wake the sync on node0 in time"
    types = [e["type"] for e in parked.result.get("account_data", {}).get("events", [])]
    assert "org.eltrix.test" in types


def test_presence_set_via_one_node_shows_from_another(cluster):
    carol = register(cluster.url)
    dave = register(cluster.url)
    room = carol.create_room()
    carol.invite(room, dave.user_id)
    dave.join(room)
    carol.sync(base=cluster.nodes[0].url, timeout="0", set_presence="online")

    def online_from_node2():
        try:
            out = dave.ok("GET", f"/presence/{carol.user_id}/status", base=cluster.nodes[2].url)
        except HttpError:
            return None
        return out.get("presence") == "online"

    assert wait_until(online_from_node2, WAKE_BOUND_S), "carol is online via node0 but not from node2"


@pytest.fixture(autouse=True)
def _nodes_alive(cluster):
    yield
    dead = [n.url for n in cluster.nodes if not n.killed and not n.alive()]
    assert not dead, "node(s) died during the test: " + ", ".join(dead)


def discovery_peers(node_url: str) -> float | None:
    with urllib.request.urlopen(node_url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    m = re.search(r"^eltrix_cluster_discovery_peers(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_the_strategy_finds_every_node(cluster):
    for node in cluster.nodes:
        if cluster.strategy == "dns":
            found = wait_until(lambda n=node: discovery_peers(n.url) == len(cluster.nodes), 5)
            assert found, f"node{node.index} sees {discovery_peers(node.url)} peers in DNS, not 3"
        else:
            with urllib.request.urlopen(node.url + "/health", timeout=5) as resp:
                component = json.loads(resp.read())["components"]["cluster"]
            assert component["status"] == "ok", component


def test_a_dns_change_reaches_every_node_without_restart(cluster):
    """dns strategy: dropping an address from the name shrinks every node's
    peer list, and putting it back restores it (dnsmasq answers at once)."""
    dnsmasq_dir = os.environ.get("ELTRIX_CLUSTER_DNSMASQ_DIR")
    if cluster.strategy != "dns" or not dnsmasq_dir:
        pytest.skip("dns strategy runs only (run_multinode.sh dns)")
    helper = str(REPO / "scripts" / "lib" / "dnsmasq.sh")
    try:
        subprocess.run([helper, "set", dnsmasq_dir, cluster.dns_name, *cluster.addresses[:2]],
                       check=True, capture_output=True)
        for node in cluster.nodes:
            assert wait_until(lambda n=node: discovery_peers(n.url) == 2, 10), \
                f"node{node.index} still sees {discovery_peers(node.url)} peers"
    finally:
        subprocess.run([helper, "set", dnsmasq_dir, cluster.dns_name, *cluster.addresses],
                       check=True, capture_output=True)
    for node in cluster.nodes:
        assert wait_until(lambda n=node: discovery_peers(n.url) == 3, 10)


def test_every_node_runs_the_runs_cache_and_strategy(cluster):
    """The run really is what it says (e.g. the dns run on Redis)."""
    for node in cluster.nodes:
        with urllib.request.urlopen(node.url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
        plugins = set(re.findall(r'^eltrix_plugin_info\{[^}]*kind="([^"]+)",name="([^"]+)"', text, re.M))
        assert ("cache", cluster.cache) in plugins, plugins
        assert ("cluster-strategy", cluster.strategy) in plugins, plugins
