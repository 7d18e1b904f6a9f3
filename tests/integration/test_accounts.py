"""Accounts end to end against the real binary and PostgreSQL: registration
with user-interactive auth, login, logout, token expiry, password changes,
devices, shared-secret admin registration, `eltrix user create` and rate
limits (Matrix spec v1.11, Client-Server API)."""

import hashlib
import hmac
import json
import subprocess
import time

from conftest import REPO, base_env, free_port, http, http_json

C = "/_matrix/client/v3"
SERVER = "e2e.test"
PASSWORD = "correct horse battery"
OPEN = {"ELTRIX_REGISTRATION_ENABLED": "true", "ELTRIX_RATELIMIT_ENABLED": "false"}


def ready(start_node, **env):
    """A node that has applied the schema (start_node only waits for live)."""
    node = start_node(**env)
    node.wait_ready()
    return node


def call(node, method, path, body=None, token=None, raw=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    return http_json(method, node.url(path), body=data, headers=headers)


def register(node, username, password=PASSWORD, **extra):
    """The two-step m.login.dummy flow; returns the final (status, body)."""
    body = {"username": username, "password": password, **extra}
    status, first = call(node, "POST", C + "/register", body)
    if status != 401:
        return status, first
    body["auth"] = {"type": "m.login.dummy", "session": first["session"]}
    return call(node, "POST", C + "/register", body)


def registered(node, username, password=PASSWORD, **extra):
    status, body = register(node, username, password, **extra)
    assert status == 200, body
    return body


def login(node, user, password=PASSWORD, **extra):
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password, **extra}
    return call(node, "POST", C + "/login", body)


def whoami(node, token):
    return call(node, "GET", C + "/account/whoami", token=token)


def password_auth(user, password=PASSWORD, session=None):
    auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}
    if session:
        auth["session"] = session
    return auth


def query_one(url, sql):
    out = subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# ---- registration ---------------------------------------------------------------


def test_register_with_the_dummy_flow(start_node):
    node = ready(start_node, **OPEN)
    status, first = call(node, "POST", C + "/register",
                         {"username": "alice", "password": PASSWORD})
    assert status == 401
    assert first["flows"] == [{"stages": ["m.login.dummy"]}]
    assert first["params"] == {}
    assert isinstance(first["session"], str) and first["session"]
    assert "errcode" not in first and "completed" not in first

    status, body = call(node, "POST", C + "/register", {
        "username": "alice", "password": PASSWORD, "initial_device_display_name": "Phone",
        "auth": {"type": "m.login.dummy", "session": first["session"]}})
    assert status == 200, body
    assert body["user_id"] == f"@alice:{SERVER}"
    assert body["access_token"].startswith("elt_")
    assert len(body["device_id"]) == 10 and body["device_id"].isupper()
    assert body["expires_in_ms"] == 604800 * 1000

    assert whoami(node, body["access_token"]) == (
        200, {"user_id": f"@alice:{SERVER}", "device_id": body["device_id"], "is_guest": False})
    status, devices = call(node, "GET", C + "/devices", token=body["access_token"])
    assert status == 200
    assert [d["display_name"] for d in devices["devices"]] == ["Phone"]

    # The completed session cannot register a second account.
    status, again = call(node, "POST", C + "/register", {
        "username": "alice2", "password": PASSWORD,
        "auth": {"type": "m.login.dummy", "session": first["session"]}})
    assert status == 400 and again["errcode"] == "M_UNKNOWN", again


def test_register_variants(start_node):
    node = ready(start_node, **OPEN)
    # Upper case is mapped to lower case, as user IDs have none.
    assert registered(node, "Bob")["user_id"] == f"@bob:{SERVER}"
    # No username: the server picks one.
    generated = registered(node, None)
    assert generated["user_id"].startswith("@u") and generated["user_id"].endswith(":" + SERVER)
    # inhibit_login: an account but no token.
    body = registered(node, "carol", inhibit_login=True)
    assert body["user_id"] == f"@carol:{SERVER}"
    assert "access_token" not in body and "device_id" not in body
    # A chosen device ID is kept.
    assert registered(node, "dave", device_id="MYDEVICE")["device_id"] == "MYDEVICE"
    # Auth sent at once, without a session, works too.
    status, body = call(node, "POST", C + "/register", {
        "username": "erin", "password": PASSWORD, "auth": {"type": "m.login.dummy"}})
    assert status == 200, body


