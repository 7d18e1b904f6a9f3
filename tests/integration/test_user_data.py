"""Per-user and ephemeral data against the real binary and PostgreSQL: filters,
profiles, account data, tags, typing, receipts, read markers and presence, and
how each reaches /sync."""

import json
import threading
import time
import urllib.parse

import pytest

from conftest import http_json
from cs_client import CS, register


@pytest.fixture
def node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    n.wait_ready()
    return n


def shared_room(alice, bob):
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/join/{urllib.parse.quote(room_id)}", {})
    return room_id


def send(client, room_id, body):
    txn = f"t{time.monotonic_ns()}"
    return client.ok("PUT", f"/rooms/{room_id}/send/m.room.message/{txn}",
                     {"msgtype": "m.text", "body": body})["event_id"]


def joined(sync, room_id):
    return sync.get("rooms", {}).get("join", {}).get(room_id, {})


def ephemeral(sync, room_id, event_type):
    events = joined(sync, room_id).get("ephemeral", {}).get("events", [])
    return [e for e in events if e["type"] == event_type]


def room_account_data(sync, room_id):
    events = joined(sync, room_id).get("account_data", {}).get("events", [])
    return {e["type"]: e["content"] for e in events}


def global_account_data(sync):
    return {e["type"]: e["content"] for e in sync.get("account_data", {}).get("events", [])}


# ---- filters ---------------------------------------------------------------------

def test_filters_upload_download_dedupe_and_errors(alice, bob):
    f = {"room": {"timeline": {"limit": 5, "types": ["m.room.*"], "not_types": ["m.room.member"]}},
         "presence": {"not_types": ["*"]}}
    first = alice.ok("POST", f"/user/{alice.user_id}/filter", f)["filter_id"]
    assert not first.startswith("{")
    assert alice.ok("GET", f"/user/{alice.user_id}/filter/{first}") == f
    # The same filter again (keys in another order) gets the same ID.
    again = {"presence": {"not_types": ["*"]}, "room": f["room"]}
    assert alice.ok("POST", f"/user/{alice.user_id}/filter", again)["filter_id"] == first

    bob.error(403, "M_FORBIDDEN", "POST", f"/user/{alice.user_id}/filter", f)
    bob.error(403, "M_FORBIDDEN", "GET", f"/user/{alice.user_id}/filter/{first}")
    alice.error(404, "M_NOT_FOUND", "GET", f"/user/{alice.user_id}/filter/999999")
    alice.error(404, "M_NOT_FOUND", "GET", f"/user/{alice.user_id}/filter/nope")
    # Bob cannot use Alice's filter ID either.
    bob_filter = bob.ok("POST", f"/user/{bob.user_id}/filter", {})["filter_id"]
    alice.error(404, "M_NOT_FOUND", "GET", f"/user/{alice.user_id}/filter/{bob_filter}")

    out = alice.error(400, "M_BAD_JSON", "POST", f"/user/{alice.user_id}/filter",
                      {"room": {"timeline": {"limit": "ten"}}})
    assert "room.timeline.limit" in out["error"]
    alice.error(400, "M_BAD_JSON", "POST", f"/user/{alice.user_id}/filter",
                {"room": {"rooms": ["not-a-room"]}})
    alice.error(400, "M_BAD_JSON", "POST", f"/user/{alice.user_id}/filter",
                {"event_format": "xml"})
    alice.error(400, "M_INVALID_PARAM", "POST", "/user/not-a-user/filter", {})


def test_sync_filter_parameter(alice):
    room_id = alice.ok("POST", "/createRoom", {"name": "filtered"})["room_id"]
    send(alice, room_id, "one")
    fid = alice.ok("POST", f"/user/{alice.user_id}/filter",
                   {"room": {"timeline": {"types": ["m.room.message"]}}})["filter_id"]
    events = joined(alice.sync(filter=fid), room_id)["timeline"]["events"]
    assert events and all(e["type"] == "m.room.message" for e in events)
    inline = json.dumps({"room": {"timeline": {"not_types": ["m.room.message"]}}})
    events = joined(alice.sync(filter=inline), room_id)["timeline"]["events"]
    assert events and all(e["type"] != "m.room.message" for e in events)
    alice.error(400, "M_INVALID_PARAM", "GET", "/sync", filter="424242")
    alice.error(400, "M_NOT_JSON", "GET", "/sync", filter="{not json")
    alice.error(400, "M_BAD_JSON", "GET", "/sync", filter='{"room": {"timeline": {"limit": -1}}}')


