// Media through matrix-js-sdk: alice uploads files (uploadContent) and posts
// them as m.file / m.image events; bob takes the mxc URI from the event he
// receives, turns it into an authenticated media URL (mxcUrlToHttp with
// useAuthentication: /_matrix/client/v1/media, spec v1.11) and fetches it with
// his access token, as Element does: byte-for-byte downloads, thumbnails of a
// PNG and a JPEG at the expected size and format.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";

import { Session, sdk, step, waitFor } from "../lib/harness.js";
import { imageSize, jpeg, png } from "../lib/images.js";

const { ClientEvent } = sdk;
const T = { timeout: 90000 };
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** GET an authenticated media URL as `client`; returns { status, type, body, json }. */
async function authedGet(client, url) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
  const body = Buffer.from(await res.arrayBuffer());
  let json;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json")) {
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      // not JSON after all
    }
  }
  return { status: res.status, type: res.headers.get("content-type") ?? "", headers: res.headers, body, json };
}

function mediaUrl(client, mxc, ...thumbnail) {
  const [width, height, method] = thumbnail;
  const url = client.mxcUrlToHttp(mxc, width, height, method, false, true, true);
  assert.ok(url, `mxcUrlToHttp(${mxc}) gave no URL`);
  assert.match(new URL(url).pathname, /^\/_matrix\/client\/v1\/media\/(download|thumbnail)\//, url);
  return url;
}

/**
 * alice uploads `files` and posts each to a room with bob (started); resolves
 * once bob's sync has delivered every event. Sets file.uri to the mxc URI as
 * bob received it.
 */
async function shareFiles(s, files) {
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "media");
  const received = new Map(); // event ID -> content, as bob's sync delivers it
  bob.on(ClientEvent.Event, (event) => {
    if (event.getRoomId() === roomId && event.getType() === "m.room.message") {
      received.set(event.getId(), event.getContent());
    }
  });
  for (const file of files) {
    const { content_uri: uri } = await step(
      `alice uploads ${file.name}`,
      alice.uploadContent(file.bytes, { name: file.name, type: file.type }),
    );
    assert.match(uri ?? "", /^mxc:\/\/[^/]+\/[^/]+$/, `${file.name}: content_uri`);
    const content = {
      msgtype: file.msgtype,
      body: file.name,
      url: uri,
      info: { mimetype: file.type, size: file.bytes.length, ...file.info },
    };
    const { event_id: eventId } = await step(`alice posts ${file.name}`, alice.sendMessage(roomId, content));
    file.uploaded = uri;
    file.eventId = eventId;
  }
  await waitFor(bob, ClientEvent.Event, () => files.every((f) => received.has(f.eventId)), "alice's media events");
  for (const file of files) {
    file.uri = received.get(file.eventId).url;
    assert.equal(file.uri, file.uploaded, `${file.name}: the event's url`);
  }
  return { alice, bob };
}

test("uploaded files reach the other user byte for byte (authenticated media)", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const files = [
    { name: "data.bin", bytes: randomBytes(200_000), type: "application/octet-stream", msgtype: "m.file" },
    { name: "photo.jpg", bytes: jpeg(640, 480), type: "image/jpeg", msgtype: "m.image", info: { w: 640, h: 480 } },
    { name: "logo.png", bytes: png(400, 300, { alpha: true }), type: "image/png", msgtype: "m.image", info: { w: 400, h: 300 } },
  ];
  const { bob } = await shareFiles(s, files);
  for (const file of files) {
    const got = await authedGet(bob, mediaUrl(bob, file.uri));
    assert.equal(got.status, 200, `${file.name}: download answered ${got.status} ${got.body.toString().slice(0, 200)}`);
    assert.equal(sha256(got.body), sha256(file.bytes), `${file.name}: ${got.body.length} bytes downloaded differ from the ${file.bytes.length} uploaded`);
    assert.equal(got.type.split(";")[0].trim(), file.type, `${file.name}: Content-Type`);
    assert.equal(got.headers.get("x-content-type-options"), "nosniff", `${file.name}: X-Content-Type-Options`);
  }
  // Without the access token the authenticated endpoints refuse.
  const anonymous = await fetch(mediaUrl(bob, files[1].uri));
  assert.equal(anonymous.status, 401, "authenticated download without a token");
  assert.equal((await anonymous.json()).errcode, "M_MISSING_TOKEN");
});

test("thumbnails of a PNG and a JPEG (authenticated media)", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const photo = { name: "photo.jpg", bytes: jpeg(640, 480), type: "image/jpeg", msgtype: "m.image", info: { w: 640, h: 480 } };
  const logo = { name: "logo.png", bytes: png(400, 300, { alpha: true }), type: "image/png", msgtype: "m.image", info: { w: 400, h: 300 } };
  const text = { name: "notes.txt", bytes: Buffer.from("not an image\n".repeat(100)), type: "text/plain", msgtype: "m.file" };
  const { bob } = await shareFiles(s, [photo, logo, text]);
  const cases = [
    [photo, 320, 240, "scale", { type: "image/jpeg", width: 320, height: 240 }],
    [photo, 96, 96, "crop", { type: "image/jpeg", width: 96, height: 96 }],
    [photo, 640, 480, "scale", { type: "image/jpeg", width: 640, height: 480 }],
    [logo, 32, 32, "crop", { type: "image/png", width: 32, height: 32 }],
    [logo, 320, 240, "scale", { type: "image/png", width: 320, height: 240 }],
    // between standard sizes: the next larger one is served
    [logo, 100, 80, "scale", { type: "image/png", width: 320, height: 240 }],
  ];
  for (const [file, width, height, method, expected] of cases) {
    const what = `${file.name} thumbnail ${width}x${height} ${method}`;
    const got = await authedGet(bob, mediaUrl(bob, file.uri, width, height, method));
    assert.equal(got.status, 200, `${what}: answered ${got.status} ${got.body.toString().slice(0, 200)}`);
    assert.deepEqual(imageSize(got.body), expected, what);
    assert.equal(got.type.split(";")[0].trim(), expected.type, `${what}: Content-Type`);
  }
  // Not an image: a Matrix error, not a broken thumbnail.
  const notImage = await authedGet(bob, mediaUrl(bob, text.uri, 96, 96, "crop"));
  const shown = notImage.body.toString().slice(0, 200);
  assert.equal(notImage.status, 400, `thumbnail of a non-image answered ${notImage.status} ${shown}`);
  assert.equal(notImage.json?.errcode, "M_UNKNOWN", `thumbnail of a non-image: ${shown}`);
  assert.match(notImage.json?.error ?? "", /thumbnail/, `thumbnail of a non-image: ${shown}`);
});