def test_uia_session_continues_on_another_node(start_node):
    first_node = ready(start_node, **OPEN)
    second_node = ready(start_node, **OPEN)
    body = {"username": "xavi", "password": PASSWORD}
    status, first = call(first_node, "POST", C + "/register", body)
    assert status == 401
    body["auth"] = {"type": "m.login.dummy", "session": first["session"]}
    status, done = call(second_node, "POST", C + "/register", body)
    assert status == 200, done
    assert whoami(first_node, done["access_token"])[0] == 200


def test_registration_disabled_and_guests(start_node):
    node = ready(start_node)  # registration.enabled defaults to false
    status, body = call(node, "POST", C + "/register", {"username": "x", "password": PASSWORD})
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    status, body = call(node, "GET", C + "/register/available?username=x")
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    status, body = call(node, "POST", C + "/register?kind=guest", {})
    assert (status, body["errcode"]) == (403, "M_GUEST_ACCESS_FORBIDDEN")


def test_registration_token_flow(start_node):
    node = ready(start_node, **OPEN, ELTRIX_REGISTRATION_REQUIRES_TOKEN="true",
                      ELTRIX_REGISTRATION_TOKEN="let-me-in")
    body = {"username": "tina", "password": PASSWORD}
    status, first = call(node, "POST", C + "/register", body)
    assert status == 401
    assert first["flows"] == [{"stages": ["m.login.registration_token"]}]
    session = first["session"]

    body["auth"] = {"type": "m.login.registration_token", "token": "wrong", "session": session}
    status, failed = call(node, "POST", C + "/register", body)
    assert status == 401
    assert failed["errcode"] == "M_FORBIDDEN" and failed["session"] == session
    # The dummy stage is not on offer here.
    body["auth"] = {"type": "m.login.dummy", "session": session}
    status, failed = call(node, "POST", C + "/register", body)
    assert status == 401 and failed.get("errcode") == "M_FORBIDDEN"

    body["auth"] = {"type": "m.login.registration_token", "token": "let-me-in", "session": session}
    status, done = call(node, "POST", C + "/register", body)
    assert status == 200, done
    assert done["user_id"] == f"@tina:{SERVER}"

    validity = "/_matrix/client/v1/register/m.login.registration_token/validity"
    assert call(node, "GET", validity + "?token=let-me-in") == (200, {"valid": True})
    assert call(node, "GET", validity + "?token=nope") == (200, {"valid": False})


def test_invalid_and_taken_usernames(start_node):
    node = ready(start_node, **OPEN)
    registered(node, "taken")
    for bad in ["has space", "colon:name", "_reserved", "\u00e9", "x" * 300]:
        status, body = call(node, "POST", C + "/register", {"username": bad, "password": PASSWORD})
        assert (status, body["errcode"]) == (400, "M_INVALID_USERNAME"), bad
    # Reported before user-interactive auth begins (400, not 401).
    status, body = call(node, "POST", C + "/register", {"username": "taken", "password": PASSWORD})
    assert (status, body["errcode"]) == (400, "M_USER_IN_USE")
    status, body = call(node, "POST", C + "/register", {"username": "TAKEN", "password": PASSWORD})
    assert (status, body["errcode"]) == (400, "M_USER_IN_USE")

    assert call(node, "GET", C + "/register/available?username=free") == (200, {"available": True})
    status, body = call(node, "GET", C + "/register/available?username=taken")
    assert (status, body["errcode"]) == (400, "M_USER_IN_USE")
    status, body = call(node, "GET", C + "/register/available?username=bad%20name")
    assert (status, body["errcode"]) == (400, "M_INVALID_USERNAME")


def test_weak_passwords(start_node):
    node = ready(start_node, **OPEN, ELTRIX_PASSWORD_MIN_LENGTH="12",
                      ELTRIX_PASSWORD_REQUIRE_SPECIAL="true")
    for weak in ["short!", "longbutnospecial1"]:
        status, body = call(node, "POST", C + "/register", {"username": "w", "password": weak})
        assert (status, body["errcode"]) == (400, "M_WEAK_PASSWORD"), weak
        assert weak not in body["error"]
    assert register(node, "w", "long enough & special")[0] == 200


