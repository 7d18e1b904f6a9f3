"""Rooms through matrix-nio: create/invite/join, messages in /sync, history
pagination, typing, receipts, profile changes, leave and ban (Matrix spec
v1.11, Client-Server API)."""

import nio

from nio_helpers import (EVENT_ID_RE, Session, Syncer, expect, expect_error, member_events,
                         messages_in, raw, run, timeline)


def test_messages_arrive_in_order_without_duplicates(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            alice = await s.user("alice")
            bob = await s.user("bob")
            room_id = await s.shared_room(alice, bob, name="ordering")

            # bob is synced up to his join; from here on he only syncs
            # incrementally with the since token.
            bob_sync = Syncer(bob)
            await bob_sync.until(lambda r: room_id in r.rooms.join, f"{room_id} in rooms.join")

            sent = []
            for i in range(6):
                body = f"message {i}"
                event_id = await s.send_text(alice, room_id, body, tx_id=f"order-{i}")
                sent.append((event_id, body))
                if i == 0:
                    # A client retrying the same transaction must get the same
                    # event back, not a second message.
                    again = await s.send_text(alice, room_id, body, tx_id="order-0")
                    assert again == event_id, f"replayed txn gave {again}, first send gave {event_id}"
            assert len({e for e, _ in sent}) == len(sent), f"event IDs not unique: {sent}"

            sent_ids = {e for e, _ in sent}
            await bob_sync.until(
                lambda r: sent_ids <= {raw(e).get("event_id") for e in bob_sync.all_timeline(room_id)},
                "all six messages")
            # A last message marks the end: once bob has it, nothing sent
            # earlier may still turn up again.
            sentinel = await s.send_text(alice, room_id, "sentinel")
            await bob_sync.until(lambda r: any(raw(e).get("event_id") == sentinel for e in timeline(r, room_id)),
                                 "the sentinel message")

            received = messages_in(bob_sync.all_timeline(room_id))
            got = [(raw(e).get("event_id"), raw(e).get("content", {}).get("body")) for e in received]
            assert got == sent + [(sentinel, "sentinel")], \
                f"bob's incremental syncs delivered\n  {got}\nexpected (in this order, once each)\n  {sent}"
            for event in received:
                assert isinstance(event, nio.RoomMessageText), f"nio could not parse {raw(event)}"
                assert event.sender == alice.user_id
                assert isinstance(raw(event).get("origin_server_ts"), int), raw(event)

    run(scenario())


def test_paginate_history_backwards(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            alice = await s.user("alice")
            bob = await s.user("bob")
            room_id = await s.shared_room(alice, bob, name="history")
            sent = [await s.send_text(alice, room_id, f"page {i}") for i in range(15)]

            # A new device of bob's syncs with a small timeline limit, like a
            # client opening the room for the first time.
            reader = await s.login(bob.user_id, device_name="reader")
            first = await Syncer(reader, {"room": {"timeline": {"limit": 4}}}).once(timeout_ms=0)
            assert room_id in first.rooms.join, f"{room_id} missing from the initial sync"
            tl = first.rooms.join[room_id].timeline
            # The limit is a maximum; whatever is returned must be the newest events.
            assert 1 <= len(tl.events) <= 4, f"timeline limit 4 gave {len(tl.events)} events"
            assert tl.limited is True, "a timeline cut to 4 of 20+ events must say limited: true"
            assert tl.prev_batch, "limited timeline without prev_batch"
            newest = [raw(e).get("event_id") for e in tl.events]
            assert newest == sent[-len(newest):], f"timeline is {newest}, expected the newest of {sent}"

            older = []  # reverse-chronological, as /messages dir=b returns it
            token = tl.prev_batch
            pages = []
            for _ in range(30):
                page = await reader.room_messages(room_id, start=token, direction=nio.MessageDirection.back,
                                                  limit=5)
                expect(page, nio.RoomMessagesResponse, f"/messages dir=b from {token!r}")
                assert len(page.chunk) <= 5, f"limit 5 gave {len(page.chunk)} events"
                assert page.start == token, f"/messages start {page.start!r}, expected the from token {token!r}"
                pages.append(page)
                older.extend(page.chunk)
                if not page.end:  # spec: end is omitted at the start of the room
                    break
                assert page.chunk, f"empty chunk but end={page.end!r}: pagination would loop"
                token = page.end
            else:
                raise AssertionError("no end of history after 30 pages of 5 events")

            ids_back = [raw(e).get("event_id") for e in older]
            assert len(ids_back) == len(set(ids_back)), f"pagination returned duplicates: {ids_back}"
            assert not set(ids_back) & set(newest), "pagination repeated events from the sync timeline"
            chronological = [raw(e).get("event_id") for e in reversed(older)] + newest
            messages = [i for i, e in zip(reversed(ids_back), reversed(older))
                        if raw(e).get("type") == "m.room.message"]
            assert messages == sent[:-len(newest)], f"paginated messages {messages}, expected {sent[:-len(newest)]}"
            assert raw(older[-1]).get("type") == "m.room.create", \
                f"history should end at m.room.create, ends at {raw(older[-1]).get('type')}"
            assert len(chronological) == len(set(chronological))

            # Tokens are positions: going forwards from the first page's end
            # gives that page's events again, oldest first.
            first_page = pages[0]
            if first_page.end:
                fwd = await reader.room_messages(room_id, start=first_page.end,
                                                 direction=nio.MessageDirection.front, limit=5)
                expect(fwd, nio.RoomMessagesResponse, "/messages dir=f")
                assert [raw(e).get("event_id") for e in fwd.chunk] == \
                    [raw(e).get("event_id") for e in reversed(first_page.chunk)], \
                    "dir=f from a dir=b end token must return the same events in chronological order"

    run(scenario())


def test_typing_and_read_receipts_reach_the_other_user(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            alice = await s.user("alice")
            bob = await s.user("bob")
            room_id = await s.shared_room(alice, bob, name="ephemeral")
            alice_sync, bob_sync = Syncer(alice), Syncer(bob)
            await alice_sync.once(timeout_ms=0)
            await bob_sync.until(lambda r: room_id in r.rooms.join, f"{room_id} in rooms.join")

            def typing_users(resp):
                info = resp.rooms.join.get(room_id)
                notices = [e for e in (info.ephemeral if info else []) if isinstance(e, nio.TypingNoticeEvent)]
                return notices[-1].users if notices else None

            expect(await alice.room_typing(room_id, True, timeout=20000), nio.RoomTypingResponse, "typing start")
            users = await bob_sync.until(lambda r: (u := typing_users(r)) is not None and alice.user_id in u and u,
                                         "alice typing (m.typing)")
            assert users == [alice.user_id], f"m.typing user_ids {users}"

            event_id = await s.send_text(alice, room_id, "read me")
            await bob_sync.until(lambda r: any(raw(e).get("event_id") == event_id for e in timeline(r, room_id)),
                                 "alice's message")

            resp = await bob.update_receipt_marker(room_id, event_id)
            expect(resp, nio.UpdateReceiptMarkerResponse, "bob sends an m.read receipt")

            def bob_receipt(resp):
                info = resp.rooms.join.get(room_id)
                for e in (info.ephemeral if info else []):
                    if isinstance(e, nio.ReceiptEvent):
                        for rc in e.receipts:
                            if rc.user_id == bob.user_id and rc.event_id == event_id and rc.receipt_type == "m.read":
                                return rc
                return None

            receipt = await alice_sync.until(bob_receipt, "bob's m.read receipt (m.receipt)")
            assert isinstance(receipt.timestamp, int) and receipt.timestamp > 0, receipt

            expect(await alice.room_typing(room_id, False), nio.RoomTypingResponse, "typing stop")
            await bob_sync.until(lambda r: typing_users(r) == [], "alice no longer typing (empty m.typing)")

            # The private fully-read marker goes to bob's own room account data.
            resp = await bob.room_read_markers(room_id, fully_read_event=event_id, read_event=event_id)
            expect(resp, nio.RoomReadMarkersResponse, "bob sets read markers")

            def fully_read(resp):
                info = resp.rooms.join.get(room_id)
                return next((e for e in (info.account_data if info else [])
                             if isinstance(e, nio.FullyReadEvent)), None)

            marker = await bob_sync.until(fully_read, "m.fully_read in bob's room account data")
            assert marker.event_id == event_id, f"m.fully_read points at {marker.event_id}, expected {event_id}"

    run(scenario())


def test_displayname_change_is_seen_in_the_room(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            alice = await s.user("alice")
            bob = await s.user("bob")
            room_id = await s.shared_room(alice, bob, name="profiles")
            alice_sync = Syncer(alice)
            await alice_sync.once(timeout_ms=0)

            new_name = "Bob the Tester"
            expect(await bob.set_displayname(new_name), nio.ProfileSetDisplayNameResponse, "set_displayname")

            def renamed(resp):
                events = timeline(resp, room_id)
                info = resp.rooms.join.get(room_id)
                events += list(info.state) if info else []
                return next((e for e in member_events(events, bob.user_id)
                             if raw(e).get("content", {}).get("displayname") == new_name), None)

            event = await alice_sync.until(renamed, "bob's m.room.member event with the new displayname")
            assert raw(event)["content"].get("membership") == "join", raw(event)
            assert isinstance(event, nio.RoomMemberEvent), f"nio could not parse {raw(event)}"

            got = await alice.get_displayname(bob.user_id)
            expect(got, nio.ProfileGetDisplayNameResponse, "get_displayname")
            assert got.displayname == new_name
            assert alice.rooms[room_id].user_name(bob.user_id) == new_name, \
                "nio's room member list did not pick up the new displayname"

    run(scenario())


def test_leave_room(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            alice = await s.user("alice")
            bob = await s.user("bob")
            room_id = await s.shared_room(alice, bob, name="leaving")
            alice_sync, bob_sync = Syncer(alice), Syncer(bob)
            await alice_sync.once(timeout_ms=0)
            await bob_sync.until(lambda r: room_id in r.rooms.join, f"{room_id} in rooms.join")

            expect(await bob.room_leave(room_id), nio.RoomLeaveResponse, "bob leaves")

            await alice_sync.until(
                lambda r: any(raw(e)["content"].get("membership") == "leave"
                              for e in member_events(timeline(r, room_id), bob.user_id)),
                "bob's leave event")
            left = await bob_sync.until(lambda r: r.rooms.leave.get(room_id), f"{room_id} in bob's rooms.leave")
            assert any(raw(e)["content"].get("membership") == "leave"
                       for e in member_events(left.timeline.events, bob.user_id)), \
                "rooms.leave timeline should end with bob's own leave event"

            rooms = await bob.joined_rooms()
            expect(rooms, nio.JoinedRoomsResponse, "joined_rooms")
            assert room_id not in rooms.rooms

            resp = await bob.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "still here?"})
            expect_error(resp, "M_FORBIDDEN", 403, "sending to a room bob left")

    run(scenario())


def test_banned_user_cannot_rejoin(server):
    async def scenario():
        async with Session(server.url, server.server_name) as s:
            alice = await s.user("alice")
            bob = await s.user("bob")
            room_id = await s.shared_room(alice, bob, name="bans")
            alice_sync = Syncer(alice)
            await alice_sync.once(timeout_ms=0)

            resp = await alice.room_ban(room_id, bob.user_id, reason="testing bans")
            expect(resp, nio.RoomBanResponse, "alice bans bob")

            ban = await alice_sync.until(
                lambda r: next((e for e in member_events(timeline(r, room_id), bob.user_id)
                                if raw(e)["content"].get("membership") == "ban"), None),
                "bob's ban event")
            assert raw(ban)["content"].get("reason") == "testing bans", raw(ban)
            assert raw(ban)["sender"] == alice.user_id

            resp = await bob.join(room_id)
            assert isinstance(resp, nio.JoinError), f"banned user rejoining: {resp}"
            expect_error(resp, "M_FORBIDDEN", 403, "a banned user joining again")

            resp = await bob.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "let me in"})
            expect_error(resp, "M_FORBIDDEN", 403, "a banned user sending")

            # The room still works for alice, and bob's failed join left no trace.
            event_id = await s.send_text(alice, room_id, "after the ban")
            assert EVENT_ID_RE.match(event_id)
            members = await alice.joined_members(room_id)
            expect(members, nio.JoinedMembersResponse, "joined_members")
            assert [m.user_id for m in members.members] == [alice.user_id]

    run(scenario())
