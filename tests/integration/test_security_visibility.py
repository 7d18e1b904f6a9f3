"""History visibility on every read path (issue 10, finding 1): sync (joined
and left rooms, timeline and state, lazy-loaded members), /messages,
/context, /event, /state, /members. Against the real binary and PostgreSQL.

Each test fails on ebfc7cb, where /sync ignored history visibility and
"world readable now" opened the whole history."""

import json


from cs_client import q, register

SECRET = "secret-before"


def send(client, room, body, event_type="m.room.message"):
    txn = f"t{send.counter}"
    send.counter += 1
    return client.ok("PUT", f"/rooms/{q(room)}/send/{event_type}/{txn}",
                     {"msgtype": "m.text", "body": body})["event_id"]


send.counter = 0


def set_state(client, room, event_type, content, state_key=""):
    return client.ok("PUT", f"/rooms/{q(room)}/state/{event_type}/{q(state_key)}",
                     content)["event_id"]


def private_room(alice, join_rule="invite", visibility="shared"):
    room = alice.ok("POST", "/createRoom", {
        "preset": "private_chat", "name": "Private room", "topic": "private topic",
        "initial_state": [
            {"type": "m.room.join_rules", "content": {"join_rule": join_rule}},
            {"type": "m.room.history_visibility",
             "content": {"history_visibility": visibility}},
        ]})["room_id"]
    for i in range(3):
        send(alice, room, f"{SECRET} {i}")
    return room


def leave_sync(client, **filters):
    room_filter = {"include_leave": True, **filters}
    return client.sync(filter=json.dumps({"room": room_filter}))


def assert_sees_only_own_membership(client, room, sync):
    """A left room the user never joined: their own membership events at
    most, and nothing of the room's history or state."""
    left = sync["rooms"].get("leave", {}).get(room)
    assert left is not None, sync["rooms"]
    events = left["timeline"]["events"] + left["state"]["events"]
    assert events, left
    for event in events:
        assert event["type"] == "m.room.member" and event["state_key"] == client.user_id, event
    assert SECRET not in json.dumps(left)
    assert "private topic" not in json.dumps(left)


def assert_reads_refused(client, room, event_id):
    """A user who was never joined reads nothing through the other paths."""
    for path in (f"/rooms/{q(room)}/messages", f"/rooms/{q(room)}/state",
                 f"/rooms/{q(room)}/state/m.room.topic", f"/rooms/{q(room)}/members",
                 f"/rooms/{q(room)}/joined_members"):
        status, out = client.call("GET", path)
        assert status == 403 and out["errcode"] == "M_FORBIDDEN", (path, status, out)
    for path in (f"/rooms/{q(room)}/event/{q(event_id)}", f"/rooms/{q(room)}/context/{q(event_id)}"):
        status, out = client.call("GET", path)
        assert status == 404 and out["errcode"] == "M_NOT_FOUND", (path, status, out)


