"""Spec "Forming relationships between events", "Threading", "Event
replacements" and "Reference relations": GET /relations with its filters,
direction, pagination and recursion, GET /threads, and the bundled
aggregations (unsigned.m.relations) on /event, /messages, /context and
/relations. Against the real binary and PostgreSQL."""

import pytest

from cs_client import V1, q, send_event, text


@pytest.fixture
def room(alice, bob):
    room_id = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    bob.ok("POST", f"/join/{q(room_id)}", {})
    return room_id


def thread_reply(client, room, root, body):
    return send_event(client, room, text(body, **{
        "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                         "m.in_reply_to": {"event_id": root}}}))


def edit(client, room, original, body):
    return send_event(client, room, text("* " + body, **{
        "m.new_content": text(body),
        "m.relates_to": {"rel_type": "m.replace", "event_id": original}}))


def reference(client, room, target):
    return send_event(client, room, text("ref", **{
        "m.relates_to": {"rel_type": "m.reference", "event_id": target}}))


def annotate(client, room, target, key):
    return send_event(client, room, {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": target, "key": key}}, "m.reaction")


def relations(client, room, event_id, *tail, **query):
    path = f"/rooms/{q(room)}/relations/{q(event_id)}"
    for part in tail:
        path += "/" + q(part)
    return client.ok("GET", path, prefix=V1, **query)


def ids(chunk):
    return [e["event_id"] for e in chunk]


def test_relations_lists_children_newest_first_and_filters(alice, bob, room):
    root = send_event(alice, room, text("root"))
    r1 = thread_reply(bob, room, root, "one")
    like = annotate(bob, room, root, "👍")
    r2 = thread_reply(alice, room, root, "two")
    send_event(alice, room, text("unrelated"))

    everything = relations(bob, room, root)
    assert ids(everything["chunk"]) == [r2, like, r1]
    assert "recursion_depth" not in everything
    assert ids(relations(bob, room, root, "m.thread")["chunk"]) == [r2, r1]
    assert ids(relations(bob, room, root, "m.annotation", "m.reaction")["chunk"]) == [like]
    assert relations(bob, room, root, "m.annotation", "m.room.message")["chunk"] == []
    assert ids(relations(bob, room, root, "m.thread", dir="f")["chunk"]) == [r1, r2]


def test_relations_paginate_with_next_batch_and_to(alice, room):
    root = send_event(alice, room, text("root"))
    replies = [thread_reply(alice, room, root, f"r{i}") for i in range(5)]

    seen, token, pages = [], None, 0
    while True:
        query = {"limit": 2} if token is None else {"limit": 2, "from": token}
        page = relations(alice, room, root, "m.thread", **query)
        seen += ids(page["chunk"])
        pages += 1
        if token is not None:
            assert page["prev_batch"] == token
        token = page.get("next_batch")
        if token is None:
            break
    assert seen == list(reversed(replies)) and pages == 3

    # Forwards from a token, and a `to` that ends the results.
    first = relations(alice, room, root, "m.thread", dir="f", limit=2)
    assert ids(first["chunk"]) == replies[:2]
    rest = relations(alice, room, root, "m.thread", dir="f", limit=10, **{"from": first["next_batch"]})
    assert ids(rest["chunk"]) == replies[2:] and "next_batch" not in rest
    newest_two = relations(alice, room, root, "m.thread", limit=2)
    bounded = relations(alice, room, root, "m.thread", limit=10,
                        **{"from": newest_two["next_batch"], "to": first["next_batch"]})
    assert ids(bounded["chunk"]) == [replies[2]] and "next_batch" not in bounded


def test_relations_accept_tokens_from_messages(alice, room):
    root = send_event(alice, room, text("root"))
    first = thread_reply(alice, room, root, "one")
    last = thread_reply(alice, room, root, "two")
    # /messages' "start" names the gap just after the newest event: paging
    # back from it starts with that event.
    start = alice.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=1)["start"]
    assert ids(relations(alice, room, root, **{"from": start})["chunk"]) == [last, first]
    end = alice.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=1)["end"]
    assert ids(relations(alice, room, root, **{"from": end})["chunk"]) == [first]


def test_relations_recurse_follows_relations_of_relations(alice, bob, room):
    root = send_event(alice, room, text("root"))
    reply = thread_reply(bob, room, root, "reply")
    like = annotate(alice, room, reply, "🎉")

    direct = relations(alice, room, root, recurse="false")
    assert ids(direct["chunk"]) == [reply] and direct["recursion_depth"] == 1
    deep = relations(alice, room, root, recurse="true")
    assert ids(deep["chunk"]) == [like, reply] and deep["recursion_depth"] == 3
    assert ids(relations(alice, room, root, "m.annotation", recurse="true")["chunk"]) == [like]


def test_relations_respect_visibility_and_errors(node, alice, bob):
    private = alice.ok("POST", "/createRoom", {"preset": "private_chat", "initial_state": [
        {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}]})["room_id"]
    root = send_event(alice, private, text("secret root"))
    thread_reply(alice, private, root, "secret reply")
    # Not in the room: the parent is not visible, so it is not found.
    bob.error(404, "M_NOT_FOUND", "GET", f"/rooms/{q(private)}/relations/{q(root)}", prefix=V1)
    bob.error(403, "M_FORBIDDEN", "GET", f"/rooms/{q(private)}/threads", prefix=V1)
    alice.error(400, "M_INVALID_PARAM", "GET", f"/rooms/{q(private)}/relations/{q(root)}",
                prefix=V1, dir="x")
    alice.error(400, "M_INVALID_PARAM", "GET", f"/rooms/{q(private)}/relations/{q(root)}",
                prefix=V1, **{"from": "nonsense"})

    # Bob joins later under "joined" visibility: a reply sent before his join
    # is hidden from /relations, one sent after is shown.
    alice.ok("POST", f"/rooms/{q(private)}/invite", {"user_id": bob.user_id})
    bob.ok("POST", f"/join/{q(private)}", {})
    later_root = send_event(alice, private, text("after join"))
    seen = thread_reply(alice, private, later_root, "visible")
    assert ids(relations(bob, private, later_root)["chunk"]) == [seen]
    bob.error(404, "M_NOT_FOUND", "GET", f"/rooms/{q(private)}/relations/{q(root)}", prefix=V1)


def test_thread_summary_is_bundled_everywhere(alice, bob, room):
    root = send_event(alice, room, text("root"))
    thread_reply(alice, room, root, "first")
    last = thread_reply(alice, room, root, "second")

    def summary(event):
        return event["unsigned"]["m.relations"]["m.thread"]

    for client, participated in ((alice, True), (bob, False)):
        got = summary(client.ok("GET", f"/rooms/{q(room)}/event/{q(root)}"))
        assert got["count"] == 2
        assert got["latest_event"]["event_id"] == last
        assert got["latest_event"]["content"]["body"] == "second"
        assert got["current_user_participated"] is participated

    # The newest reply carries its own edit in the summary.
    fixed = edit(alice, room, last, "second, edited")
    assert summary(bob.ok("GET", f"/rooms/{q(room)}/event/{q(root)}"))["latest_event"]["unsigned"][
        "m.relations"]["m.replace"]["event_id"] == fixed

    thread_reply(bob, room, root, "bob joins in")
    messages = bob.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit=20)
    by_id = {e["event_id"]: e for e in messages["chunk"]}
    assert summary(by_id[root])["count"] == 3
    assert summary(by_id[root])["current_user_participated"] is True

    context = bob.ok("GET", f"/rooms/{q(room)}/context/{q(root)}", limit=4)
    assert summary(context["event"])["count"] == 3


def test_edit_and_references_are_bundled(alice, bob, room):
    original = send_event(alice, room, text("typo"))
    edit(alice, room, original, "first fix")
    newest = edit(alice, room, original, "second fix")
    # An "edit" by someone else is not a valid replacement and is ignored.
    edit(bob, room, original, "hijack")
    ref1 = reference(bob, room, original)
    ref2 = reference(alice, room, original)

    event = bob.ok("GET", f"/rooms/{q(room)}/event/{q(original)}")
    bundled = event["unsigned"]["m.relations"]
    assert bundled["m.replace"]["event_id"] == newest
    assert bundled["m.replace"]["content"]["m.new_content"]["body"] == "second fix"
    # The original's content stays as sent (spec v1.7 and later).
    assert event["content"]["body"] == "typo"
    assert bundled["m.reference"]["chunk"] == [{"event_id": ref1}, {"event_id": ref2}]

    # Redacting the newest edit makes the previous one the newest.
    alice.ok("PUT", f"/rooms/{q(room)}/redact/{q(newest)}/r1", {})
    event = bob.ok("GET", f"/rooms/{q(room)}/event/{q(original)}")
    assert event["unsigned"]["m.relations"]["m.replace"]["content"]["m.new_content"]["body"] \
        == "first fix"
    assert newest not in ids(relations(bob, room, original, "m.replace")["chunk"])


def test_threads_lists_roots_by_latest_activity(alice, bob, room):
    a = send_event(alice, room, text("thread a"))
    b = send_event(bob, room, text("thread b"))
    c = send_event(alice, room, text("thread c"))
    thread_reply(alice, room, a, "a1")
    thread_reply(bob, room, b, "b1")
    thread_reply(bob, room, c, "c1")
    thread_reply(alice, room, a, "a2")  # a is the most recently active now

    def threads(client, **query):
        return client.ok("GET", f"/rooms/{q(room)}/threads", prefix=V1, **query)

    got = threads(bob)
    assert ids(got["chunk"]) == [a, c, b]
    assert got["chunk"][0]["unsigned"]["m.relations"]["m.thread"]["count"] == 2
    # Bob started b and replied to c; he never took part in a.
    assert ids(threads(bob, include="participated")["chunk"]) == [c, b]
    assert ids(threads(alice, include="participated")["chunk"]) == [a, c]

    first = threads(bob, limit=2)
    assert ids(first["chunk"]) == [a, c]
    second = threads(bob, limit=2, **{"from": first["next_batch"]})
    assert ids(second["chunk"]) == [b] and "next_batch" not in second
    bob.error(400, "M_INVALID_PARAM", "GET", f"/rooms/{q(room)}/threads", prefix=V1,
              include="mine")


def test_threaded_receipt_must_name_the_events_thread(alice, bob, room):
    root = send_event(alice, room, text("root"))
    reply = thread_reply(alice, room, root, "in the thread")
    outside = send_event(alice, room, text("main timeline"))

    def receipt(event_id, thread_id):
        return bob.call("POST", f"/rooms/{q(room)}/receipt/m.read/{q(event_id)}",
                        {"thread_id": thread_id})

    assert receipt(reply, root)[0] == 200
    assert receipt(root, root)[0] == 200
    assert receipt(outside, "main")[0] == 200
    status, body = receipt(outside, root)
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")


def test_thread_cannot_start_from_a_relation_and_edits_of_edits_do_not_count(alice, room):
    root = send_event(alice, room, text("root"))
    like = annotate(alice, room, root, "👀")
    status, body = alice.call("PUT", f"/rooms/{q(room)}/send/m.room.message/thr1",
                              text("x", **{"m.relates_to": {"rel_type": "m.thread", "event_id": like}}))
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")
    # A parent in another room is refused.
    other = alice.ok("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
    status, body = alice.call("PUT", f"/rooms/{q(other)}/send/m.room.message/thr2",
                              text("x", **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}}))
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")
    # A reply to a reply in the thread joins the thread: allowed.
    reply = thread_reply(alice, room, root, "first")
    thread_reply(alice, room, reply, "second")

    original = send_event(alice, room, text("original"))
    first_edit = edit(alice, room, original, "edited")
    edit(alice, room, first_edit, "an edit of the edit")
    bundled = alice.ok("GET", f"/rooms/{q(room)}/event/{q(first_edit)}")["unsigned"]
    assert "m.replace" not in bundled.get("m.relations", {})


def test_bundled_children_the_user_may_not_see_are_left_out(alice, bob, room):
    target = send_event(alice, room, text("target"))
    before = reference(alice, room, target)
    thread_reply(alice, room, target, "before bob left")
    bob.ok("POST", f"/rooms/{q(room)}/leave", {})
    # After Bob left: he may still read the target, not what came after.
    after = reference(alice, room, target)
    thread_reply(alice, room, target, "after bob left")

    mine = alice.ok("GET", f"/rooms/{q(room)}/event/{q(target)}")["unsigned"]["m.relations"]
    assert mine["m.reference"]["chunk"] == [{"event_id": before}, {"event_id": after}]
    assert mine["m.thread"]["count"] == 2
    his = bob.ok("GET", f"/rooms/{q(room)}/event/{q(target)}")["unsigned"].get("m.relations", {})
    assert his.get("m.reference", {}).get("chunk") == [{"event_id": before}]
    # The thread's newest reply is hidden from him, so no summary is shown.
    assert "m.thread" not in his


def test_the_same_reaction_twice_is_refused_until_redacted(alice, bob, room):
    target = send_event(alice, room, text("react to me"))
    path = f"/rooms/{q(room)}/send/m.reaction/like1"
    like = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": "👍"}}
    first = bob.ok("PUT", path, like)["event_id"]
    # A retry of the same transaction is its first event, not a duplicate.
    assert bob.ok("PUT", path, like)["event_id"] == first
    status, body = bob.call("PUT", f"/rooms/{q(room)}/send/m.reaction/dup1",
                            {"m.relates_to": {"rel_type": "m.annotation", "event_id": target,
                                              "key": "👍"}})
    assert (status, body["errcode"]) == (400, "M_DUPLICATE_ANNOTATION")
    annotate(bob, room, target, "🎉")  # another key
    annotate(alice, room, target, "👍")  # another sender
    bob.ok("PUT", f"/rooms/{q(room)}/redact/{q(first)}/undo", {})
    annotate(bob, room, target, "👍")  # allowed again once the first is gone

