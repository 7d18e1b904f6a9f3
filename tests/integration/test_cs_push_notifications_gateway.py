"""Spec: Client-Server API, "Push Notifications" (the homeserver's side of the
Push Gateway API, POST /_matrix/push/v1/notify, and GET /notifications):
pushes reach a real gateway written in push_gateway.py with the spec's body,
event_id_only pushers get no content, mentions carry the highlight tweak, an
invite pushes the invitee, a failing gateway gets the push once it recovers,
rejected pushkeys remove the pusher, senders are not pushed their own
messages, two nodes record and push each event once, /notifications lists,
pages, filters highlights and reports what the receipt covers, and old
notifications are pruned."""

import subprocess
import time
import urllib.request

import pytest

from cs_client import q, register, send_event, text
from push_gateway import PushGateway


@pytest.fixture
def gateway():
    gw = PushGateway()
    yield gw
    gw.close()


def psql_value(url, sql):
    out = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    return out.strip()


def metric(text, name):
    """The value of an unlabelled metric in Prometheus text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def set_pusher(client, gateway, pushkey, **data):
    client.ok("POST", "/pushers/set", {
        "pushkey": pushkey, "kind": "http", "app_id": "org.example.app",
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": gateway.url, **data}})


def shared_room(creator, *others, name=None):
    body = {"preset": "public_chat"}
    if name:
        body["name"] = name
    room = creator.ok("POST", "/createRoom", body)["room_id"]
    for other in others:
        other.ok("POST", f"/join/{q(room)}", {})
    return room


def notifications(client, **query):
    return client.ok("GET", "/notifications", **query)


def wait_notifications(client, count, timeout=15, **query):
    deadline = time.monotonic() + timeout
    while True:
        out = notifications(client, **query)
        if len(out["notifications"]) >= count or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


def test_push_reaches_gateway_with_spec_body(node, gateway):
    alice = register(node, "gwalice")
    bob = register(node, "gwbob")
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "Alice A"})
    room = shared_room(alice, bob, name="Garden")
    set_pusher(bob, gateway, "bob-key", extra="kept")
    event_id = send_event(alice, room, text("hello bob"))

    n = gateway.wait_for(lambda n: n.get("event_id") == event_id)
    assert n["room_id"] == room and n["type"] == "m.room.message"
    assert n["sender"] == alice.user_id and n["sender_display_name"] == "Alice A"
    assert n["room_name"] == "Garden"
    assert n["content"] == text("hello bob")
    assert n["counts"] == {"unread": 1}
    # Two members: the one-to-one rule, which sounds.
    assert n["prio"] == "high"
    (device,) = n["devices"]
    assert device["app_id"] == "org.example.app" and device["pushkey"] == "bob-key"
    assert device["data"] == {"extra": "kept"}  # without the url
    assert device["tweaks"] == {"sound": "default"}
    assert isinstance(device["pushkey_ts"], int) and device["pushkey_ts"] > 1_600_000_000


def test_event_id_only_omits_content(node, gateway):
    alice = register(node, "gwidalice")
    bob = register(node, "gwidbob")
    room = shared_room(alice, bob)
    set_pusher(bob, gateway, "bob-id-only", format="event_id_only")
    event_id = send_event(alice, room, text("secret"))

    n = gateway.wait_for(lambda n: n.get("event_id") == event_id)
    assert n["room_id"] == room and n["counts"] == {"unread": 1}
    for absent in ("content", "type", "sender", "sender_display_name", "room_name"):
        assert absent not in n
    assert n["devices"][0]["data"] == {"format": "event_id_only"}


def test_mention_carries_highlight_tweak(node, gateway):
    alice = register(node, "gwhlalice")
    bob = register(node, "gwhlbob")
    carol = register(node, "gwhlcarol")
    room = shared_room(alice, bob, carol)  # three members: no one-to-one rule
    set_pusher(bob, gateway, "bob-hl")
    plain = send_event(alice, room, text("hello all"))
    mentions = {"m.mentions": {"user_ids": [bob.user_id]}}
    mention = send_event(alice, room, text("bob, look", **mentions))

    n = gateway.wait_for(lambda n: n.get("event_id") == mention)
    assert n["devices"][0]["tweaks"] == {"sound": "default", "highlight": True}
    assert n["prio"] == "high"
    # The plain message in a group room notifies without sound or highlight.
    p = gateway.wait_for(lambda n: n.get("event_id") == plain)
    assert p["devices"][0]["tweaks"] == {} and p["prio"] == "low"


def test_invite_pushes_the_invitee(node, gateway):
    alice = register(node, "gwinvalice")
    bob = register(node, "gwinvbob")
    set_pusher(bob, gateway, "bob-invite")
    room = alice.ok("POST", "/createRoom", {"preset": "private_chat"})["room_id"]
    alice.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": bob.user_id})

    n = gateway.wait_for(lambda n: n.get("room_id") == room)
    assert n["type"] == "m.room.member" and n["user_is_target"] is True
    assert n["content"]["membership"] == "invite"
    assert n["devices"][0]["tweaks"] == {"sound": "default"}


def test_failing_gateway_gets_push_after_recovering(node, gateway):
    alice = register(node, "gwfailalice")
    bob = register(node, "gwfailbob")
    room = shared_room(alice, bob)
    set_pusher(bob, gateway, "bob-retry")
    gateway.fail_next = 2
    event_id = send_event(alice, room, text("eventually"))

    # Two 500s, then the retries' backoff (1 s, 2 s) brings it through.
    n = gateway.wait_for(lambda n: n.get("event_id") == event_id, timeout=20)
    assert gateway.failed == 2
    assert n["devices"][0]["pushkey"] == "bob-retry"
    # Delivered once: the queue row went with the 2xx.
    time.sleep(1.5)
    assert len(gateway.notifications_for(event_id)) == 1
    # Counted: two failures and the push that went through.
    metrics = urllib.request.urlopen(node.url("/metrics"), timeout=10).read().decode()
    assert metric(metrics, "eltrix_pushes_failed_total") == 2
    assert metric(metrics, "eltrix_pushes_sent_total") == 1
    assert metric(metrics, "eltrix_pushes_given_up_total") == 0


def test_rejected_pushkey_removes_pusher(node, gateway):
    alice = register(node, "gwrejalice")
    bob = register(node, "gwrejbob")
    room = shared_room(alice, bob)
    set_pusher(bob, gateway, "dead-key")
    set_pusher(bob, gateway, "live-key")
    gateway.reject = {"dead-key"}
    event_id = send_event(alice, room, text("anyone there?"))

    gateway.wait_for(lambda n: n.get("event_id") == event_id
                     and n["devices"][0]["pushkey"] == "dead-key")
    deadline = time.monotonic() + 10
    while True:
        keys = [p["pushkey"] for p in bob.ok("GET", "/pushers")["pushers"]]
        if keys == ["live-key"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert keys == ["live-key"]


def test_own_messages_do_not_push(node, gateway):
    alice = register(node, "gwownalice")
    bob = register(node, "gwownbob")
    room = shared_room(alice, bob)
    set_pusher(alice, gateway, "alice-key")
    own = send_event(alice, room, text("talking to myself"))
    theirs = send_event(bob, room, text("answer"))

    gateway.wait_for(lambda n: n.get("event_id") == theirs)
    listed = wait_notifications(alice, 1)["notifications"]
    assert [e["event"]["event_id"] for e in listed] == [theirs]
    time.sleep(1)
    assert gateway.notifications_for(own) == []


def test_notifications_list_paginate_highlight_and_read(node):
    alice = register(node, "gwlistalice")
    bob = register(node, "gwlistbob")
    carol = register(node, "gwlistcarol")
    room = shared_room(alice, bob, carol)
    first = send_event(alice, room, text("one"))
    second = send_event(alice, room, text("two", **{"m.mentions": {"user_ids": [bob.user_id]}}))
    third = send_event(alice, room, text("three"))

    out = wait_notifications(bob, 3)
    entries = out["notifications"]
    assert [e["event"]["event_id"] for e in entries] == [third, second, first]
    assert "next_token" not in out
    for e in entries:
        assert set(e) == {"actions", "event", "profile_tag", "read", "room_id", "ts"}
        assert e["room_id"] == room and e["read"] is False and isinstance(e["ts"], int)
        assert e["event"]["room_id"] == room and e["event"]["sender"] == alice.user_id
    assert "notify" in entries[2]["actions"]
    assert {"set_tweak": "highlight"} in entries[1]["actions"]

    # Pages of two, newest first.
    page = notifications(bob, limit=2)
    assert [e["event"]["event_id"] for e in page["notifications"]] == [third, second]
    rest = notifications(bob, limit=2, **{"from": page["next_token"]})
    assert [e["event"]["event_id"] for e in rest["notifications"]] == [first]
    assert "next_token" not in rest

    highlights = notifications(bob, only="highlight")["notifications"]
    assert [e["event"]["event_id"] for e in highlights] == [second]

    # A read receipt on the second: it and what came before are read.
    bob.ok("POST", f"/rooms/{q(room)}/receipt/m.read/{q(second)}", {})
    read = {e["event"]["event_id"]: e["read"] for e in notifications(bob)["notifications"]}
    assert read == {first: True, second: True, third: False}

    # The sender was notified of none of them.
    assert notifications(alice)["notifications"] == []
    bob.error(400, "M_INVALID_PARAM", "GET", "/notifications", **{"from": "nope"})


def test_two_nodes_record_and_push_each_event_once(start_node, gateway):
    # Both nodes run the evaluator and the sender on one database: each event
    # is recorded once (the progress row's compare and set) and pushed once
    # (queue rows are claimed SKIP LOCKED).
    settings = {"ELTRIX_REGISTRATION_ENABLED": "true", "ELTRIX_RATELIMIT_ENABLED": "false"}
    a = start_node(**settings)
    a.wait_ready()
    b = start_node(**settings)
    b.wait_ready()
    alice = register(a, "gwtwoalice")
    bob = register(b, "gwtwobob")
    room = shared_room(alice, bob)
    set_pusher(bob, gateway, "bob-two")
    sent = [send_event(alice, room, text(f"message {i}")) for i in range(6)]

    for event_id in sent:
        gateway.wait_for(lambda n, e=event_id: n.get("event_id") == e)
    listed = wait_notifications(bob, len(sent))["notifications"]
    assert [e["event"]["event_id"] for e in listed] == sent[::-1]
    time.sleep(1.5)  # time for a duplicate to show up, were there one
    assert [len(gateway.notifications_for(e)) for e in sent] == [1] * len(sent)
    assert len(notifications(bob)["notifications"]) == len(sent)


def test_old_notifications_are_pruned(node, database):
    # A notification recorded 31 days ago goes with the next batch; a recent
    # one stays.
    alice = register(node, "gwprunealice")
    bob = register(node, "gwprunebob")
    room = shared_room(alice, bob)
    old_ts = int(time.time() * 1000) - 31 * 24 * 3600 * 1000
    psql_value(database, "INSERT INTO notifications (user_id, stream_ordering, event_id, room_id, "
               f"actions, highlight, ts) VALUES ('{bob.user_id}', 1, '$old', '{room}', "
               f"'[\"notify\"]', false, {old_ts})")
    event_id = send_event(alice, room, text("fresh"))
    listed = wait_notifications(bob, 1)["notifications"]
    assert [e["event"]["event_id"] for e in listed] == [event_id]
    assert psql_value(database, "SELECT count(*) FROM notifications WHERE event_id = '$old'") == "0"
