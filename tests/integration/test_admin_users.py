"""The admin API's user endpoints (/_synapse/admin/v1 and v2) end to end:
each one for a server admin, and refused to others with 403 M_FORBIDDEN."""

from admin_client import (ADMIN, PASSWORD, SERVER, admin_call, admin_error, admin_ok,
                          assert_admin_only, login, q, server)  # noqa: F401 (fixture)
from conftest import http_json
from cs_client import Client, register


def test_list_users_pages_filters_and_orders(server):
    for name in ("listalice", "listbob", "listcarol"):
        register(server.node, name)
    admin_ok(server.admin, "PUT", "/v2/users/" + q(f"@listbob:{SERVER}"),
             {"displayname": "zed bob"})
    out = admin_ok(server.admin, "GET", "/v2/users", name="list", limit="2")
    assert out["total"] == 3 and len(out["users"]) == 2 and out["next_token"] == "2"
    assert [u["name"] for u in out["users"]] == [f"@listalice:{SERVER}", f"@listbob:{SERVER}"]
    rest = admin_ok(server.admin, "GET", "/v2/users", name="list", limit="2", **{"from": "2"})
    assert [u["name"] for u in rest["users"]] == [f"@listcarol:{SERVER}"]
    assert "next_token" not in rest
    # name matches display names too; dir=b reverses.
    assert [u["name"] for u in admin_ok(server.admin, "GET", "/v2/users", name="zed")["users"]] \
        == [f"@listbob:{SERVER}"]
    back = admin_ok(server.admin, "GET", "/v2/users", name="list", dir="b", order_by="name")
    assert back["users"][0]["name"] == f"@listcarol:{SERVER}"
    by_name = admin_ok(server.admin, "GET", "/v2/users", name="list", order_by="displayname",
                       dir="b")
    assert by_name["users"][0]["displayname"] == "zed bob"
    # user_id filters on the whole ID; admins=true only admins.
    assert admin_ok(server.admin, "GET", "/v2/users", user_id="listcar")["total"] == 1
    admins = admin_ok(server.admin, "GET", "/v2/users", admins="true")["users"]
    assert [u["name"] for u in admins] == [f"@root:{SERVER}"]
    # Deactivated users only with deactivated=true.
    admin_ok(server.admin, "POST", "/v1/deactivate/" + q(f"@listcarol:{SERVER}"), {})
    assert admin_ok(server.admin, "GET", "/v2/users", name="list")["total"] == 2
    assert admin_ok(server.admin, "GET", "/v2/users", name="list", deactivated="true")["total"] == 3
    # Bad parameters are 400 M_INVALID_PARAM, as Synapse answers.
    for bad in ({"order_by": "password"}, {"dir": "x"}, {"limit": "-1"}, {"from": "abc"},
                {"deactivated": "maybe"}):
        admin_error(server.admin, 400, "M_INVALID_PARAM", "GET", "/v2/users", **bad)
    assert_admin_only(server, "GET", "/v2/users")


def test_query_user(server):
    user = server.new_user("query")
    out = admin_ok(server.admin, "GET", "/v2/users/" + q(user.user_id))
    assert out["name"] == user.user_id and out["admin"] is False and out["deactivated"] is False
    assert out["threepids"] == [] and out["external_ids"] == [] and out["erased"] is False
    # Seconds here (Synapse's unit for this endpoint), milliseconds in the list.
    assert 1_500_000_000 < out["creation_ts"] < 10_000_000_000
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", "/v2/users/" + q(f"@nobody:{SERVER}"))
    admin_error(server.admin, 400, "M_INVALID_PARAM", "GET", "/v2/users/" + q("@x:elsewhere.org"))
    assert_admin_only(server, "GET", "/v2/users/" + q(user.user_id))


