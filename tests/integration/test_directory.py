"""End-to-end tests of discovery (/versions, /.well-known/matrix/client,
/capabilities), room aliases, room directory visibility, publicRooms and the
user directory, against the real binary and PostgreSQL."""

import hashlib
import hmac
import json
import secrets
import urllib.parse

import pytest

from conftest import http, http_json

SERVER = "e2e.test"
SHARED_SECRET = "directory-test-shared-secret"
PASSWORD = "correct horse battery staple"


def q(value):
    """Percent-encodes one path segment (aliases and room IDs hold '#', '!', ':')."""
    return urllib.parse.quote(value, safe="")


class Client:
    def __init__(self, node, user_id=None, token=None):
        self.node = node
        self.user_id = user_id
        self.token = token

    def call(self, method, path, body=None, auth=True, query=None):
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = self.node.url(path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return http_json(method, url, body=data, headers=headers)

    def ok(self, method, path, body=None, **kwargs):
        status, out = self.call(method, path, body, **kwargs)
        assert status == 200, (method, path, status, out)
        return out

    def create_room(self, **body):
        return self.ok("POST", "/_matrix/client/v3/createRoom", body)["room_id"]

    def join(self, room):
        return self.ok("POST", f"/_matrix/client/v3/join/{q(room)}", {})["room_id"]

    def send_state(self, room, event_type, content, state_key=""):
        return self.call("PUT", f"/_matrix/client/v3/rooms/{q(room)}/state/{event_type}/{state_key}",
                         content)

    def state(self, room, event_type, state_key=""):
        return self.call("GET", f"/_matrix/client/v3/rooms/{q(room)}/state/{event_type}/{state_key}")

    def set_displayname(self, name):
        self.ok("PUT", f"/_matrix/client/v3/profile/{q(self.user_id)}/displayname",
                {"displayname": name})


def register(node, username):
    """Open registration through the m.login.dummy stage."""
    body = {"username": username, "password": PASSWORD, "inhibit_login": False}
    status, out = http_json("POST", node.url("/_matrix/client/v3/register"),
                            body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"})
    if status == 401:
        body["auth"] = {"type": "m.login.dummy", "session": out.get("session")}
        status, out = http_json("POST", node.url("/_matrix/client/v3/register"),
                                body=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
    assert status == 200, (status, out)
    return Client(node, out["user_id"], out["access_token"])


def register_admin(node, username):
    """A server admin, through the shared-secret registration API."""
    status, out = http_json("GET", node.url("/_synapse/admin/v1/register"))
    assert status == 200, (status, out)
    nonce = out["nonce"]
    mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), username.encode(), PASSWORD.encode(), b"admin"]))
    body = {"nonce": nonce, "username": username, "password": PASSWORD, "admin": True,
            "mac": mac.hexdigest()}
    status, out = http_json("POST", node.url("/_synapse/admin/v1/register"),
                            body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"})
    assert status == 200, (status, out)
    return Client(node, out["user_id"], out["access_token"])


@pytest.fixture
def node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false",
                   ELTRIX_REGISTRATION_SHARED_SECRET=SHARED_SECRET)
    n.wait_ready()
    return n


def users(node, *names):
    return [register(node, f"{name}{secrets.token_hex(3)}") for name in names]


# ---- Discovery -------------------------------------------------------------------


def test_versions_and_well_known_need_no_token(start_node):
    n = start_node()
    status, headers, body = http("GET", n.url("/_matrix/client/versions"))
    assert status == 200
    out = json.loads(body)
    assert out["unstable_features"] == {}
    assert "v1.1" in out["versions"] and "v1.10" in out["versions"]
    # v1.11: authenticated media (/_matrix/client/v1/media/*) is served.
    assert "v1.11" in out["versions"]
    assert all(v.startswith("v1.") for v in out["versions"])
    assert headers.get("Access-Control-Allow-Origin") == "*"

    status, headers, body = http("GET", n.url("/.well-known/matrix/client"))
    assert status == 200
    assert json.loads(body) == {"m.homeserver": {"base_url": f"https://{SERVER}"}}
    # Browsers fetch it from other origins (spec: Well-known URI).
    assert headers.get("Access-Control-Allow-Origin") == "*"


