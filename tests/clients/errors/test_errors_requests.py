"""Bad identifiers, bad or missing tokens, unknown endpoints and replayed
transactions (Matrix spec v1.11, Client-Server API)."""

import secrets
import urllib.parse

import pytest

from errors_api import CS


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


# -- user IDs -------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["notauser", "@nocolon", "@:eltrix.test", "alice:eltrix.test"])
def test_malformed_user_id_is_m_invalid_param(api, user, bad):
    # M_INVALID_PARAM: "A parameter that was specified has the wrong value".
    api.request("GET", f"{CS}/profile/{q(bad)}").error(400, "M_INVALID_PARAM", f"GET profile of {bad!r}")
    api.request("GET", f"{CS}/profile/{q(bad)}/displayname") \
        .error(400, "M_INVALID_PARAM", f"GET displayname of {bad!r}")


def test_unknown_user_profile_is_m_not_found(api, server):
    who = f"@nobody-{secrets.token_hex(4)}:{server.server_name}"
    api.request("GET", f"{CS}/profile/{q(who)}").error(404, "M_NOT_FOUND", f"profile of {who}")


def test_changing_someone_elses_profile_is_m_forbidden(api, user):
    other = api.register("other")
    api.request("PUT", f"{CS}/profile/{q(other['user_id'])}/displayname", {"displayname": "hijacked"},
                token=user["access_token"]).error(403, "M_FORBIDDEN", "setting another user's displayname")
    name = api.request("GET", f"{CS}/profile/{q(other['user_id'])}/displayname")
    assert name.status == 404 or name.json.get("displayname") != "hijacked", name


def test_inviting_a_malformed_user_id_is_rejected(api, user, room):
    token = user["access_token"]
    api.request("POST", f"{CS}/rooms/{q(room)}/invite", {"user_id": "notauser"}, token=token) \
        .error(400, {"M_INVALID_PARAM", "M_BAD_JSON"}, "invite 'notauser'")
    api.request("POST", f"{CS}/createRoom", {"invite": ["notauser"]}, token=token) \
        .error(400, {"M_INVALID_PARAM", "M_BAD_JSON"}, "createRoom inviting 'notauser'")


# -- room IDs -------------------------------------------------------------------

FORBIDDEN = {(403, "M_FORBIDDEN")}
# Where the spec lists no answer for a room that does not exist (send, typing),
# 404 M_NOT_FOUND says so as well as 403 M_FORBIDDEN does.
FORBIDDEN_OR_NOT_FOUND = {(403, "M_FORBIDDEN"), (404, "M_NOT_FOUND")}


def room_endpoints(room_id: str, user_id: str):
    """(method, path, body, answers accepted when room_id does not exist)."""
    r = q(room_id)
    return [
        # Spec: 403 "You aren't a member of the room (and weren't previously)".
        ("GET", f"{CS}/rooms/{r}/state", None, FORBIDDEN),
        ("GET", f"{CS}/rooms/{r}/state/m.room.name/", None, FORBIDDEN),
        ("GET", f"{CS}/rooms/{r}/members", None, FORBIDDEN),
        ("GET", f"{CS}/rooms/{r}/joined_members", None, FORBIDDEN),
        ("GET", f"{CS}/rooms/{r}/messages?dir=b", None, FORBIDDEN),
        ("PUT", f"{CS}/rooms/{r}/send/m.room.message/{secrets.token_hex(4)}", {"msgtype": "m.text", "body": "hi"},
         FORBIDDEN_OR_NOT_FOUND),
        ("PUT", f"{CS}/rooms/{r}/typing/{q(user_id)}", {"typing": True, "timeout": 1000}, FORBIDDEN_OR_NOT_FOUND),
    ]


def expect_one_of(reply, accepted, what):
    code = reply.json.get("errcode") if isinstance(reply.json, dict) else None
    want = " or ".join(f"HTTP {st} {ec}" for st, ec in sorted(accepted))
    assert (reply.status, code) in accepted, f"{what}: expected {want}, got {reply!r}"
    reply.error(reply.status, code, what)  # well-formed error body


