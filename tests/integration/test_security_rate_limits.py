"""Issue 10, findings 8 and 12: rate limits on what costs the server dearly.

- Password checks inside user-interactive auth (/delete_devices,
  /account/password, DELETE /devices/{id}) were never limited: whoever holds a
  stolen access token could guess the password at full speed, each guess
  costing an Argon2id hash. They are now limited per account and per client
  address, answered with 429 M_LIMIT_EXCEEDED, retry_after_ms and
  Retry-After, before any hash is computed.
- /login was limited per address only; now also per account, so guesses
  spread over many addresses are stopped too.
- createRoom, joins and profile changes had no limit; a profile change
  writes one member event per joined room, and is now also capped in rooms.

Different client addresses come from binding the client socket to other
loopback addresses (127.0.0.2, ...), which Linux routes to the server's
127.0.0.1 listener."""

import http.client
import json
import statistics
import time

from conftest import http_json
from cs_client import CS, register

PASSWORD = "correct horse battery"
WRONG = "not the password"


def ready(start_node, **env):
    # Registration is not what these tests limit.
    env.setdefault("ELTRIX_RATELIMIT_REGISTER_BURST", "1000")
    env.setdefault("ELTRIX_RATELIMIT_REGISTER_PER_MINUTE", "1000")
    node = start_node(ELTRIX_REGISTRATION_ENABLED="true", **env)
    node.wait_ready()
    return node


