// Rooms through matrix-js-sdk: create/invite/join, live timeline order,
// scrollback, typing, receipts, display names, leave and ban (Matrix spec
// v1.11, Client-Server API). Each scenario starts the SDK's sync loop
// (startClient) for the users whose view it checks.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Session, expectMatrixError, sdk, step, timelineMessages, waitFor } from "../lib/harness.js";

const { ClientEvent, RoomEvent, RoomMemberEvent } = sdk;
const T = { timeout: 90000 };
const text = (body) => ({ msgtype: "m.text", body });

test("messages reach the other user in order, once each", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "ordering");

  // Every m.room.message event bob's syncs deliver, duplicates included
  // (the SDK's timeline would hide a duplicate; ClientEvent.Event does not).
  const arrived = [];
  bob.on(ClientEvent.Event, (event) => {
    if (event.getRoomId() === roomId && event.getType() === "m.room.message") {
      arrived.push([event.getId(), event.getContent().body]);
    }
  });

  const sent = [];
  for (let i = 0; i < 6; i++) {
    const body = `message ${i}`;
    const txnId = `order-${i}-${Date.now()}`;
    const { event_id: eventId } = await step(`alice sends ${body}`, alice.sendEvent(roomId, "m.room.message", text(body), txnId));
    assert.match(eventId ?? "", /^\$/, "send event_id");
    sent.push([eventId, body]);
    if (i === 0) {
      // A retry of the same transaction is the same event.
      const again = await step("replayed transaction", alice.sendEvent(roomId, "m.room.message", text(body), txnId));
      assert.equal(again.event_id, eventId, "a replayed txnId must return the first event_id");
    }
  }
  const { event_id: sentinel } = await step("alice sends the sentinel", alice.sendMessage(roomId, text("sentinel")));
  const expected = [...sent, [sentinel, "sentinel"]];

  await waitFor(bob, ClientEvent.Event, () => arrived.some(([id]) => id === sentinel), "the sentinel message");
  assert.deepEqual(arrived, expected, "bob's syncs must deliver alice's messages in order, each once");

  const room = bob.getRoom(roomId);
  const shown = timelineMessages(room).map((e) => [e.getId(), e.getContent().body]);
  assert.deepEqual(shown.slice(-expected.length), expected, "bob's live timeline order");
  for (const event of timelineMessages(room)) assert.equal(event.getSender(), alice.getUserId());
});

test("scrollback pages through the whole history", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.user("alice");
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "history");
  const sent = [];
  for (let i = 0; i < 15; i++) {
    sent.push((await step(`send page ${i}`, alice.sendMessage(roomId, text(`page ${i}`)))).event_id);
  }

  // A new device opens the room with a small initial timeline.
  const reader = await s.start(await s.login(bob.username, "reader"), { initialSyncLimit: 3 });
  const room = reader.getRoom(roomId);
  assert.ok(room, `${roomId} missing from the reader's initial sync`);
  const initial = room.getLiveTimeline().getEvents().map((e) => e.getId());
  // The limit is a maximum; whatever is returned must be the newest events.
  assert.ok(initial.length >= 1 && initial.length <= 3, `initialSyncLimit 3 gave ${initial.length} events`);
  assert.deepEqual(initial, sent.slice(-initial.length), "initial timeline must hold the newest messages");

  for (let i = 0; i < 30 && room.oldState.paginationToken !== null; i++) {
    await step(`scrollback #${i + 1}`, reader.scrollback(room, 5));
  }
  assert.equal(room.oldState.paginationToken, null, "scrollback never reached the start of the room");

  const events = room.getLiveTimeline().getEvents();
  const ids = events.map((e) => e.getId());
  assert.equal(new Set(ids).size, ids.length, "scrollback produced duplicate events");
  assert.equal(events[0].getType(), "m.room.create", "history must start at m.room.create");
  assert.deepEqual(
    timelineMessages(room).map((e) => e.getId()),
    sent,
    "all 15 messages, oldest first, after scrolling back",
  );
});