def test_well_known_uses_public_baseurl(start_node):
    n = start_node(ELTRIX_PUBLIC_BASEURL="https://matrix.example.org:8448/")
    status, out = http_json("GET", n.url("/.well-known/matrix/client"))
    assert status == 200
    assert out["m.homeserver"]["base_url"] == "https://matrix.example.org:8448/"


def test_capabilities(node):
    status, out = http_json("GET", node.url("/_matrix/client/v3/capabilities"))
    assert status == 401 and out["errcode"] == "M_MISSING_TOKEN"
    (alice,) = users(node, "alice")
    caps = alice.ok("GET", "/_matrix/client/v3/capabilities")["capabilities"]
    assert caps["m.change_password"] == {"enabled": True}
    assert caps["m.room_versions"]["default"] == "10"
    assert caps["m.room_versions"]["available"] == {"10": "stable", "11": "stable"}
    assert caps["m.set_displayname"] == {"enabled": True}
    assert caps["m.set_avatar_url"] == {"enabled": True}
    assert caps["m.3pid_changes"] == {"enabled": False}


# ---- Room aliases ------------------------------------------------------------------


def test_alias_lifecycle(node):
    alice, bob = users(node, "alice", "bob")
    room = alice.create_room(preset="public_chat")
    alias = f"#lobby{secrets.token_hex(3)}:{SERVER}"
    path = f"/_matrix/client/v3/directory/room/{q(alias)}"

    assert alice.ok("PUT", path, {"room_id": room}) == {}
    status, out = alice.call("PUT", path, {"room_id": room})
    assert status == 409 and out["errcode"] == "M_UNKNOWN"

    # Resolving needs no token.
    status, out = http_json("GET", node.url(path))
    assert status == 200 and out == {"room_id": room, "servers": [SERVER]}

    status, out = http_json("GET", node.url(f"/_matrix/client/v3/directory/room/{q('#nope:' + SERVER)}"))
    assert status == 404 and out["errcode"] == "M_NOT_FOUND"
    status, out = http_json("GET", node.url(f"/_matrix/client/v3/directory/room/{q('lobby')}"))
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM"

    # Bob is not in the room: he may neither list its aliases nor name it.
    status, out = bob.call("GET", f"/_matrix/client/v3/rooms/{q(room)}/aliases")
    assert status == 403 and out["errcode"] == "M_FORBIDDEN"
    bobs = f"#bobs{secrets.token_hex(3)}:{SERVER}"
    status, out = bob.call("PUT", f"/_matrix/client/v3/directory/room/{q(bobs)}", {"room_id": room})
    assert status == 403 and out["errcode"] == "M_FORBIDDEN"

    bob.join(room)
    bob.ok("PUT", f"/_matrix/client/v3/directory/room/{q(bobs)}", {"room_id": room})
    aliases = bob.ok("GET", f"/_matrix/client/v3/rooms/{q(room)}/aliases")["aliases"]
    assert sorted(aliases) == sorted([alias, bobs])

    # Bob (power 0) may not delete Alice's alias; Alice (power 100) may
    # delete Bob's; the creator may delete their own.
    status, out = bob.call("DELETE", path)
    assert status == 403 and out["errcode"] == "M_FORBIDDEN"
    alice.ok("DELETE", f"/_matrix/client/v3/directory/room/{q(bobs)}")
    alice.ok("DELETE", path)
    status, out = alice.call("DELETE", path)
    assert status == 404 and out["errcode"] == "M_NOT_FOUND"
    assert bob.ok("GET", f"/_matrix/client/v3/rooms/{q(room)}/aliases") == {"aliases": []}
    status, _ = http_json("GET", node.url(path))
    assert status == 404


def test_alias_creator_may_delete_without_power(node):
    alice, bob = users(node, "alice", "bob")
    room = alice.create_room(preset="public_chat")
    bob.join(room)
    alias = f"#bobs{secrets.token_hex(3)}:{SERVER}"
    bob.ok("PUT", f"/_matrix/client/v3/directory/room/{q(alias)}", {"room_id": room})
    bob.ok("DELETE", f"/_matrix/client/v3/directory/room/{q(alias)}")


