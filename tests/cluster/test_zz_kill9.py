"""kill -9 one node in the middle of traffic (this file runs last: the node
stays dead). Clients going through nginx carry on, every send that was
acknowledged is in the room's history exactly once, and the users who were
connected to the dead node go offline."""

from __future__ import annotations

import os
import secrets
import threading
import time

import pytest
from conftest import gap
from matrix_http import HttpError, register, timeline_events, wait_until

VICTIM = 1  # node index killed (127.0.0.3)
MESSAGES = 40
KILL_AFTER = 12  # acknowledged sends before the kill
# How long a dead node's users may still look online. The mesh declares a
# peer dead after cluster.node_timeout without heartbeats (3 s in
# tests/cluster/cluster.py, heartbeats every 1 s) and marks its users offline;
# see docs/scaling.md ("When a node dies"): within 2 x node_timeout +
# heartbeat_interval (7 s here), plus a margin for a loaded machine.
PRESENCE_BOUND_S = float(os.environ.get("ELTRIX_CLUSTER_PRESENCE_BOUND", "10"))


class Writer(threading.Thread):
    """Sends MESSAGES messages through nginx. A send that fails (502, reset,
    timeout) is retried with the same transaction ID, as clients do, so a
    retry of a send the dead node had committed must not duplicate it."""

    def __init__(self, client, room):
        super().__init__(daemon=True)
        self.client, self.room = client, room
        self.acked: list[tuple[str, str]] = []  # (event_id, body)
        self.failures = 0  # attempts that did not get a 200
        self.unacked: list[str] = []
        self.kill_now = threading.Event()

    def run(self):
        for i in range(MESSAGES):
            body, txn = f"kill9 {i}", secrets.token_hex(8)
            for _attempt in range(6):
                try:
                    event_id = self.client.send_text(self.room, body, txn=txn)
                except (HttpError, OSError):
                    self.failures += 1
                    time.sleep(0.2)
                    continue
                self.acked.append((event_id, body))
                break
            else:
                self.unacked.append(body)
            if len(self.acked) == KILL_AFTER:
                self.kill_now.set()
            time.sleep(0.03)
        self.kill_now.set()


class Reader(threading.Thread):
    """Syncs through nginx until told to stop, collecting message event IDs."""

    def __init__(self, client, room, since):
        super().__init__(daemon=True)
        self.client, self.room, self.since = client, room, since
        self.seen: list[str] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                out = self.client.sync(since=self.since, timeout="1000")
            except (HttpError, OSError):
                self.failures += 1
                time.sleep(0.2)
                continue
            self.since = out["next_batch"]
            self.seen += [e["event_id"] for e in timeline_events(out, self.room)
                          if e["type"] == "m.room.message"]


@pytest.fixture(scope="module")
def killed(cluster):
    victim = cluster.nodes[VICTIM]
    alice = register(cluster.url)
    bob = register(cluster.url)
    room = alice.create_room()
    alice.invite(room, bob.user_id)
    bob.join(room)
    # carol is connected only to the victim: online there, parked in a sync.
    carol = register(victim.url)
    alice.invite(room, carol.user_id)
    carol.join(room, base=victim.url)
    first = carol.sync(base=victim.url, timeout="0", set_presence="online")
    survivor = cluster.nodes[(VICTIM + 1) % 3].url
    carol_before = bob.ok("GET", f"/presence/{carol.user_id}/status", base=survivor)["presence"]
    carol_sync = threading.Thread(target=lambda: _quietly(carol.sync, base=victim.url,
                                                          since=first["next_batch"], timeout="30000"),
                                  daemon=True)
    carol_sync.start()

    reader = Reader(bob, room, bob.sync(timeout="0")["next_batch"])
    writer = Writer(alice, room)
    reader.start()
    writer.start()
    assert writer.kill_now.wait(60), "the writer never got going"
    victim.kill9()
    killed_at = time.monotonic()
    writer.join(120)
    assert not writer.is_alive(), "the writer hung after the kill"
    # Let the reader catch up with the last sends.
    wait_until(lambda: set(reader.seen) >= {e for e, _ in writer.acked}, 15)
    reader.stop.set()
    reader.join(20)
    return {"alice": alice, "bob": bob, "carol": carol, "room": room, "writer": writer,
            "reader": reader, "killed_at": killed_at, "victim": victim,
            "carol_before": carol_before}


def _quietly(fn, **kwargs):
    try:
        fn(**kwargs)
    except (HttpError, OSError):
        pass


def test_clients_carry_on_through_the_other_nodes(killed, cluster):
    writer, reader = killed["writer"], killed["reader"]
    print(f"after kill -9 of node{VICTIM}: {writer.failures} send attempts and "
          f"{reader.failures} syncs failed and were retried")
    assert killed["victim"].alive() is False
    # nginx took the dead node out of the rotation (max_fails=1) rather than
    # failing requests: the retried ones went to the others.
    errors = (cluster.nginx_dir / "error.log").read_text()
    assert f"upstream: \"http://{killed['victim'].address}:" in errors
    assert "upstream server temporarily disabled" in errors
    assert not writer.unacked, f"sends never acknowledged after retries: {writer.unacked}"
    assert len(writer.acked) == MESSAGES
    # The survivors answer directly too.
    for node in cluster.nodes:
        if node.index != VICTIM:
            assert node.ready(), f"node{node.index} is not ready after the kill"


def test_no_acknowledged_event_is_lost_or_duplicated(killed):
    writer, reader = killed["writer"], killed["reader"]
    history = killed["bob"].messages(killed["room"])
    ids = [e["event_id"] for e in history]
    bodies = [e["content"]["body"] for e in history]
    acked_ids = [e for e, _ in writer.acked]
    missing = [b for e, b in writer.acked if e not in ids]
    assert not missing, f"acknowledged sends missing from /messages: {missing}"
    assert len(set(bodies)) == len(bodies), "a retried send was stored twice"
    assert [i for i in ids if i in set(acked_ids)] == acked_ids, "history out of send order"
    # And the syncing client saw each of them once, in order, across the kill.
    assert [i for i in reader.seen if i in set(acked_ids)] == acked_ids


@gap("presence-on-death")
def test_the_dead_nodes_users_go_offline(killed, cluster, mesh):
    carol, bob = killed["carol"], killed["bob"]
    survivor = cluster.nodes[(VICTIM + 1) % 3].url
    assert killed["carol_before"] == "online", "carol should have been online before the kill"

    def presence():
        return bob.ok("GET", f"/presence/{carol.user_id}/status", base=survivor).get("presence")

    remaining = PRESENCE_BOUND_S - (time.monotonic() - killed["killed_at"])
    went = wait_until(lambda: presence() == "offline", max(remaining, 0), 0.25)
    assert went, (f"{carol.user_id} (connected only to the killed node) still "
                  f"'{presence()}' {PRESENCE_BOUND_S:.0f}s after the kill")