test("typing notifications and read receipts reach the other user", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.start(await s.user("alice"));
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "ephemeral");
  const aliceId = alice.getUserId();
  const bobId = bob.getUserId();

  await step("alice starts typing", alice.sendTyping(roomId, true, 20000));
  // Checks look at the room state, not just the event that woke them: the
  // sync carrying the change may be processed before the wait begins.
  const aliceTyping = () => bob.getRoom(roomId)?.getMember(aliceId)?.typing;
  await waitFor(bob, RoomMemberEvent.Typing, () => aliceTyping() === true, "alice typing in bob's client");
  assert.deepEqual(
    bob.getRoom(roomId).currentState.getMembers().filter((m) => m.typing).map((m) => m.userId),
    [aliceId],
  );

  const { event_id: eventId } = await step("alice sends", alice.sendMessage(roomId, text("read me")));
  const event = await waitFor(
    bob,
    RoomEvent.Timeline,
    () => bob.getRoom(roomId)?.findEventById(eventId),
    "alice's message in bob's timeline",
  );
  await step("bob sends a read receipt", bob.sendReadReceipt(event, sdk.ReceiptType.Read));

  const aliceRoom = alice.getRoom(roomId);
  const receipt = await waitFor(
    alice,
    RoomEvent.Receipt,
    () => {
      const r = aliceRoom.getReadReceiptForUserId(bobId, true, sdk.ReceiptType.Read);
      return r?.eventId === eventId ? r : null;
    },
    "bob's m.read receipt in alice's client",
  );
  assert.ok(Number.isInteger(receipt.data?.ts) && receipt.data.ts > 0, `receipt ts: ${JSON.stringify(receipt)}`);

  await step("alice stops typing", alice.sendTyping(roomId, false, 0));
  await waitFor(bob, RoomMemberEvent.Typing, () => aliceTyping() === false, "alice no longer typing");

  // The fully-read marker is private: it lands in bob's room account data.
  await step("bob sets the fully-read marker", bob.setRoomReadMarkers(roomId, eventId));
  await waitFor(
    bob,
    ClientEvent.Sync,
    () => bob.getRoom(roomId)?.getAccountData("m.fully_read")?.getContent()?.event_id === eventId,
    "m.fully_read in bob's room account data",
  );
});

test("a display name change shows in the room", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.start(await s.user("alice"));
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "profiles");
  const bobId = bob.getUserId();
  const name = "Bob the Tester";

  await step("bob sets his display name", bob.setDisplayName(name));
  await waitFor(
    alice,
    ClientEvent.Sync,
    () => alice.getRoom(roomId)?.getMember(bobId)?.rawDisplayName === name,
    "bob's new display name on his room member",
  );
  const memberEvent = alice.getRoom(roomId).currentState.getStateEvents("m.room.member", bobId);
  assert.equal(memberEvent.getContent().membership, "join");
  assert.equal(memberEvent.getContent().displayname, name);

  const profile = await step("getProfileInfo", alice.getProfileInfo(bobId));
  assert.equal(profile.displayname, name);
});

test("leaving a room", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.start(await s.user("alice"));
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "leaving");
  const bobId = bob.getUserId();

  await step("bob leaves", bob.leave(roomId));
  await waitFor(
    alice,
    ClientEvent.Sync,
    () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "leave",
    "bob's leave in alice's client",
  );
  await waitFor(bob, ClientEvent.Sync, () => bob.getRoom(roomId)?.getMyMembership() === "leave", "bob's own leave");
  const { joined_rooms: joined } = await step("getJoinedRooms", bob.getJoinedRooms());
  assert.ok(!joined.includes(roomId), `${roomId} still in bob's joined_rooms`);

  const outsider = s.client({ userId: bobId, accessToken: bob.getAccessToken() });
  await expectMatrixError(outsider.sendMessage(roomId, text("still here?")), "M_FORBIDDEN", 403, "sending after leaving");
});

test("a banned user cannot rejoin", T, async (t) => {
  const s = new Session();
  t.after(() => s.stopAll());
  const alice = await s.start(await s.user("alice"));
  const bob = await s.start(await s.user("bob"));
  const roomId = await s.sharedRoom(alice, bob, "bans");
  const bobId = bob.getUserId();

  await step("alice bans bob", alice.ban(roomId, bobId, "testing bans"));
  await waitFor(
    alice,
    ClientEvent.Sync,
    () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "ban",
    "bob's ban in alice's client",
  );
  const ban = alice.getRoom(roomId).currentState.getStateEvents("m.room.member", bobId);
  assert.equal(ban.getContent().reason, "testing bans");
  assert.equal(ban.getSender(), alice.getUserId());

  // (joinRoom() returns at once while the SDK still thinks bob is joined, so
  // let bob's client see the ban first, as a real client would have.)
  await waitFor(bob, ClientEvent.Sync, () => bob.getRoom(roomId)?.getMyMembership() === "ban", "bob's own ban");
  await expectMatrixError(bob.joinRoom(roomId), "M_FORBIDDEN", 403, "a banned user joining again");
  const outsider = s.client({ userId: bobId, accessToken: bob.getAccessToken() });
  await expectMatrixError(outsider.sendMessage(roomId, text("let me in")), "M_FORBIDDEN", 403, "a banned user sending");

  const { joined } = await step("joined members", alice.getJoinedRoomMembers(roomId));
  assert.deepEqual(Object.keys(joined), [alice.getUserId()]);
});
