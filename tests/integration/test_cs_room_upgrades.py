"""Spec "Room Upgrades": POST /rooms/{roomId}/upgrade: the tombstone, the new
room's predecessor, the transferable state and bans copied, the power levels
(copied exactly; the old room made read-only), local aliases, the canonical
alias and the directory listing moved, and the errors. Against the real
binary and PostgreSQL."""

import pytest

from cs_client import q, send_event, text

SERVER = "e2e.test"


def state(client, room, event_type, state_key=""):
    return client.ok("GET", f"/rooms/{q(room)}/state/{event_type}/{q(state_key)}")


def create_event(client, room):
    found = [e for e in client.ok("GET", f"/rooms/{q(room)}/state") if e["type"] == "m.room.create"]
    return found[0]


@pytest.mark.parametrize("version", ["10", "11"])
def test_upgrade_copies_state_and_moves_aliases(alice, bob, carol, version):
    alias = f"#upgrade{version}:{SERVER}"
    old = alice.ok("POST", "/createRoom", {
        "preset": "public_chat", "visibility": "public", "name": "Old name",
        "topic": "Old topic", "room_alias_name": f"upgrade{version}", "room_version": "10",
        "creation_content": {"type": "m.space"},
        "initial_state": [
            {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}},
            {"type": "m.room.guest_access", "content": {"guest_access": "forbidden"}},
            {"type": "m.room.avatar", "content": {"url": "mxc://e2e.test/avatar"}},
        ],
        "power_level_content_override": {"users": {alice.user_id: 100, bob.user_id: 50},
                                          "events": {"m.room.topic": 75}}})["room_id"]
    bob.ok("POST", f"/join/{q(old)}", {})
    carol.ok("POST", f"/join/{q(old)}", {})
    alice.ok("POST", f"/rooms/{q(old)}/ban", {"user_id": "@spammer:" + SERVER, "reason": "spam"})
    old_levels = state(alice, old, "m.room.power_levels")
    last = send_event(alice, old, text("last words"))

    new = alice.ok("POST", f"/rooms/{q(old)}/upgrade", {"new_version": version})["replacement_room"]
    assert new != old

    tombstone = state(bob, old, "m.room.tombstone")
    assert tombstone["replacement_room"] == new and tombstone["body"]
    create = create_event(alice, new)
    assert create["content"]["room_version"] == version
    assert create["content"]["predecessor"]["room_id"] == old
    assert create["content"]["predecessor"]["event_id"] == last
    assert create["content"]["type"] == "m.space"

    assert state(alice, new, "m.room.name")["name"] == "Old name"
    assert state(alice, new, "m.room.topic")["topic"] == "Old topic"
    assert state(alice, new, "m.room.avatar")["url"] == "mxc://e2e.test/avatar"
    assert state(alice, new, "m.room.history_visibility")["history_visibility"] == "joined"
    assert state(alice, new, "m.room.guest_access")["guest_access"] == "forbidden"
    assert state(alice, new, "m.room.join_rules")["join_rule"] == "public"
    assert state(alice, new, "m.room.member", "@spammer:" + SERVER)["membership"] == "ban"
    # The power levels are the old room's, exactly.
    new_levels = state(alice, new, "m.room.power_levels")
    assert new_levels["users"] == old_levels["users"]
    assert new_levels["events"]["m.room.topic"] == 75

    # Aliases, canonical alias and directory listing follow the room.
    assert alice.ok("GET", f"/directory/room/{q(alias)}")["room_id"] == new
    assert state(alice, new, "m.room.canonical_alias")["alias"] == alias
    assert "alias" not in state(alice, old, "m.room.canonical_alias")
    assert bob.ok("GET", f"/directory/list/room/{q(new)}")["visibility"] == "public"
    assert bob.ok("GET", f"/directory/list/room/{q(old)}")["visibility"] == "private"

    # The old room is read-only for ordinary members; the members can join the new one.
    restricted = state(alice, old, "m.room.power_levels")
    assert restricted["events_default"] >= 50 and restricted["invite"] >= 50
    carol.error(403, "M_FORBIDDEN", "PUT", f"/rooms/{q(old)}/send/m.room.message/late", text("hi"))
    carol.ok("POST", f"/join/{q(new)}", {})


def test_upgrade_errors(alice, bob):
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/join/{q(room)}", {})
    alice.error(400, "M_UNSUPPORTED_ROOM_VERSION", "POST", f"/rooms/{q(room)}/upgrade",
                {"new_version": "999"})
    alice.error(400, "M_MISSING_PARAM", "POST", f"/rooms/{q(room)}/upgrade", {})
    # Bob lacks the power to send the tombstone: refused, and nothing changes.
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{q(room)}/upgrade", {"new_version": "11"})
    assert alice.call("GET", f"/rooms/{q(room)}/state/m.room.tombstone/")[0] == 404
    before = set(alice.ok("GET", "/joined_rooms")["joined_rooms"])
    assert before == {room}


def test_upgrade_of_private_room_with_restricted_upgrader_levels(alice, bob):
    # A moderator at 50 whom the room lets send tombstones, but not power
    # levels: the new room still gets the exact old levels.
    room = alice.ok("POST", "/createRoom", {
        "preset": "private_chat",
        "power_level_content_override": {"users": {alice.user_id: 100, bob.user_id: 50},
                                          "events": {"m.room.tombstone": 50,
                                                     "m.room.power_levels": 100}}})["room_id"]
    alice.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": bob.user_id})
    bob.ok("POST", f"/join/{q(room)}", {})
    new = bob.ok("POST", f"/rooms/{q(room)}/upgrade", {"new_version": "11"})["replacement_room"]
    levels = state(bob, new, "m.room.power_levels")
    assert levels["users"] == {alice.user_id: 100, bob.user_id: 50}
    assert state(bob, new, "m.room.join_rules")["join_rule"] == "invite"
    assert state(bob, room, "m.room.tombstone")["replacement_room"] == new
    # Bob could not change the old room's power levels (100 needed): they stay.
    assert state(bob, room, "m.room.power_levels")["events_default"] == 0
