// Shared helpers for the matrix-js-sdk scenarios. Everything goes through the
// SDK's public client API the way a bot or web client would; the helpers only
// add bounded waits and failure messages that say what was expected.
//
// The server comes from ELTRIX_URL / ELTRIX_SERVER_NAME, which
// tests/clients/server.py sets (`npm test` runs the suite through it).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

const { ClientEvent, MatrixError, SyncState } = sdk;

export { sdk };

// The SDK logs every failed request at "error"; the assertions below report
// what matters. ELTRIX_JS_SDK_LOG=debug shows the SDK's own view. Module-level
// code logs through `logger`; each client and its children (MatrixRTC, ...)
// through the logger given to createClient.
const SDK_LOG = process.env.ELTRIX_JS_SDK_LOG;
if (SDK_LOG) {
  logger.setLevel(SDK_LOG, false);
} else {
  // Child loggers (MatrixRTC's, for one) copy the root's methodFactory and set
  // their own level, so silence them through the factory.
  logger.methodFactory = () => () => {};
  logger.rebuild();
}
const quiet = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild() {
    return quiet;
  },
};

export const BASE_URL = process.env.ELTRIX_URL;
export const SERVER_NAME = process.env.ELTRIX_SERVER_NAME;
if (!BASE_URL || !SERVER_NAME) {
  throw new Error(
    "ELTRIX_URL and ELTRIX_SERVER_NAME are not set. Run the suite with `npm test` in tests/clients/js " +
      "(it starts a fresh server through tests/clients/server.py), or see docs/testing.md.",
  );
}

export const PASSWORD = "correct horse battery staple 3";
export const STEP_TIMEOUT_MS = 15000;

