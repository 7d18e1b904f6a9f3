"""Restricted rooms (spec: room versions 8+, "Restricted rooms"; issue 10,
finding 2): a user may join a `restricted` or `knock_restricted` room without
an invite only when an `allow` condition holds, and the server, never the
client, names the user who authorises the join."""


import pytest

from cs_client import q, register

VIA = "join_authorised_via_users_server"


def member(client, room, user):
    return client.ok("GET", f"/rooms/{q(room)}/state/m.room.member/{q(user)}")


def restricted_room(owner, space, rule="restricted"):
    return owner.ok("POST", "/createRoom", {
        "preset": "private_chat", "room_version": "10",
        "initial_state": [{"type": "m.room.join_rules", "content": {
            "join_rule": rule,
            "allow": [{"type": "m.room_membership", "room_id": space}]}}]})["room_id"]


@pytest.mark.parametrize("rule", ["restricted", "knock_restricted"])
def test_restricted_joins_follow_the_allow_conditions(node, rule):
    alice, bob, carol = register(node, "alice"), register(node, "bob"), register(node, "carol")
    space = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    room = restricted_room(alice, space, rule)

    # Carol is in no allowed room: a client-supplied authoriser does not help.
    carol.error(403, "M_FORBIDDEN", "PUT", f"/rooms/{q(room)}/state/m.room.member/{q(carol.user_id)}",
                {"membership": "join", VIA: alice.user_id})
    carol.error(403, "M_FORBIDDEN", "POST", f"/rooms/{q(room)}/join", {})
    carol.error(403, "M_FORBIDDEN", "POST", f"/join/{q(room)}", {})
    members = alice.ok("GET", f"/rooms/{q(room)}/joined_members")["joined"]
    assert carol.user_id not in members

    # Bob is in the allowed room: /join works, and the server names Alice.
    bob.ok("POST", f"/join/{q(space)}", {})
    bob.ok("POST", f"/rooms/{q(room)}/join", {})
    assert member(alice, room, bob.user_id)[VIA] == alice.user_id

    # Carol joins the allowed room too, then joins through PUT state naming
    # herself as the authoriser: the server replaces that with Alice.
    carol.ok("POST", f"/join/{q(space)}", {})
    carol.ok("PUT", f"/rooms/{q(room)}/state/m.room.member/{q(carol.user_id)}",
             {"membership": "join", VIA: carol.user_id})
    assert member(alice, room, carol.user_id)[VIA] == alice.user_id


def test_invited_users_join_without_the_allow_check(node):
    alice, dave = register(node, "alice"), register(node, "dave")
    space = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    room = restricted_room(alice, space)
    alice.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": dave.user_id})
    dave.ok("POST", f"/join/{q(room)}", {})
    content = member(alice, room, dave.user_id)
    assert content["membership"] == "join" and VIA not in content
    # A member's profile change (join -> join) needs no authoriser either,
    # and a supplied one is dropped.
    dave.ok("PUT", f"/rooms/{q(room)}/state/m.room.member/{q(dave.user_id)}",
            {"membership": "join", "displayname": "Dave", VIA: alice.user_id})
    content = member(alice, room, dave.user_id)
    assert content["displayname"] == "Dave" and VIA not in content


def test_no_authoriser_with_invite_power_means_no_join(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    space = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    room = alice.ok("POST", "/createRoom", {
        "preset": "private_chat", "room_version": "10",
        "power_level_content_override": {"invite": 50, "users": {alice.user_id: 100}},
        "initial_state": [{"type": "m.room.join_rules", "content": {
            "join_rule": "restricted",
            "allow": [{"type": "m.room_membership", "room_id": space}]}}]})["room_id"]
    bob.ok("POST", f"/join/{q(space)}", {})
    # Alice (100) can invite: Bob gets in through her.
    bob.ok("POST", f"/join/{q(room)}", {})
    assert member(alice, room, bob.user_id)[VIA] == alice.user_id
    # Once Alice has left, nobody in the room may invite.
    carol = register(node, "carol")
    carol.ok("POST", f"/join/{q(space)}", {})
    alice.ok("POST", f"/rooms/{q(room)}/leave", {})
    carol.error(403, "M_FORBIDDEN", "POST", f"/join/{q(room)}", {})
    # Someone banned is refused even with the allow condition met.
    assert bob.ok("GET", "/joined_rooms")["joined_rooms"]
