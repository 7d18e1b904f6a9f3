"""Client-Server API, "OpenID" (spec v1.12, section 10.22): POST
/user/{userId}/openid/request_token, and the check a third party makes with
the token at /_matrix/federation/v1/openid/userinfo (served on the client
port until Eltrix has a federation listener). Real binary, real PostgreSQL."""

from conftest import http_json
from cs_client import register


def userinfo(node, token):
    return http_json("GET", node.url("/_matrix/federation/v1/openid/userinfo?access_token=" + token))


def test_request_token_and_userinfo(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    out = alice.ok("POST", f"/user/{alice.user_id}/openid/request_token", {})
    assert out["token_type"] == "Bearer"
    assert out["matrix_server_name"] == "e2e.test"
    assert out["expires_in"] == 3600
    assert out["access_token"] != alice.token
    assert userinfo(node, out["access_token"]) == (200, {"sub": alice.user_id})
    # Not an access token, and an access token is not an OpenID token.
    status, err = userinfo(node, alice.token)
    assert (status, err["errcode"]) == (401, "M_UNKNOWN_TOKEN"), err
    status, err = userinfo(node, "nonsense")
    assert (status, err["errcode"]) == (401, "M_UNKNOWN_TOKEN"), err
    # Only for oneself.
    alice.error(403, "M_FORBIDDEN", "POST", f"/user/{bob.user_id}/openid/request_token", {})


def test_expired_tokens_are_refused(node, database):
    import subprocess
    alice = register(node, "alice")
    token = alice.ok("POST", f"/user/{alice.user_id}/openid/request_token", {})["access_token"]
    subprocess.run(["psql", database, "-q", "-c", "UPDATE openid_tokens SET expires_ts = 1"],
                   check=True, capture_output=True)
    status, err = userinfo(node, token)
    assert (status, err["errcode"]) == (401, "M_UNKNOWN_TOKEN"), err


def test_tokens_die_with_the_account(node):
    """A deactivated account's OpenID tokens no longer vouch for it."""
    from test_cs_account_deactivate import deactivate
    alice = register(node, "oidgone")
    token = alice.ok("POST", f"/user/{alice.user_id}/openid/request_token", {})["access_token"]
    assert userinfo(node, token) == (200, {"sub": alice.user_id})
    status, out = deactivate(alice)
    assert status == 200, out
    status, err = userinfo(node, token)
    assert (status, err["errcode"]) == (401, "M_UNKNOWN_TOKEN"), err


def test_live_tokens_per_user_are_bounded(node):
    alice = register(node, "oidmany")
    for _ in range(50):
        alice.ok("POST", f"/user/{alice.user_id}/openid/request_token", {})
    alice.error(429, "M_LIMIT_EXCEEDED", "POST", f"/user/{alice.user_id}/openid/request_token", {})
