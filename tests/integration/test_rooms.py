"""Rooms, events and sync against the real binary and PostgreSQL: the
behaviours the client suites rely on, checked at the HTTP level."""

import json
import threading
import time
import urllib.parse

import pytest

from cs_client import register


@pytest.fixture
def node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    n.wait_ready()
    return n


def timeline(sync, room_id):
    return sync["rooms"].get("join", {}).get(room_id, {}).get("timeline", {}).get("events", [])


def test_create_room_state_and_events_are_signed_and_hashed(node):
    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {"name": "Lobby", "topic": "hello",
                                             "preset": "public_chat",
                                             "room_alias_name": "lobby"})
    room_id = room["room_id"]
    assert room_id.startswith("!") and room_id.endswith(":e2e.test")
    assert alice.ok("GET", f"/rooms/{room_id}/state/m.room.name")["name"] == "Lobby"
    assert alice.ok("GET", f"/rooms/{room_id}/state/m.room.topic/")["topic"] == "hello"
    assert alice.ok("GET", f"/rooms/{room_id}/state/m.room.join_rules")["join_rule"] == "public"
    create = alice.ok("GET", f"/rooms/{room_id}/state/m.room.create")
    assert create["room_version"] == "10" and create["creator"] == alice.user_id
    levels = alice.ok("GET", f"/rooms/{room_id}/state/m.room.power_levels")
    assert levels["users"][alice.user_id] == 100
    state = alice.ok("GET", f"/rooms/{room_id}/state")
    types = {e["type"] for e in state}
    assert {"m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules",
            "m.room.history_visibility", "m.room.name", "m.room.topic",
            "m.room.canonical_alias"} <= types
    # Event IDs are reference hashes: '$' + 43 URL-safe base64 characters.
    for event in state:
        assert event["event_id"].startswith("$") and len(event["event_id"]) == 44
    status, err = alice.call("GET", f"/rooms/{room_id}/state/m.room.avatar")
    assert status == 404 and err["errcode"] == "M_NOT_FOUND"


def test_room_version_11_and_unknown_versions(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {"room_version": "11"})["room_id"]
    create = alice.ok("GET", f"/rooms/{room_id}/state/m.room.create")
    assert create["room_version"] == "11" and "creator" not in create
    status, err = alice.call("POST", "/createRoom", {"room_version": "1"})
    assert status == 400 and err["errcode"] == "M_UNSUPPORTED_ROOM_VERSION"


