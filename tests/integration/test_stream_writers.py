"""Concurrent stream writers without holes (docs/decisions.md D31).

Writers in many rooms send at once through two nodes on one database while
readers follow the stream with /sync, alternating between the nodes. Every
reader must see every event exactly once, each batch holding only positions
in (previous token, this token], in position order within a room, and nothing
may be missing at the end: an event that commits after a reader's token has
passed its position would be skipped for good, and would show up here as a
missing event.

Concurrency alone makes such late commits likely but not certain, so a second
test makes one for sure: a transaction claims a position the way the server
does and stays open while a later write commits and a reader syncs past it;
after it commits, the reader's next sync must still bring its row.
"""

import json
import subprocess
import threading
import time

import pytest

from cs_client import Client, q, register

ROOMS = 8
MESSAGES_PER_ROOM = 30
READERS = 3
# Big enough that no batch is "limited": a limited timeline would drop events
# on purpose and hide the holes this test looks for.
FILTER = json.dumps({"room": {"timeline": {"limit": 5000}}})


def psql_value(url, sql):
    out = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    return out.strip()


def position_of(token):
    """The stream part of a sync token (s<stream>_<typing>)."""
    assert token.startswith("s"), token
    return int(token[1:].split("_")[0])


@pytest.fixture
def two_nodes(start_node, database):
    settings = {"ELTRIX_REGISTRATION_ENABLED": "true", "ELTRIX_RATELIMIT_ENABLED": "false"}
    a = start_node(**settings)
    a.wait_ready()
    b = start_node(**settings)
    b.wait_ready()
    return a, b


def on(node, client):
    return Client(node, client.user_id, client.token, client.device_id)


class Reader(threading.Thread):
    """Follows /sync on both nodes in turn until told to stop and caught up."""

    def __init__(self, clients, since):
        super().__init__(daemon=True)
        self.clients, self.since = clients, since
        self.batches = []  # (from position, to position, {room: [event_id, ...]})
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            i = 0
            quiet = 0
            while quiet < 2:
                client = self.clients[i % len(self.clients)]
                i += 1
                out = client.sync(since=self.since, timeout=200, filter=FILTER)
                got = {}
                for room_id, room in out.get("rooms", {}).get("join", {}).items():
                    timeline = room.get("timeline", {})
                    assert not timeline.get("limited"), f"limited timeline in {room_id}"
                    ids = [e["event_id"] for e in timeline.get("events", [])
                           if e.get("type") == "m.room.message"]
                    if ids:
                        got[room_id] = ids
                self.batches.append((position_of(self.since), position_of(out["next_batch"]), got))
                self.since = out["next_batch"]
                # Once the writers are done, two empty syncs in a row: caught up.
                quiet = quiet + 1 if self.stop.is_set() and not got else 0
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def check_reader(reader, sent, positions):
    seen = {}
    for frm, to, got in reader.batches:
        assert frm <= to, "a sync token went backwards"
        for room_id, ids in got.items():
            in_room = [positions[e] for e in ids]
            assert in_room == sorted(in_room), f"{room_id}: events out of position order"
            for event_id in ids:
                assert frm < positions[event_id] <= to, \
                    f"{event_id} at {positions[event_id]} came in the batch ({frm}, {to}]"
                assert event_id not in seen, f"{event_id} seen twice"
                seen[event_id] = room_id
    missing = set(sent) - set(seen)
    assert not missing, f"{len(missing)} of {len(sent)} events never reached the reader (holes)"


