"""Spec "Server Side Search" (POST /search, room_events): full-text matches
in body, name and topic, only in joined rooms and through the visibility
check, order_by rank and recent, next_batch, filter, event_context with
profiles, groupings, include_state, count and highlights. Against the real
binary and PostgreSQL."""

import pytest

from cs_client import q, send_event, text


def search(client, criteria, **query):
    return client.ok("POST", "/search", {"search_categories": {"room_events": criteria}},
                     **query)["search_categories"]["room_events"]


def result_ids(found):
    return [r["result"]["event_id"] for r in found["results"]]


def shared_room(alice, bob, **extra):
    room = alice.ok("POST", "/createRoom", {"preset": "public_chat", **extra})["room_id"]
    bob.ok("POST", f"/join/{q(room)}", {})
    return room


def test_matches_body_name_and_topic_in_joined_rooms_only(alice, bob):
    room = shared_room(alice, bob, name="Gardening club", topic="Tomatoes and gardening")
    hit = send_event(alice, room, text("My gardening tips for spring"))
    send_event(alice, room, text("nothing to see"))
    other = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    send_event(alice, other, text("gardening in private"))

    found = search(bob, {"search_term": "gardening"})
    types = sorted(r["result"]["type"] for r in found["results"])
    assert types == ["m.room.message", "m.room.name", "m.room.topic"]
    assert found["count"] == 3
    assert hit in result_ids(found)
    assert all(r["result"]["room_id"] == room for r in found["results"])
    assert "gardening" in found["highlights"]
    # Stemming: "garden" finds "gardening" (both stem to "garden").
    assert search(bob, {"search_term": "garden", "keys": ["content.body"]})["count"] == 1
    # keys narrows to one field; Alice also sees her private room.
    assert result_ids(search(alice, {"search_term": "gardening", "keys": ["content.body"],
                                      "order_by": "recent"}))[1] == hit
    bob.error(400, "M_BAD_JSON", "POST", "/search",
              {"search_categories": {"room_events": {"search_term": "x", "keys": ["sender"]}}})
    bob.error(400, "M_MISSING_PARAM", "POST", "/search", {"search_categories": {"room_events": {}}})


def test_redacted_and_invisible_events_are_not_found(alice, bob):
    room = alice.ok("POST", "/createRoom", {"preset": "private_chat", "initial_state": [
        {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}]})["room_id"]
    send_event(alice, room, text("zebra before bob joined"))
    gone = send_event(alice, room, text("zebra to be redacted"))
    alice.ok("PUT", f"/rooms/{q(room)}/redact/{q(gone)}/r1", {})
    alice.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": bob.user_id})
    bob.ok("POST", f"/join/{q(room)}", {})
    seen = send_event(alice, room, text("zebra after bob joined"))

    assert result_ids(search(bob, {"search_term": "zebra"})) == [seen]
    assert len(search(alice, {"search_term": "zebra"})["results"]) == 2


def test_recent_order_pagination_and_filter(alice, bob):
    room = shared_room(alice, bob)
    sent = []
    for i in range(5):
        sender = alice if i % 2 == 0 else bob
        sent.append(send_event(sender, room, text(f"apple number {i}")))

    seen, token = [], None
    while True:
        criteria = {"search_term": "apple", "order_by": "recent", "filter": {"limit": 2}}
        page = search(alice, criteria, **({} if token is None else {"next_batch": token}))
        seen += result_ids(page)
        token = page.get("next_batch")
        if token is None:
            break
    assert seen == list(reversed(sent))

    ranked, token = [], None
    while True:
        page = search(alice, {"search_term": "apple", "filter": {"limit": 3}},
                      **({} if token is None else {"next_batch": token}))
        ranked += result_ids(page)
        token = page.get("next_batch")
        if token is None:
            break
    assert sorted(ranked) == sorted(sent)

    by_bob = search(alice, {"search_term": "apple", "filter": {"senders": [bob.user_id]}})
    assert sorted(result_ids(by_bob)) == sorted([sent[1], sent[3]])
    not_bob = search(alice, {"search_term": "apple", "filter": {"not_senders": [bob.user_id]}})
    assert len(not_bob["results"]) == 3
    assert search(alice, {"search_term": "apple", "filter": {"not_rooms": [room]}})["results"] == []
    assert search(alice, {"search_term": "apple", "filter": {"types": ["m.room.topic"]}})["results"] == []
    alice.error(400, "M_INVALID_PARAM", "POST", "/search",
                {"search_categories": {"room_events": {"search_term": "apple"}}},
                next_batch="bogus")


def test_rank_prefers_better_matches(alice, bob):
    room = shared_room(alice, bob)
    weak = send_event(alice, room, text("banana"))
    strong = send_event(alice, room, text("banana banana split with banana"))
    found = search(alice, {"search_term": "banana"})
    assert result_ids(found)[0] == strong and weak in result_ids(found)
    assert found["results"][0]["rank"] > found["results"][1]["rank"]


def test_event_context_groupings_and_state(alice, bob):
    room = shared_room(alice, bob, name="Fruit")
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "Alice A."})
    before = send_event(alice, room, text("first"))
    hit = send_event(bob, room, text("cherry on top"))
    after = send_event(alice, room, text("last"))

    found = search(bob, {"search_term": "cherry", "include_state": True,
                         "event_context": {"before_limit": 1, "after_limit": 1,
                                           "include_profile": True},
                         "groupings": {"group_by": [{"key": "room_id"}, {"key": "sender"}]}})
    context = found["results"][0]["context"]
    assert [e["event_id"] for e in context["events_before"]] == [before]
    assert [e["event_id"] for e in context["events_after"]] == [after]
    assert context["profile_info"][alice.user_id]["displayname"] == "Alice A."
    assert bob.user_id in context["profile_info"]
    assert found["groups"]["room_id"][room]["results"] == [hit]
    assert found["groups"]["sender"][bob.user_id]["results"] == [hit]
    names = [e for e in found["state"][room] if e["type"] == "m.room.name"]
    assert names[0]["content"]["name"] == "Fruit"


@pytest.mark.parametrize("criteria", [
    {"search_term": "x", "groupings": {"group_by": [{"key": 7}]}},
    {"search_term": "x", "groupings": {"group_by": ["room_id"]}},
    {"search_term": "x", "event_context": {"include_profile": "yes"}},
    {"search_term": "x", "event_context": {"before_limit": -1}},
    {"search_term": "x", "order_by": "oldest"},
    {"search_term": 5},
    {"search_term": "x" * 1001},
])
def test_malformed_criteria_are_refused(alice, criteria):
    status, body = alice.call("POST", "/search", {"search_categories": {"room_events": criteria}})
    assert (status, body["errcode"]) == (400, "M_BAD_JSON"), body

