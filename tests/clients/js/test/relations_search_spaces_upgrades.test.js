// Relations, search, spaces and room upgrades through matrix-js-sdk (Matrix
// spec v1.12, Client-Server API: "Event replacements", "Threading", "Server
// Side Search", "Spaces", "Room Upgrades"): what Element builds its edits,
// thread panel, search, space panel and upgrade banner from.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Session, expectMatrixError, sdk, step, waitFor } from "../lib/harness.js";

const { ClientEvent, ClientPrefix, Method } = sdk;
const T = { timeout: 90000 };
const text = (body) => ({ msgtype: "m.text", body });

test("an edit is bundled with the original and listed as its relation", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "edits");

  const { event_id: original } = await step("alice sends a typo", alice.sendMessage(roomId, text("helo")));
  const { event_id: edit } = await step(
    "alice edits it",
    alice.sendMessage(roomId, {
      ...text("* hello"),
      "m.new_content": text("hello"),
      "m.relates_to": { rel_type: "m.replace", event_id: original },
    }),
  );
  const raw = await step("bob fetches the original", bob.fetchRoomEvent(roomId, original));
  assert.equal(raw.content.body, "helo", "the server leaves the original's content as sent");
  assert.equal(raw.unsigned?.["m.relations"]?.["m.replace"]?.event_id, edit, "bundled edit");
  const relations = await step("bob lists the edits", bob.relations(roomId, original, "m.replace", "m.room.message"));
  assert.deepEqual(relations.events.map((e) => e.getId()), [edit]);
  assert.equal(relations.events[0].getContent()["m.new_content"].body, "hello");
});

test("a thread reply is read back with the thread summary and the thread list", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "threads");

  const { event_id: root } = await step("alice starts a thread", alice.sendMessage(roomId, text("root")));
  const { event_id: reply } = await step("bob replies in the thread", bob.sendMessage(roomId, root, text("reply")));
  const raw = await step("alice fetches the root", alice.fetchRoomEvent(roomId, root));
  const summary = raw.unsigned?.["m.relations"]?.["m.thread"];
  assert.equal(summary?.count, 1, "thread summary count");
  assert.equal(summary.latest_event.event_id, reply, "thread summary latest_event");
  assert.equal(summary.current_user_participated, true, "alice started the thread");

  const list = await step(
    "alice lists the room's threads",
    alice.http.authedRequest(Method.Get, `/rooms/${encodeURIComponent(roomId)}/threads`, { include: "all" }, undefined, {
      prefix: ClientPrefix.V1,
    }),
  );
  assert.deepEqual(list.chunk.map((e) => e.event_id), [root]);
  const replies = await step("alice reads the thread", alice.relations(roomId, root, "m.thread"));
  assert.deepEqual(replies.events.map((e) => e.getId()), [reply]);
});

test("a search finds a message with its context", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "search");
  await step("alice sends a message", alice.sendMessage(roomId, text("the quick brown fox")));
  const { event_id: hit } = await step("alice sends the needle", alice.sendMessage(roomId, text("a rare aardvark")));

  const found = await step(
    "bob searches",
    bob.search({ body: { search_categories: { room_events: { search_term: "aardvark", event_context: { before_limit: 1 } } } } }),
  );
  const roomEvents = found.search_categories.room_events;
  assert.equal(roomEvents.count, 1);
  assert.equal(roomEvents.results[0].result.event_id, hit);
  assert.equal(roomEvents.results[0].context.events_before[0].content.body, "the quick brown fox");
  const viaHelper = await step("bob searches through searchRoomEvents", bob.searchRoomEvents({ term: "aardvark" }));
  assert.deepEqual(viaHelper.results.map((r) => r.context.getEvent().getId()), [hit]);
});

test("a room upgrade that the client follows", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "to be upgraded");

  await expectMatrixError(bob.upgradeRoom(roomId, "11"), "M_FORBIDDEN", 403, "bob may not upgrade");
  await expectMatrixError(alice.upgradeRoom(roomId, "999"), "M_UNSUPPORTED_ROOM_VERSION", 400, "unknown version");
  const { replacement_room: newRoom } = await step("alice upgrades the room", alice.upgradeRoom(roomId, "11"));
  await waitFor(
    bob,
    ClientEvent.Sync,
    () => bob.getRoom(roomId)?.currentState.getStateEvents("m.room.tombstone", "")?.getContent().replacement_room === newRoom,
    "the tombstone in bob's sync",
  );
  // The new room keeps the old join rules (invite): alice invites bob, as Element would prompt.
  await step("alice invites bob to the new room", alice.invite(newRoom, bob.getUserId()));
  await waitFor(bob, ClientEvent.Sync, () => bob.getRoom(newRoom)?.getMyMembership() === "invite", "the invite");
  await step("bob follows the upgrade", bob.joinRoom(newRoom));
  await waitFor(bob, ClientEvent.Sync, () => bob.getRoom(newRoom)?.getMyMembership() === "join", "bob's join");
  assert.equal(bob.getRoom(newRoom).findPredecessor()?.roomId, roomId, "the new room names its predecessor");
  assert.equal(bob.getRoom(newRoom).getVersion(), "11");
});

test("a space hierarchy", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.user("bob");
  const { room_id: space } = await step(
    "alice creates a space",
    alice.createRoom({ name: "Space", preset: sdk.Preset.PublicChat, creation_content: { type: "m.space" } }),
  );
  const children = [];
  for (const name of ["first", "second"]) {
    const { room_id: child } = await step(`alice creates ${name}`, alice.createRoom({ name, preset: sdk.Preset.PublicChat }));
    await step(`alice adds ${name}`, alice.sendStateEvent(space, "m.space.child", { via: [alice.getDomain()], order: name }, child));
    children.push(child);
  }
  const hierarchy = await step("bob reads the hierarchy", bob.getRoomHierarchy(space, 10, 1));
  assert.deepEqual(hierarchy.rooms.map((r) => r.room_id), [space, ...children]);
  assert.equal(hierarchy.rooms[0].room_type, "m.space");
  assert.equal(hierarchy.rooms[0].children_state.length, 2);
  assert.equal(hierarchy.rooms[1].name, "first");
});