def test_create_and_modify_user(server):
    uid = f"@created:{SERVER}"
    out = admin_ok(server.admin, "PUT", "/v2/users/" + q(uid),
                   {"password": PASSWORD, "displayname": "Created One", "admin": False},
                   expected=201)
    assert out["name"] == uid and out["displayname"] == "Created One"
    created = login(server.node, "created")
    assert created.ok("GET", "/account/whoami")["user_id"] == uid
    # Modify: display name, avatar, admin; 200 this time.
    out = admin_ok(server.admin, "PUT", "/v2/users/" + q(uid),
                   {"displayname": "Renamed", "avatar_url": "mxc://e2e.test/abc", "admin": True})
    assert (out["displayname"], out["avatar_url"], out["admin"]) == \
        ("Renamed", "mxc://e2e.test/abc", True)
    # The admin flag reaches the user's existing token at once.
    assert created.call("GET", "/v2/users", prefix=ADMIN)[0] == 200
    admin_ok(server.admin, "PUT", "/v2/users/" + q(uid), {"admin": False, "displayname": ""})
    assert created.call("GET", "/v2/users", prefix=ADMIN)[0] == 403
    assert admin_ok(server.admin, "GET", "/v2/users/" + q(uid))["displayname"] is None
    # A new password logs the devices out (logout_devices defaults to true).
    admin_ok(server.admin, "PUT", "/v2/users/" + q(uid), {"password": "another good password"})
    assert created.call("GET", "/account/whoami")[0] == 401
    relogged = login(server.node, "created", "another good password")
    # logout_devices=false keeps them.
    admin_ok(server.admin, "PUT", "/v2/users/" + q(uid),
             {"password": PASSWORD, "logout_devices": False})
    assert relogged.call("GET", "/account/whoami")[0] == 200
    # Deactivate through PUT, then reactivate (needs a password).
    admin_ok(server.admin, "PUT", "/v2/users/" + q(uid), {"deactivated": True})
    assert relogged.call("GET", "/account/whoami")[0] == 401
    admin_error(server.admin, 400, "M_INVALID_PARAM", "PUT", "/v2/users/" + q(uid),
                {"deactivated": False})
    out = admin_ok(server.admin, "PUT", "/v2/users/" + q(uid),
                   {"deactivated": False, "password": PASSWORD})
    assert out["deactivated"] is False
    login(server.node, "created")
    # What synapse-admin sends back on an edit (empty lists, nulls) is fine;
    # what Eltrix cannot store is refused.
    admin_ok(server.admin, "PUT", "/v2/users/" + q(uid),
             {"threepids": [], "external_ids": [], "user_type": None, "locked": False})
    admin_error(server.admin, 400, "M_INVALID_PARAM", "PUT", "/v2/users/" + q(uid),
                {"threepids": [{"medium": "email", "address": "a@b.c"}]})
    admin_error(server.admin, 400, "M_INVALID_PARAM", "PUT", "/v2/users/" + q(uid),
                {"admin": "yes"})
    admin_error(server.admin, 400, "M_WEAK_PASSWORD", "PUT", "/v2/users/" + q(uid),
                {"password": "short"})
    # Creating needs a valid localpart and a password.
    admin_error(server.admin, 400, "M_INVALID_USERNAME", "PUT",
                "/v2/users/" + q(f"@Upper Case:{SERVER}"), {"password": PASSWORD})
    admin_error(server.admin, 400, "M_MISSING_PARAM", "PUT", "/v2/users/" + q(f"@nopw:{SERVER}"),
                {})
    # An admin cannot demote themself.
    admin_error(server.admin, 400, "M_INVALID_PARAM", "PUT", "/v2/users/" + q(server.admin.user_id),
                {"admin": False})
    assert_admin_only(server, "PUT", "/v2/users/" + q(f"@sneaky:{SERVER}"),
                      {"password": PASSWORD, "admin": True})
    assert server.sql(f"SELECT count(*) FROM users WHERE user_id = '@sneaky:{SERVER}'") == "0"


def test_deactivate_revokes_tokens_leaves_rooms_and_erases(server):
    user = server.new_user("deact")
    room = user.ok("POST", "/createRoom", {})["room_id"]
    invited_to = server.admin.ok("POST", "/createRoom", {"invite": [user.user_id]})["room_id"]
    user.ok("PUT", "/profile/" + q(user.user_id) + "/displayname", {"displayname": "Gone Soon"})
    assert_admin_only(server, "POST", "/v1/deactivate/" + q(user.user_id), {"erase": True})
    out = admin_ok(server.admin, "POST", "/v1/deactivate/" + q(user.user_id), {"erase": True})
    assert out == {"id_server_unbind_result": "success"}
    # The token is dead at once (the cache was told), the user left the room
    # and rejected the invite, and the profile is erased.
    assert user.call("GET", "/account/whoami")[0] == 401
    for room_id in (room, invited_to):
        assert server.sql(f"SELECT membership FROM room_memberships WHERE room_id = '{room_id}' "
                          f"AND user_id = '{user.user_id}'") == "leave"
    details = admin_ok(server.admin, "GET", "/v2/users/" + q(user.user_id))
    assert (details["deactivated"], details["erased"], details["displayname"]) == \
        (True, True, None)
    status, _ = http_json("POST", server.node.url("/_matrix/client/v3/login"),
                          body=b'{"type":"m.login.password","user":"%s","password":"%s"}'
                          % (user.user_id.encode(), PASSWORD.encode()),
                          headers={"Content-Type": "application/json"})
    assert status == 403
    admin_error(server.admin, 404, "M_NOT_FOUND", "POST", "/v1/deactivate/" + q(f"@no:{SERVER}"))


