"""Client-Server API, "User-Interactive Authentication API" (spec v1.12,
section 4.9): the server remembers the request a session authorises, so a
later request may carry only `auth`; a completed session cannot be used
again, nor for another operation. Real binary, real PostgreSQL."""

import base64
import json
import subprocess

from conftest import http_json
from cs_client import CS, Client, register

PASSWORD = "correct horse battery"


def post(node, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http_json("POST", node.url(CS + path), body=json.dumps(body).encode(), headers=headers)


def login(node, user, password):
    return post(node, "/login", {"type": "m.login.password", "password": password,
                                 "identifier": {"type": "m.id.user", "user": user}})


def test_register_completes_with_only_auth(node):
    status, first = post(node, "/register", {"username": "alice", "password": PASSWORD,
                                             "initial_device_display_name": "Alice's phone"})
    assert status == 401, first
    session = first["session"]
    status, out = post(node, "/register", {"auth": {"type": "m.login.dummy", "session": session}})
    assert status == 200, out
    # The first request's username, password and device name were used.
    assert out["user_id"] == "@alice:e2e.test"
    alice = Client(node, out["user_id"], out["access_token"], out["device_id"])
    devices = alice.ok("GET", "/devices")["devices"]
    assert [d["display_name"] for d in devices] == ["Alice's phone"]
    status, logged_in = login(node, "alice", PASSWORD)
    assert status == 200, logged_in


def test_a_completed_session_cannot_be_used_again(node):
    status, first = post(node, "/register", {"username": "bob", "password": PASSWORD})
    session = first["session"]
    status, out = post(node, "/register", {"auth": {"type": "m.login.dummy", "session": session}})
    assert status == 200, out
    # Used once: it authorises no second account, with or without a body.
    for body in ({"auth": {"type": "m.login.dummy", "session": session}},
                 {"username": "bob2", "password": PASSWORD,
                  "auth": {"type": "m.login.dummy", "session": session}}):
        status, err = post(node, "/register", body)
        assert (status, err["errcode"]) == (400, "M_UNKNOWN"), err
    assert login(node, "bob2", PASSWORD)[0] == 403


def test_a_session_is_bound_to_its_operation(node):
    alice = register(node, "alice")
    status, first = post(node, "/register", {"username": "mallory", "password": PASSWORD})
    session = first["session"]
    # A registration session does not authorise a password change, and the
    # registration body does not leak into it.
    status, err = post(node, "/account/password",
                       {"auth": {"type": "m.login.dummy", "session": session}}, alice.token)
    assert (status, err["errcode"]) in ((403, "M_FORBIDDEN"), (400, "M_MISSING_PARAM")), err
    status, err = post(node, "/account/password",
                       {"new_password": "another long one",
                        "auth": {"type": "m.login.dummy", "session": session}}, alice.token)
    assert (status, err["errcode"]) == (403, "M_FORBIDDEN"), err
    assert login(node, "alice", PASSWORD)[0] == 200


def test_password_change_completes_with_only_auth(node):
    alice = register(node, "alice")
    status, first = post(node, "/account/password",
                         {"new_password": "a brand new password", "logout_devices": False},
                         alice.token)
    assert status == 401, first
    auth = {"type": "m.login.password", "session": first["session"], "password": PASSWORD,
            "identifier": {"type": "m.id.user", "user": alice.user_id}}
    status, out = post(node, "/account/password", {"auth": auth}, alice.token)
    assert (status, out) == (200, {}), out
    assert login(node, "alice", "a brand new password")[0] == 200
    assert login(node, "alice", PASSWORD)[0] == 403
    # logout_devices: false was remembered too: the token still works.
    alice.ok("GET", "/account/whoami")


def test_delete_devices_completes_with_only_auth(node):
    alice = register(node, "alice")
    status, other = login(node, "alice", PASSWORD)
    assert status == 200
    status, first = post(node, "/delete_devices", {"devices": [other["device_id"]]}, alice.token)
    assert status == 401, first
    auth = {"type": "m.login.password", "session": first["session"], "password": PASSWORD,
            "identifier": {"type": "m.id.user", "user": alice.user_id}}
    status, out = post(node, "/delete_devices", {"auth": auth}, alice.token)
    assert (status, out) == (200, {}), out
    ids = [d["device_id"] for d in alice.ok("GET", "/devices")["devices"]]
    assert ids == [alice.device_id]


def test_the_remembered_body_is_sealed(node, database):
    secret = "a password nobody should read 12345"
    status, first = post(node, "/register", {"username": "carol", "password": secret})
    assert status == 401
    stored = subprocess.run(
        ["psql", database, "-At", "-c",
         f"SELECT sealed_body FROM uia_sessions WHERE session_id = '{first['session']}'"],
        check=True, capture_output=True, text=True).stdout.strip()
    assert stored, "the body was not remembered"
    raw = base64.b64decode(stored + "=" * (-len(stored) % 4))
    assert secret.encode() not in raw and b"carol" not in raw


def test_a_replaced_body_too_large_to_keep_is_not_replaced_by_the_old_one(node):
    status, first = post(node, "/register", {"username": "dave", "password": PASSWORD})
    assert status == 401
    session = first["session"]
    # The client changes its request, with a body too large to remember,
    # while a stage fails: the first body must not stand in for it later.
    status, out = post(node, "/register", {"username": "dave2", "password": PASSWORD,
                                           "padding": "x" * 70000,
                                           "auth": {"type": "m.login.bogus",
                                                    "session": session}})
    assert status in (400, 401), out
    status, out = post(node, "/register", {"auth": {"type": "m.login.dummy",
                                                    "session": session}})
    assert status != 200 or out.get("user_id") != "@dave:e2e.test", out
    assert login(node, "dave", PASSWORD)[0] == 403
