"""Accounts through matrix-nio: register, log in, log out (Matrix spec v1.11,
Client-Server API: Account registration, Login, Logout, whoami)."""

import json

import nio

from nio_helpers import (PASSWORD, RegisterErrorResponse, Session, WhoamiError,
                         WhoamiResponse, expect, expect_error, run, unique_localpart)


def test_register_and_login(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            # Two users register; nio answers the m.login.dummy stage itself.
            alice_local, alice_id = await s.register("alice")
            bob_local, bob_id = await s.register("bob")
            assert alice_id != bob_id

            # The token from registration is usable straight away.
            reg_client = s.clients[0]
            who = await reg_client.whoami()
            expect(who, WhoamiResponse, "whoami with the registration token")
            assert who.user_id == alice_id

            # Logging in with the password gives a new device and token.
            alice = await s.login(alice_local, device_name="second device")
            assert alice.user_id == alice_id
            assert alice.access_token != reg_client.access_token, "login reused the registration token"
            assert alice.device_id != reg_client.device_id, "login reused the registration device"
            who = await alice.whoami()
            expect(who, WhoamiResponse, "whoami after login")
            assert who.user_id == alice_id
            body = await who.transport_response.json()
            assert body.get("device_id") == alice.device_id, f"whoami device_id: {body}"

            # The full user ID works as the login identifier as well.
            bob = await s.login(bob_id)
            assert bob.user_id == bob_id

    run(scenario())


def test_register_taken_username_is_rejected(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            localpart, _ = await s.register("taken")
            again = await s.client().register(localpart, PASSWORD)
            assert isinstance(again, RegisterErrorResponse), f"second registration: {again}"
            expect_error(again, "M_USER_IN_USE", 400, f"registering {localpart} twice")

    run(scenario())


def test_login_wrong_password_is_forbidden(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            localpart, _ = await s.register("carol")
            client = s.client(localpart)
            resp = await client.login("not the password", device_name="wrong")
            expect_error(resp, "M_FORBIDDEN", 403, "login with a wrong password")
            assert not client.logged_in

            stranger = s.client(unique_localpart("nobody"))
            resp = await stranger.login(PASSWORD)
            expect_error(resp, "M_FORBIDDEN", 403, "login as a user that does not exist")

    run(scenario())


def test_logged_out_token_is_unknown(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            localpart, user_id = await s.register("dave")
            first = await s.login(localpart, device_name="to be logged out")
            second = await s.login(localpart, device_name="stays logged in")
            token, device_id = first.access_token, first.device_id

            expect(await first.whoami(), WhoamiResponse, "whoami before logout")
            expect(await first.logout(), nio.LogoutResponse, "logout")

            # A client that still holds the old token (restored from disk, say).
            stale = s.client(localpart)
            stale.restore_login(user_id, device_id, token)
            expect_error(await stale.whoami(), "M_UNKNOWN_TOKEN", 401, "whoami with a logged-out token")
            resp = await stale.sync(timeout=0)
            expect_error(resp, "M_UNKNOWN_TOKEN", 401, "sync with a logged-out token")
            assert isinstance(resp, nio.SyncError)

            # Only that device was logged out.
            who = await second.whoami()
            expect(who, WhoamiResponse, "whoami on the other device after logout")
            assert who.user_id == user_id

    run(scenario())


def test_whoami_with_made_up_token(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            client = s.client("@nobody:" + server.server_name)
            client.restore_login("@nobody:" + server.server_name, "NODEVICE", "syt_not_a_real_token")
            resp = await client.whoami()
            assert isinstance(resp, WhoamiError), f"whoami with a made-up token: {resp}"
            expect_error(resp, "M_UNKNOWN_TOKEN", 401, "whoami with a made-up token")

    run(scenario())


def test_deactivate_account(server):
    """POST /account/deactivate (spec: Account management): nio has no method
    for it, so the request goes through the client's own HTTP session, with
    the password stage of user-interactive auth and only `auth` in the second
    request (the server remembers the first one's `erase`)."""
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            localpart, user_id = await s.register("erin")
            erin = await s.login(localpart)
            path = "/_matrix/client/v3/account/deactivate"
            headers = {"Authorization": f"Bearer {erin.access_token}",
                       "Content-Type": "application/json"}
            first = await erin.send("POST", path, json.dumps({"erase": True}), headers)
            assert first.status == 401, await first.text()
            session = (await first.json())["session"]
            auth = {"type": "m.login.password", "session": session, "password": PASSWORD,
                    "identifier": {"type": "m.id.user", "user": user_id}}
            done = await erin.send("POST", path, json.dumps({"auth": auth}), headers)
            assert done.status == 200, await done.text()
            assert (await done.json()) == {"id_server_unbind_result": "success"}
            # Every token is gone and the password no longer logs in.
            expect_error(await erin.whoami(), "M_UNKNOWN_TOKEN", 401, "whoami after deactivation")
            resp = await s.client(localpart).login(PASSWORD, device_name="after deactivation")
            assert isinstance(resp, nio.LoginError), f"login after deactivation: {resp}"

    run(scenario())