def test_alias_put_validation(node):
    (alice,) = users(node, "alice")
    room = alice.create_room()

    def put(alias, body):
        return alice.call("PUT", f"/_matrix/client/v3/directory/room/{q(alias)}", body)

    for bad in ["nosigil:" + SERVER, "#nocolon", "#x:" + "a" * 260]:
        status, out = put(bad, {"room_id": room})
        assert status == 400 and out["errcode"] == "M_INVALID_PARAM", (bad, out)
    status, out = put("#elsewhere:other.example", {"room_id": room})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM"
    status, out = put(f"#missing:{SERVER}", {})
    assert status == 400 and out["errcode"] == "M_MISSING_PARAM"
    status, out = put(f"#badroom:{SERVER}", {"room_id": "not-a-room"})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM"
    status, out = put(f"#ghost:{SERVER}", {"room_id": f"!ghost:{SERVER}"})
    assert status == 404 and out["errcode"] == "M_NOT_FOUND"
    status, out = alice.call("PUT", f"/_matrix/client/v3/directory/room/{q('#a:' + SERVER)}",
                             {"room_id": room}, auth=False)
    assert status == 401


def test_admin_may_manage_aliases_of_rooms_they_are_not_in(node):
    (alice,) = users(node, "alice")
    admin = register_admin(node, f"admin{secrets.token_hex(3)}")
    room = alice.create_room()
    alias = f"#alice{secrets.token_hex(3)}:{SERVER}"
    alice.ok("PUT", f"/_matrix/client/v3/directory/room/{q(alias)}", {"room_id": room})
    assert admin.ok("GET", f"/_matrix/client/v3/rooms/{q(room)}/aliases")["aliases"] == [alias]
    admin.ok("DELETE", f"/_matrix/client/v3/directory/room/{q(alias)}")
    admins = f"#admin{secrets.token_hex(3)}:{SERVER}"
    admin.ok("PUT", f"/_matrix/client/v3/directory/room/{q(admins)}", {"room_id": room})
    admin.ok("PUT", f"/_matrix/client/v3/directory/list/room/{q(room)}", {"visibility": "public"})


def test_world_readable_room_aliases_visible_to_anyone(node):
    alice, bob = users(node, "alice", "bob")
    room = alice.create_room(
        initial_state=[{"type": "m.room.history_visibility", "state_key": "",
                        "content": {"history_visibility": "world_readable"}}])
    alias = f"#open{secrets.token_hex(3)}:{SERVER}"
    alice.ok("PUT", f"/_matrix/client/v3/directory/room/{q(alias)}", {"room_id": room})
    assert bob.ok("GET", f"/_matrix/client/v3/rooms/{q(room)}/aliases") == {"aliases": [alias]}


def test_create_room_alias_name(node):
    alice, bob = users(node, "alice", "bob")
    name = f"made{secrets.token_hex(3)}"
    room = alice.create_room(room_alias_name=name)
    status, out = http_json("GET", node.url(f"/_matrix/client/v3/directory/room/{q(f'#{name}:{SERVER}')}"))
    assert status == 200 and out["room_id"] == room
    status, out = alice.state(room, "m.room.canonical_alias")
    assert status == 200 and out["alias"] == f"#{name}:{SERVER}"
    status, out = bob.call("POST", "/_matrix/client/v3/createRoom", {"room_alias_name": name})
    assert status == 400 and out["errcode"] == "M_ROOM_IN_USE"


def test_canonical_alias_validation(node):
    (alice,) = users(node, "alice")
    room = alice.create_room()
    other = alice.create_room()
    mine = f"#mine{secrets.token_hex(3)}:{SERVER}"
    theirs = f"#theirs{secrets.token_hex(3)}:{SERVER}"
    alice.ok("PUT", f"/_matrix/client/v3/directory/room/{q(mine)}", {"room_id": room})
    alice.ok("PUT", f"/_matrix/client/v3/directory/room/{q(theirs)}", {"room_id": other})

    status, out = alice.send_state(room, "m.room.canonical_alias", {"alias": mine})
    assert status == 200, out
    for content in ({"alias": theirs}, {"alias": mine, "alt_aliases": [theirs]},
                    {"alias": f"#unknown:{SERVER}"}, {"alt_aliases": ["#remote:other.example"]}):
        status, out = alice.send_state(room, "m.room.canonical_alias", content)
        assert status == 400 and out["errcode"] == "M_BAD_ALIAS", (content, out)
    for content in ({"alias": "not an alias"}, {"alt_aliases": ["#nocolon"]},
                    {"alt_aliases": "#x:" + SERVER}, {"alias": 5}):
        status, out = alice.send_state(room, "m.room.canonical_alias", content)
        assert status == 400 and out["errcode"] == "M_INVALID_PARAM", (content, out)
    # Clearing it is always allowed.
    status, out = alice.send_state(room, "m.room.canonical_alias", {})
    assert status == 200, out


