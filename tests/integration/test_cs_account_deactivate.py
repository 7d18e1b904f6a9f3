"""Client-Server API, "Account management" (spec v1.12, section 5.7):
POST /account/deactivate behind user-interactive auth (the account, its
devices and tokens go, with erase its profile too, and it leaves every room),
GET /account/3pid (always empty: no third-party identifiers here), and
third-party invites refused with 403 M_FORBIDDEN. Real binary, real
PostgreSQL."""

import json

from conftest import http_json
from cs_client import CS, q, register

PASSWORD = "correct horse battery"


def login(node, user, password=PASSWORD):
    body = {"type": "m.login.password", "password": password,
            "identifier": {"type": "m.id.user", "user": user}}
    return http_json("POST", node.url(CS + "/login"), body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})


def deactivate(client, password=PASSWORD, **body):
    status, first = client.call("POST", "/account/deactivate", body)
    assert status == 401, first
    auth = {"type": "m.login.password", "session": first["session"], "password": password,
            "identifier": {"type": "m.id.user", "user": client.user_id}}
    # Only auth: the first request's body (erase) is remembered.
    return client.call("POST", "/account/deactivate", {"auth": auth})


def test_deactivate_leaves_rooms_and_revokes_everything(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "Alice"})
    shared = bob.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    alice.ok("POST", f"/rooms/{shared}/join", {})
    invited = bob.ok("POST", "/createRoom", {"invite": [alice.user_id]})["room_id"]
    status, out = deactivate(alice, erase=True)
    assert (status, out) == (200, {"id_server_unbind_result": "success"}), out
    # The token is gone, and so is the password.
    alice.error(401, "M_UNKNOWN_TOKEN", "GET", "/account/whoami")
    status, err = login(node, "alice")
    assert status == 403, err
    # Alice left the room and her invite was rejected, as ordinary leaves.
    for room_id in (shared, invited):
        member = bob.ok("GET", f"/rooms/{room_id}/state/m.room.member/{alice.user_id}")
        assert member["membership"] == "leave", member
    assert alice.user_id not in bob.ok("GET", f"/rooms/{shared}/joined_members")["joined"]
    # erase: the profile is gone.
    status, profile = bob.call("GET", f"/profile/{q(alice.user_id)}")
    assert status == 404 or "displayname" not in profile, profile


def test_a_wrong_password_deactivates_nothing(node):
    alice = register(node, "alice")
    status, out = deactivate(alice, password="not my password")
    assert (status, out["errcode"]) == (401, "M_FORBIDDEN"), out
    alice.ok("GET", "/account/whoami")
    assert login(node, "alice")[0] == 200


def test_threepids_are_an_empty_list(node):
    alice = register(node, "alice")
    assert alice.ok("GET", "/account/3pid") == {"threepids": []}


def test_third_party_invites_are_refused(node):
    alice = register(node, "alice")
    room_id = alice.ok("POST", "/createRoom", {})["room_id"]
    err = alice.error(403, "M_FORBIDDEN", "POST", f"/rooms/{room_id}/invite",
                      {"id_server": "id.example.org", "id_access_token": "x",
                       "medium": "email", "address": "bob@example.org"})
    assert "Third-party" in err["error"]
    alice.error(403, "M_FORBIDDEN", "POST", "/createRoom",
                {"invite_3pid": [{"id_server": "id.example.org", "id_access_token": "x",
                                  "medium": "email", "address": "bob@example.org"}]})
