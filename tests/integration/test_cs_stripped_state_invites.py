"""Client-Server API, "Stripped state" (spec v1.12, section 6.6 and
m.room.member's invite_room_state): what an invitee sees of a room before
joining. The inviter's own membership goes along with the spec's set, so a
client can show who invited (Element otherwise shows a DM invite as "Empty
room"). Real binary, real PostgreSQL."""

from cs_client import q, register

SPEC_SET = {"m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar",
            "m.room.canonical_alias", "m.room.encryption"}


def invite_state(client, room_id):
    sync = client.sync()
    return sync["rooms"]["invite"][room_id]["invite_state"]["events"]


def test_invite_state_carries_the_inviter_and_the_spec_set(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "Alice A."})
    room_id = alice.ok("POST", "/createRoom", {
        "preset": "private_chat", "name": "Plans", "room_alias_name": "plans",
        "initial_state": [
            {"type": "m.room.avatar", "state_key": "", "content": {"url": "mxc://e2e.test/a"}},
            {"type": "m.room.encryption", "state_key": "",
             "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
        ]})["room_id"]
    alice.ok("POST", f"/rooms/{room_id}/invite", {"user_id": bob.user_id})
    events = invite_state(bob, room_id)
    by_key = {(e["type"], e.get("state_key")): e for e in events}
    assert {t for t, _ in by_key} >= SPEC_SET
    # Stripped events: type, state_key, sender, content and nothing else.
    for event in events:
        assert set(event) <= {"type", "state_key", "sender", "content"}, event
    inviter = by_key[("m.room.member", alice.user_id)]
    assert inviter["content"]["membership"] == "join"
    assert inviter["content"]["displayname"] == "Alice A."
    assert by_key[("m.room.member", bob.user_id)]["content"]["membership"] == "invite"
    assert by_key[("m.room.member", bob.user_id)]["sender"] == alice.user_id
    assert by_key[("m.room.name", "")]["content"]["name"] == "Plans"
    assert by_key[("m.room.canonical_alias", "")]["content"]["alias"] == "#plans:e2e.test"
    # Nothing beyond that: no power levels, no history visibility, no other members.
    assert ("m.room.power_levels", "") not in by_key
    assert ("m.room.history_visibility", "") not in by_key


def test_dm_invite_from_create_room_shows_the_inviter(node):
    alice, bob, carol = register(node, "alice"), register(node, "bob"), register(node, "carol")
    room_id = alice.ok("POST", "/createRoom", {"preset": "trusted_private_chat",
                                               "is_direct": True,
                                               "invite": [bob.user_id]})["room_id"]
    carol.ok("POST", "/createRoom", {})  # unrelated activity
    events = invite_state(bob, room_id)
    members = {e["state_key"]: e for e in events if e["type"] == "m.room.member"}
    assert set(members) == {alice.user_id, bob.user_id}
    assert members[bob.user_id]["content"].get("is_direct") is True