def test_deleting_an_alias_unpublishes_it(node):
    (alice,) = users(node, "alice")
    room = alice.create_room()
    main = f"#main{secrets.token_hex(3)}:{SERVER}"
    alt = f"#alt{secrets.token_hex(3)}:{SERVER}"
    for alias in (main, alt):
        alice.ok("PUT", f"/_matrix/client/v3/directory/room/{q(alias)}", {"room_id": room})
    status, out = alice.send_state(room, "m.room.canonical_alias", {"alias": main, "alt_aliases": [alt]})
    assert status == 200, out
    alice.ok("DELETE", f"/_matrix/client/v3/directory/room/{q(alt)}")
    status, out = alice.state(room, "m.room.canonical_alias")
    assert status == 200 and out == {"alias": main, "alt_aliases": []}
    # An unchanged alias is not re-checked, so the event can still be edited
    # after one of its aliases moved away... but a new alias is.
    status, out = alice.send_state(room, "m.room.canonical_alias", {"alias": main})
    assert status == 200, out


# ---- Room directory visibility -----------------------------------------------------


def test_directory_visibility(node):
    alice, bob = users(node, "alice", "bob")
    room = alice.create_room(preset="public_chat")
    path = f"/_matrix/client/v3/directory/list/room/{q(room)}"
    status, out = http_json("GET", node.url(path))
    assert status == 200 and out == {"visibility": "private"}

    assert alice.ok("PUT", path, {"visibility": "public"}) == {}
    status, out = http_json("GET", node.url(path))
    assert out == {"visibility": "public"}

    bob.join(room)
    status, out = bob.call("PUT", path, {"visibility": "private"})
    assert status == 403 and out["errcode"] == "M_FORBIDDEN"
    status, out = alice.call("PUT", path, {"visibility": "hidden"})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM"
    alice.ok("PUT", path, {"visibility": "private"})
    assert http_json("GET", node.url(path))[1] == {"visibility": "private"}
    # The spec's default for a body without "visibility" is public.
    alice.ok("PUT", path, {})
    assert http_json("GET", node.url(path))[1] == {"visibility": "public"}

    ghost = f"/_matrix/client/v3/directory/list/room/{q('!ghost:' + SERVER)}"
    assert http_json("GET", node.url(ghost))[0] == 404
    assert alice.call("PUT", ghost, {"visibility": "public"})[0] == 404
    status, out = http_json("PUT", node.url(path), body=b"{}", headers={"Content-Type": "application/json"})
    assert status == 401


def test_create_room_visibility_public_is_listed(node):
    (alice,) = users(node, "alice")
    room = alice.create_room(visibility="public", preset="public_chat")
    status, out = http_json("GET", node.url(f"/_matrix/client/v3/directory/list/room/{q(room)}"))
    assert out == {"visibility": "public"}


# ---- publicRooms -------------------------------------------------------------------


def public_rooms(node, **query):
    status, out = http_json("GET", node.url("/_matrix/client/v3/publicRooms") +
                            ("?" + urllib.parse.urlencode(query) if query else ""))
    assert status == 200, out
    return out