def test_reset_password(server):
    user = server.new_user("reset")
    assert_admin_only(server, "POST", "/v1/reset_password/" + q(user.user_id),
                      {"new_password": "brand new password"})
    admin_ok(server.admin, "POST", "/v1/reset_password/" + q(user.user_id),
             {"new_password": "brand new password"})
    assert user.call("GET", "/account/whoami")[0] == 401
    login(server.node, user.user_id, "brand new password")
    admin_error(server.admin, 400, "M_MISSING_PARAM", "POST",
                "/v1/reset_password/" + q(user.user_id), {})
    admin_error(server.admin, 404, "M_NOT_FOUND", "POST", "/v1/reset_password/" + q(f"@no:{SERVER}"),
                {"new_password": "brand new password"})


def test_whois(server):
    user = server.new_user("whois")
    user.ok("GET", "/account/whoami")
    out = admin_ok(server.admin, "GET", "/v1/whois/" + q(user.user_id))
    assert out["user_id"] == user.user_id
    session = out["devices"][user.device_id]["sessions"][0]
    assert session["connections"][0]["ip"] == "127.0.0.1"
    assert session["connections"][0]["last_seen"] > 0
    # The Client-Server API's own whois answers the same.
    assert server.admin.ok("GET", "/admin/whois/" + q(user.user_id)) == out
    assert_admin_only(server, "GET", "/v1/whois/" + q(user.user_id))


def test_user_devices(server):
    user = server.new_user("dev")
    second = login(server.node, user.user_id)
    path = f"/v2/users/{q(user.user_id)}/devices"
    out = admin_ok(server.admin, "GET", path)
    assert out["total"] == 2
    assert {d["device_id"] for d in out["devices"]} == {user.device_id, second.device_id}
    assert all(d["user_id"] == user.user_id for d in out["devices"])
    admin_ok(server.admin, "PUT", f"{path}/{q(second.device_id)}", {"display_name": "phone"})
    assert admin_ok(server.admin, "GET", f"{path}/{q(second.device_id)}")["display_name"] == "phone"
    admin_ok(server.admin, "DELETE", f"{path}/{q(second.device_id)}")
    assert second.call("GET", "/account/whoami")[0] == 401
    assert user.call("GET", "/account/whoami")[0] == 200
    admin_ok(server.admin, "POST", f"/v2/users/{q(user.user_id)}/delete_devices",
             {"devices": [user.device_id, "unknown"]})
    assert user.call("GET", "/account/whoami")[0] == 401
    assert admin_ok(server.admin, "GET", path)["total"] == 0
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", f"{path}/nope")
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", f"/v2/users/{q('@no:' + SERVER)}/devices")
    assert_admin_only(server, "GET", path)
    assert_admin_only(server, "DELETE", f"{path}/x")
    assert_admin_only(server, "POST", f"/v2/users/{q(user.user_id)}/delete_devices",
                      {"devices": []})


def test_joined_rooms(server):
    user = server.new_user("joined")
    rooms = sorted(user.ok("POST", "/createRoom", {})["room_id"] for _ in range(2))
    out = admin_ok(server.admin, "GET", f"/v1/users/{q(user.user_id)}/joined_rooms")
    assert out == {"joined_rooms": rooms, "total": 2}
    assert_admin_only(server, "GET", f"/v1/users/{q(user.user_id)}/joined_rooms")


def test_admin_flag(server):
    user = server.new_user("flag")
    path = f"/v1/users/{q(user.user_id)}/admin"
    assert admin_ok(server.admin, "GET", path) == {"admin": False}
    admin_ok(server.admin, "PUT", path, {"admin": True})
    assert admin_ok(server.admin, "GET", path) == {"admin": True}
    assert user.call("GET", "/v2/users", prefix=ADMIN)[0] == 200
    admin_ok(server.admin, "PUT", path, {"admin": False})
    assert_admin_only(server, "GET", path)
    assert_admin_only(server, "PUT", path, {"admin": True})


