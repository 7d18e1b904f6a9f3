"""Transaction IDs are scoped per device and per request path (spec:
"Transaction identifiers"; issue 10, finding 7): the same txnId in another
room, with another event type, or on /redact is a new request. A retry of the
same request still returns the first event."""



from cs_client import q, register


def bodies(client, room):
    chunk = client.ok("GET", f"/rooms/{q(room)}/messages", dir="b", limit="50")["chunk"]
    return [e["content"].get("body") for e in chunk if e["type"] == "m.room.message"]


def test_the_same_txn_id_in_another_room_sends_a_new_event(node):
    alice = register(node, "alice")
    room_a = alice.ok("POST", "/createRoom", {})["room_id"]
    room_b = alice.ok("POST", "/createRoom", {})["room_id"]
    first = alice.ok("PUT", f"/rooms/{q(room_a)}/send/m.room.message/txn1",
                     {"msgtype": "m.text", "body": "in A"})["event_id"]
    second = alice.ok("PUT", f"/rooms/{q(room_b)}/send/m.room.message/txn1",
                      {"msgtype": "m.text", "body": "in B"})["event_id"]
    assert first != second
    assert bodies(alice, room_b) == ["in B"]
    assert bodies(alice, room_a) == ["in A"]
    event = alice.ok("GET", f"/rooms/{q(room_b)}/event/{q(second)}")
    assert event["room_id"] == room_b

    # Another event type in the same room is another request path too.
    third = alice.ok("PUT", f"/rooms/{q(room_a)}/send/m.reaction.test/txn1", {"x": 1})["event_id"]
    assert third not in (first, second)

    # A retry of the same request is still idempotent.
    again = alice.ok("PUT", f"/rooms/{q(room_a)}/send/m.room.message/txn1",
                     {"msgtype": "m.text", "body": "in A"})["event_id"]
    assert again == first
    assert bodies(alice, room_a) == ["in A"]


def test_a_redaction_with_a_txn_id_used_by_send_redacts(node):
    alice = register(node, "alice")
    room = alice.ok("POST", "/createRoom", {})["room_id"]
    sent = alice.ok("PUT", f"/rooms/{q(room)}/send/m.room.message/same",
                    {"msgtype": "m.text", "body": "oops"})["event_id"]
    redaction = alice.ok("PUT", f"/rooms/{q(room)}/redact/{q(sent)}/same",
                         {"reason": "typo"})["event_id"]
    assert redaction != sent
    event = alice.ok("GET", f"/rooms/{q(room)}/event/{q(sent)}")
    assert "body" not in event["content"]
    assert event["unsigned"]["redacted_because"]["event_id"] == redaction

    # The redaction's retry returns the same redaction.
    again = alice.ok("PUT", f"/rooms/{q(room)}/redact/{q(sent)}/same", {"reason": "typo"})
    assert again["event_id"] == redaction

    # Another device of the same user has its own transactions.
    other = register(node, "bob")
    other_room = other.ok("POST", "/createRoom", {})["room_id"]
    mine = other.ok("PUT", f"/rooms/{q(other_room)}/send/m.room.message/same",
                    {"msgtype": "m.text", "body": "bob"})["event_id"]
    assert mine not in (sent, redaction)