def test_public_rooms_listing_and_pagination(node):
    alice, bob, carol, dave, eve = users(node, "alice", "bob", "carol", "dave", "eve")
    rooms = {}
    # Member counts 4, 3, 2, 1, 1: the order is by joined members, then room ID.
    joiners = [[bob, carol, dave], [bob, carol], [bob], [], []]
    for i, extra in enumerate(joiners):
        room = alice.create_room(visibility="public", preset="public_chat", name=f"Room {i}",
                                 topic=f"Topic {i}")
        for user in extra:
            user.join(room)
        rooms[room] = 1 + len(extra)
    # Neither a private room nor an unpublished public room is listed.
    alice.create_room(visibility="public", preset="private_chat", name="Secret")
    alice.create_room(preset="public_chat", name="Unlisted")

    expected = sorted(rooms, key=lambda r: (-rooms[r], r))
    everything = public_rooms(node)
    assert [e["room_id"] for e in everything["chunk"]] == expected
    assert everything["total_room_count_estimate"] == 5
    assert "next_batch" not in everything and "prev_batch" not in everything
    first = everything["chunk"][0]
    assert first["num_joined_members"] == 4
    assert first["name"] == "Room 0" and first["topic"] == "Topic 0"
    assert first["join_rule"] == "public"
    assert first["world_readable"] is False and first["guest_can_join"] is False
    assert "room_type" not in first

    seen, since, pages = [], None, []
    while True:
        page = public_rooms(node, limit=2, **({"since": since} if since else {}))
        pages.append(page)
        seen += [e["room_id"] for e in page["chunk"]]
        since = page.get("next_batch")
        if not since:
            break
    assert seen == expected
    assert [len(p["chunk"]) for p in pages] == [2, 2, 1]
    assert "prev_batch" not in pages[0]
    # Going back from the third page gives the second again.
    back = public_rooms(node, limit=2, since=pages[2]["prev_batch"])
    assert back["chunk"] == pages[1]["chunk"]
    assert "prev_batch" in back and "next_batch" in back
    back = public_rooms(node, limit=2, since=back["prev_batch"])
    assert back["chunk"] == pages[0]["chunk"] and "prev_batch" not in back

    # A page stays put when a room before it gains a member: the token holds
    # the position of the room at the page's edge, not an offset.
    eve.join(expected[0])
    page2 = public_rooms(node, limit=2, since=pages[0]["next_batch"])
    assert page2["chunk"] == pages[1]["chunk"]


def test_public_rooms_post_filters(node):
    alice, bob = users(node, "alice", "bob")
    cheese = alice.create_room(visibility="public", preset="public_chat", name="Cheese Lovers",
                               topic="Brie and more")
    alias_name = f"wine{secrets.token_hex(3)}"
    wine = alice.create_room(visibility="public", preset="public_chat", room_alias_name=alias_name)
    space = alice.create_room(visibility="public", preset="public_chat", name="A Space",
                              creation_content={"type": "m.space"})

    def search(body, user=bob):
        return sorted(e["room_id"] for e in user.ok("POST", "/_matrix/client/v3/publicRooms", body)["chunk"])

    assert search({"filter": {"generic_search_term": "cHEESE"}}) == [cheese]
    assert search({"filter": {"generic_search_term": "brie"}}) == [cheese]
    assert search({"filter": {"generic_search_term": alias_name.upper()}}) == [wine]
    assert search({"filter": {"generic_search_term": "%"}}) == []
    assert search({"filter": {"room_types": ["m.space"]}}) == [space]
    assert search({"filter": {"room_types": [None]}}) == sorted([cheese, wine])
    assert search({"filter": {"room_types": [None, "m.space"]}}) == sorted([cheese, wine, space])
    assert search({}) == sorted([cheese, wine, space])
    assert search({"include_all_networks": True}) == sorted([cheese, wine, space])
    assert search({"third_party_instance_id": "irc"}) == []

    entry = next(e for e in bob.ok("POST", "/_matrix/client/v3/publicRooms", {})["chunk"]
                 if e["room_id"] == space)
    assert entry["room_type"] == "m.space"
    entry = next(e for e in bob.ok("POST", "/_matrix/client/v3/publicRooms", {})["chunk"]
                 if e["room_id"] == wine)
    assert entry["canonical_alias"] == f"#{alias_name}:{SERVER}"

    page = bob.ok("POST", "/_matrix/client/v3/publicRooms", {"limit": 1})
    assert len(page["chunk"]) == 1 and "next_batch" in page
    page2 = bob.ok("POST", "/_matrix/client/v3/publicRooms", {"limit": 1, "since": page["next_batch"]})
    assert page2["chunk"][0]["room_id"] != page["chunk"][0]["room_id"]

    status, out = http_json("POST", node.url("/_matrix/client/v3/publicRooms"), body=b"{}",
                            headers={"Content-Type": "application/json"})
    assert status == 401
    status, out = bob.call("POST", "/_matrix/client/v3/publicRooms",
                           {"include_all_networks": True, "third_party_instance_id": "irc"})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM"
    status, out = bob.call("POST", "/_matrix/client/v3/publicRooms", {"filter": {"room_types": [1]}})
    assert status == 400 and out["errcode"] == "M_BAD_JSON"


