"""NUL characters (issue 10, findings 3 and 4), against the real binary and
PostgreSQL.

- A \\u0000 is valid JSON, so an event holding one must be stored and served
  as it is, and must not break listing queries for anybody else (PostgreSQL's
  jsonb refuses \\u0000, so no query may cast the stored PDU to jsonb).
- A NUL in an identifier-like field (event type, state key, device ID, any
  value stored in a column) is refused with 400, never cut off at the first
  NUL by libpq so that the columns and the PDU disagree."""

import json


from conftest import http_json
from cs_client import CS, q, register


def timeline(sync, room_id):
    return sync["rooms"].get("join", {}).get(room_id, {}).get("timeline", {}).get("events", [])


def test_a_nul_in_a_message_does_not_break_sync_for_other_members(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/join/{q(room)}", {})
    body = "hello\x00world " + alice.user_id
    sent = bob.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/t1",
                  {"msgtype": "m.text", "body": body,
                   "m.mentions": {"user_ids": [alice.user_id, "@x\x00:e2e.test"]}})
    # Another message with a NUL in a key, and a state event with one.
    bob.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/t2",
           {"msgtype": "m.text", "body": "ok", "k\x00ey": "v\x00"})

    # The other member's sync (which counts unread messages and highlights
    # over these events) answers, and shows the message exactly.
    sync = alice.sync()
    events = timeline(sync, room)
    mine = [e for e in events if e["event_id"] == sent["event_id"]]
    assert mine and mine[0]["content"]["body"] == body
    assert any(e["content"].get("k\x00ey") == "v\x00" for e in events)
    counts = sync["rooms"]["join"][room]["unread_notifications"]
    assert counts["notification_count"] == 2
    assert counts["highlight_count"] == 1

    # The stored text round-trips: /event and /messages serve the \u0000.
    event = alice.ok("GET", f"/rooms/{q(room)}/event/{q(sent['event_id'])}")
    assert event["content"]["body"] == body
    messages = alice.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit="5")
    assert any(e.get("content", {}).get("body") == body for e in messages["chunk"])
    assert bob.sync()["rooms"]["join"][room]


def test_a_nul_in_a_public_rooms_topic_does_not_break_public_rooms(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat", "visibility": "public",
                                            "name": "Na\x00me", "topic": "top\x00ic"})["room_id"]
    # The join rules (read by the user directory) with a NUL too.
    alice.ok("PUT", f"/rooms/{q(room)}/state/m.room.join_rules/",
             {"join_rule": "public", "note\x00": "\x00"})

    status, out = http_json("GET", node.url(CS + "/publicRooms"))
    assert status == 200, out
    entry = [r for r in out["chunk"] if r["room_id"] == room]
    assert entry and entry[0]["join_rule"] == "public"
    assert entry[0]["topic"].startswith("top") and entry[0]["name"].startswith("Na")
    # A search that scans the topic, too.
    out = bob.ok("POST", "/publicRooms", {"filter": {"generic_search_term": "top"}})
    assert [r["room_id"] for r in out["chunk"]] == [room], out

    # A NUL in the request's own filter is the caller's error, not a 500.
    status, out = bob.call("POST", "/publicRooms", {"filter": {"room_types": ["m.space\x00"]}})
    assert status == 400, out

    # The user directory reads the join rules of the rooms users share.
    found = bob.ok("POST", "/user_directory/search", {"search_term": "alice"})
    assert [u["user_id"] for u in found["results"]] == [alice.user_id]


def test_initial_state_with_a_nul_in_its_type_is_refused(node):
    alice, stranger = register(node, "alice"), register(node, "stranger")
    status, out = alice.call("POST", "/createRoom", {
        "preset": "private_chat",
        "initial_state": [{"type": "m.room.history_visibility\x00",
                           "content": {"history_visibility": "world_readable"}}]})
    assert status == 400 and out["errcode"] in ("M_BAD_JSON", "M_INVALID_PARAM"), out
    # Nothing was half-created.
    assert alice.ok("GET", "/joined_rooms")["joined_rooms"] == []

    # A room with the same trick in a state key: refused too.
    status, out = alice.call("POST", "/createRoom", {
        "initial_state": [{"type": "m.room.history_visibility", "state_key": "\x00",
                           "content": {"history_visibility": "world_readable"}}]})
    assert status == 400, out
    assert alice.ok("GET", "/joined_rooms")["joined_rooms"] == []

    # And in a room that exists: PUT state with a NUL type is refused, and the
    # room stays unreadable for a stranger.
    room = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    alice.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/secret", {"msgtype": "m.text",
                                                                     "body": "secret"})
    status, out = alice.call("PUT", f"/rooms/{q(room)}/state/{q('m.room.history_visibility')}"
                                    f"{q(chr(0))}/", {"history_visibility": "world_readable"})
    assert status in (400, 404), out  # the router refuses %00 in a path
    raw = json.dumps({"history_visibility": "world_readable"}).encode()
    status, out = alice.call("PUT", f"/rooms/{q(room)}/send/a{q(chr(0))}b/x", raw=raw)
    assert status == 400, out
    status, out = stranger.call("GET", f"/rooms/{q(room)}/messages", dir="b")
    assert status == 403, out
    state = alice.ok("GET", f"/rooms/{q(room)}/state/m.room.history_visibility/")
    assert state["history_visibility"] == "shared"


def test_a_nul_in_the_device_id_is_refused_at_login(node):
    alice = register(node, "alice")
    body = {"type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": "correct horse battery", "device_id": "DEV\x00X"}
    status, out = http_json("POST", node.url(CS + "/login"), body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM", out
    devices = [d["device_id"] for d in alice.ok("GET", "/devices")["devices"]]
    assert "DEV" not in devices and len(devices) == 1


def test_a_nul_in_any_stored_text_is_refused_not_cut_off(node):
    """The storage layer refuses a NUL in any text parameter: here fields no
    handler checks itself (a display name, a device name, account data)."""
    alice = register(node, "alice")
    path = f"/profile/{q(alice.user_id)}/displayname"
    alice.ok("PUT", path, {"displayname": "Alice"})
    status, out = alice.call("PUT", path, {"displayname": "Mallory\x00Alice"})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM", out
    assert alice.ok("GET", path)["displayname"] == "Alice"

    status, out = alice.call("PUT", f"/devices/{q(alice.device_id)}",
                             {"display_name": "phone\x00"})
    assert status == 400, out
    # A filter naming a type with a NUL is refused when it is uploaded.
    status, out = alice.call("POST", f"/user/{q(alice.user_id)}/filter",
                             {"room": {"timeline": {"types": ["m.room.message\x00"]}}})
    assert status == 400, out
    # The server still works for this user.
    assert alice.sync()
