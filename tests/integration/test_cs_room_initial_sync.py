"""Client-Server API, GET /rooms/{roomId}/initialSync (spec v1.12, section
"Room initial sync", deprecated but what Element calls when a room link is
opened): members get their view, anyone signed in may peek into a
world_readable room, others get 403 M_FORBIDDEN. Every event goes through the
one visibility check. Real binary, real PostgreSQL."""

from cs_client import register


def send(client, room_id, body, txn):
    return client.ok("PUT", f"/rooms/{room_id}/send/m.room.message/{txn}",
                     {"msgtype": "m.text", "body": body})["event_id"]


def test_member_gets_the_room(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {"preset": "private_chat", "name": "Den"})["room_id"]
    ids = [send(alice, room_id, f"m{i}", f"t{i}") for i in range(3)]
    alice.ok("PUT", f"/user/{alice.user_id}/rooms/{room_id}/tags/u.work", {"order": 0.5})
    out = alice.ok("GET", f"/rooms/{room_id}/initialSync", limit=2)
    assert out["room_id"] == room_id
    assert out["membership"] == "join"
    assert out["visibility"] == "private"
    assert out["presence"] == [] and out["receipts"] == []
    # The newest events, oldest first, with tokens /messages accepts.
    assert [e["event_id"] for e in out["messages"]["chunk"]] == ids[1:]
    state_types = {e["type"] for e in out["state"]}
    assert {"m.room.create", "m.room.member", "m.room.name", "m.room.power_levels"} <= state_types
    assert any(d["type"] == "m.tag" and "u.work" in d["content"]["tags"]
               for d in out["account_data"])
    older = alice.ok("GET", f"/rooms/{room_id}/messages", dir="b",
                     **{"from": out["messages"]["start"], "limit": 1})
    assert [e["event_id"] for e in older["chunk"]] == ids[:1]


def test_world_readable_rooms_can_be_peeked(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {
        "preset": "public_chat", "initial_state": [
            {"type": "m.room.history_visibility", "state_key": "",
             "content": {"history_visibility": "world_readable"}}]})["room_id"]
    event_id = send(alice, room_id, "hello world", "t1")
    out = bob.ok("GET", f"/rooms/{room_id}/initialSync")
    assert "membership" not in out  # bob has none
    assert event_id in [e["event_id"] for e in out["messages"]["chunk"]]
    assert any(e["type"] == "m.room.create" for e in out["state"])
    # Peeking joins nothing.
    assert room_id not in bob.ok("GET", "/joined_rooms")["joined_rooms"]


def test_others_are_forbidden(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    # "shared" public room: bob is not a member, so no peeking.
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    send(alice, room_id, "members only", "t1")
    bob.error(403, "M_FORBIDDEN", "GET", f"/rooms/{room_id}/initialSync")
    # An unknown room says the same, so nothing leaks.
    bob.error(403, "M_FORBIDDEN", "GET", "/rooms/!nope:e2e.test/initialSync")


def test_a_former_member_sees_the_room_until_they_left(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    seen = send(alice, room_id, "while bob was here", "t1")
    bob.ok("POST", f"/rooms/{room_id}/leave", {})
    unseen = send(alice, room_id, "after bob left", "t2")
    alice.ok("PUT", f"/rooms/{room_id}/state/m.room.topic", {"topic": "secret plans"})
    out = bob.ok("GET", f"/rooms/{room_id}/initialSync")
    assert out["membership"] == "leave"
    ids = [e["event_id"] for e in out["messages"]["chunk"]]
    assert seen in ids and unseen not in ids
    assert not any(e["type"] == "m.room.topic" for e in out["state"])