def test_refused_events_change_nothing(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    # Not invited: the invite-only room refuses the join.
    status, err = bob.call("POST", f"/rooms/{room_id}/join", {})
    assert status == 403 and err["errcode"] == "M_FORBIDDEN"
    # Not joined: cannot send.
    status, err = bob.call("PUT", f"/rooms/{room_id}/send/m.room.message/t1",
                           {"msgtype": "m.text", "body": "hi"})
    assert status == 403 and err["errcode"] == "M_FORBIDDEN"
    alice.ok("POST", f"/rooms/{room_id}/invite", {"user_id": bob.user_id})
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    # Power levels: bob (0) cannot change the name (50).
    before = sorted(e["event_id"] for e in alice.ok("GET", f"/rooms/{room_id}/state"))
    status, err = bob.call("PUT", f"/rooms/{room_id}/state/m.room.name", {"name": "mine"})
    assert status == 403 and err["errcode"] == "M_FORBIDDEN" and err["error"]
    # Nor set the canonical alias: refused for permission before the aliases
    # are even looked at.
    status, err = bob.call("PUT", f"/rooms/{room_id}/state/m.room.canonical_alias",
                           {"alias": "#nosuch:e2e.test"})
    assert status == 403 and err["errcode"] == "M_FORBIDDEN"
    # Bob cannot kick alice.
    status, err = bob.call("POST", f"/rooms/{room_id}/kick", {"user_id": alice.user_id})
    assert status == 403
    assert sorted(e["event_id"] for e in alice.ok("GET", f"/rooms/{room_id}/state")) == before


def test_send_is_idempotent_per_txn_id(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    first = alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/txn1", {"msgtype": "m.text", "body": "a"})
    again = alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/txn1", {"msgtype": "m.text", "body": "a"})
    assert first["event_id"] == again["event_id"]
    msgs = alice.ok("GET", f"/rooms/{room_id}/messages", dir="b", limit="50")
    bodies = [e["content"].get("body") for e in msgs["chunk"] if e["type"] == "m.room.message"]
    assert bodies == ["a"]


def test_messages_paginate_both_directions(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    for i in range(12):
        alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/m{i}", {"msgtype": "m.text", "body": str(i)})
    page1 = alice.ok("GET", f"/rooms/{room_id}/messages", dir="b", limit="5",
                     filter=json.dumps({"types": ["m.room.message"]}))
    assert [e["content"]["body"] for e in page1["chunk"]] == ["11", "10", "9", "8", "7"]
    page2 = alice.ok("GET", f"/rooms/{room_id}/messages", dir="b", limit="5", **{"from": page1["end"]},
                     filter=json.dumps({"types": ["m.room.message"]}))
    assert [e["content"]["body"] for e in page2["chunk"]] == ["6", "5", "4", "3", "2"]
    forward = alice.ok("GET", f"/rooms/{room_id}/messages", dir="f", limit="3", **{"from": page2["end"]},
                       filter=json.dumps({"types": ["m.room.message"]}))
    assert [e["content"]["body"] for e in forward["chunk"]] == ["2", "3", "4"]
    everything = alice.ok("GET", f"/rooms/{room_id}/messages", dir="b", limit="100")
    assert "end" not in everything  # nothing older than the create event
    assert everything["chunk"][-1]["type"] == "m.room.create"
    event_id = page1["chunk"][2]["event_id"]
    ctx = alice.ok("GET", f"/rooms/{room_id}/context/{event_id}", limit="4")
    assert ctx["event"]["content"]["body"] == "9"
    assert [e["content"]["body"] for e in ctx["events_before"]] == ["8", "7"]
    assert [e["content"]["body"] for e in ctx["events_after"]] == ["10", "11"]


def test_redaction_strips_content(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    event_id = alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/x", {"msgtype": "m.text", "body": "oops"})["event_id"]
    redaction = alice.ok("PUT", f"/rooms/{room_id}/redact/{event_id}/r1", {"reason": "typo"})
    event = alice.ok("GET", f"/rooms/{room_id}/event/{event_id}")
    assert event["content"] == {}
    assert event["unsigned"]["redacted_because"]["event_id"] == redaction["event_id"]


def test_sync_incremental_waits_and_wakes(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = alice.ok("POST", "/createRoom", {"invite": [bob.user_id]})["room_id"]
    initial = bob.ok("GET", "/sync")
    assert room_id in initial["rooms"]["invite"]
    bob.ok("POST", f"/join/{urllib.parse.quote(room_id)}", {})
    after_join = bob.ok("GET", "/sync", since=initial["next_batch"])
    assert room_id in after_join["rooms"]["join"]
    since = after_join["next_batch"]

    result = {}

    def wait():
        result["sync"] = bob.call("GET", "/sync", http_timeout=30, since=since, timeout="20000")

    waiter = threading.Thread(target=wait)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive()  # nothing new: the sync waits
    alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/w1", {"msgtype": "m.text", "body": "wake"})
    waiter.join(15)
    assert not waiter.is_alive()
    assert time.monotonic() - started < 10
    status, sync = result["sync"]
    assert status == 200, sync
    assert room_id in sync["rooms"].get("join", {}), sync
    assert [e["content"]["body"] for e in timeline(sync, room_id)] == ["wake"]
    # Nothing is delivered twice.
    again = bob.ok("GET", "/sync", since=sync["next_batch"], timeout="0")
    assert timeline(again, room_id) == []


def test_sync_timeline_limit_and_prev_batch(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    since = alice.ok("GET", "/sync")["next_batch"]
    for i in range(8):
        alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/l{i}", {"msgtype": "m.text", "body": str(i)})
    sync = alice.ok("GET", "/sync", since=since,
                    filter=json.dumps({"room": {"timeline": {"limit": 3}}}))
    line = sync["rooms"]["join"][room_id]["timeline"]
    assert [e["content"]["body"] for e in line["events"]] == ["5", "6", "7"]
    assert line["limited"] is True
    older = alice.ok("GET", f"/rooms/{room_id}/messages", dir="b", limit="3", **{"from": line["prev_batch"]})
    assert [e["content"]["body"] for e in older["chunk"]] == ["4", "3", "2"]


def test_sync_tokens_survive_restart(start_node):
    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    node.wait_ready()
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    since = alice.ok("GET", "/sync")["next_batch"]
    alice.ok("PUT", f"/rooms/{room_id}/send/m.room.message/r1", {"msgtype": "m.text", "body": "before"})
    assert node.stop() == 0
    node2 = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    node2.wait_ready()
    alice.node = node2
    sync = alice.ok("GET", "/sync", since=since)
    assert [e["content"]["body"] for e in timeline(sync, room_id)] == ["before"]


def test_bad_room_and_event_ids(node):
    alice = register(node, "alice")
    status, err = alice.call("GET", "/rooms/notaroom/state")
    assert status == 400 and err["errcode"] == "M_INVALID_PARAM"
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    status, err = alice.call("GET", f"/rooms/{room_id}/event/$nope")
    assert status == 404 and err["errcode"] == "M_NOT_FOUND"
    status, err = alice.call("POST", "/createRoom", {"invite": ["not-a-user"]})
    assert status == 400 and err["errcode"] == "M_INVALID_PARAM"
    status, err = alice.call("PUT", f"/rooms/{room_id}/send/m.room.message/f1", {"body": 1.5})
    assert status == 400 and err["errcode"] == "M_BAD_JSON"


def test_members_at_a_messages_token_and_a_sync_token(node):
    """GET /members?at= takes a /messages token (a point in the room's DAG)
    or a sync token (a stream position): the members as of that point."""
    alice = register(node, "atalice")
    bob = register(node, "atbob")
    carol = register(node, "atcarol")
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    r = urllib.parse.quote(room)
    bob.ok("POST", f"/rooms/{r}/join", {})
    point = alice.ok("GET", f"/rooms/{r}/messages", dir="b", limit="1")["start"]
    since = alice.ok("GET", "/sync", timeout="0")["next_batch"]
    carol.ok("POST", f"/rooms/{r}/join", {})

    def joined(**query):
        chunk = alice.ok("GET", f"/rooms/{r}/members", **query)["chunk"]
        return sorted(e["state_key"] for e in chunk if e["content"]["membership"] == "join")

    assert joined() == sorted([alice.user_id, bob.user_id, carol.user_id])
    assert joined(at=point) == sorted([alice.user_id, bob.user_id])
    assert joined(at=since) == sorted([alice.user_id, bob.user_id])
    alice.error(400, "M_INVALID_PARAM", "GET", f"/rooms/{r}/members", at="x123")
