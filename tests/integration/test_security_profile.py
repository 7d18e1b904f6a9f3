"""Issue 10, finding 12: GET /profile/{userId} told existing accounts from
unknown ones to anyone, without a login. The spec's (and Synapse's) options
require_auth_for_profile_requests and
limit_profile_requests_to_users_who_share_rooms now exist (off by default,
as in Synapse):

- with the first, anonymous profile requests get 401 M_MISSING_TOKEN;
- with the second, a caller who shares no room with the user gets 403
  M_FORBIDDEN, the same answer for an account that does not exist; the
  caller's own profile and those of room-mates stay readable."""

from conftest import http_json
from cs_client import CS, register

PATHS = ["", "/displayname", "/avatar_url"]


def ready(start_node, **env):
    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false", **env)
    node.wait_ready()
    return node


def anonymous(node, user_id, tail=""):
    return http_json("GET", node.url(f"{CS}/profile/{user_id}{tail}"))


def test_default_profiles_stay_public(start_node):
    node = ready(start_node)
    alice = register(node, "alice")
    alice.ok("PUT", f"/profile/{alice.user_id}/displayname", {"displayname": "Alice"})
    status, out = anonymous(node, alice.user_id)
    assert status == 200 and out["displayname"] == "Alice"
    status, out = anonymous(node, "@nobody:e2e.test")
    assert status == 404 and out["errcode"] == "M_NOT_FOUND"


def test_require_auth_for_profile_requests(start_node):
    node = ready(start_node, ELTRIX_REQUIRE_AUTH_FOR_PROFILE_REQUESTS="true")
    alice = register(node, "alice")
    bob = register(node, "bob")
    for tail in PATHS:
        # Anonymous: the same 401 whether or not the account exists.
        for user in (alice.user_id, "@nobody:e2e.test"):
            status, out = anonymous(node, user, tail)
            assert status == 401 and out["errcode"] == "M_MISSING_TOKEN", (user, tail, out)
        # Signed in: profiles of everyone, as without the option.
        bob.ok("GET", f"/profile/{alice.user_id}{tail}")
    bob.error(404, "M_NOT_FOUND", "GET", "/profile/@nobody:e2e.test")
    status, out = http_json("GET", node.url(f"{CS}/profile/{alice.user_id}"),
                            headers={"Authorization": "Bearer not-a-token"})
    assert status == 401 and out["errcode"] == "M_UNKNOWN_TOKEN"


def test_limit_profile_requests_to_users_who_share_rooms(start_node):
    node = ready(start_node, ELTRIX_LIMIT_PROFILE_REQUESTS_TO_USERS_WHO_SHARE_ROOMS="true")
    alice = register(node, "alice")
    bob = register(node, "bob")
    eve = register(node, "eve")
    alice.ok("PUT", f"/profile/{alice.user_id}/displayname", {"displayname": "Alice"})
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/join/{room}", {})

    for tail in PATHS:
        # A room-mate and the user themselves may read the profile.
        bob.ok("GET", f"/profile/{alice.user_id}{tail}")
        alice.ok("GET", f"/profile/{alice.user_id}{tail}")
        eve.ok("GET", f"/profile/{eve.user_id}{tail}")
        # A stranger may not; an unknown account looks the same to them.
        eve.error(403, "M_FORBIDDEN", "GET", f"/profile/{alice.user_id}{tail}")
        eve.error(403, "M_FORBIDDEN", "GET", f"/profile/@nobody:e2e.test{tail}")
        # Nor may anonymous callers, who cannot be checked for shared rooms.
        status, out = anonymous(node, alice.user_id, tail)
        assert status == 401 and out["errcode"] == "M_MISSING_TOKEN", out

    assert bob.ok("GET", f"/profile/{alice.user_id}")["displayname"] == "Alice"
    # Leaving the room ends it.
    bob.ok("POST", f"/rooms/{room}/leave", {})
    bob.error(403, "M_FORBIDDEN", "GET", f"/profile/{alice.user_id}")
