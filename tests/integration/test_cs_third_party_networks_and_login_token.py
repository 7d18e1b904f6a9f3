"""Client-Server API, "Third-party networks" (GET /thirdparty/protocols: no
bridges, so {}) and POST /_matrix/client/v1/login/get_token (spec v1.12,
"Login" 5.5.x), which is off here: the endpoint is unknown (404
M_UNRECOGNIZED) and /capabilities says m.get_login_token is not enabled,
which is how the spec lets a server decline it. Real binary, real
PostgreSQL."""

from cs_client import register


def test_thirdparty_protocols_is_empty(node):
    alice = register(node, "alice")
    assert alice.ok("GET", "/thirdparty/protocols") == {}
    alice.token = "wrong"
    alice.error(401, "M_UNKNOWN_TOKEN", "GET", "/thirdparty/protocols")


def test_login_get_token_is_off(node):
    alice = register(node, "alice")
    status, out = alice.call("POST", "/login/get_token", {}, prefix="/_matrix/client/v1")
    assert (status, out["errcode"]) == (404, "M_UNRECOGNIZED"), out
    caps = alice.ok("GET", "/capabilities")["capabilities"]
    assert caps.get("m.get_login_token", {"enabled": False}) == {"enabled": False}