# (No "!nocolon": room version 12 IDs have no server part, so it is well-formed there.)
@pytest.mark.parametrize("bad", ["notaroom", "#alias:eltrix.test", "@user:eltrix.test"])
def test_malformed_room_id_is_m_invalid_param(api, user, bad):
    for method, path, body, _ in room_endpoints(bad, user["user_id"]):
        api.request(method, path, body, token=user["access_token"]) \
            .error(400, "M_INVALID_PARAM", f"{method} {path}")
    api.request("POST", f"{CS}/rooms/{q(bad)}/join", {}, token=user["access_token"]) \
        .error(400, "M_INVALID_PARAM", f"join {bad!r}")


def test_unknown_room_is_m_forbidden(api, user, server):
    # A well-formed ID of a room that does not exist: the user is not in it,
    # so the spec's "not a member of the room" answers apply (403 M_FORBIDDEN)
    # where the spec gives one.
    unknown = f"!nosuchroom{secrets.token_hex(4)}:{server.server_name}"
    for method, path, body, accepted in room_endpoints(unknown, user["user_id"]):
        expect_one_of(api.request(method, path, body, token=user["access_token"]), accepted, f"{method} {path}")
    # Joining: the spec lists 403; 404 M_NOT_FOUND also says what happened.
    for path in (f"{CS}/rooms/{q(unknown)}/join", f"{CS}/join/{q(unknown)}"):
        expect_one_of(api.request("POST", path, {}, token=user["access_token"]), FORBIDDEN_OR_NOT_FOUND,
                      f"join an unknown room ({path})")


def test_room_of_others_is_m_forbidden(api, user):
    owner = api.register("owner")
    private = api.create_room(owner["access_token"], name="not yours")
    # The room exists; the user is just not in it: 403 everywhere.
    for method, path, body, _ in room_endpoints(private, user["user_id"]):
        api.request(method, path, body, token=user["access_token"]).error(403, "M_FORBIDDEN", f"{method} {path}")
    api.request("POST", f"{CS}/rooms/{q(private)}/join", {}, token=user["access_token"]) \
        .error(403, "M_FORBIDDEN", "join an invite-only room without an invite")


def test_unknown_alias_is_m_not_found(api, user, server):
    alias = f"#nosuchalias{secrets.token_hex(4)}:{server.server_name}"
    api.request("GET", f"{CS}/directory/room/{q(alias)}").error(404, "M_NOT_FOUND", f"resolve {alias}")
    api.request("POST", f"{CS}/join/{q(alias)}", {}, token=user["access_token"]) \
        .error(404, "M_NOT_FOUND", f"join {alias}")


# -- access tokens ----------------------------------------------------------------

AUTHED = [
    ("GET", f"{CS}/account/whoami", None),
    ("GET", f"{CS}/sync?timeout=0", None),
    ("GET", f"{CS}/joined_rooms", None),
    ("POST", f"{CS}/createRoom", {}),
    ("PUT", f"{CS}/rooms/{q('!any:eltrix.test')}/send/m.room.message/t1", {"msgtype": "m.text", "body": "x"}),
    ("POST", f"{CS}/logout", {}),
]


@pytest.mark.parametrize("method,path,body", AUTHED, ids=[f"{m} {p}" for m, p, _ in AUTHED])
def test_missing_token_is_m_missing_token(api, method, path, body):
    api.request(method, path, body).error(401, "M_MISSING_TOKEN", f"{method} {path} without a token")


@pytest.mark.parametrize("method,path,body", AUTHED, ids=[f"{m} {p}" for m, p, _ in AUTHED])
def test_unknown_token_is_m_unknown_token(api, method, path, body):
    api.request(method, path, body, token="syt_bm90IGEgdG9rZW4_nonsense_0000").error(
        401, "M_UNKNOWN_TOKEN", f"{method} {path} with a made-up token")


def test_unknown_token_in_query_string_is_m_unknown_token(api):
    # access_token as a query parameter is deprecated but still in v1.11.
    api.request("GET", f"{CS}/account/whoami?access_token=made-up").error(
        401, "M_UNKNOWN_TOKEN", "whoami?access_token=made-up")