# ---- login, tokens, logout -------------------------------------------------------


def test_login_identifier_forms(start_node):
    node = ready(start_node, **OPEN)
    registered(node, "lena")
    assert call(node, "GET", C + "/login") == (200, {"flows": [{"type": "m.login.password"}]})

    for user in ["lena", f"@lena:{SERVER}", "LENA"]:
        status, body = login(node, user)
        assert status == 200, (user, body)
        assert body["user_id"] == f"@lena:{SERVER}"
        assert whoami(node, body["access_token"])[0] == 200

    status, body = call(node, "POST", C + "/login",
                        {"type": "m.login.password", "user": "lena", "password": PASSWORD})
    assert status == 200, body  # the deprecated top-level "user"

    status, body = call(node, "POST", C + "/login", {
        "type": "m.login.password", "password": PASSWORD,
        "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": "l@x.org"}})
    assert (status, body["errcode"]) == (400, "M_UNKNOWN")
    status, body = call(node, "POST", C + "/login", {"type": "m.login.token", "token": "x"})
    assert (status, body["errcode"]) == (400, "M_UNKNOWN")


def test_wrong_password_and_unknown_user(start_node):
    node = ready(start_node, **OPEN)
    registered(node, "mona")
    status, wrong = login(node, "mona", "not the password")
    assert (status, wrong["errcode"]) == (403, "M_FORBIDDEN")
    status, unknown = login(node, "nobody")
    assert (status, unknown["errcode"]) == (403, "M_FORBIDDEN")
    assert wrong["error"] == unknown["error"]  # no hint which accounts exist
    status, other = login(node, "@mona:elsewhere.org")
    assert (status, other["errcode"]) == (403, "M_FORBIDDEN")


def test_device_reuse_on_login(start_node):
    node = ready(start_node, **OPEN)
    registered(node, "nina", inhibit_login=True)
    status, first = login(node, "nina", device_id="LAPTOP", initial_device_display_name="Laptop")
    assert status == 200 and first["device_id"] == "LAPTOP"
    status, second = login(node, "nina", device_id="LAPTOP", initial_device_display_name="Other")
    assert status == 200 and second["device_id"] == "LAPTOP"
    # The device's earlier token is replaced, its name kept.
    status, body = whoami(node, first["access_token"])
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN")
    status, devices = call(node, "GET", C + "/devices", token=second["access_token"])
    assert [(d["device_id"], d["display_name"]) for d in devices["devices"]] == [("LAPTOP", "Laptop")]


def test_missing_unknown_and_query_tokens(start_node):
    node = ready(start_node, **OPEN)
    token = registered(node, "olga")["access_token"]
    status, body = call(node, "GET", C + "/account/whoami")
    assert (status, body["errcode"]) == (401, "M_MISSING_TOKEN")
    status, body = whoami(node, "elt_not_a_real_token")
    assert (status, body["errcode"], body["soft_logout"]) == (401, "M_UNKNOWN_TOKEN", False)
    status, body = call(node, "GET", C + "/account/whoami?access_token=" + token)
    assert status == 200 and body["user_id"] == f"@olga:{SERVER}"


def test_logout_takes_effect_at_once(start_node):
    node = ready(start_node, **OPEN)
    token = registered(node, "pia")["access_token"]
    other = login(node, "pia")[1]["access_token"]
    assert whoami(node, token)[0] == 200  # now cached
    assert call(node, "POST", C + "/logout", token=token) == (200, {})
    status, body = whoami(node, token)
    assert (status, body["errcode"], body["soft_logout"]) == (401, "M_UNKNOWN_TOKEN", False)
    # Only that device went.
    status, devices = call(node, "GET", C + "/devices", token=other)
    assert status == 200 and len(devices["devices"]) == 1


def test_logout_all(start_node):
    node = ready(start_node, **OPEN)
    tokens = [registered(node, "quin")["access_token"]]
    tokens += [login(node, "quin")[1]["access_token"] for _ in range(2)]
    for token in tokens:
        assert whoami(node, token)[0] == 200
    assert call(node, "POST", C + "/logout/all", token=tokens[1]) == (200, {})
    for token in tokens:
        assert whoami(node, token)[1]["errcode"] == "M_UNKNOWN_TOKEN"
    token = login(node, "quin")[1]["access_token"]
    assert len(call(node, "GET", C + "/devices", token=token)[1]["devices"]) == 1