export function localpart(prefix) {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export function describeError(e) {
  if (e instanceof MatrixError) {
    const body = JSON.stringify(e.data ?? {}).slice(0, 300);
    let where = "";
    try {
      if (e.url) where = ` from ${new URL(e.url).pathname}`;
    } catch {
      // no usable URL
    }
    return `HTTP ${e.httpStatus} ${e.errcode ?? "(no errcode)"}${where} ${body}`;
  }
  return e?.stack ?? String(e);
}

/** Await `promise`; on failure rethrow with what was being done. */
export async function step(what, promise) {
  try {
    return await promise;
  } catch (e) {
    throw new Error(`${what}: ${describeError(e)}`, { cause: e });
  }
}

/** The call must fail with this Matrix errcode and HTTP status. */
export async function expectMatrixError(promise, errcode, httpStatus, what) {
  let result;
  try {
    result = await promise;
  } catch (e) {
    if (!(e instanceof MatrixError)) {
      assert.fail(`${what}: expected HTTP ${httpStatus} ${errcode}, got ${describeError(e)}`);
    }
    assert.ok(
      e.errcode === errcode && e.httpStatus === httpStatus,
      `${what}: expected HTTP ${httpStatus} ${errcode}, got ${describeError(e)}`,
    );
    return e;
  }
  let shown;
  try {
    shown = JSON.stringify(result);
  } catch {
    shown = result?.constructor?.name ?? String(result);
  }
  assert.fail(`${what}: expected HTTP ${httpStatus} ${errcode}, but it succeeded: ${shown}`);
}

/**
 * Resolve with the first truthy check() result, re-checking whenever `event`
 * fires on `emitter` (and once at the start); reject after timeoutMs.
 */
export function waitFor(emitter, event, check, what, timeoutMs = STEP_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      emitter.off(event, listener);
      fn(value);
    };
    const listener = (...args) => {
      try {
        const value = check(...args);
        if (value) finish(resolve, value);
      } catch (e) {
        finish(reject, e);
      }
    };
    const timer = setTimeout(
      () => finish(reject, new Error(`did not see ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    emitter.on(event, listener);
    try {
      const now = check();
      if (now) finish(resolve, now);
    } catch {
      // check() may need the event's arguments; wait for the event then
    }
  });
}

/** Creates clients and users against ELTRIX_URL, and stops them all. */
export class Session {
  constructor() {
    this.clients = [];
  }

  client(opts = {}) {
    // No localTimeoutMs: the SDK never clears that timer, so each request would
    // keep the process alive for the whole period; the tests have their own timeouts.
    const client = sdk.createClient({ baseUrl: BASE_URL, ...(SDK_LOG ? {} : { logger: quiet }), ...opts });
    this.clients.push(client);
    return client;
  }

  /**
   * Register through user-interactive auth as the spec describes it: the
   * first request gets HTTP 401 with a session and flows, the second
   * completes m.login.dummy in that session.
   */
  async register(prefix) {
    const username = localpart(prefix);
    const anon = this.client();
    let uia;
    try {
      await anon.registerRequest({ username, password: PASSWORD });
    } catch (e) {
      uia = e;
    }
    assert.ok(
      uia instanceof MatrixError && uia.httpStatus === 401 && typeof uia.data?.session === "string",
      `register ${username} without auth: expected the HTTP 401 user-interactive auth answer ` +
        `with a session, got ${uia ? describeError(uia) : "success"}`,
    );
    const flows = uia.data.flows ?? [];
    assert.ok(
      flows.some((f) => JSON.stringify(f.stages) === JSON.stringify(["m.login.dummy"])),
      `register: no m.login.dummy flow in ${JSON.stringify(flows)}`,
    );
    const res = await step(
      `register ${username} with m.login.dummy`,
      anon.registerRequest({
        username,
        password: PASSWORD,
        initial_device_display_name: "js-sdk register",
        auth: { type: "m.login.dummy", session: uia.data.session },
      }),
    );
    assert.equal(res.user_id, `@${username}:${SERVER_NAME}`, "registered user_id");
    assert.ok(res.access_token, "registration returned no access_token");
    assert.ok(res.device_id, "registration returned no device_id");
    return { username, userId: res.user_id, registration: res };
  }

  /** Log in with the password; returns a client that holds the new session. */
  async login(username, deviceName = "js-sdk test") {
    const anon = this.client();
    const res = await step(
      `login as ${username}`,
      anon.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: username },
        password: PASSWORD,
        initial_device_display_name: deviceName,
      }),
    );
    assert.ok(res.access_token && res.device_id && res.user_id, `login answer: ${JSON.stringify(res)}`);
    const client = this.client({ userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id });
    client.username = username;
    return client;
  }

  /** A newly registered user, logged in with a password on a new device. */
  async user(prefix) {
    const { username } = await this.register(prefix);
    return this.login(username);
  }

  /** startClient() and wait until the first sync is processed (PREPARED). */
  async start(client, opts = {}) {
    let lastError;
    const onSync = (state, _prev, data) => {
      if (state === SyncState.Error) lastError = data?.error;
    };
    client.on(ClientEvent.Sync, onSync);
    try {
      // The SDK retries failed start-up requests forever; a 4xx (other than
      // 429) will not get better, so stop waiting at the first one.
      const prepared = waitFor(
        client,
        ClientEvent.Sync,
        (state, _prev, data) => {
          const e = state === SyncState.Error ? data?.error : undefined;
          if (e instanceof MatrixError && e.httpStatus >= 400 && e.httpStatus < 500 && e.httpStatus !== 429) {
            throw new Error(`${client.getUserId()}'s client could not start syncing: ${describeError(e)}`);
          }
          return state === SyncState.Prepared || client.isInitialSyncComplete();
        },
        `${client.getUserId()}'s first sync (PREPARED)`,
        20000,
      );
      await client.startClient({ initialSyncLimit: 20, lazyLoadMembers: false, ...opts });
      await prepared.catch((e) => {
        if (!e.message.startsWith("did not see")) throw e;
        const why = lastError ? `; last sync error: ${describeError(lastError)}` : "";
        throw new Error(`${e.message} (sync state ${client.getSyncState()}${why})`);
      });
    } finally {
      client.off(ClientEvent.Sync, onSync);
    }
    return client;
  }

  /**
   * `owner` creates a private room inviting `guest`; guest (started) sees
   * the invite through its sync and joins. Returns the room ID.
   */
  async sharedRoom(owner, guest, name = "test room") {
    const { room_id: roomId } = await step(
      `${owner.getUserId()} creates a room inviting ${guest.getUserId()}`,
      owner.createRoom({ name, preset: sdk.Preset.PrivateChat, invite: [guest.getUserId()] }),
    );
    assert.match(roomId ?? "", /^!.+/, "createRoom room_id");
    await waitFor(
      guest,
      ClientEvent.Sync,
      () => guest.getRoom(roomId)?.getMyMembership() === "invite",
      `the invite to ${roomId}`,
    );
    const room = await step(`${guest.getUserId()} joins ${roomId}`, guest.joinRoom(roomId));
    assert.equal(room.roomId, roomId);
    await waitFor(
      guest,
      ClientEvent.Sync,
      () => guest.getRoom(roomId)?.getMyMembership() === "join",
      `${guest.getUserId()}'s own join coming back through sync`,
    );
    return roomId;
  }

  stopAll() {
    for (const client of this.clients) client.stopClient();
  }
}

/** m.room.message events of `room`'s live timeline, oldest first. */
export function timelineMessages(room) {
  return room
    .getLiveTimeline()
    .getEvents()
    .filter((e) => e.getType() === "m.room.message" && !e.status);
}