def test_shadow_ban(server):
    user = server.new_user("shadow")
    friend = server.new_user("friend")
    room = friend.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    user.ok("POST", f"/join/{q(room)}", {})
    path = f"/v1/users/{q(user.user_id)}/shadow_ban"
    assert_admin_only(server, "POST", path)
    admin_ok(server.admin, "POST", path)
    assert admin_ok(server.admin, "GET", "/v2/users/" + q(user.user_id))["shadow_banned"] is True
    # The user is answered as usual, but nothing is stored or delivered.
    sent = user.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/s1",
                   {"msgtype": "m.text", "body": "spam"})
    assert sent["event_id"].startswith("$")
    topic = user.ok("PUT", f"/rooms/{q(room)}/state/m.room.topic/", {"topic": "spam"})
    assert topic["event_id"].startswith("$")
    assert user.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": server.admin.user_id}) == {}
    own = user.ok("POST", "/createRoom", {"invite": [friend.user_id]})["room_id"]
    assert server.sql(f"SELECT count(*) FROM events WHERE sender = '{user.user_id}' "
                      f"AND type <> 'm.room.member' AND room_id <> '{own}'") == "0"
    assert server.sql(f"SELECT count(*) FROM room_memberships WHERE room_id = '{own}' "
                      f"AND user_id = '{friend.user_id}'") == "0"
    assert server.sql(f"SELECT count(*) FROM room_memberships WHERE room_id = '{room}' "
                      f"AND user_id = '{server.admin.user_id}'") == "0"
    # Lifted: sending works again at once (the cached restriction was dropped).
    admin_ok(server.admin, "DELETE", path)
    assert admin_ok(server.admin, "GET", "/v2/users/" + q(user.user_id))["shadow_banned"] is False
    real = user.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/s2",
                   {"msgtype": "m.text", "body": "hello"})
    assert server.sql(f"SELECT count(*) FROM events WHERE event_id = '{real['event_id']}'") == "1"
    admin_error(server.admin, 400, "M_INVALID_PARAM", "POST",
                f"/v1/users/{q('@x:elsewhere.org')}/shadow_ban")


def test_ratelimit_override(server):
    user = server.new_user("rl")
    path = f"/v1/users/{q(user.user_id)}/override_ratelimit"
    assert admin_ok(server.admin, "GET", path) == {}
    out = admin_ok(server.admin, "POST", path, {"messages_per_second": 5, "burst_count": 10})
    assert out == {"messages_per_second": 5, "burst_count": 10}
    assert admin_ok(server.admin, "GET", path) == out
    assert admin_ok(server.admin, "POST", path, {}) == {"messages_per_second": 0,
                                                        "burst_count": 0}
    admin_error(server.admin, 400, "M_INVALID_PARAM", "POST", path, {"burst_count": -1})
    admin_ok(server.admin, "DELETE", path)
    assert admin_ok(server.admin, "GET", path) == {}
    assert_admin_only(server, "GET", path)
    assert_admin_only(server, "POST", path, {"messages_per_second": 0})
    assert_admin_only(server, "DELETE", path)


def test_server_version_and_audit_log(server):
    # Served to anyone, as Synapse does (synapse-admin reads it before login).
    status, out = http_json("GET", server.node.url(ADMIN + "/v1/server_version"))
    assert status == 200 and out["server_version"].startswith("Eltrix ")
    # Every admin API call is logged, refused ones included.
    admin_ok(server.admin, "GET", "/v2/users")
    admin_error(server.user, 403, "M_FORBIDDEN", "GET", "/v2/users")
    calls = [line for line in server.node.log().splitlines() if "admin API call" in line]
    # A refused call: the caller is not known yet (the token was refused as
    # not an admin's), the status and errcode are.
    assert any("status=403" in line and "errcode=M_FORBIDDEN" in line for line in calls), calls
    # A call that went through names its admin, the method and the path.
    assert any(f"user_id={server.admin.user_id}" in line and "method=GET" in line
               and "path=/_synapse/admin/v2/users" in line and "status=200" in line
               for line in calls), calls


def test_ratelimit_override_is_applied(start_node, database):
    """On a node with a tight send limit (5 events per 5 minutes), an
    override of 0/0 lifts it for that user; deleting it restores it."""
    from admin_client import Server
    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="true",
                      ELTRIX_RATELIMIT_SEND_PER_MINUTE="1", ELTRIX_RATELIMIT_SEND_BURST="5",
                      ELTRIX_RATELIMIT_REGISTER_PER_MINUTE="100",
                      ELTRIX_RATELIMIT_REGISTER_BURST="100")
    node.wait_ready()
    srv = Server(node, database)
    user = srv.new_user("limited")
    room = user.ok("POST", "/createRoom", {})["room_id"]

    def send(i):
        return user.call("PUT", f"/rooms/{q(room)}/send/m.room.message/t{i}",
                         {"msgtype": "m.text", "body": str(i)})[0]

    statuses = [send(i) for i in range(6)]
    assert statuses[-1] == 429, statuses
    path = f"/v1/users/{q(user.user_id)}/override_ratelimit"
    admin_ok(srv.admin, "POST", path, {"messages_per_second": 0, "burst_count": 0})
    assert [send(i) for i in range(10, 20)] == [200] * 10
    admin_ok(srv.admin, "DELETE", path)
    assert send(30) == 429

