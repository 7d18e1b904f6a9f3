"""Bad request bodies get the spec's error, not a 500 and not a silent success
(Matrix spec v1.11, Client-Server API, "Standard error response" and "Common
error codes": M_NOT_JSON, M_BAD_JSON, M_TOO_LARGE)."""

import json

import pytest

from errors_api import CS, PASSWORD


def targets(user, room):
    """(method, path, token) for endpoints that take a JSON body."""
    token = user["access_token"]
    return [
        ("POST", f"{CS}/register", None),
        ("POST", f"{CS}/login", None),
        ("POST", f"{CS}/createRoom", token),
        ("PUT", f"{CS}/rooms/{room}/send/m.room.message/txn-bad-body", token),
        ("PUT", f"{CS}/rooms/{room}/state/m.room.topic/", token),
        ("PUT", f"{CS}/profile/{user['user_id']}/displayname", token),
        ("PUT", f"{CS}/rooms/{room}/typing/{user['user_id']}", token),
    ]


@pytest.mark.parametrize("raw", [
    b'{"username": "half',
    b"this is not json",
    b'{"a": "\xff\xfe"}',  # invalid UTF-8
    b"",
], ids=["truncated", "text", "invalid-utf8", "empty"])
def test_malformed_json_is_m_not_json(api, user, room, raw):
    for method, path, token in targets(user, room):
        api.request(method, path, raw=raw, token=token).error(400, "M_NOT_JSON", f"{method} {path} {raw[:20]!r}")


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"a string"', b"null", b"42"],
                         ids=["array", "string", "null", "number"])
def test_json_that_is_not_an_object_is_m_bad_json(api, user, room, raw):
    # Every one of these endpoints takes a JSON object; other JSON values are
    # well-formed JSON but the wrong shape.
    for method, path, token in targets(user, room):
        api.request(method, path, raw=raw, token=token).error(400, "M_BAD_JSON", f"{method} {path} {raw!r}")


def test_register_with_wrong_types_is_m_bad_json(api):
    auth = {"type": "m.login.dummy"}
    for body in ({"username": 5, "password": PASSWORD, "auth": auth},
                 {"username": "typed-user", "password": ["x"], "auth": auth},
                 {"username": "typed-user", "password": PASSWORD, "inhibit_login": "yes", "auth": auth},
                 {"username": "typed-user", "password": PASSWORD, "auth": "m.login.dummy"}):
        api.request("POST", f"{CS}/register", body).error(400, "M_BAD_JSON", f"register {body}")
    # None of them created the account.
    reply = api.request("GET", f"{CS}/register/available?username=typed-user")
    assert reply.ok("username availability").get("available") is True, reply


def test_login_with_wrong_types_is_m_bad_json(api, user):
    for body in ({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user["username"]},
                  "password": 5},
                 {"type": "m.login.password", "identifier": "not an object", "password": PASSWORD},
                 {"type": 7, "identifier": {"type": "m.id.user", "user": user["username"]}, "password": PASSWORD}):
        api.request("POST", f"{CS}/login", body).error(400, "M_BAD_JSON", f"login {body}")


def test_create_room_with_wrong_types_is_m_bad_json(api, user):
    token = user["access_token"]
    before = api.request("GET", f"{CS}/joined_rooms", token=token).ok("joined_rooms")["joined_rooms"]
    for body in ({"name": []}, {"topic": {"a": 1}}, {"invite": "@someone:example.org"},
                 {"preset": 3}, {"initial_state": {"type": "m.room.topic"}}, {"is_direct": "yes"},
                 {"power_level_content_override": []}):
        api.request("POST", f"{CS}/createRoom", body, token=token).error(400, "M_BAD_JSON", f"createRoom {body}")
    after = api.request("GET", f"{CS}/joined_rooms", token=token).ok("joined_rooms")["joined_rooms"]
    assert sorted(after) == sorted(before), f"a rejected createRoom still created a room: {before} -> {after}"


def test_other_bodies_with_wrong_types_are_m_bad_json(api, user, room):
    token, uid = user["access_token"], user["user_id"]
    api.request("PUT", f"{CS}/profile/{uid}/displayname", {"displayname": 5}, token=token) \
        .error(400, "M_BAD_JSON", "displayname: 5")
    api.request("PUT", f"{CS}/rooms/{room}/typing/{uid}", {"typing": "yes"}, token=token) \
        .error(400, "M_BAD_JSON", "typing: 'yes'")
    api.request("POST", f"{CS}/rooms/{room}/invite", {"user_id": 12}, token=token) \
        .error(400, "M_BAD_JSON", "invite user_id: 12")
    api.request("POST", f"{CS}/rooms/{room}/read_markers", {"m.fully_read": 1}, token=token) \
        .error(400, "M_BAD_JSON", "read_markers m.fully_read: 1")


def test_oversized_body_is_m_too_large(api, user, room):
    # http.max_body_size defaults to 1 MiB; send twice that.
    big = json.dumps({"msgtype": "m.text", "body": "x" * (2 * 1024 * 1024)}).encode()
    api.send_large("PUT", f"{CS}/rooms/{room}/send/m.room.message/too-large", big, user["access_token"]) \
        .error(413, "M_TOO_LARGE", "a 2 MiB message")
    api.send_large("POST", f"{CS}/register", big).error(413, "M_TOO_LARGE", "a 2 MiB registration")
    # The connection trouble left the server able to answer the next request.
    api.request("GET", f"{CS}/joined_rooms", token=user["access_token"]).ok("joined_rooms after 413")


def test_event_over_64_kib_is_m_too_large(api, user, room):
    # The body fits the HTTP limit, but the event would exceed the spec's
    # 65536-byte limit for a whole event (Size limits, Room events).
    content = {"msgtype": "m.text", "body": "y" * 70000}
    api.request("PUT", f"{CS}/rooms/{room}/send/m.room.message/big-event", content,
                token=user["access_token"]).error(413, "M_TOO_LARGE", "a 70 kB event")
