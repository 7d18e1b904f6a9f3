"""The admin API's room endpoints end to end: list, details, members, state,
block, make room admin, forward extremities and deletion (v2 in the
background with delete_status, and v1), each refused to non-admins."""

import time

from admin_client import (SERVER, admin_error, admin_ok, assert_admin_only, q,
                          server)  # noqa: F401 (fixture)


def make_room(owner, name=None, members=(), **extra):
    body = dict(extra)
    if name:
        body["name"] = name
    room = owner.ok("POST", "/createRoom", body)["room_id"]
    for member in members:
        owner.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": member.user_id})
        member.ok("POST", f"/join/{q(room)}", {})
    return room


def wait_deleted(server, delete_id, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = admin_ok(server.admin, "GET", f"/v2/rooms/delete_status/{delete_id}")
        if out["status"] in ("complete", "failed"):
            return out
        time.sleep(0.1)
    raise AssertionError(f"deletion {delete_id} did not finish: {out}")


def test_list_rooms_orders_searches_and_pages(server):
    owner = server.new_user("roomowner")
    guest = server.new_user("roomguest")
    small = make_room(owner, "Aardvark lounge")
    big = make_room(owner, "Zebra hall", members=[guest], room_alias_name="zebrahall")
    out = admin_ok(server.admin, "GET", "/v1/rooms", search_term="lounge")
    assert out["total_rooms"] == 1 and out["offset"] == 0
    room = out["rooms"][0]
    assert room["room_id"] == small and room["name"] == "Aardvark lounge"
    assert room["joined_members"] == 1 and room["joined_local_members"] == 1
    assert room["creator"] == owner.user_id and room["version"]
    assert room["join_rules"] == "invite" and room["history_visibility"] == "shared"
    assert room["federatable"] is True and room["public"] is False
    assert room["state_events"] >= 5 and room["encryption"] is None
    # Search by the alias's localpart and by the room ID.
    found = admin_ok(server.admin, "GET", "/v1/rooms", search_term="zebrahall")["rooms"]
    assert [r["room_id"] for r in found] == [big]
    assert found[0]["canonical_alias"] == f"#zebrahall:{SERVER}"
    assert admin_ok(server.admin, "GET", "/v1/rooms", search_term=big)["total_rooms"] == 1
    # Order by name, both ways; by members, largest first.
    names = [r["name"] for r in admin_ok(server.admin, "GET", "/v1/rooms", order_by="name")["rooms"]
             if r["name"] in ("Aardvark lounge", "Zebra hall")]
    assert names == ["Aardvark lounge", "Zebra hall"]
    names = [r["name"] for r in admin_ok(server.admin, "GET", "/v1/rooms", order_by="name",
                                         dir="b")["rooms"]
             if r["name"] in ("Aardvark lounge", "Zebra hall")]
    assert names == ["Zebra hall", "Aardvark lounge"]
    first = admin_ok(server.admin, "GET", "/v1/rooms", order_by="joined_members")["rooms"][0]
    assert first["joined_members"] >= 2
    # Pages: next_batch while more remain.
    total = admin_ok(server.admin, "GET", "/v1/rooms")["total_rooms"]
    page = admin_ok(server.admin, "GET", "/v1/rooms", limit="1")
    assert len(page["rooms"]) == 1 and page["next_batch"] == 1 and page["total_rooms"] == total
    last = admin_ok(server.admin, "GET", "/v1/rooms", limit="1", **{"from": str(total - 1)})
    assert "next_batch" not in last and last["prev_batch"] == total - 2
    admin_error(server.admin, 400, "M_INVALID_PARAM", "GET", "/v1/rooms", order_by="bogus")
    assert_admin_only(server, "GET", "/v1/rooms")


def test_room_details_members_and_state(server):
    owner = server.new_user("detail")
    guest = server.new_user("detailguest")
    room = make_room(owner, "Details", members=[guest], topic="about things")
    out = admin_ok(server.admin, "GET", f"/v1/rooms/{q(room)}")
    assert out["room_id"] == room and out["topic"] == "about things" and out["name"] == "Details"
    assert out["joined_members"] == 2
    members = admin_ok(server.admin, "GET", f"/v1/rooms/{q(room)}/members")
    assert members == {"members": sorted([owner.user_id, guest.user_id]), "total": 2}
    state = admin_ok(server.admin, "GET", f"/v1/rooms/{q(room)}/state")["state"]
    types = {(e["type"], e["state_key"]) for e in state}
    assert ("m.room.create", "") in types and ("m.room.member", guest.user_id) in types
    assert all(e["event_id"].startswith("$") and "content" in e for e in state)
    missing = q("!missing:" + SERVER)
    for path in (f"/v1/rooms/{missing}", f"/v1/rooms/{missing}/members",
                 f"/v1/rooms/{missing}/state"):
        admin_error(server.admin, 404, "M_NOT_FOUND", "GET", path)
    for path in (f"/v1/rooms/{q(room)}", f"/v1/rooms/{q(room)}/members",
                 f"/v1/rooms/{q(room)}/state"):
        assert_admin_only(server, "GET", path)


def test_block_room(server):
    owner = server.new_user("blockowner")
    joiner = server.new_user("blockjoiner")
    room = make_room(owner, "Blocked", preset="public_chat")
    path = f"/v1/rooms/{q(room)}/block"
    assert admin_ok(server.admin, "GET", path) == {"block": False}
    assert admin_ok(server.admin, "PUT", path, {"block": True}) == {"block": True}
    assert admin_ok(server.admin, "GET", path) == {"block": True,
                                                   "user_id": server.admin.user_id}
    # Nobody joins a blocked room.
    status, out = joiner.call("POST", f"/join/{q(room)}", {})
    assert (status, out["errcode"]) == (403, "M_FORBIDDEN"), out
    admin_ok(server.admin, "PUT", path, {"block": False})
    joiner.ok("POST", f"/join/{q(room)}", {})
    assert_admin_only(server, "GET", path)
    assert_admin_only(server, "PUT", path, {"block": True})


def test_make_room_admin(server):
    owner = server.new_user("mraowner")
    target = server.new_user("mratarget")
    room = make_room(owner, "Power", preset="public_chat")
    path = f"/v1/rooms/{q(room)}/make_room_admin"
    assert_admin_only(server, "POST", path, {"user_id": target.user_id})
    admin_ok(server.admin, "POST", path, {"user_id": target.user_id})
    levels = owner.ok("GET", f"/rooms/{q(room)}/state/m.room.power_levels/")
    assert levels["users"][target.user_id] == 100
    assert target.user_id in admin_ok(server.admin, "GET", f"/v1/rooms/{q(room)}/members")["members"]
    admin_error(server.admin, 400, "M_INVALID_PARAM", "POST", path, {"user_id": "@x:elsewhere.org"})


def test_forward_extremities(server):
    owner = server.new_user("fwd")
    room = make_room(owner, "Extremities")
    path = f"/v1/rooms/{q(room)}/forward_extremities"
    out = admin_ok(server.admin, "GET", path)
    assert out["count"] == 1 and out["results"][0]["event_id"].startswith("$")
    assert out["results"][0]["depth"] > 0
    # A room with one extremity has nothing to trim.
    assert admin_ok(server.admin, "DELETE", path) == {"deleted": 0}
    # Give it a second one (as a federation fork would) and trim it.
    newest = out["results"][0]["event_id"]
    older = server.sql(f"SELECT event_id FROM events WHERE room_id = '{room}' "
                       f"AND type = 'm.room.create'")
    # Extremities live in slots (docs/decisions.md D38).
    server.sql("INSERT INTO room_extremity_slots (room_id, slot, event_id, depth, "
               f"stream_ordering) SELECT '{room}', 7, event_id, depth, stream_ordering "
               f"FROM events WHERE event_id = '{older}'")
    assert admin_ok(server.admin, "GET", path)["count"] == 2
    assert admin_ok(server.admin, "DELETE", path) == {"deleted": 1}
    assert [r["event_id"] for r in admin_ok(server.admin, "GET", path)["results"]] == [newest]
    owner.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/t1", {"msgtype": "m.text", "body": "hi"})
    assert_admin_only(server, "GET", path)
    assert_admin_only(server, "DELETE", path)


def test_delete_room_v2_kicks_blocks_and_purges(server):
    owner = server.new_user("delowner")
    member = server.new_user("delmember")
    invitee = server.new_user("delinvitee")
    room = make_room(owner, "Doomed", members=[member], room_alias_name="doomed")
    owner.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": invitee.user_id})
    owner.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/t1", {"msgtype": "m.text", "body": "x"})
    assert_admin_only(server, "DELETE", f"/v2/rooms/{q(room)}", {"block": True})
    delete_id = admin_ok(server.admin, "DELETE", f"/v2/rooms/{q(room)}",
                         {"block": True, "purge": True})["delete_id"]
    out = wait_deleted(server, delete_id)
    assert out["status"] == "complete", out
    result = out["shutdown_room"]
    assert sorted(result["kicked_users"]) == sorted([owner.user_id, member.user_id,
                                                     invitee.user_id])
    assert result["failed_to_kick_users"] == [] and result["new_room_id"] is None
    assert result["local_aliases"] == [f"#doomed:{SERVER}"]
    # Purged: gone from the list and the database; blocked: nobody rejoins.
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", f"/v1/rooms/{q(room)}")
    assert server.sql(f"SELECT count(*) FROM events WHERE room_id = '{room}'") == "0"
    assert admin_ok(server.admin, "GET", f"/v1/rooms/{q(room)}/block")["block"] is True
    assert room not in member.ok("GET", "/joined_rooms")["joined_rooms"]
    status, out = member.call("POST", f"/join/{q(room)}", {})
    assert status in (403, 404), out
    # Queried by room too.
    by_room = admin_ok(server.admin, "GET", f"/v2/rooms/{q(room)}/delete_status")["results"]
    assert by_room[0]["delete_id"] == delete_id and by_room[0]["status"] == "complete"
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", "/v2/rooms/delete_status/unknown")
    assert_admin_only(server, "GET", f"/v2/rooms/delete_status/{delete_id}")
    assert_admin_only(server, "GET", f"/v2/rooms/{q(room)}/delete_status")
    # An unknown room: 404 unless it is only to be blocked.
    missing = q("!nothere:" + SERVER)
    admin_error(server.admin, 404, "M_NOT_FOUND", "DELETE", f"/v2/rooms/{missing}", {})
    blocked = admin_ok(server.admin, "DELETE", f"/v2/rooms/{missing}", {"block": True})
    assert wait_deleted(server, blocked["delete_id"])["status"] == "complete"


def test_delete_room_v1_without_purge(server):
    owner = server.new_user("v1owner")
    room = make_room(owner, "Shut")
    out = admin_ok(server.admin, "DELETE", f"/v1/rooms/{q(room)}", {"purge": False})
    assert out["kicked_users"] == [owner.user_id]
    # Not purged: the room is still known, with nobody in it.
    assert admin_ok(server.admin, "GET", f"/v1/rooms/{q(room)}")["joined_members"] == 0
    assert_admin_only(server, "DELETE", f"/v1/rooms/{q(room)}", {})
    admin_error(server.admin, 400, "M_INVALID_PARAM", "DELETE", f"/v1/rooms/{q(room)}",
                {"new_room_user_id": "@x:elsewhere.org"})


def test_delete_room_moves_members_to_a_new_room(server):
    owner = server.new_user("moveowner")
    member = server.new_user("movemember")
    room = make_room(owner, "Moved away", members=[member])
    delete_id = admin_ok(server.admin, "DELETE", f"/v2/rooms/{q(room)}",
                         {"new_room_user_id": f"@notices:{SERVER}", "room_name": "Closed",
                          "message": "This room was closed."})["delete_id"]
    out = wait_deleted(server, delete_id)
    assert out["status"] == "complete", out
    new_room = out["shutdown_room"]["new_room_id"]
    assert new_room and new_room != room
    # Both members are in the new room, which the notices user made (an
    # account made for it), with its name and message.
    joined = member.ok("GET", "/joined_rooms")["joined_rooms"]
    assert new_room in joined and room not in joined
    assert new_room in owner.ok("GET", "/joined_rooms")["joined_rooms"]
    details = admin_ok(server.admin, "GET", f"/v1/rooms/{q(new_room)}")
    assert details["name"] == "Closed" and details["creator"] == f"@notices:{SERVER}"
    messages = member.ok("GET", f"/rooms/{q(new_room)}/messages", dir="b", limit="20")["chunk"]
    assert any(e["type"] == "m.room.message" and e["content"]["body"] == "This room was closed."
               for e in messages)


def test_join_user_to_room(server):
    owner = server.new_user("joinowner")
    public = make_room(owner, "Open", preset="public_chat", room_alias_name="openjoin")
    private = make_room(owner, "Closed")
    user = server.new_user("joined")
    # A public room, by alias: the user joins by themself.
    out = admin_ok(server.admin, "POST", "/v1/join/" + q(f"#openjoin:{SERVER}"),
                   {"user_id": user.user_id})
    assert out == {"room_id": public}
    assert public in user.ok("GET", "/joined_rooms")["joined_rooms"]
    # A private room the admin is not in: refused; once the admin is in
    # (with invite power), the user is invited and joined.
    admin_error(server.admin, 403, "M_FORBIDDEN", "POST", f"/v1/join/{q(private)}",
                {"user_id": user.user_id})
    owner.ok("POST", f"/rooms/{q(private)}/invite", {"user_id": server.admin.user_id})
    server.admin.ok("POST", f"/join/{q(private)}", {})
    assert admin_ok(server.admin, "POST", f"/v1/join/{q(private)}",
                    {"user_id": user.user_id}) == {"room_id": private}
    assert private in user.ok("GET", "/joined_rooms")["joined_rooms"]
    admin_error(server.admin, 404, "M_NOT_FOUND", "POST", f"/v1/join/{q(private)}",
                {"user_id": f"@nobody:{SERVER}"})
    admin_error(server.admin, 400, "M_INVALID_PARAM", "POST", f"/v1/join/{q(private)}",
                {"user_id": "@x:elsewhere.org"})
    assert_admin_only(server, "POST", f"/v1/join/{q(public)}", {"user_id": user.user_id})
