"""Spec "Spaces": GET /rooms/{roomId}/hierarchy, walked through m.space.child
state, with the children's order, max_depth, suggested_only, pagination and
the rules for rooms the user may not see. Against the real binary and
PostgreSQL."""

from cs_client import V1, q


def make_room(client, preset="public_chat", name=None, space=False, **extra):
    body = {"preset": preset, **extra}
    if name:
        body["name"] = name
    if space:
        body["creation_content"] = {"type": "m.space"}
    return client.ok("POST", "/createRoom", body)["room_id"]


def add_child(client, space, child, **content):
    client.ok("PUT", f"/rooms/{q(space)}/state/m.space.child/{q(child)}",
              {"via": ["localhost"], **content})


def hierarchy(client, room, **query):
    return client.ok("GET", f"/rooms/{q(room)}/hierarchy", prefix=V1, **query)


def room_ids(body):
    return [r["room_id"] for r in body["rooms"]]


def test_walks_children_in_spec_order_with_depth_and_summary(alice, bob):
    space = make_room(alice, name="Space", space=True, topic="All of it")
    a = make_room(alice, name="A")
    b = make_room(alice, name="B")
    sub = make_room(alice, name="Sub", space=True)
    deep = make_room(alice, name="Deep")
    add_child(alice, space, a, order="b")
    add_child(alice, space, b, order="a")
    add_child(alice, space, sub)  # no order: after the ordered ones
    add_child(alice, sub, deep)
    # A child without "via" is not a child.
    alice.ok("PUT", f"/rooms/{q(space)}/state/m.space.child/{q(deep)}", {})

    body = hierarchy(bob, space)
    assert room_ids(body) == [space, b, a, sub, deep]
    top = body["rooms"][0]
    assert top["name"] == "Space" and top["topic"] == "All of it"
    assert top["room_type"] == "m.space" and top["join_rule"] == "public"
    assert top["num_joined_members"] == 1 and top["world_readable"] is False
    assert top["guest_can_join"] is False
    assert sorted(e["state_key"] for e in top["children_state"]) == sorted([a, b, sub])
    assert all("origin_server_ts" in e for e in top["children_state"])
    assert "next_batch" not in body

    assert room_ids(hierarchy(bob, space, max_depth=1)) == [space, b, a, sub]
    assert room_ids(hierarchy(bob, space, max_depth=0)) == [space]


def test_suggested_only_and_pagination(alice, bob):
    space = make_room(alice, space=True)
    children = [make_room(alice, name=f"c{i}") for i in range(4)]
    for i, child in enumerate(children):
        add_child(alice, space, child, order=str(i), suggested=(i % 2 == 0))

    assert room_ids(hierarchy(bob, space, suggested_only="true")) == \
        [space, children[0], children[2]]

    seen, token = [], None
    while True:
        page = hierarchy(bob, space, limit=2, **({} if token is None else {"from": token}))
        seen += room_ids(page)
        token = page.get("next_batch")
        if token is None:
            break
    assert seen == [space] + children
    first = hierarchy(bob, space, limit=2)
    bob.error(400, "M_INVALID_PARAM", "GET", f"/rooms/{q(space)}/hierarchy", prefix=V1,
              limit=2, suggested_only="true", **{"from": first["next_batch"]})


def test_rooms_the_user_may_not_see_are_left_out(alice, bob):
    space = make_room(alice, space=True)
    secret = make_room(alice, preset="private_chat", name="Secret")
    readable = make_room(alice, preset="private_chat", name="Readable", initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility": "world_readable"}}])
    invited = make_room(alice, preset="private_chat", name="Invited")
    alice.ok("POST", f"/rooms/{q(invited)}/invite", {"user_id": bob.user_id})
    restricted = make_room(alice, preset="private_chat", name="Members of the space", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "restricted", "allow": [
            {"type": "m.room_membership", "room_id": space}]}}])
    hidden_below = make_room(alice, name="Below the secret")
    for child in (secret, readable, invited, restricted):
        add_child(alice, space, child)
    add_child(alice, secret, hidden_below)

    seen = set(room_ids(hierarchy(bob, space)))
    assert seen == {space, readable, invited}
    bob.ok("POST", f"/join/{q(space)}", {})
    assert set(room_ids(hierarchy(bob, space))) == {space, readable, invited, restricted}
    assert set(room_ids(hierarchy(alice, space))) == \
        {space, secret, readable, invited, restricted, hidden_below}

    bob.error(403, "M_FORBIDDEN", "GET", f"/rooms/{q(secret)}/hierarchy", prefix=V1)
    bob.error(400, "M_INVALID_PARAM", "GET", f"/rooms/{q(space)}/hierarchy", prefix=V1,
              suggested_only="maybe")
