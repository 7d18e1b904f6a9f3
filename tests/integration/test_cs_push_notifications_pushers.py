"""Spec: Client-Server API, "Push Notifications" - GET /pushers and
POST /pushers/set: setting, replacing, appending and deleting pushers, the
checks on their fields, and a pusher going away with the device that set it."""

import copy

from cs_client import register

GATEWAY = "https://push.example.org/_matrix/push/v1/notify"


def pusher(pushkey="key-1", app_id="org.example.app", **overrides):
    body = {"pushkey": pushkey, "kind": "http", "app_id": app_id,
            "app_display_name": "Example", "device_display_name": "Phone",
            "profile_tag": "tag1", "lang": "en",
            "data": {"url": GATEWAY, "format": "event_id_only"}}
    body.update(overrides)
    return body


def listed(client):
    return client.ok("GET", "/pushers")["pushers"]


def test_pushers_set_get_replace_delete(node):
    alice = register(node, "pushalice")
    assert listed(alice) == []
    body = pusher()
    assert alice.ok("POST", "/pushers/set", body) == {}
    expected = {k: v for k, v in body.items() if k != "append"}
    assert listed(alice) == [expected]

    # Same app_id and pushkey: replaced, not added.
    renamed = pusher(device_display_name="Tablet", data={"url": GATEWAY})
    alice.ok("POST", "/pushers/set", renamed)
    (only,) = listed(alice)
    assert only["device_display_name"] == "Tablet" and only["data"] == {"url": GATEWAY}

    # Another pushkey adds one; kind null deletes by app_id and pushkey.
    alice.ok("POST", "/pushers/set", pusher(pushkey="key-2"))
    assert sorted(p["pushkey"] for p in listed(alice)) == ["key-1", "key-2"]
    alice.ok("POST", "/pushers/set", {"pushkey": "key-1", "app_id": "org.example.app",
                                      "kind": None})
    assert [p["pushkey"] for p in listed(alice)] == ["key-2"]
    # Deleting one that is not there is fine.
    alice.ok("POST", "/pushers/set", {"pushkey": "nope", "app_id": "x", "kind": None})


def test_pushers_append_and_other_users(node):
    alice = register(node, "pushapp1")
    bob = register(node, "pushapp2")
    alice.ok("POST", "/pushers/set", pusher(pushkey="shared"))
    # The same device token moving to Bob: without append it leaves Alice.
    bob.ok("POST", "/pushers/set", pusher(pushkey="shared"))
    assert listed(alice) == [] and len(listed(bob)) == 1
    # With append, both keep it.
    alice.ok("POST", "/pushers/set", pusher(pushkey="shared", append=True))
    assert len(listed(alice)) == 1 and len(listed(bob)) == 1
    # Nobody sees another user's pushers.
    assert listed(bob)[0]["pushkey"] == "shared"


def test_pushers_refuse_bad_input(node):
    alice = register(node, "pushbad")
    for field in ("pushkey", "app_id", "kind", "app_display_name", "device_display_name",
                  "lang", "data"):
        body = pusher()
        del body[field]
        alice.error(400, "M_MISSING_PARAM", "POST", "/pushers/set", body)
    cases = [
        (pusher(pushkey="k" * 513), "M_INVALID_PARAM"),
        (pusher(app_id="a" * 65), "M_INVALID_PARAM"),
        (pusher(profile_tag="t" * 33), "M_INVALID_PARAM"),
        (pusher(kind="carrier-pigeon"), "M_INVALID_PARAM"),
        (pusher(kind=5), "M_BAD_JSON"),
        (pusher(data={"url": "https://push.example.org/notify"}), "M_INVALID_PARAM"),
        (pusher(data={"url": "ftp://push.example.org/_matrix/push/v1/notify"}), "M_INVALID_PARAM"),
        (pusher(data={"url": "https:///_matrix/push/v1/notify"}), "M_INVALID_PARAM"),
        (pusher(data={"format": "event_id_only"}), "M_MISSING_PARAM"),
        (pusher(data={"url": GATEWAY, "filler": "x" * 5000}), "M_INVALID_PARAM"),
        (pusher(data="not an object"), "M_BAD_JSON"),
        (pusher(data={"url": GATEWAY, "note": "a\u0000b"}), "M_BAD_JSON"),
        (pusher(data={"url": GATEWAY, "k\u0000": 1}), "M_BAD_JSON"),
        # No email address belongs to an account yet.
        (pusher(kind="email", pushkey="me@example.org", data={}), "M_THREEPID_NOT_FOUND"),
    ]
    for body, errcode in cases:
        alice.error(400, errcode, "POST", "/pushers/set", body)
    assert listed(alice) == []


def test_pusher_goes_with_its_device(node):
    alice = register(node, "pushlogout")
    second = copy.copy(alice)
    login = alice.ok("POST", "/login", {"type": "m.login.password",
                                        "identifier": {"type": "m.id.user",
                                                       "user": "pushlogout"},
                                        "password": "correct horse battery"})
    second.token, second.device_id = login["access_token"], login["device_id"]
    second.ok("POST", "/pushers/set", pusher(pushkey="from-second"))
    alice.ok("POST", "/pushers/set", pusher(pushkey="from-first"))
    second.ok("POST", "/logout", {})
    assert [p["pushkey"] for p in listed(alice)] == ["from-first"]