def test_public_rooms_bad_requests(node):
    for query in ({"limit": "ten"}, {"limit": "-1"}, {"since": "garbage!"}, {"server": "other.example"}):
        status, out = http_json("GET", node.url("/_matrix/client/v3/publicRooms?" +
                                                urllib.parse.urlencode(query)))
        assert status == 400 and out["errcode"] == "M_INVALID_PARAM", (query, out)
    out = public_rooms(node, server=SERVER, limit=100000)
    assert out["chunk"] == [] and out["total_room_count_estimate"] == 0


# ---- User directory ------------------------------------------------------------------


def search_users(client, term, limit=None):
    body = {"search_term": term}
    if limit is not None:
        body["limit"] = limit
    return client.ok("POST", "/_matrix/client/v3/user_directory/search", body)


def test_user_directory(node):
    tag = secrets.token_hex(3)
    alice = register(node, f"alice{tag}")
    bob = register(node, f"bob{tag}")
    carol = register(node, f"carol{tag}")
    dave = register(node, f"dave{tag}")
    alice.set_displayname("Alice Wonderland")
    dave.set_displayname("Dave O'Brien")

    private = alice.create_room(preset="private_chat", invite=[bob.user_id])
    bob.join(private)
    carol.create_room(preset="private_chat")  # carol is alone, in a private room
    lobby = dave.create_room(preset="public_chat")  # dave is in a public room

    def ids(out):
        return [r["user_id"] for r in out["results"]]

    assert ids(search_users(alice, f"bob{tag}")) == [bob.user_id]
    assert ids(search_users(alice, f"@BOB{tag}")) == [bob.user_id]
    assert ids(search_users(alice, f"carol{tag}")) == []  # shares nothing, not in a public room
    assert ids(search_users(alice, f"dave{tag}")) == [dave.user_id]
    assert ids(search_users(alice, "o'brien")) == [dave.user_id]
    out = search_users(bob, "wonder")
    assert [r for r in out["results"] if r["user_id"] == alice.user_id] == [
        {"user_id": alice.user_id, "display_name": "Alice Wonderland"}]
    # LIKE wildcards in the term are literal characters.
    assert ids(search_users(alice, f"b_b{tag}")) == []
    assert ids(search_users(alice, "%")) == []
    assert search_users(alice, f"bob{tag}")["limited"] is False

    # Once carol joins the public room she is found.
    carol.join(lobby)
    assert ids(search_users(alice, f"carol{tag}")) == [carol.user_id]

    status, out = alice.call("POST", "/_matrix/client/v3/user_directory/search", {})
    assert status == 400 and out["errcode"] == "M_MISSING_PARAM"
    status, out = alice.call("POST", "/_matrix/client/v3/user_directory/search",
                             {"search_term": "x", "limit": 0})
    assert status == 400 and out["errcode"] == "M_INVALID_PARAM"
    status, _ = alice.call("POST", "/_matrix/client/v3/user_directory/search",
                           {"search_term": "x"}, auth=False)
    assert status == 401


def test_user_directory_limit(node):
    tag = secrets.token_hex(3)
    owner = register(node, f"owner{tag}")
    room = owner.create_room(preset="public_chat")
    for i in range(4):
        register(node, f"member{tag}{i}").join(room)
    out = search_users(owner, f"member{tag}", limit=3)
    assert len(out["results"]) == 3 and out["limited"] is True
    out = search_users(owner, f"member{tag}")
    assert len(out["results"]) == 4 and out["limited"] is False
    out = search_users(owner, f"member{tag}", limit=1000)
    assert len(out["results"]) == 4
