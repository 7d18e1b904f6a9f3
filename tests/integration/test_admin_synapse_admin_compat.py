"""Replays the requests synapse-admin (Awesome-Technologies/synapse-admin)
makes for its user list, user edit, room list and room delete pages, with
the query strings and bodies it sends, and checks each response has the
shape Synapse documents (docs/admin_api/*.md) and synapse-admin reads: the
fields, their JSON types, and the paging members."""

import json
import time

from admin_client import (ADMIN, PASSWORD, SERVER, admin_ok, login, q,
                          server)  # noqa: F401 (fixture)
from conftest import http_json
from cs_client import register

NUM = (int,)
STR_OR_NULL = (str, type(None))
INT_OR_NULL = (int, type(None))
BOOL = (bool,)

# Synapse's documented user list entry, and the types each field has.
USER_LIST_ENTRY = {"name": (str,), "is_guest": BOOL, "admin": BOOL, "user_type": STR_OR_NULL,
                   "deactivated": BOOL, "erased": BOOL, "shadow_banned": BOOL,
                   "displayname": STR_OR_NULL, "avatar_url": STR_OR_NULL, "creation_ts": NUM,
                   "last_seen_ts": INT_OR_NULL, "locked": BOOL}
USER_DETAILS = {**USER_LIST_ENTRY, "threepids": (list,), "external_ids": (list,),
                "appservice_id": STR_OR_NULL, "consent_server_notice_sent": STR_OR_NULL,
                "consent_version": STR_OR_NULL, "consent_ts": INT_OR_NULL}
ROOM_ENTRY = {"room_id": (str,), "name": STR_OR_NULL, "canonical_alias": STR_OR_NULL,
              "joined_members": NUM, "joined_local_members": NUM, "version": (str,),
              "creator": (str,), "encryption": STR_OR_NULL, "federatable": BOOL, "public": BOOL,
              "join_rules": STR_OR_NULL, "guest_access": STR_OR_NULL,
              "history_visibility": STR_OR_NULL, "state_events": NUM, "room_type": STR_OR_NULL}
DEVICE = {"device_id": (str,), "display_name": STR_OR_NULL, "last_seen_ip": STR_OR_NULL,
          "last_seen_ts": INT_OR_NULL, "user_id": (str,)}
MEDIA = {"media_id": (str,), "media_type": (str,), "media_length": NUM,
         "upload_name": STR_OR_NULL, "created_ts": NUM, "last_access_ts": INT_OR_NULL,
         "quarantined_by": STR_OR_NULL, "safe_from_quarantine": BOOL}
SHUTDOWN = {"kicked_users": (list,), "failed_to_kick_users": (list,), "local_aliases": (list,),
            "new_room_id": STR_OR_NULL}


def check_shape(obj, shape, where):
    assert isinstance(obj, dict), (where, obj)
    for field, types in shape.items():
        assert field in obj, f"{where}: {field} missing in {obj}"
        assert isinstance(obj[field], types), f"{where}: {field}={obj[field]!r} is not {types}"


def get(server, path, **query):
    return admin_ok(server.admin, "GET", path, **query)


def test_user_list_page(server):
    for name in ("compat1", "compat2", "compat3"):
        register(server.node, name)
    # What the list sends: page 1 of 10, sorted by name, the filter defaults
    # (guests=true, deactivated=false, locked=false), then a search.
    out = get(server, "/v2/users", **{"from": "0", "limit": "10", "guests": "true",
                                      "deactivated": "false", "locked": "false",
                                      "order_by": "name", "dir": "f"})
    assert isinstance(out["total"], int) and out["total"] >= 4
    for user in out["users"]:
        check_shape(user, USER_LIST_ENTRY, "users[]")
    out = get(server, "/v2/users", **{"from": "0", "limit": "2", "name": "compat",
                                      "guests": "true", "deactivated": "false",
                                      "order_by": "creation_ts", "dir": "b"})
    assert out["total"] == 3 and len(out["users"]) == 2 and out["next_token"] == "2"
    assert out["users"][0]["name"] == f"@compat3:{SERVER}"
    # Its "delete" of a user is a deactivation with erase.
    victim = register(server.node, "compatvictim")
    assert admin_ok(server.admin, "POST", "/v1/deactivate/" + q(victim.user_id),
                    {"erase": True}) == {"id_server_unbind_result": "success"}


