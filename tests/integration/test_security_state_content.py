"""Content of the state events the server interprets (issue 10, finding 9):
a client sending a malformed one gets 400 M_BAD_JSON through PUT /state and
createRoom alike, nothing is stored, and readers cope with malformed content
that is already stored (as federation will bring). Against the real binary
and PostgreSQL; each test fails on ebfc7cb."""

import json

import pytest

from conftest import psql
from cs_client import q, register


INVALID_STATE = [
    ("m.room.history_visibility", {"history_visibility": 5}),
    ("m.room.history_visibility", {"history_visibility": "everyone"}),
    ("m.room.history_visibility", {}),
    ("m.room.join_rules", {"join_rule": 5}),
    ("m.room.join_rules", {"join_rule": "restricted", "allow": "everyone"}),
    ("m.room.join_rules", {"join_rule": "restricted", "allow": [{"type": "m.room_membership"}]}),
    ("m.room.power_levels", {"ban": "50"}),
    ("m.room.power_levels", {"users": ["@a:e2e.test"]}),
    ("m.room.power_levels", {"events": {"m.room.name": "50"}}),
    ("m.room.power_levels", {"users_default": 1.5}),
    ("m.room.guest_access", {"guest_access": True}),
    ("m.room.encryption", {}),
    ("m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_ms": "1"}),
    ("m.room.name", {"name": 5}),
    ("m.room.topic", {"topic": ["x"]}),
]


def assert_room_readable(client, room):
    client.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=50)
    client.ok("GET", f"/rooms/{q(room)}/state")
    client.ok("GET", f"/rooms/{q(room)}/members")
    sync = client.sync()
    assert room in sync["rooms"]["join"]


def test_invalid_state_content_is_refused_and_the_room_stays_readable(node):
    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {})["room_id"]
    for event_type, content in INVALID_STATE:
        status, out = alice.call("PUT", f"/rooms/{q(room)}/state/{event_type}/", content)
        assert (status, out.get("errcode")) == (400, "M_BAD_JSON"), (event_type, content, out)
    # A member event with a malformed profile, and one that is not a state event.
    status, out = alice.call("PUT", f"/rooms/{q(room)}/state/m.room.member/{q(alice.user_id)}",
                             {"membership": "join", "displayname": 5})
    assert (status, out.get("errcode")) == (400, "M_BAD_JSON"), out
    status, out = alice.call("PUT", f"/rooms/{q(room)}/send/m.room.member/t1", {"membership": "join"})
    assert (status, out.get("errcode")) == (400, "M_BAD_JSON"), out
    assert_room_readable(alice, room)
    # Nothing was stored.
    state = alice.ok("GET", f"/rooms/{q(room)}/state")
    assert all(e["content"].get("history_visibility") in (None, "shared") for e in state)


@pytest.mark.parametrize("body", [
    {"initial_state": [{"type": "m.room.history_visibility", "content": {"history_visibility": 5}}]},
    {"initial_state": [{"type": "m.room.join_rules", "content": {"join_rule": ["public"]}}]},
    {"initial_state": [{"type": "m.room.encryption", "content": {"algorithm": 1}}]},
    {"power_level_content_override": {"users": {"@alice:e2e.test": "100"}}},
    {"power_level_content_override": {"events": []}},
    {"power_level_content_override": {"kick": True}},
    {"creation_content": {"m.federate": "no"}},
    {"creation_content": {"predecessor": "!old:e2e.test"}},
])
def test_create_room_refuses_invalid_content_and_creates_nothing(node, body):
    alice = register(node, "alice")
    status, out = alice.call("POST", "/createRoom", body)
    assert (status, out.get("errcode")) == (400, "M_BAD_JSON"), (body, out)
    assert alice.ok("GET", "/joined_rooms")["joined_rooms"] == []


def test_readers_survive_malformed_content_already_stored(node, database):
    """Another server may send any JSON; reading it never fails (no 500)."""
    alice, bob = register(node, "alice"), register(node, "bob")
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat", "name": "stored"})["room_id"]
    bob.ok("POST", f"/rooms/{q(room)}/join", {})
    alice.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/m1", {"msgtype": "m.text", "body": "hi"})
    since = bob.sync()["next_batch"]
    # As a remote server could have sent them: history_visibility a number,
    # a membership that is not a string, a timestamp that is a string.
    psql(database, f"""
        UPDATE events SET pdu = replace(pdu, '"history_visibility":"shared"',
                                          '"history_visibility":5')
         WHERE room_id = '{room}' AND type = 'm.room.history_visibility';
        UPDATE events SET pdu = replace(pdu, '"body":"hi"', '"body":"hi","membership":7')
         WHERE room_id = '{room}' AND type = 'm.room.message';
        UPDATE events SET pdu = replace(pdu, '"membership":"join"', '"membership":{{"x":1}}')
         WHERE room_id = '{room}' AND type = 'm.room.member' AND state_key = '{bob.user_id}';
        UPDATE events SET pdu = regexp_replace(pdu, '"origin_server_ts":[0-9]+',
                                               '"origin_server_ts":"soon"')
         WHERE room_id = '{room}' AND type = 'm.room.name';
    """)
    for client in (alice, bob):
        out = client.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=50)
        assert any(e["type"] == "m.room.message" for e in out["chunk"])
        client.ok("GET", f"/rooms/{q(room)}/state")
        client.ok("GET", f"/rooms/{q(room)}/members")
        client.ok("GET", f"/rooms/{q(room)}/state/m.room.history_visibility")
        sync = client.sync()
        assert room in sync["rooms"]["join"]
    # A malformed history_visibility reads as "joined": bob (joined) still
    # sees what came after his join.
    alice.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/m2", {"msgtype": "m.text", "body": "new"})
    sync = bob.sync(since=since)
    assert "new" in json.dumps(sync["rooms"]["join"][room]["timeline"])
