"""Client-Server API, GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event
(spec v1.12, "Jumping to a date"): the nearest event at or after (dir=f) or
at or before (dir=b) a time that the user may see. Real binary, real
PostgreSQL."""

import time

from cs_client import register

V1 = "/_matrix/client/v1"


def send(client, room_id, body, txn):
    return client.ok("PUT", f"/rooms/{room_id}/send/m.room.message/{txn}",
                     {"msgtype": "m.text", "body": body})["event_id"]


def ts_of(client, room_id, event_id):
    return client.ok("GET", f"/rooms/{room_id}/event/{event_id}")["origin_server_ts"]


def lookup(client, room_id, ts, direction):
    return client.call("GET", f"/rooms/{room_id}/timestamp_to_event", prefix=V1,
                       ts=ts, dir=direction)


def test_nearest_event_in_each_direction(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    first = send(alice, room_id, "one", "t1")
    time.sleep(0.05)
    second = send(alice, room_id, "two", "t2")
    t1, t2 = ts_of(alice, room_id, first), ts_of(alice, room_id, second)
    assert t2 > t1
    status, out = lookup(alice, room_id, t1 + 1, "f")
    assert (status, out) == (200, {"event_id": second, "origin_server_ts": t2}), out
    status, out = lookup(alice, room_id, t2 - 1, "b")
    assert (status, out) == (200, {"event_id": first, "origin_server_ts": t1}), out
    # Exactly at an event's time: that event, either way.
    assert lookup(alice, room_id, t2, "b")[1]["event_id"] == second
    assert lookup(alice, room_id, t1, "f")[1]["event_id"] == first
    # Nothing after the newest event.
    status, out = lookup(alice, room_id, t2 + 60_000, "f")
    assert (status, out["errcode"]) == (404, "M_NOT_FOUND"), out
    # Before the room existed, backwards: nothing either.
    status, out = lookup(alice, room_id, 1, "b")
    assert (status, out["errcode"]) == (404, "M_NOT_FOUND"), out


def test_parameters_and_access(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    send(alice, room_id, "private", "t1")
    now = int(time.time() * 1000)
    status, out = lookup(bob, room_id, now, "b")
    assert (status, out["errcode"]) == (403, "M_FORBIDDEN"), out
    for query in ({"dir": "b"}, {"ts": now}):
        status, out = alice.call("GET", f"/rooms/{room_id}/timestamp_to_event", prefix=V1, **query)
        assert (status, out["errcode"]) == (400, "M_MISSING_PARAM"), out
    status, out = lookup(alice, room_id, now, "sideways")
    assert (status, out["errcode"]) == (400, "M_INVALID_PARAM"), out
    status, out = lookup(alice, room_id, "yesterday", "b")
    assert (status, out["errcode"]) == (400, "M_INVALID_PARAM"), out


def test_events_the_user_may_not_see_are_skipped(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {
        "preset": "public_chat", "initial_state": [
            {"type": "m.room.history_visibility", "state_key": "",
             "content": {"history_visibility": "joined"}}]})["room_id"]
    before = send(alice, room_id, "before bob", "t1")
    time.sleep(0.05)
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    t_before = ts_of(alice, room_id, before)
    # Alice sees her message; bob joined later under "joined" visibility and
    # does not: backwards from its time he gets an older event he may see
    # (the history_visibility event itself, judged under the "shared" before
    # it), never the hidden message.
    assert lookup(alice, room_id, t_before, "b")[1]["event_id"] == before
    status, out = lookup(bob, room_id, t_before, "b")
    assert status == 200 and out["event_id"] != before, out
    assert out["origin_server_ts"] <= t_before
    bob.ok("GET", f"/rooms/{room_id}/event/{out['event_id']}")
    bob.error(404, "M_NOT_FOUND", "GET", f"/rooms/{room_id}/event/{before}")
    # Forwards, he skips it too and lands on his own join or later.
    status, out = lookup(bob, room_id, t_before, "f")
    assert status == 200 and out["event_id"] != before, out
    bob.ok("GET", f"/rooms/{room_id}/event/{out['event_id']}")