# ---- profile ---------------------------------------------------------------------

def test_profile_get_set_and_errors(node, alice, bob):
    assert alice.ok("GET", f"/profile/{alice.user_id}/avatar_url") == {}
    alice.ok("PUT", f"/profile/{alice.user_id}/displayname", {"displayname": "Alice A."})
    alice.ok("PUT", f"/profile/{alice.user_id}/avatar_url", {"avatar_url": "mxc://e2e.test/abc"})
    # No access token needed to read a profile.
    status, profile = http_json("GET", node.url(CS + f"/profile/{alice.user_id}"))
    assert status == 200
    assert profile == {"displayname": "Alice A.", "avatar_url": "mxc://e2e.test/abc"}
    assert bob.ok("GET", f"/profile/{alice.user_id}/displayname") == {"displayname": "Alice A."}

    bob.error(403, "M_FORBIDDEN", "PUT", f"/profile/{alice.user_id}/displayname",
              {"displayname": "mallory"})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"/profile/{alice.user_id}/displayname",
                {"displayname": "x" * 257})
    alice.ok("PUT", f"/profile/{alice.user_id}/displayname", {"displayname": "é" * 256})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"/profile/{alice.user_id}/avatar_url",
                {"avatar_url": "https://example.org/a.png"})
    alice.error(400, "M_BAD_JSON", "PUT", f"/profile/{alice.user_id}/displayname",
                {"displayname": 5})
    alice.error(404, "M_NOT_FOUND", "GET", "/profile/@nobody:e2e.test")
    alice.error(404, "M_NOT_FOUND", "GET", "/profile/@nobody:e2e.test/displayname")
    alice.error(400, "M_INVALID_PARAM", "GET", "/profile/not-a-user-id")

    # Clearing: an empty avatar URL removes it.
    alice.ok("PUT", f"/profile/{alice.user_id}/avatar_url", {"avatar_url": ""})
    assert "avatar_url" not in alice.ok("GET", f"/profile/{alice.user_id}")


def test_profile_change_updates_member_events(alice, bob):
    room_id = shared_room(alice, bob)
    alice.ok("PUT", f"/profile/{alice.user_id}/displayname", {"displayname": "Queen Alice"})
    member = bob.ok("GET", f"/rooms/{room_id}/state/m.room.member/{alice.user_id}")
    assert member["membership"] == "join"
    assert member["displayname"] == "Queen Alice"
    alice.ok("PUT", f"/profile/{alice.user_id}/avatar_url", {"avatar_url": "mxc://e2e.test/q"})
    member = bob.ok("GET", f"/rooms/{room_id}/state/m.room.member/{alice.user_id}")
    assert member["displayname"] == "Queen Alice" and member["avatar_url"] == "mxc://e2e.test/q"


# ---- account data and tags -------------------------------------------------------

def test_account_data_global_and_room(alice, bob):
    base = f"/user/{alice.user_id}"
    alice.error(404, "M_NOT_FOUND", "GET", f"{base}/account_data/org.example.cfg")
    alice.ok("PUT", f"{base}/account_data/org.example.cfg", {"theme": "dark"})
    assert alice.ok("GET", f"{base}/account_data/org.example.cfg") == {"theme": "dark"}
    alice.ok("PUT", f"{base}/account_data/org.example.cfg", {"theme": "light"})
    assert alice.ok("GET", f"{base}/account_data/org.example.cfg") == {"theme": "light"}
    bob.error(403, "M_FORBIDDEN", "GET", f"{base}/account_data/org.example.cfg")
    bob.error(403, "M_FORBIDDEN", "PUT", f"{base}/account_data/org.example.cfg", {})
    for managed in ("m.fully_read", "m.push_rules"):
        alice.error(405, "M_BAD_JSON", "PUT", f"{base}/account_data/{managed}", {})

    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    rbase = f"{base}/rooms/{room_id}/account_data"
    alice.error(404, "M_NOT_FOUND", "GET", f"{rbase}/org.example.cfg")
    alice.ok("PUT", f"{rbase}/org.example.cfg", {"pinned": True})
    assert alice.ok("GET", f"{rbase}/org.example.cfg") == {"pinned": True}
    # No fallback between global and room data.
    assert alice.ok("GET", f"{base}/account_data/org.example.cfg") == {"theme": "light"}
    alice.error(405, "M_BAD_JSON", "PUT", f"{rbase}/m.fully_read", {"event_id": "$x"})
    alice.error(400, "M_INVALID_PARAM", "GET", f"{base}/rooms/not-a-room/account_data/x")

    first = alice.sync()
    assert global_account_data(first)["org.example.cfg"] == {"theme": "light"}
    assert room_account_data(first, room_id)["org.example.cfg"] == {"pinned": True}
    # Incremental: only what changed since.
    alice.ok("PUT", f"{base}/account_data/org.example.other", {"n": 1})
    later = alice.sync(since=first["next_batch"])
    assert global_account_data(later) == {"org.example.other": {"n": 1}}
    assert room_account_data(later, room_id) == {}