def test_token_in_query_string_works(api, user):
    reply = api.request("GET", f"{CS}/account/whoami?access_token={q(user['access_token'])}")
    assert reply.ok("whoami with ?access_token=").get("user_id") == user["user_id"]


def test_logged_out_token_is_m_unknown_token(api, user):
    token = user["access_token"]
    api.request("GET", f"{CS}/account/whoami", token=token).ok("whoami before logout")
    api.request("POST", f"{CS}/logout", {}, token=token).ok("logout")
    api.request("GET", f"{CS}/account/whoami", token=token).error(401, "M_UNKNOWN_TOKEN", "whoami after logout")
    api.request("POST", f"{CS}/logout", {}, token=token).error(401, "M_UNKNOWN_TOKEN", "logging out twice")


# -- unknown endpoints -------------------------------------------------------------

def test_unknown_endpoint_is_m_unrecognized(api):
    api.request("GET", f"{CS}/no/such/endpoint").error(404, "M_UNRECOGNIZED", "unknown endpoint")
    api.request("GET", "/_matrix/client/v3").error(404, "M_UNRECOGNIZED", "bare API prefix")


def test_wrong_method_is_m_unrecognized(api):
    # Spec: a known endpoint with an unsupported method gets 405 M_UNRECOGNIZED.
    api.request("DELETE", f"{CS}/login").error(405, "M_UNRECOGNIZED", "DELETE /login")
    api.request("PUT", f"{CS}/register", {}).error(405, "M_UNRECOGNIZED", "PUT /register")


# -- transactions ------------------------------------------------------------------

def messages_with_body(api, token, room_id, body):
    reply = api.request("GET", f"{CS}/rooms/{q(room_id)}/messages?dir=b&limit=100", token=token)
    chunk = reply.ok("/messages").get("chunk")
    assert isinstance(chunk, list), reply
    return [e for e in chunk if e.get("type") == "m.room.message" and e.get("content", {}).get("body") == body]


def test_replayed_txn_id_returns_the_same_event_once(api, user, room):
    token = user["access_token"]
    body = f"once-{secrets.token_hex(4)}"
    path = f"{CS}/rooms/{q(room)}/send/m.room.message/txn-{secrets.token_hex(4)}"
    first = api.request("PUT", path, {"msgtype": "m.text", "body": body}, token=token).ok("first send")
    again = api.request("PUT", path, {"msgtype": "m.text", "body": body}, token=token).ok("replayed send")
    assert again["event_id"] == first["event_id"], f"replay gave {again}, first send {first}"
    # Even a retry with other content is the same transaction.
    third = api.request("PUT", path, {"msgtype": "m.text", "body": body + " changed"}, token=token).ok("3rd")
    assert third["event_id"] == first["event_id"]

    stored = messages_with_body(api, token, room, body)
    assert [e["event_id"] for e in stored] == [first["event_id"]], f"stored events: {stored}"
    assert not messages_with_body(api, token, room, body + " changed")

    # A new transaction ID is a new event.
    other = api.request("PUT", f"{CS}/rooms/{q(room)}/send/m.room.message/txn-{secrets.token_hex(4)}",
                        {"msgtype": "m.text", "body": body}, token=token).ok("new txn")
    assert other["event_id"] != first["event_id"]


def test_txn_ids_are_scoped_to_the_device(api, user, room):
    # Spec: transaction IDs are scoped to a single device (access token), so
    # another device may reuse one for a different event.
    second = api.login(user["username"])
    path = f"{CS}/rooms/{q(room)}/send/m.room.message/shared-txn"
    a = api.request("PUT", path, {"msgtype": "m.text", "body": "from device 1"},
                    token=user["access_token"]).ok("device 1")
    b = api.request("PUT", path, {"msgtype": "m.text", "body": "from device 2"},
                    token=second["access_token"]).ok("device 2")
    assert a["event_id"] != b["event_id"], "two devices' transactions were merged"