def test_expired_token(start_node):
    node = ready(start_node, **OPEN, ELTRIX_SESSION_LIFETIME="1")
    body = registered(node, "rita")
    assert body["expires_in_ms"] == 1000
    time.sleep(2)
    status, err = whoami(node, body["access_token"])
    assert (status, err["errcode"]) == (401, "M_UNKNOWN_TOKEN")
    assert err["soft_logout"] is True  # the client may log in again on the same device


def test_tokens_never_stored_in_clear(start_node, database):
    node = ready(start_node, **OPEN)
    token = registered(node, "sara")["access_token"]
    stored = query_one(database, "SELECT token_hash FROM access_tokens")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert query_one(database, f"SELECT count(*) FROM access_tokens WHERE token_hash = '{token}'") == "0"
    assert query_one(database, "SELECT password_hash FROM users").startswith("$argon2id$")


# ---- password change and devices -----------------------------------------------


def test_password_change_logs_out_other_devices(start_node):
    node = ready(start_node, **OPEN)
    keep = registered(node, "tom")["access_token"]
    other = login(node, "tom")[1]["access_token"]
    new = "a brand new password"

    status, first = call(node, "POST", C + "/account/password", {"new_password": new}, token=keep)
    assert status == 401 and first["flows"] == [{"stages": ["m.login.password"]}]
    session = first["session"]
    status, failed = call(node, "POST", C + "/account/password", {
        "new_password": new, "auth": password_auth("tom", "wrong", session)}, token=keep)
    assert (status, failed["errcode"], failed["session"]) == (401, "M_FORBIDDEN", session)
    status, body = call(node, "POST", C + "/account/password", {
        "new_password": new, "auth": password_auth("tom", PASSWORD, session)}, token=keep)
    assert (status, body) == (200, {})

    assert whoami(node, keep)[0] == 200
    assert whoami(node, other)[1]["errcode"] == "M_UNKNOWN_TOKEN"
    assert login(node, "tom")[0] == 403
    assert login(node, "tom", new)[0] == 200

    # logout_devices: false keeps the others; a weak new password is refused first.
    third = login(node, "tom", new)[1]["access_token"]
    status, body = call(node, "POST", C + "/account/password", {"new_password": "x"}, token=keep)
    assert (status, body["errcode"]) == (400, "M_WEAK_PASSWORD")
    status, _ = call(node, "POST", C + "/account/password", {
        "new_password": PASSWORD, "logout_devices": False,
        "auth": password_auth(f"@tom:{SERVER}", new)}, token=keep)
    assert status == 200
    assert whoami(node, third)[0] == 200


def test_devices_list_update_delete(start_node):
    node = ready(start_node, **OPEN)
    token = registered(node, "uma", initial_device_display_name="First")["access_token"]
    second = login(node, "uma", device_id="SECOND")[1]["access_token"]
    third = login(node, "uma", device_id="THIRD")[1]["access_token"]

    status, body = call(node, "GET", C + "/devices", token=token)
    assert status == 200
    assert {d["device_id"] for d in body["devices"]} >= {"SECOND", "THIRD"}
    assert all("last_seen_ts" in d for d in body["devices"])
    status, device = call(node, "GET", C + "/devices/SECOND", token=token)
    assert status == 200 and device["device_id"] == "SECOND"
    assert call(node, "PUT", C + "/devices/SECOND", {"display_name": "Tablet"}, token=token) == (200, {})
    assert call(node, "GET", C + "/devices/SECOND", token=token)[1]["display_name"] == "Tablet"
    status, body = call(node, "GET", C + "/devices/NOPE", token=token)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = call(node, "PUT", C + "/devices/NOPE", {"display_name": "x"}, token=token)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")

    # DELETE without a body: the first step of user-interactive auth.
    status, first = call(node, "DELETE", C + "/devices/SECOND", token=token)
    assert status == 401 and first["flows"] == [{"stages": ["m.login.password"]}]
    # That session cannot be spent on another operation.
    status, body = call(node, "POST", C + "/delete_devices", {
        "devices": ["THIRD"], "auth": password_auth("uma", session=first["session"])}, token=token)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    status, body = call(node, "DELETE", C + "/devices/SECOND", {
        "auth": password_auth("uma", session=first["session"])}, token=token)
    assert (status, body) == (200, {})
    assert whoami(node, second)[1]["errcode"] == "M_UNKNOWN_TOKEN"
    assert call(node, "GET", C + "/devices/SECOND", token=token)[0] == 404

    status, first = call(node, "POST", C + "/delete_devices", {"devices": ["THIRD"]}, token=token)
    assert status == 401
    status, body = call(node, "POST", C + "/delete_devices", {
        "devices": ["THIRD", "ALREADYGONE"], "auth": password_auth("uma", session=first["session"])},
        token=token)
    assert (status, body) == (200, {})
    assert whoami(node, third)[1]["errcode"] == "M_UNKNOWN_TOKEN"
    assert whoami(node, token)[0] == 200


