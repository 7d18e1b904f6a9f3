"""Registration tokens: managed through /_synapse/admin/v1/registration_tokens
and spent by /register's m.login.registration_token stage (uses counted,
expiry honoured), next to the static registration.token they supersede."""

import json
import secrets
import time

import pytest

from admin_client import (PASSWORD, admin_error, admin_ok, assert_admin_only, login)
from conftest import Node, base_env, free_port, http_json, psql, url_with_db

BASE = "/v1/registration_tokens"
C = "/_matrix/client/v3"


@pytest.fixture(scope="module")
def server(binary, admin_url, tmp_path_factory):
    """A node that requires a token to register, with a static one too."""
    from admin_client import Server
    name = "e2e_" + secrets.token_hex(6)
    psql(admin_url, f"CREATE DATABASE {name}")
    url = url_with_db(admin_url, name)
    tmp = tmp_path_factory.mktemp("tokens")
    port = free_port()
    env = base_env(url, tmp, port, ELTRIX_REGISTRATION_ENABLED="true",
                   ELTRIX_RATELIMIT_ENABLED="false")
    config = tmp / "eltrix.conf"
    config.write_text("")
    node = Node(binary, env, tmp, port, args=["--config", str(config)])
    try:
        node.wait_live()
        node.wait_ready()
        srv = Server(node, url)  # registers with the dummy flow, before tokens are required
        node.stop()
        env["ELTRIX_REGISTRATION_REQUIRES_TOKEN"] = "true"
        env["ELTRIX_REGISTRATION_TOKEN"] = "static-token-1"
        port = free_port()
        env["ELTRIX_PORT"] = str(port)
        node = Node(binary, env, tmp, port, args=["--config", str(config)])
        node.wait_live()
        node.wait_ready()
        srv.node = node
        srv.admin = login(node, "root")
        srv.user = login(node, "mallory")
        yield srv
    finally:
        node.stop()
        psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def register_with_token(node, username, token):
    headers = {"Content-Type": "application/json"}
    body = {"username": username, "password": PASSWORD}
    status, first = http_json("POST", node.url(C + "/register"), body=json.dumps(body).encode(),
                              headers=headers)
    if status != 401:
        return status, first  # refused before the token stage (e.g. the name is taken)
    assert first["flows"] == [{"stages": ["m.login.registration_token"]}]
    body["auth"] = {"type": "m.login.registration_token", "token": token,
                    "session": first["session"]}
    return http_json("POST", node.url(C + "/register"), body=json.dumps(body).encode(),
                     headers=headers)


def validity(node, token):
    status, out = http_json("GET", node.url(
        "/_matrix/client/v1/register/m.login.registration_token/validity?token=" + token))
    assert status == 200, out
    return out["valid"]


def test_create_list_get_update_delete(server):
    made = admin_ok(server.admin, "POST", BASE + "/new", {})
    assert len(made["token"]) == 16 and made["uses_allowed"] is None
    assert (made["pending"], made["completed"], made["expiry_time"]) == (0, 0, None)
    later = int(time.time() * 1000) + 3_600_000
    chosen = admin_ok(server.admin, "POST", BASE + "/new",
                      {"token": "abc.DEF_~-1", "uses_allowed": 2, "expiry_time": later})
    assert chosen == {"token": "abc.DEF_~-1", "uses_allowed": 2, "pending": 0, "completed": 0,
                      "expiry_time": later}
    assert len(admin_ok(server.admin, "POST", BASE + "/new", {"length": 40})["token"]) == 40
    listed = {t["token"] for t in admin_ok(server.admin, "GET", BASE)["registration_tokens"]}
    assert {made["token"], "abc.DEF_~-1"} <= listed
    assert admin_ok(server.admin, "GET", f"{BASE}/abc.DEF_~-1") == chosen
    updated = admin_ok(server.admin, "PUT", f"{BASE}/abc.DEF_~-1",
                       {"uses_allowed": 0, "expiry_time": None})
    assert (updated["uses_allowed"], updated["expiry_time"]) == (0, None)
    # uses_allowed 0: used up, so listed as invalid.
    invalid = admin_ok(server.admin, "GET", BASE, valid="false")["registration_tokens"]
    assert "abc.DEF_~-1" in {t["token"] for t in invalid}
    valid = admin_ok(server.admin, "GET", BASE, valid="true")["registration_tokens"]
    assert "abc.DEF_~-1" not in {t["token"] for t in valid}
    admin_ok(server.admin, "DELETE", f"{BASE}/abc.DEF_~-1")
    admin_error(server.admin, 404, "M_NOT_FOUND", "GET", f"{BASE}/abc.DEF_~-1")
    admin_error(server.admin, 404, "M_NOT_FOUND", "DELETE", f"{BASE}/abc.DEF_~-1")
    admin_error(server.admin, 404, "M_NOT_FOUND", "PUT", f"{BASE}/abc.DEF_~-1", {})
    # Bad input.
    for body in ({"token": "has space"}, {"token": "x" * 65}, {"uses_allowed": -1},
                 {"expiry_time": 1}, {"length": 0}, {"length": 65},
                 {"token": "abc", "length": 3}):
        admin_error(server.admin, 400, "M_INVALID_PARAM", "POST", BASE + "/new", body)
    admin_error(server.admin, 400, "M_INVALID_PARAM", "POST", BASE + "/new",
                {"token": made["token"]})
    assert_admin_only(server, "GET", BASE)
    assert_admin_only(server, "POST", BASE + "/new", {})
    assert_admin_only(server, "GET", f"{BASE}/{made['token']}")
    assert_admin_only(server, "PUT", f"{BASE}/{made['token']}", {"uses_allowed": 1})
    assert_admin_only(server, "DELETE", f"{BASE}/{made['token']}")


def test_register_spends_uses_and_honours_expiry(server):
    admin_ok(server.admin, "POST", BASE + "/new", {"token": "once", "uses_allowed": 1})
    assert validity(server.node, "once") is True
    status, out = register_with_token(server.node, "tokenuser1", "once")
    assert status == 200, out
    assert admin_ok(server.admin, "GET", f"{BASE}/once")["completed"] == 1
    # Used up.
    assert validity(server.node, "once") is False
    status, out = register_with_token(server.node, "tokenuser2", "once")
    assert (status, out["errcode"]) == (401, "M_FORBIDDEN"), out
    # An unknown token is refused; the static token from the config still works.
    status, out = register_with_token(server.node, "tokenuser3", "nosuch")
    assert status == 401 and out["errcode"] == "M_FORBIDDEN", out
    assert validity(server.node, "static-token-1") is True
    status, out = register_with_token(server.node, "tokenuser4", "static-token-1")
    assert status == 200, out
    # A registration refused (the name is taken) spends no use.
    admin_ok(server.admin, "POST", BASE + "/new", {"token": "again", "uses_allowed": 1})
    status, out = register_with_token(server.node, "tokenuser1", "again")
    assert status == 400, out
    assert admin_ok(server.admin, "GET", f"{BASE}/again")["completed"] == 0
    # An expired token is refused.
    soon = int(time.time() * 1000) + 1500
    admin_ok(server.admin, "POST", BASE + "/new", {"token": "brief", "expiry_time": soon})
    time.sleep(2)
    assert validity(server.node, "brief") is False
    status, out = register_with_token(server.node, "tokenuser5", "brief")
    assert status == 401 and out["errcode"] == "M_FORBIDDEN", out