def test_tags(alice, bob):
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    base = f"/user/{alice.user_id}/rooms/{room_id}/tags"
    assert alice.ok("GET", base) == {"tags": {}}
    alice.ok("PUT", f"{base}/m.favourite", {"order": 0.25})
    alice.ok("PUT", f"{base}/u.work", {})
    assert alice.ok("GET", base) == {"tags": {"m.favourite": {"order": 0.25}, "u.work": {}}}
    alice.error(400, "M_BAD_JSON", "PUT", f"{base}/u.bad", {"order": "first"})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{base}/{'x' * 256}", {})
    bob.error(403, "M_FORBIDDEN", "GET", base)
    since = alice.sync()["next_batch"]
    alice.ok("DELETE", f"{base}/u.work")
    alice.ok("DELETE", f"{base}/u.never-set")
    assert alice.ok("GET", base) == {"tags": {"m.favourite": {"order": 0.25}}}
    # Tags reach /sync as the room's m.tag account data.
    later = alice.sync(since=since)
    assert room_account_data(later, room_id)["m.tag"] == {"tags": {"m.favourite": {"order": 0.25}}}
    assert alice.ok("GET", f"/user/{alice.user_id}/rooms/{room_id}/account_data/m.tag") == \
        {"tags": {"m.favourite": {"order": 0.25}}}


# ---- typing ----------------------------------------------------------------------

def test_typing_reaches_sync_and_wakes_a_waiting_one(alice, bob, node):
    room_id = shared_room(alice, bob)
    since = bob.sync()["next_batch"]
    result = {}

    def long_poll():
        result["sync"] = bob.sync(since=since, timeout=10000)

    waiter = threading.Thread(target=long_poll)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.5)
    alice.ok("PUT", f"/rooms/{room_id}/typing/{alice.user_id}", {"typing": True, "timeout": 30000})
    waiter.join(15)
    assert time.monotonic() - started < 8, "the typing notification did not wake the sync"
    typing = ephemeral(result["sync"], room_id, "m.typing")
    assert typing and typing[0]["content"]["user_ids"] == [alice.user_id], result["sync"]

    next_batch = result["sync"]["next_batch"]
    alice.ok("PUT", f"/rooms/{room_id}/typing/{alice.user_id}", {"typing": False})
    later = bob.sync(since=next_batch, timeout=5000)
    typing = ephemeral(later, room_id, "m.typing")
    assert typing and typing[0]["content"]["user_ids"] == []

    alice.error(403, "M_FORBIDDEN", "PUT", f"/rooms/{room_id}/typing/{bob.user_id}",
                {"typing": True, "timeout": 1000})
    other = alice.ok("POST", "/createRoom", {})["room_id"]
    bob.error(403, "M_FORBIDDEN", "PUT", f"/rooms/{other}/typing/{bob.user_id}",
              {"typing": True, "timeout": 1000})
    alice.error(400, "M_MISSING_PARAM", "PUT", f"/rooms/{room_id}/typing/{alice.user_id}", {})
    alice.error(400, "M_BAD_JSON", "PUT", f"/rooms/{room_id}/typing/{alice.user_id}",
                {"typing": "yes"})


