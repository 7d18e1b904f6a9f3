"""Client-Server API status codes of "Redactions" (PUT /rooms/{roomId}/redact)
and "Retrieving events with context" (GET /rooms/{roomId}/context) (spec
v1.12, sections 10.9 and 7.6): a redaction naming an event of another room is
400 (Synapse's "Cannot redact event from a different room"; the spec gives no
status), an unknown one 404; /context on an event the user may not see is
404 M_NOT_FOUND, as for a missing event, so nothing leaks. Real binary, real
PostgreSQL."""

from cs_client import register


def send(client, room_id, body, txn):
    return client.ok("PUT", f"/rooms/{room_id}/send/m.room.message/{txn}",
                     {"msgtype": "m.text", "body": body})["event_id"]


def test_redacting_an_event_of_another_room(node):
    alice = register(node, "alice")
    room_a = alice.ok("POST", "/createRoom", {})["room_id"]
    room_b = alice.ok("POST", "/createRoom", {})["room_id"]
    in_b = send(alice, room_b, "in b", "t1")
    err = alice.error(400, "M_UNKNOWN", "PUT", f"/rooms/{room_a}/redact/{in_b}/r1", {})
    assert "different room" in err["error"]
    # The event in room b is untouched.
    event = alice.ok("GET", f"/rooms/{room_b}/event/{in_b}")
    assert event["content"]["body"] == "in b"
    alice.error(404, "M_NOT_FOUND", "PUT", f"/rooms/{room_a}/redact/$nope/r2", {})
    # In its own room it works.
    alice.ok("PUT", f"/rooms/{room_b}/redact/{in_b}/r3", {})


def test_context_of_an_invisible_event_is_not_found(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {
        "preset": "public_chat", "initial_state": [
            {"type": "m.room.history_visibility", "state_key": "",
             "content": {"history_visibility": "joined"}}]})["room_id"]
    hidden = send(alice, room_id, "before bob joined", "t1")
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    seen = send(alice, room_id, "after bob joined", "t2")
    bob.error(404, "M_NOT_FOUND", "GET", f"/rooms/{room_id}/context/{hidden}")
    bob.error(404, "M_NOT_FOUND", "GET", f"/rooms/{room_id}/context/$unknown")
    out = bob.ok("GET", f"/rooms/{room_id}/context/{seen}")
    assert out["event"]["event_id"] == seen
    assert hidden not in [e["event_id"] for e in out["events_before"]]
    # A user outside the room gets the same 404, not a 403 that confirms it.
    carol = register(node, "carol")
    carol.error(404, "M_NOT_FOUND", "GET", f"/rooms/{room_id}/context/{seen}")