# ---- shared-secret registration ---------------------------------------------------

ADMIN = "/_synapse/admin/v1/register"


def mac(secret, nonce, user, password, admin):
    digest = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in [nonce, user, password]:
        digest.update(part.encode() + b"\x00")
    digest.update(b"admin" if admin else b"notadmin")
    return digest.hexdigest()


def test_shared_secret_registration(start_node, database):
    secret = "a long shared secret"
    node = ready(start_node, ELTRIX_REGISTRATION_SHARED_SECRET=secret, ELTRIX_RATELIMIT_ENABLED="false")
    status, body = call(node, "GET", ADMIN)
    assert status == 200
    nonce = body["nonce"]
    request = {"nonce": nonce, "username": "Root", "password": PASSWORD, "admin": True,
               "displayname": "The Admin", "mac": mac(secret, nonce, "Root", PASSWORD, True)}
    status, body = call(node, "POST", ADMIN, request)
    assert status == 200, body
    assert body["user_id"] == f"@root:{SERVER}"
    assert whoami(node, body["access_token"])[1]["user_id"] == f"@root:{SERVER}"
    assert query_one(database, "SELECT admin, displayname FROM users WHERE user_id = "
                     f"'@root:{SERVER}'") == "t|The Admin"

    # A nonce is good for one request.
    status, body = call(node, "POST", ADMIN, dict(request, username="root2",
                                                   mac=mac(secret, nonce, "root2", PASSWORD, True)))
    assert (status, body["error"]) == (400, "unrecognised nonce")

    # A wrong MAC (here: the admin flag flipped) is 403, and spends its nonce.
    nonce = call(node, "GET", ADMIN)[1]["nonce"]
    forged = {"nonce": nonce, "username": "mallory", "password": PASSWORD, "admin": True,
              "mac": mac(secret, nonce, "mallory", PASSWORD, False)}
    status, body = call(node, "POST", ADMIN, forged)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    forged["mac"] = mac(secret, nonce, "mallory", PASSWORD, True)
    assert call(node, "POST", ADMIN, forged)[0] == 400
    assert query_one(database, "SELECT count(*) FROM users WHERE user_id LIKE '@mallory:%'") == "0"

    # The same user twice.
    nonce = call(node, "GET", ADMIN)[1]["nonce"]
    status, body = call(node, "POST", ADMIN, {"nonce": nonce, "username": "root", "password": PASSWORD,
                                              "admin": False,
                                              "mac": mac(secret, nonce, "root", PASSWORD, False)})
    assert (status, body["errcode"]) == (400, "M_USER_IN_USE")


def test_shared_secret_disabled(start_node):
    node = ready(start_node)
    for method, body in [("GET", None), ("POST", {})]:
        status, err = call(node, method, ADMIN, body)
        assert status == 400
        assert err["error"] == "Shared secret registration is not enabled"


