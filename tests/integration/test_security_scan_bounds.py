"""A filter that matches nothing must not make one request read the whole
room (issue 10, finding 10): /messages and the /sync timeline read at most
rooms.max_events_scanned rows, answer with what they found and a token to
continue from, and paging on with that token reaches the start of the room.
Against the real binary and PostgreSQL; fails on ebfc7cb (which scanned the
whole room in one request)."""

import json
import time

import pytest

from cs_client import q, register

BUDGET = 50
FILLER = 260


@pytest.fixture
def node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                   ELTRIX_ROOMS_MAX_EVENTS_SCANNED=str(BUDGET))
    n.wait_ready()
    return n


@pytest.fixture
def big_room(node):
    """One rare event near the start of the room, then many ordinary ones."""
    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {})["room_id"]
    rare = alice.ok("PUT", f"/rooms/{q(room)}/send/com.example.rare/r0", {"n": 0})["event_id"]
    for i in range(FILLER):
        alice.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/f{i}",
                 {"msgtype": "m.text", "body": f"filler {i}"})
    return alice, room, rare


def page_until(client, room, start, rare_filter):
    """Follows "end" from `start` until the rare event shows; returns the
    pages read."""
    token, pages = start, 0
    while True:
        query = {"dir": "b", "limit": 10, "filter": json.dumps(rare_filter)}
        if token is not None:
            query["from"] = token
        out = client.ok("GET", f"/rooms/{q(room)}/messages", **query)
        pages += 1
        if out["chunk"]:
            return out["chunk"], pages
        assert "end" in out, out  # the start of the room is not reached yet
        assert out["end"] != token
        token = out["end"]
        assert pages < 100


def test_messages_with_a_filter_matching_little_is_bounded(big_room):
    alice, room, rare = big_room
    rare_filter = {"types": ["com.example.rare"]}
    first = alice.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=10,
                     filter=json.dumps(rare_filter))
    # The first page stops after BUDGET rows with nothing found, and says
    # where to continue.
    assert first["chunk"] == [] and "end" in first, first
    chunk, pages = page_until(alice, room, None, rare_filter)
    assert [e["event_id"] for e in chunk] == [rare]
    # Every page read at most BUDGET rows: it took about FILLER / BUDGET pages.
    assert pages >= FILLER // BUDGET, pages
    # A filter matching nothing at all ends at the start of the room.
    token, pages = None, 0
    while True:
        query = {"dir": "b", "filter": json.dumps({"types": ["com.example.none"]})}
        if token:
            query["from"] = token
        out = alice.ok("GET", f"/rooms/{q(room)}/messages", **query)
        assert out["chunk"] == []
        pages += 1
        if "end" not in out:
            break
        token = out["end"]
        assert pages < 100
    assert pages > FILLER // BUDGET


def test_sync_timeline_with_a_filter_matching_little_is_bounded(big_room):
    alice, room, rare = big_room
    rare_filter = {"types": ["com.example.rare"]}
    started = time.monotonic()
    sync = alice.sync(filter=json.dumps({"room": {"timeline": rare_filter}}))
    assert time.monotonic() - started < 5
    timeline = sync["rooms"]["join"][room]["timeline"]
    # Nothing within the budget: limited, with prev_batch at the point reached.
    assert timeline["events"] == [] and timeline["limited"] is True, timeline
    chunk, _ = page_until(alice, room, timeline["prev_batch"], rare_filter)
    assert [e["event_id"] for e in chunk] == [rare]


def test_context_is_bounded(big_room):
    alice, room, rare = big_room
    newest = alice.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=1)["chunk"][0]
    out = alice.ok("GET", f"/rooms/{q(room)}/context/{q(newest['event_id'])}", limit=10,
                   filter=json.dumps({"types": ["com.example.rare"]}))
    assert out["events_before"] == [], out["events_before"]
    chunk, _ = page_until(alice, room, out["start"], {"types": ["com.example.rare"]})
    assert [e["event_id"] for e in chunk] == [rare]
