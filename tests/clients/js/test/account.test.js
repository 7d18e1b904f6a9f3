// Accounts through matrix-js-sdk: register (user-interactive auth with
// m.login.dummy), log in, log out (Matrix spec v1.11, Client-Server API).

import assert from "node:assert/strict";
import { test } from "node:test";

import { PASSWORD, SERVER_NAME, Session, expectMatrixError, localpart, step } from "../lib/harness.js";

const T = { timeout: 60000 };

test("register two users and log in with passwords", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());

  const alice = await s.register("alice");
  const bob = await s.register("bob");
  assert.notEqual(alice.userId, bob.userId);

  // The registration's own token works straight away.
  const regClient = s.client({ userId: alice.userId, accessToken: alice.registration.access_token });
  const who = await step("whoami with the registration token", regClient.whoami());
  assert.equal(who.user_id, alice.userId);

  const client = await s.login(alice.username, "second device");
  assert.equal(client.getUserId(), alice.userId);
  assert.notEqual(client.getAccessToken(), alice.registration.access_token, "login reused the registration token");
  assert.notEqual(client.getDeviceId(), alice.registration.device_id, "login reused the registration device");
  const me = await step("whoami after login", client.whoami());
  assert.equal(me.user_id, alice.userId);
  assert.equal(me.device_id, client.getDeviceId(), "whoami device_id");

  // The SDK's own password helper (full user ID as the identifier).
  const viaHelper = s.client();
  const res = await step("loginWithPassword", viaHelper.loginWithPassword(bob.userId, PASSWORD));
  assert.equal(res.user_id, bob.userId);
  assert.ok(viaHelper.getAccessToken(), "loginWithPassword left the client without a token");
});

test("a taken username is M_USER_IN_USE", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const { username } = await s.register("taken");
  const anon = s.client();
  await expectMatrixError(
    anon.registerRequest({ username, password: PASSWORD, auth: { type: "m.login.dummy" } }),
    "M_USER_IN_USE",
    400,
    `registering ${username} twice`,
  );
  const available = anon.isUsernameAvailable(localpart("free"));
  assert.equal(await step("isUsernameAvailable for a new name", available), true);
});

test("a wrong password is M_FORBIDDEN", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const { username } = await s.register("carol");
  await expectMatrixError(
    s.client().loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: username },
      password: "not the password",
    }),
    "M_FORBIDDEN",
    403,
    "login with a wrong password",
  );
});

test("a logged-out token is M_UNKNOWN_TOKEN", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const { username, userId } = await s.register("dave");
  const first = await s.login(username, "to be logged out");
  const second = await s.login(username, "stays logged in");
  const token = first.getAccessToken();

  await step("whoami before logout", first.whoami());
  await step("logout", first.logout(true));

  // A client still holding the old token (restored from storage, say).
  const stale = s.client({ userId, accessToken: token, deviceId: first.getDeviceId() });
  await expectMatrixError(stale.whoami(), "M_UNKNOWN_TOKEN", 401, "whoami with a logged-out token");
  await expectMatrixError(stale.getJoinedRooms(), "M_UNKNOWN_TOKEN", 401, "joined_rooms with a logged-out token");

  const who = await step("whoami on the other device", second.whoami());
  assert.equal(who.user_id, userId);
});

test("a made-up token is M_UNKNOWN_TOKEN", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const client = s.client({ userId: `@nobody:${SERVER_NAME}`, accessToken: "syt_made_up_token" });
  await expectMatrixError(client.whoami(), "M_UNKNOWN_TOKEN", 401, "whoami with a made-up token");
});