def test_register_user_script(start_node, database, tmp_path):
    secret = "script secret"
    node = ready(start_node, ELTRIX_REGISTRATION_SHARED_SECRET=secret, ELTRIX_RATELIMIT_ENABLED="false")
    script = str(REPO / "scripts" / "eltrix-register-user")
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    run = subprocess.run(["/usr/bin/python3", script, "-u", "vera", "--password-file",
                          str(password_file), "--admin", "-k", secret, node.base],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert login(node, "vera")[0] == 200
    assert query_one(database, f"SELECT admin FROM users WHERE user_id = '@vera:{SERVER}'") == "t"

    # The secret from a config file (and conf.d), --no-admin, --exists-ok.
    conf = tmp_path / "etc" / "eltrix.conf"
    (conf.parent / "conf.d").mkdir(parents=True)
    conf.write_text("server.name = e2e.test\n")
    (conf.parent / "conf.d" / "secret.conf").write_text(f'registration.shared_secret = "{secret}"\n')
    for expected in [0, 1]:
        run = subprocess.run(["/usr/bin/python3", script, "-u", "walt", "-p", PASSWORD,
                              "--no-admin", "-c", str(conf), node.base],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == expected, run.stdout + run.stderr
    run = subprocess.run(["/usr/bin/python3", script, "-u", "walt", "-p", PASSWORD, "--no-admin",
                          "--exists-ok", "-c", str(conf), node.base],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "already exists" in run.stdout
    run = subprocess.run(["/usr/bin/python3", script, "-u", "xena", "-p", PASSWORD, "--no-admin",
                          "-k", "wrong secret", node.base], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "HMAC incorrect" in run.stderr


# ---- eltrix user create -------------------------------------------------------------


def test_user_create_command(binary, database, tmp_path, start_node):
    config = tmp_path / "cli.conf"
    config.write_text("")
    env = base_env(database, tmp_path, free_port())

    def create(*args, stdin=None):
        return subprocess.run([binary, "user", "create", *args, "--config", str(config)], env=env,
                              input=stdin, capture_output=True, text=True, timeout=60)

    # Before any node ever started: migrations are applied by the command.
    run = create("yuri", "--admin", "--displayname", "Yuri Y", "--password-stdin",
                 stdin=PASSWORD + "\n")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"@yuri:{SERVER}" in run.stdout
    assert PASSWORD not in run.stdout + run.stderr

    run = create("yuri", "--password-stdin", stdin=PASSWORD + "\n")
    assert run.returncode == 1 and "already exists" in run.stderr
    run = create("Not Valid", "--password-stdin", stdin=PASSWORD + "\n")
    assert run.returncode == 1 and "invalid user name" in run.stderr
    run = create("zed", "--password-stdin", stdin="Qz9!\n")
    assert run.returncode == 1 and "too short" in run.stderr and "Qz9!" not in run.stderr
    pw = tmp_path / "pw"
    pw.write_text("from a file 123\n")
    assert create("zed", "--password-file", str(pw)).returncode == 0
    run = create("amy", "--password", "x")
    assert run.returncode == 64

    bad_env = dict(env)
    del bad_env["ELTRIX_SERVER_NAME"]
    run = subprocess.run([binary, "user", "create", "amy", "--password-stdin", "--config",
                          str(config)], env=bad_env, input=PASSWORD + "\n", capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 78, run.stderr

    node = ready(start_node)
    status, body = login(node, "yuri")
    assert status == 200, body
    assert login(node, "zed", "from a file 123")[0] == 200


# ---- rate limits ---------------------------------------------------------------------


def post_until_limited(node, path, body, attempts):
    """Posts until 429; windows are aligned to the clock, so one boundary may
    fall between the requests: 2*burst+1 attempts always reach the limit."""
    for _ in range(attempts):
        status, headers, raw = http("POST", node.url(path), body=json.dumps(body).encode(),
                                    headers={"Content-Type": "application/json"})
        if status == 429:
            return headers, json.loads(raw)
    raise AssertionError(f"no 429 after {attempts} requests to {path}")


def test_login_rate_limit(start_node):
    node = ready(start_node, ELTRIX_RATELIMIT_LOGIN_PER_MINUTE="1", ELTRIX_RATELIMIT_LOGIN_BURST="2")
    headers, body = post_until_limited(node, C + "/login", {
        "type": "m.login.password", "user": "nobody", "password": "x"}, attempts=5)
    assert body["errcode"] == "M_LIMIT_EXCEEDED"
    assert 0 < body["retry_after_ms"] <= 120_000
    assert int(headers["Retry-After"]) >= 1


def test_register_rate_limit(start_node):
    node = ready(start_node, ELTRIX_REGISTRATION_ENABLED="true",
                 ELTRIX_RATELIMIT_REGISTER_PER_MINUTE="1", ELTRIX_RATELIMIT_REGISTER_BURST="1")
    headers, body = post_until_limited(node, C + "/register",
                                       {"username": "a", "password": PASSWORD}, attempts=3)
    assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0