def test_writers_on_two_nodes_and_readers_following_sync_see_everything_once(two_nodes, database):
    a, b = two_nodes
    owner = register(a, "owner")
    readers = [register(a, f"reader{i}") for i in range(READERS)]
    writers = [register(a, f"writer{i}") for i in range(ROOMS)]
    rooms = []
    for w in writers:
        room_id = w.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        rooms.append(room_id)
        for r in readers:
            r.ok("POST", f"/join/{q(room_id)}", {})
    del owner
    followers = []
    for r in readers:
        since = r.sync(filter=FILTER)["next_batch"]
        followers.append(Reader([r, on(b, r)], since))
    for f in followers:
        f.start()

    sent = {}
    lock = threading.Lock()
    failures = []

    def write(writer, room_id):
        try:
            nodes = [writer, on(b, writer)]
            for i in range(MESSAGES_PER_ROOM):
                out = nodes[i % 2].ok("PUT", f"/rooms/{q(room_id)}/send/m.room.message/t{i}",
                                      {"msgtype": "m.text", "body": f"message {i}"})
                with lock:
                    sent[out["event_id"]] = room_id
        except Exception as e:  # noqa: BLE001
            failures.append(e)

    threads = [threading.Thread(target=write, args=(w, r)) for w, r in zip(writers, rooms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    for f in followers:
        f.stop.set()
    for f in followers:
        f.join(timeout=120)
        assert not f.is_alive(), "a reader never caught up"
        assert f.error is None, f.error

    ids = ",".join("'" + e.replace("'", "''") + "'" for e in sent)
    rows = psql_value(database, f"SELECT event_id || ' ' || stream_ordering FROM events "
                                f"WHERE event_id IN ({ids})")
    positions = {line.split()[0]: int(line.split()[1]) for line in rows.splitlines()}
    assert len(positions) == ROOMS * MESSAGES_PER_ROOM
    for f in followers:
        check_reader(f, sent, positions)


def test_a_position_that_commits_late_is_not_skipped(node, database):
    reader = register(node, "reader")
    writer = register(node, "writer")
    room_id = writer.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    reader.ok("POST", f"/join/{q(room_id)}", {})
    since = reader.sync()["next_batch"]

    # A write that claims its position first and commits last: account data
    # for the reader, stamped as storage/stream.cpp stamps rows.
    late = subprocess.Popen(["psql", database, "-qAtX", "-v", "ON_ERROR_STOP=1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    late.stdin.write(
        "BEGIN;\n"
        "INSERT INTO account_data (user_id, room_id, type, content, stream_position) "
        f"VALUES ('{reader.user_id}', '', 'm.test.late', '{{\"late\":true}}', "
        "pg_current_xact_id()::text::bigint * 65536);\n"
        "SELECT 'claimed';\n")
    late.stdin.flush()
    assert late.stdout.readline().strip() == "claimed"
    try:
        # A later write commits while the early one is still open (its
        # acknowledgement waits a bounded time for the older transaction).
        event_id = writer.ok("PUT", f"/rooms/{q(room_id)}/send/m.room.message/late1",
                             {"msgtype": "m.text", "body": "after"})["event_id"]
        during = reader.sync(since=since)
        since_during = during["next_batch"]
    finally:
        late.stdin.write("COMMIT;\n")
        late.stdin.close()
        late.wait(timeout=30)

    deadline = time.monotonic() + 10
    types, messages = set(), set()
    token = since_during
    while time.monotonic() < deadline and ("m.test.late" not in types or event_id not in messages):
        out = reader.sync(since=token, timeout=500)
        types |= {e["type"] for e in out.get("account_data", {}).get("events", [])}
        timeline = out.get("rooms", {}).get("join", {}).get(room_id, {}).get("timeline", {})
        messages |= {e["event_id"] for e in timeline.get("events", [])}
        token = out["next_batch"]
    late_position = int(psql_value(
        database, "SELECT stream_position FROM account_data WHERE type = 'm.test.late'"))
    message_position = int(psql_value(
        database, f"SELECT stream_ordering FROM events WHERE event_id = '{event_id}'"))
    assert late_position < message_position, "the open write should hold the older position"
    # While the older write was open, the reader's bound stayed below it (so
    # the later message waited too); a bound at the newest committed position
    # would have passed it, and the next sync would have skipped it for good.
    assert position_of(since_during) < late_position
    during_ids = {e["event_id"] for e in during.get("rooms", {}).get("join", {}).get(
        room_id, {}).get("timeline", {}).get("events", [])}
    assert event_id not in during_ids
    assert "m.test.late" in types, "the late commit was skipped: a hole"
    assert event_id in messages