def call_from(node, method, path, body=None, token=None, source="127.0.0.1"):
    """(status, headers, parsed body, seconds) of one request sent from `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30,
                                      source_address=(source, 0))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    try:
        conn.request(method, CS + path, body=None if body is None else json.dumps(body),
                     headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        elapsed = time.monotonic() - started
        return resp.status, dict(resp.getheaders()), json.loads(raw) if raw else None, elapsed
    finally:
        conn.close()


def password_auth(user_id, password, session=None):
    auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
            "password": password}
    if session:
        auth["session"] = session
    return auth


def assert_limited(status, headers, body):
    assert status == 429, body
    assert body["errcode"] == "M_LIMIT_EXCEEDED", body
    assert 0 < body["retry_after_ms"] <= 120_000, body
    assert int(headers["Retry-After"]) >= 1, headers


def uia_attempt(node, client, kind, password, source="127.0.0.1"):
    """One password stage of the user-interactive auth of `kind`."""
    if kind == "delete_devices":
        return call_from(node, "POST", "/delete_devices",
                         {"devices": ["NOPE"], "auth": password_auth(client.user_id, password)},
                         client.token, source)
    if kind == "delete_device":
        return call_from(node, "DELETE", "/devices/NOPE",
                         {"auth": password_auth(client.user_id, password)}, client.token, source)
    return call_from(node, "POST", "/account/password",
                     {"new_password": "another good password", "logout_devices": False,
                      "auth": password_auth(client.user_id, password)}, client.token, source)


def test_uia_password_guessing_is_limited_per_account(start_node):
    # Defaults: 5 at once, then 10 a minute. The stolen token is used from
    # a new address for every guess, so only the per-account limit can stop it.
    node = ready(start_node)
    victim = register(node, "victim")
    results = []
    for i, kind in enumerate(["delete_devices", "delete_device", "password"] * 4):
        results.append(uia_attempt(node, victim, kind, WRONG, source=f"127.0.0.{i + 2}"))
    statuses = [r[0] for r in results]
    assert 429 in statuses, statuses
    first = statuses.index(429)
    # Windows are aligned to the clock: a boundary may admit up to two bursts.
    assert 5 <= first <= 10, statuses
    assert all(s in (401, 429) for s in statuses), statuses
    limited = [r for r in results if r[0] == 429]
    for status, headers, body, _ in limited:
        assert_limited(status, headers, body)
    # While limited, even the right password is not checked (no hash computed),
    # which also shows in how fast the refusals come.
    status, headers, body, _ = uia_attempt(node, victim, "delete_devices", PASSWORD,
                                           source="127.0.0.99")
    assert_limited(status, headers, body)
    hashed = [r[3] for r in results if r[0] == 401]
    refused = [r[3] for r in limited]
    assert statistics.median(refused) < statistics.median(hashed), (refused, hashed)
    # Another account is not affected by the victim's limit.
    other = register(node, "bystander")
    status, _, body, _ = uia_attempt(node, other, "delete_devices", WRONG, source="127.0.0.50")
    assert status == 401 and body["errcode"] == "M_FORBIDDEN", body


def test_uia_password_checks_are_limited_per_address(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_PASSWORD_BURST="3",
                 ELTRIX_RATELIMIT_PASSWORD_PER_MINUTE="1")
    users = [register(node, f"user{i}") for i in range(8)]
    statuses = []
    for user in users:
        # One guess per account, all from the same address.
        statuses.append(uia_attempt(node, user, "delete_devices", WRONG, source="127.0.0.7")[0])
    assert 429 in statuses, statuses
    assert statuses.index(429) <= 6, statuses
    # From another address the accounts that guessed once can still try.
    status, _, body, _ = uia_attempt(node, users[0], "delete_devices", WRONG, source="127.0.0.8")
    assert status == 401, body


def test_uia_limit_keeps_the_session_usable(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_PASSWORD_BURST="2",
                 ELTRIX_RATELIMIT_PASSWORD_PER_MINUTE="1")
    client = register(node, "alice")
    second = register(node, "alice2")  # another device is needed to delete one
    status, _, first, _ = call_from(node, "POST", "/delete_devices", {"devices": ["X"]},
                                    client.token)
    assert status == 401 and "session" in first
    session = first["session"]
    codes = []
    for _ in range(4):
        body = {"devices": ["X"], "auth": password_auth(client.user_id, WRONG, session)}
        codes.append(call_from(node, "POST", "/delete_devices", body, client.token)[0])
    assert 429 in codes, codes
    # After the limit the same session still answers (no 400 unknown session).
    assert codes[-1] == 429
    del second


def test_login_is_limited_per_account_across_addresses(start_node):
    node = ready(start_node)
    register(node, "target")
    statuses = []
    for i in range(12):
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "target"},
                "password": WRONG}
        status, headers, out, _ = call_from(node, "POST", "/login", body,
                                            source=f"127.0.1.{i + 2}")
        statuses.append(status)
        if status == 429:
            assert_limited(status, headers, out)
    # Each address tried once, far below the per-address login limit: only a
    # per-account limit refuses.
    assert 429 in statuses, statuses
    assert 5 <= statuses.index(429) <= 10, statuses


def test_login_is_limited_per_address(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_LOGIN_BURST="50", ELTRIX_RATELIMIT_LOGIN_PER_MINUTE="100",
                 ELTRIX_RATELIMIT_PASSWORD_BURST="3", ELTRIX_RATELIMIT_PASSWORD_PER_MINUTE="1")
    statuses = []
    for i in range(8):
        body = {"type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": f"nobody{i}"}, "password": WRONG}
        statuses.append(call_from(node, "POST", "/login", body, source="127.0.2.2")[0])
    assert 429 in statuses and statuses.index(429) <= 6, statuses


def post_until_limited(client, method, path, body_for, attempts):
    for i in range(attempts):
        status, out = client.call(method, path, body_for(i))
        if status == 429:
            return i, out
        assert status == 200, (path, status, out)
    raise AssertionError(f"no 429 after {attempts} requests to {path}")


def test_create_room_is_limited(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_CREATE_ROOM_BURST="3",
                 ELTRIX_RATELIMIT_CREATE_ROOM_PER_MINUTE="1")
    client = register(node, "creator")
    count, out = post_until_limited(client, "POST", "/createRoom", lambda i: {}, attempts=8)
    assert 3 <= count <= 6
    assert out["errcode"] == "M_LIMIT_EXCEEDED" and out["retry_after_ms"] > 0


def test_default_create_room_limit_exists(start_node):
    node = ready(start_node)
    client = register(node, "prolific")
    count, out = post_until_limited(client, "POST", "/createRoom", lambda i: {}, attempts=25)
    assert count >= 10
    assert out["errcode"] == "M_LIMIT_EXCEEDED" and out["retry_after_ms"] > 0


def test_joins_are_limited(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_JOIN_BURST="2", ELTRIX_RATELIMIT_JOIN_PER_MINUTE="1",
                 ELTRIX_RATELIMIT_CREATE_ROOM_BURST="20")
    owner = register(node, "owner")
    joiner = register(node, "joiner")
    rooms = [owner.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
             for _ in range(6)]
    statuses = []
    for room in rooms:
        status, out = joiner.call("POST", f"/join/{room}", {})
        statuses.append(status)
        if status == 429:
            assert out["errcode"] == "M_LIMIT_EXCEEDED" and out["retry_after_ms"] > 0
    assert 429 in statuses and 2 <= statuses.index(429) <= 4, statuses


def test_profile_changes_are_limited(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_PROFILE_BURST="3",
                 ELTRIX_RATELIMIT_PROFILE_PER_MINUTE="1")
    client = register(node, "vain")
    path = f"/profile/{client.user_id}/displayname"
    count, out = post_until_limited(client, "PUT", path, lambda i: {"displayname": f"Name {i}"},
                                    attempts=10)
    assert 3 <= count <= 6
    assert out["errcode"] == "M_LIMIT_EXCEEDED" and out["retry_after_ms"] > 0


def test_profile_change_updates_a_bounded_number_of_rooms(start_node):
    node = ready(start_node, ELTRIX_PROFILE_MAX_ROOM_UPDATES="2",
                 ELTRIX_RATELIMIT_CREATE_ROOM_BURST="20")
    client = register(node, "busy")
    rooms = [client.ok("POST", "/createRoom", {})["room_id"] for _ in range(5)]
    client.ok("PUT", f"/profile/{client.user_id}/displayname", {"displayname": "New Name"})
    renamed = 0
    for room in rooms:
        member = client.ok("GET", f"/rooms/{room}/state/m.room.member/{client.user_id}")
        renamed += member.get("displayname") == "New Name"
    assert renamed == 2
    # The profile itself changed in full.
    status, out = http_json("GET", node.url(f"{CS}/profile/{client.user_id}"))
    assert status == 200 and out["displayname"] == "New Name"