def test_knock_then_withdraw_shows_no_history(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = private_room(alice, join_rule="knock")
    secret = send(alice, room, f"{SECRET} last")
    set_state(bob, room, "m.room.member", {"membership": "knock"}, bob.user_id)
    bob.ok("POST", f"/rooms/{q(room)}/leave", {})
    assert_sees_only_own_membership(bob, room, leave_sync(bob))
    assert_reads_refused(bob, room, secret)


def test_rejected_invite_shows_no_history(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = private_room(alice)
    secret = send(alice, room, f"{SECRET} last")
    alice.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": bob.user_id})
    bob.ok("POST", f"/rooms/{q(room)}/leave", {})
    assert_sees_only_own_membership(bob, room, leave_sync(bob))
    # Lazy-loading changes nothing.
    assert_sees_only_own_membership(
        bob, room, leave_sync(bob, state={"lazy_load_members": True}))
    assert_reads_refused(bob, room, secret)


def test_ban_without_join_shows_no_history(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = private_room(alice)
    secret = send(alice, room, f"{SECRET} last")
    alice.ok("POST", f"/rooms/{q(room)}/ban", {"user_id": bob.user_id, "reason": "preemptive"})
    sync = leave_sync(bob)
    assert_sees_only_own_membership(bob, room, sync)
    # Their own ban is theirs to see, but not the room around it.
    ban = sync["rooms"]["leave"][room]["timeline"]["events"][-1]
    assert ban["content"]["membership"] == "ban"
    context = bob.ok("GET", f"/rooms/{q(room)}/context/{q(ban['event_id'])}")
    assert context["state"] == [] and context["events_before"] == []
    assert SECRET not in json.dumps(context)
    assert_reads_refused(bob, room, secret)


def test_joined_visibility_hides_pre_join_history_in_first_sync(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = private_room(alice, join_rule="public", visibility="joined")
    before = bob.sync()["next_batch"]
    bob.ok("POST", f"/rooms/{q(room)}/join", {})
    send(alice, room, "after the join")

    for sync in (bob.sync(), bob.sync(since=before)):
        joined = sync["rooms"]["join"][room]
        timeline = joined["timeline"]["events"]
        assert SECRET not in json.dumps(timeline), timeline
        bodies = [e["content"].get("body") for e in timeline]
        assert "after the join" in bodies
        assert any(e["type"] == "m.room.member" and e["state_key"] == bob.user_id
                   and e["content"]["membership"] == "join" for e in timeline)
        # The room's state is there (the state they joined against).
        state_types = {e["type"] for e in joined["state"]["events"]}
        assert {"m.room.create", "m.room.power_levels", "m.room.name"} <= state_types, state_types

    # /messages agrees: paging back from the timeline finds nothing older.
    prev = bob.sync()["rooms"]["join"][room]["timeline"]["prev_batch"]
    out = bob.ok("GET", f"/rooms/{q(room)}/messages", dir="b", **{"from": prev}, limit=50)
    assert SECRET not in json.dumps(out)


def test_former_member_sees_the_room_as_it_was_when_they_left(node):
    alice, bob = register(node, "alice"), register(node, "bob")
    room = private_room(alice, join_rule="public")
    bob.ok("POST", f"/rooms/{q(room)}/join", {})
    token = bob.sync()["next_batch"]
    send(alice, room, "while bob is here")
    bob.ok("POST", f"/rooms/{q(room)}/leave", {})
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "renamed-later"})
    set_state(alice, room, "m.room.topic", {"topic": "topic-after-leave"})
    later = send(alice, room, "after bob left")

    lazy = {"lazy_load_members": True}
    sync = bob.sync(since=token, filter=json.dumps({"room": {"state": lazy, "timeline": lazy}}))
    left = sync["rooms"]["leave"][room]
    assert "while bob is here" in json.dumps(left["timeline"])
    assert "renamed-later" not in json.dumps(left), left
    assert "after bob left" not in json.dumps(left)

    out = bob.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=50,
                 filter=json.dumps({"lazy_load_members": True}))
    text = json.dumps(out)
    assert "while bob is here" in text and SECRET in text
    assert "after bob left" not in text and "renamed-later" not in text, out["state"]
    state = bob.ok("GET", f"/rooms/{q(room)}/state")
    assert "topic-after-leave" not in json.dumps(state)
    members = bob.ok("GET", f"/rooms/{q(room)}/members")
    assert "renamed-later" not in json.dumps(members)
    status, _ = bob.call("GET", f"/rooms/{q(room)}/event/{q(later)}")
    assert status == 404


def test_visibility_in_force_at_each_event_decides(node):
    """A room that is world readable now still hides what was sent while it
    was "joined" from non-members."""
    alice, carol = register(node, "alice"), register(node, "carol")
    room = private_room(alice, join_rule="public", visibility="joined")
    hidden = send(alice, room, "sent while joined-only")
    set_state(alice, room, "m.room.history_visibility", {"history_visibility": "world_readable"})
    public = send(alice, room, "sent while world readable")

    out = carol.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=100)
    text = json.dumps(out["chunk"])
    assert "sent while world readable" in text
    assert "sent while joined-only" not in text and SECRET not in text, out
    assert carol.ok("GET", f"/rooms/{q(room)}/event/{q(public)}")["event_id"] == public
    status, _ = carol.call("GET", f"/rooms/{q(room)}/event/{q(hidden)}")
    assert status == 404
    status, _ = carol.call("GET", f"/rooms/{q(room)}/context/{q(hidden)}")
    assert status == 404
    context = carol.ok("GET", f"/rooms/{q(room)}/context/{q(public)}", limit=20)
    assert "sent while joined-only" not in json.dumps(context)