def test_user_edit_page(server):
    user = register(server.node, "compatedit")
    user.ok("POST", "/createRoom", {"name": "compat room"})
    status, upload = user.call("POST", "/upload", raw=b"GIF89a" + b"\0" * 20,
                               prefix="/_matrix/media/v3", filename="a.gif")
    assert status == 200, upload
    uid = q(user.user_id)
    # getOne, then the tabs' references (react-admin's default sort is
    # id/DESC, media sorts created_ts/DESC).
    record = get(server, f"/v2/users/{uid}")
    check_shape(record, USER_DETAILS, "user")
    paging = {"from": "0", "limit": "25", "order_by": "id", "dir": "b"}
    devices = get(server, f"/v2/users/{uid}/devices", **paging)
    assert devices["total"] == 1
    check_shape(devices["devices"][0], DEVICE, "devices[]")
    whois = get(server, f"/v1/whois/{uid}")
    assert whois["user_id"] == user.user_id
    for device in whois["devices"].values():
        for session in device["sessions"]:
            for connection in session["connections"]:
                assert {"ip", "last_seen", "user_agent"} <= set(connection)
    media = get(server, f"/v1/users/{uid}/media",
                **{"from": "0", "limit": "25", "order_by": "created_ts", "dir": "b"})
    assert media["total"] == 1
    check_shape(media["media"][0], MEDIA, "media[]")
    rooms = get(server, f"/v1/users/{uid}/joined_rooms", **paging)
    assert rooms["total"] == 1 and isinstance(rooms["joined_rooms"][0], str)
    pushers = get(server, f"/v1/users/{uid}/pushers", **paging)
    assert pushers == {"pushers": [], "total": 0}
    # Saving the form: the whole record goes back (nulls dropped except
    # user_type, synapse-admin's own fields included), with the edits.
    edited = {k: v for k, v in record.items() if v is not None or k == "user_type"}
    edited.update({"id": user.user_id, "avatar_src": None, "creation_ts_ms":
                   record["creation_ts"] * 1000, "displayname": "Edited Name",
                   "password": "a new password here"})
    edited = {k: v for k, v in edited.items() if v is not None or k == "user_type"}
    out = admin_ok(server.admin, "PUT", f"/v2/users/{uid}", edited)
    check_shape(out, USER_DETAILS, "PUT user")
    assert out["displayname"] == "Edited Name"
    login(server.node, user.user_id, "a new password here")
    # Creating a user from the create page: PUT with the id the admin typed.
    new = {"id": "compatnew", "displayname": "New One", "password": PASSWORD, "admin": False,
           "user_type": None}
    out = admin_ok(server.admin, "PUT", "/v2/users/" + q(f"@compatnew:{SERVER}"), new,
                   expected=201)
    check_shape(out, USER_DETAILS, "created user")


def test_room_list_page(server):
    owner = register(server.node, "compatrooms")
    for name in ("Compat A", "Compat B"):
        owner.ok("POST", "/createRoom", {"name": name})
    out = get(server, "/v1/rooms", **{"from": "0", "limit": "10", "order_by": "name",
                                      "dir": "f"})
    assert isinstance(out["total_rooms"], int) and out["offset"] == 0
    for room in out["rooms"]:
        check_shape(room, ROOM_ENTRY, "rooms[]")
    out = get(server, "/v1/rooms", **{"from": "0", "limit": "10", "order_by": "joined_members",
                                      "dir": "b", "search_term": "Compat "})
    assert {"Compat A", "Compat B"} <= {r["name"] for r in out["rooms"]}
    # The room's show page: details, members, state, forward extremities.
    room_id = q(next(r["room_id"] for r in out["rooms"] if r["name"] == "Compat A"))
    check_shape(get(server, f"/v1/rooms/{room_id}"), ROOM_ENTRY, "room")
    paging = {"from": "0", "limit": "25", "order_by": "id", "dir": "b"}
    members = get(server, f"/v1/rooms/{room_id}/members", **paging)
    assert members["total"] == 1 and members["members"] == [owner.user_id]
    state = get(server, f"/v1/rooms/{room_id}/state", **paging)["state"]
    for event in state:
        assert {"type", "state_key", "content", "event_id", "sender",
                "origin_server_ts"} <= set(event)
    extremities = get(server, f"/v1/rooms/{room_id}/forward_extremities", **paging)
    assert extremities["count"] == len(extremities["results"]) == 1
    assert {"event_id", "state_group", "depth", "received_ts"} <= set(extremities["results"][0])


def test_room_delete_page(server):
    owner = register(server.node, "compatdel")
    room = owner.ok("POST", "/createRoom", {"name": "Compat doomed"})["room_id"]
    # synapse-admin's delete: DELETE v2 with {"block": false}; it then polls
    # nothing, but scripts poll delete_status.
    out = admin_ok(server.admin, "DELETE", f"/v2/rooms/{q(room)}", {"block": False})
    assert isinstance(out["delete_id"], str) and out["delete_id"]
    deadline = time.monotonic() + 20
    while True:
        status = get(server, f"/v2/rooms/delete_status/{out['delete_id']}")
        if status["status"] in ("complete", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["status"] == "complete", status
    check_shape(status["shutdown_room"], SHUTDOWN, "shutdown_room")
    by_room = get(server, f"/v2/rooms/{q(room)}/delete_status")["results"]
    assert by_room[0]["delete_id"] == out["delete_id"]
    check_shape(by_room[0]["shutdown_room"], SHUTDOWN, "results[].shutdown_room")
    assert room not in [r["room_id"] for r in get(server, "/v1/rooms")["rooms"]]


def test_login_page(server):
    """What synapse-admin asks before it has a token, then its login."""
    base = server.node.url
    status, out = http_json("GET", base(ADMIN + "/v1/server_version"))
    assert status == 200 and isinstance(out["server_version"], str)
    status, out = http_json("GET", base("/_matrix/client/versions"))
    assert status == 200 and out["versions"]
    status, out = http_json("GET", base("/_matrix/client/r0/login"))
    assert status == 200 and {"type": "m.login.password"} in out["flows"]
    body = {"type": "m.login.password", "user": "root", "password": PASSWORD,
            "device_id": "SYNAPSEADMIN", "initial_device_display_name": "Synapse Admin"}
    status, out = http_json("POST", base("/_matrix/client/r0/login"),
                            body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"})
    assert status == 200 and out["user_id"] == f"@root:{SERVER}" and out["access_token"]