def test_typing_expires(alice, bob):
    room_id = shared_room(alice, bob)
    # The server's floor is 1 s: a shorter timeout is raised to it.
    alice.ok("PUT", f"/rooms/{room_id}/typing/{alice.user_id}", {"typing": True, "timeout": 1})
    first = bob.sync()
    assert ephemeral(first, room_id, "m.typing")[0]["content"]["user_ids"] == [alice.user_id]
    # The sweep ends it and wakes the waiting sync (other wake-ups may come
    # first, so keep syncing until the typing update arrives).
    since, deadline = first["next_batch"], time.monotonic() + 10
    while time.monotonic() < deadline:
        later = bob.sync(since=since, timeout=5000)
        since = later["next_batch"]
        typing = ephemeral(later, room_id, "m.typing")
        if typing:
            assert typing[0]["content"]["user_ids"] == []
            return
    pytest.fail("the expired typist was never removed")


# ---- receipts, read markers, unread counts ---------------------------------------

def test_receipts_public_private_and_unread_counts(alice, bob):
    room_id = shared_room(alice, bob)
    first = send(alice, room_id, "hello")
    second = send(alice, room_id, "hey bob, look")
    sync = bob.sync()
    counts = joined(sync, room_id)["unread_notifications"]
    assert counts == {"notification_count": 2, "highlight_count": 1}
    since_alice = alice.sync()["next_batch"]

    bob.ok("POST", f"/rooms/{room_id}/receipt/m.read/{first}", {})
    counts = joined(bob.sync(), room_id)["unread_notifications"]
    assert counts == {"notification_count": 1, "highlight_count": 1}

    later = alice.sync(since=since_alice, timeout=5000)
    receipt = ephemeral(later, room_id, "m.receipt")
    assert receipt, later
    ts = receipt[0]["content"][first]["m.read"][bob.user_id]["ts"]
    assert isinstance(ts, int) and ts > 0

    # A private receipt clears Bob's count but Alice never sees it.
    bob.ok("POST", f"/rooms/{room_id}/receipt/m.read.private/{second}", {})
    bob_sync = bob.sync()
    assert joined(bob_sync, room_id)["unread_notifications"]["notification_count"] == 0
    mine = ephemeral(bob_sync, room_id, "m.receipt")[0]["content"]
    assert bob.user_id in mine[second]["m.read.private"]
    alice_sync = alice.sync()
    for content in (e["content"] for e in ephemeral(alice_sync, room_id, "m.receipt")):
        assert "m.read.private" not in content.get(second, {})

    # Receipts only move forward: an older event changes nothing.
    bob.ok("POST", f"/rooms/{room_id}/receipt/m.read/{second}", {"thread_id": "main"})
    bob.ok("POST", f"/rooms/{room_id}/receipt/m.read/{first}", {"thread_id": "main"})
    main = ephemeral(bob.sync(), room_id, "m.receipt")[0]["content"]
    assert main[second]["m.read"][bob.user_id]["thread_id"] == "main"

    # Sending counts as reading: Alice has nothing unread in her own room.
    assert joined(alice.sync(), room_id)["unread_notifications"]["notification_count"] == 0


def test_receipt_errors(alice, bob):
    room_id = shared_room(alice, bob)
    event = send(alice, room_id, "x")
    bob.error(400, "M_INVALID_PARAM", "POST", f"/rooms/{room_id}/receipt/m.seen/{event}", {})
    bob.error(404, "M_NOT_FOUND", "POST", f"/rooms/{room_id}/receipt/m.read/$nope", {})
    bob.error(400, "M_INVALID_PARAM", "POST", f"/rooms/{room_id}/receipt/m.read/{event}",
              {"thread_id": ""})
    bob.error(400, "M_INVALID_PARAM", "POST", f"/rooms/{room_id}/receipt/m.fully_read/{event}",
              {"thread_id": "main"})
    other = alice.ok("POST", "/createRoom", {})["room_id"]
    other_event = send(alice, other, "private")
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{other}/receipt/m.read/{other_event}", {})
    # An event of another room is not found in this one.
    alice.error(404, "M_NOT_FOUND", "POST", f"/rooms/{room_id}/receipt/m.read/{other_event}", {})
    # An empty body is accepted (older clients send none).
    status, _ = bob.call("POST", f"/rooms/{room_id}/receipt/m.read/{event}", raw=b"")
    assert status == 200


