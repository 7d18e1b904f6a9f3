"""Client-Server API, "Room membership" (spec v1.12, sections 10.2.x: kicking,
banning, unbanning, inviting), against the real binary and PostgreSQL.

A kick and an unban are the same m.room.member leave event to the
authorization rules, so the difference lives in the local operation that
builds the event (core/rooms/room_membership.cpp, decision D42)."""

from cs_client import register


def make_room(alice, bob, preset="public_chat"):
    room_id = alice.ok("POST", "/createRoom", {"preset": preset})["room_id"]
    return room_id


def membership(client, room_id, user_id):
    status, out = client.call("GET", f"/rooms/{room_id}/state/m.room.member/{user_id}")
    return out.get("membership") if status == 200 else None


def test_kicking_a_user_not_in_the_room_is_forbidden(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = make_room(alice, bob)
    # Never in the room: 403, and no member event appears.
    alice.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/kick", {"user_id": bob.user_id})
    assert membership(alice, room_id, bob.user_id) is None
    # Left already: 403 too, and the leave stays the leave bob sent.
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    left = bob.ok("POST", f"/rooms/{room_id}/leave", {})
    assert left == {}
    state_ids = lambda: sorted(e["event_id"] for e in alice.ok("GET", f"/rooms/{room_id}/state"))
    before = state_ids()
    alice.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/kick", {"user_id": bob.user_id})
    assert state_ids() == before
    # A user of an unknown account is not in the room either.
    alice.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/kick",
                {"user_id": "@nobody:e2e.test"})


def test_kicking_a_joined_or_invited_user_works(node):
    alice, bob, carol = register(node, "alice"), register(node, "bob"), register(node, "carol")
    room_id = make_room(alice, bob)
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    alice.ok("POST", f"/rooms/{room_id}/kick", {"user_id": bob.user_id, "reason": "spam"})
    event = alice.ok("GET", f"/rooms/{room_id}/state/m.room.member/{bob.user_id}")
    assert event == {"membership": "leave", "reason": "spam"}
    # Kicking an invited user withdraws the invite.
    alice.ok("POST", f"/rooms/{room_id}/invite", {"user_id": carol.user_id})
    alice.ok("POST", f"/rooms/{room_id}/kick", {"user_id": carol.user_id})
    assert membership(alice, room_id, carol.user_id) == "leave"


def test_a_ban_stays_a_ban_until_unban(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room_id = make_room(alice, bob)
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    alice.ok("POST", f"/rooms/{room_id}/ban", {"user_id": bob.user_id})
    # Kicking the banned user would lift the ban (the same event as an
    # unban): refused, and bob cannot rejoin.
    err = alice.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/kick",
                      {"user_id": bob.user_id})
    assert "banned" in err["error"]
    assert membership(alice, room_id, bob.user_id) == "ban"
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/join", {})
    # Leaving does not lift it either.
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/leave", {})
    assert membership(alice, room_id, bob.user_id) == "ban"
    # Only unban does; then bob may join again.
    alice.ok("POST", f"/rooms/{room_id}/unban", {"user_id": bob.user_id})
    assert membership(alice, room_id, bob.user_id) == "leave"
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    assert membership(alice, room_id, bob.user_id) == "join"


def test_kick_and_ban_need_power(node):
    alice, bob, carol = register(node, "alice"), register(node, "bob"), register(node, "carol")
    room_id = make_room(alice, bob)
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    carol.ok("POST", f"/rooms/{room_id}/join", {})
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/kick", {"user_id": carol.user_id})
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/ban", {"user_id": carol.user_id})
    alice.ok("POST", f"/rooms/{room_id}/ban", {"user_id": carol.user_id})
    bob.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/unban", {"user_id": carol.user_id})
    assert membership(alice, room_id, carol.user_id) == "ban"


def test_inviting_a_user_of_another_server_is_refused(node):
    """Spec 10.2.2 (POST /rooms/{roomId}/invite): until federation exists an
    invite of a remote user could never be delivered, so it is refused.
    403 M_FORBIDDEN rather than the 502 Synapse returns when the other server
    cannot be reached: the refusal is permanent on this server (a 5xx tells
    clients to retry), and M_FORBIDDEN is an errcode the spec lists for
    /invite. The message says why (decision D43)."""
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    err = alice.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/invite",
                      {"user_id": "@bob:elsewhere.example"})
    assert "federate" in err["error"] and "elsewhere.example" in err["error"]
    assert membership(alice, room_id, "@bob:elsewhere.example") is None
    # createRoom with a remote invitee is refused as a whole: no room is made.
    before = alice.ok("GET", "/joined_rooms")["joined_rooms"]
    alice.error(403, "M_FORBIDDEN", "POST", "/createRoom",
                {"invite": ["@bob:elsewhere.example"], "is_direct": True})
    assert alice.ok("GET", "/joined_rooms")["joined_rooms"] == before
    # Local users are still invited as before.
    bob = register(node, "bob")
    alice.ok("POST", f"/rooms/{room_id}/invite", {"user_id": bob.user_id})
    assert membership(alice, room_id, bob.user_id) == "invite"
