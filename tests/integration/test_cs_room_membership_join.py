"""Client-Server API, "Joining rooms" and GET /rooms/{roomId}/joined_members
(spec v1.12, section 10.2): the extra keys of a /join body go into the member
event, except the ones the server sets; joined_members carries display names
and avatars. Real binary, real PostgreSQL."""

from cs_client import q, register


def test_join_body_keys_go_into_the_member_event(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    bob.ok("PUT", f"/profile/{q(bob.user_id)}/displayname", {"displayname": "Bob"})
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/rooms/{room_id}/join", {
        "reason": "invited by a friend",
        "org.example.custom": {"nested": [1, 2]},
        # Set by the server: the client's values are ignored.
        "membership": "leave", "displayname": "Alice", "avatar_url": "mxc://evil/x",
        "join_authorised_via_users_server": alice.user_id})
    content = alice.ok("GET", f"/rooms/{room_id}/state/m.room.member/{bob.user_id}")
    assert content == {"membership": "join", "displayname": "Bob",
                       "reason": "invited by a friend",
                       "org.example.custom": {"nested": [1, 2]}}, content
    # The same through /join/{roomIdOrAlias}.
    carol = register(node, "carol")
    carol.ok("POST", f"/join/{q(room_id)}", {"org.example.flag": True})
    content = alice.ok("GET", f"/rooms/{room_id}/state/m.room.member/{carol.user_id}")
    assert content["org.example.flag"] is True and content["membership"] == "join"


def test_joined_members_have_names_and_avatars(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "Alice"})
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/avatar_url", {"avatar_url": "mxc://e2e.test/av"})
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/rooms/{room_id}/join", {})
    joined = bob.ok("GET", f"/rooms/{room_id}/joined_members")["joined"]
    assert joined[alice.user_id] == {"display_name": "Alice", "avatar_url": "mxc://e2e.test/av"}
    assert joined[bob.user_id] == {"display_name": "bob"}