def test_read_markers(alice, bob):
    room_id = shared_room(alice, bob)
    first = send(alice, room_id, "one")
    second = send(alice, room_id, "two")
    since = bob.sync()["next_batch"]
    bob.ok("POST", f"/rooms/{room_id}/read_markers",
           {"m.fully_read": second, "m.read": first, "m.read.private": second})
    later = bob.sync(since=since)
    assert room_account_data(later, room_id)["m.fully_read"] == {"event_id": second}
    content = ephemeral(later, room_id, "m.receipt")[0]["content"]
    assert bob.user_id in content[first]["m.read"]
    assert bob.user_id in content[second]["m.read.private"]
    # The marker does not move back; the receipt endpoint can set it too.
    bob.ok("POST", f"/rooms/{room_id}/receipt/m.fully_read/{first}", {})
    path = f"/user/{bob.user_id}/rooms/{room_id}/account_data/m.fully_read"
    assert bob.ok("GET", path) == {"event_id": second}
    third = send(alice, room_id, "three")
    bob.ok("POST", f"/rooms/{room_id}/receipt/m.fully_read/{third}", {})
    assert bob.ok("GET", path) == {"event_id": third}
    bob.error(404, "M_NOT_FOUND", "POST", f"/rooms/{room_id}/read_markers",
              {"m.fully_read": "$missing"})
    bob.error(400, "M_BAD_JSON", "POST", f"/rooms/{room_id}/read_markers", {"m.read": 1})


# ---- presence --------------------------------------------------------------------

def test_presence(alice, bob, node):
    carol = register(node, "carol")
    shared_room(alice, bob)
    alice.ok("PUT", f"/presence/{alice.user_id}/status",
             {"presence": "unavailable", "status_msg": "lunch"})
    mine = alice.ok("GET", f"/presence/{alice.user_id}/status")
    assert mine["presence"] == "unavailable" and mine["status_msg"] == "lunch"
    assert mine["last_active_ago"] >= 0 and mine["currently_active"] is False
    assert bob.ok("GET", f"/presence/{alice.user_id}/status")["presence"] == "unavailable"
    carol.error(403, "M_FORBIDDEN", "GET", f"/presence/{alice.user_id}/status")
    bob.error(403, "M_FORBIDDEN", "PUT", f"/presence/{alice.user_id}/status",
              {"presence": "online"})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"/presence/{alice.user_id}/status",
                {"presence": "busy"})
    alice.error(400, "M_MISSING_PARAM", "PUT", f"/presence/{alice.user_id}/status", {})

    # Bob's sync shows Alice (set_presence=offline: Bob's own sync leaves
    # presence alone, so Alice stays unavailable only if her syncs say so).
    events = bob.sync(set_presence="offline")["presence"]["events"]
    by_user = {e["sender"]: e["content"] for e in events}
    assert by_user[alice.user_id]["presence"] == "unavailable"
    assert by_user[alice.user_id]["status_msg"] == "lunch"
    assert carol.user_id not in by_user

    # Syncing marks Alice online (the default set_presence), keeping her status.
    since = bob.sync(set_presence="offline")["next_batch"]
    alice.sync()
    assert alice.ok("GET", f"/presence/{alice.user_id}/status")["presence"] == "online"
    later = bob.sync(since=since, set_presence="offline", timeout=5000)
    by_user = {e["sender"]: e["content"] for e in later["presence"]["events"]}
    assert by_user[alice.user_id]["presence"] == "online"
    assert by_user[alice.user_id]["status_msg"] == "lunch"
    alice.error(400, "M_INVALID_PARAM", "GET", "/sync", set_presence="busy")


def test_profile_change_reaches_presence(alice, bob):
    shared_room(alice, bob)
    alice.ok("PUT", f"/presence/{alice.user_id}/status", {"presence": "online"})
    since = bob.sync(set_presence="offline")["next_batch"]
    alice.ok("PUT", f"/profile/{alice.user_id}/displayname", {"displayname": "Alice Prime"})
    later = bob.sync(since=since, set_presence="offline", timeout=5000)
    by_user = {e["sender"]: e["content"] for e in later["presence"]["events"]}
    assert by_user[alice.user_id]["displayname"] == "Alice Prime"
