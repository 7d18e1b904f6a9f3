"""Push rules against the real binary and PostgreSQL: the server-default
ruleset, user-defined rules and their ordering, enabled/actions changes on
default rules, deletion, errors, and the m.push_rules account data that /sync
delivers after a change."""

import json
import threading
import time
import urllib.parse

import pytest

from conftest import http_json
from cs_client import CS

PR = "/pushrules/global"


@pytest.fixture
def node(start_node):
    n = start_node(ELTRIX_REGISTRATION_ENABLED="true", ELTRIX_RATELIMIT_ENABLED="false")
    n.wait_ready()
    return n


def ids(ruleset, kind):
    return [rule["rule_id"] for rule in ruleset[kind]]


def user_ids(ruleset, kind):
    return [r for r in ids(ruleset, kind) if not r.startswith(".")]


def global_account_data(sync):
    return {e["type"]: e["content"] for e in sync.get("account_data", {}).get("events", [])}


NOTIFY_SOUND_HIGHLIGHT = ["notify", {"set_tweak": "sound", "value": "default"},
                          {"set_tweak": "highlight"}]


def test_defaults(alice, node):
    everything = alice.ok("GET", "/pushrules/")
    assert set(everything) == {"global"}
    rules = everything["global"]
    assert set(rules) == {"override", "content", "room", "sender", "underride"}
    assert ids(rules, "override") == [
        ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
        ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name",
        ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction",
        ".m.rule.room.server_acl", ".m.rule.suppress_edits"]
    assert ids(rules, "underride") == [
        ".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
        ".m.rule.message", ".m.rule.encrypted"]
    assert rules["room"] == [] and rules["sender"] == []
    assert rules["override"][0] == {"rule_id": ".m.rule.master", "default": True,
                                    "enabled": False, "conditions": [], "actions": []}
    assert rules["content"] == [{"rule_id": ".m.rule.contains_user_name", "default": True,
                                 "enabled": True, "pattern": "alice",
                                 "actions": NOTIFY_SOUND_HIGHLIGHT}]
    invite = alice.ok("GET", f"{PR}/override/.m.rule.invite_for_me")
    assert {"key": "state_key", "kind": "event_match", "pattern": alice.user_id} \
        in invite["conditions"]

    assert alice.ok("GET", "/pushrules/global/") == rules
    # The r0 prefix that older clients use serves the same.
    status, out = alice.call("GET", "/pushrules/", prefix="/_matrix/client/r0")
    assert (status, out) == (200, everything)

    status, out = http_json("GET", node.url(CS + "/pushrules/"))
    assert (status, out["errcode"]) == (401, "M_MISSING_TOKEN")


def test_put_content_rule_then_get(alice, bob):
    rule = {"pattern": "cake*lie", "actions": ["notify"]}
    assert alice.ok("PUT", f"{PR}/content/nocake", rule) == {}
    assert alice.ok("GET", f"{PR}/content/nocake") == {
        "rule_id": "nocake", "default": False, "enabled": True, "pattern": "cake*lie",
        "actions": ["notify"]}
    rules = alice.ok("GET", "/pushrules/")["global"]
    # User rules outrank the server-default ones of their kind.
    assert ids(rules, "content") == ["nocake", ".m.rule.contains_user_name"]

    # Replacing changes the rule in place.
    alice.ok("PUT", f"{PR}/content/nocake", {"pattern": "pie", "actions": []})
    assert alice.ok("GET", f"{PR}/content/nocake")["pattern"] == "pie"
    assert ids(alice.ok("GET", "/pushrules/global/"), "content") == \
        ["nocake", ".m.rule.contains_user_name"]

    # Room and sender rules: their ID is the room or user they apply to.
    room = "!somewhere:e2e.test"
    alice.ok("PUT", f"{PR}/room/{urllib.parse.quote(room)}", {"actions": []})
    alice.ok("PUT", f"{PR}/sender/{urllib.parse.quote(bob.user_id)}", {"actions": ["notify"]})
    rules = alice.ok("GET", "/pushrules/global/")
    assert rules["room"] == [{"rule_id": room, "default": False, "enabled": True, "actions": []}]
    assert ids(rules, "sender") == [bob.user_id]

    # Other users' rules are their own.
    bobs = bob.ok("GET", "/pushrules/global/")
    assert all(user_ids(bobs, kind) == [] for kind in bobs)
    assert bobs["content"][0]["pattern"] == "bob"
    bob.error(404, "M_NOT_FOUND", "GET", f"{PR}/content/nocake")


def test_before_after_ordering(alice):
    def put(rule_id, **query):
        alice.ok("PUT", f"{PR}/override/{rule_id}",
                 {"conditions": [{"kind": "event_match", "key": "type", "pattern": rule_id}],
                  "actions": ["notify"]}, **query)

    def order():
        return user_ids(alice.ok("GET", "/pushrules/global/"), "override")

    put("a")
    put("b")  # new rules without before/after become the most important
    assert order() == ["b", "a"]
    put("c", before="a")
    assert order() == ["b", "c", "a"]
    put("d", after="a")
    assert order() == ["b", "c", "a", "d"]
    put("e", before="b", after="d")  # before wins
    assert order() == ["e", "b", "c", "a", "d"]
    put("c", after="d")  # an update with an anchor moves the rule
    assert order() == ["e", "b", "a", "d", "c"]
    put("b")  # an update without one keeps its place
    assert order() == ["e", "b", "a", "d", "c"]

    # Master stays first; the other defaults come after the user's rules.
    full = ids(alice.ok("GET", "/pushrules/global/"), "override")
    assert full[:7] == [".m.rule.master", "e", "b", "a", "d", "c", ".m.rule.suppress_notices"]

    body = {"actions": ["notify"]}
    alice.error(400, "M_UNKNOWN", "PUT", f"{PR}/override/f", body, before="nope")
    alice.error(400, "M_UNKNOWN", "PUT", f"{PR}/override/f", body, after="nope")
    # Server-default rules cannot be anchors.
    alice.error(400, "M_UNKNOWN", "PUT", f"{PR}/override/f", body, after=".m.rule.master")
    alice.error(404, "M_NOT_FOUND", "GET", f"{PR}/override/f")
    assert order() == ["e", "b", "a", "d", "c"]


def test_enabled_and_actions_on_default_rules(alice):
    master = f"{PR}/override/.m.rule.master"
    assert alice.ok("GET", f"{master}/enabled") == {"enabled": False}
    alice.ok("PUT", f"{master}/enabled", {"enabled": True})
    assert alice.ok("GET", f"{master}/enabled") == {"enabled": True}
    assert alice.ok("GET", master)["enabled"] is True

    message = f"{PR}/underride/.m.rule.message"
    assert alice.ok("GET", f"{message}/actions") == {"actions": ["notify"]}
    new_actions = ["notify", {"set_tweak": "sound", "value": "bing"}]
    alice.ok("PUT", f"{message}/actions", {"actions": new_actions})
    assert alice.ok("GET", f"{message}/actions") == {"actions": new_actions}
    rule = alice.ok("GET", message)
    assert rule["actions"] == new_actions and rule["default"] is True
    # The rest of the default rule is unchanged.
    assert rule["conditions"] == [{"kind": "event_match", "key": "type",
                                   "pattern": "m.room.message"}]

    # The same on a user rule, which keeps its enabled state when replaced.
    alice.ok("PUT", f"{PR}/content/tea", {"pattern": "tea", "actions": ["notify"]})
    alice.ok("PUT", f"{PR}/content/tea/enabled", {"enabled": False})
    alice.ok("PUT", f"{PR}/content/tea", {"pattern": "tea*", "actions": ["notify"]})
    assert alice.ok("GET", f"{PR}/content/tea/enabled") == {"enabled": False}
    alice.ok("PUT", f"{PR}/content/tea/actions", {"actions": []})
    assert alice.ok("GET", f"{PR}/content/tea") == {
        "rule_id": "tea", "default": False, "enabled": False, "pattern": "tea*", "actions": []}

    rules = alice.ok("GET", "/pushrules/global/")
    assert rules["override"][0]["enabled"] is True
    assert ids(rules, "underride") == [
        ".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
        ".m.rule.message", ".m.rule.encrypted"]

    alice.error(404, "M_NOT_FOUND", "GET", f"{PR}/override/missing/enabled")
    alice.error(404, "M_NOT_FOUND", "PUT", f"{PR}/override/missing/enabled", {"enabled": True})
    alice.error(404, "M_NOT_FOUND", "GET", f"{PR}/override/missing/actions")
    alice.error(404, "M_NOT_FOUND", "PUT", f"{PR}/override/missing/actions", {"actions": []})
    # A default rule exists only under its own kind.
    alice.error(404, "M_NOT_FOUND", "GET", f"{PR}/content/.m.rule.master/enabled")
    alice.error(400, "M_MISSING_PARAM", "PUT", f"{master}/enabled", {})
    alice.error(400, "M_BAD_JSON", "PUT", f"{master}/enabled", {"enabled": "yes"})
    alice.error(400, "M_MISSING_PARAM", "PUT", f"{message}/actions", {})
    alice.error(400, "M_BAD_JSON", "PUT", f"{message}/actions", {"actions": "notify"})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{message}/actions", {"actions": ["explode"]})


def test_delete(alice):
    alice.ok("PUT", f"{PR}/override/gone", {"actions": []})
    alice.ok("PUT", f"{PR}/override/stays", {"actions": []})
    assert alice.ok("DELETE", f"{PR}/override/gone") == {}
    alice.error(404, "M_NOT_FOUND", "GET", f"{PR}/override/gone")
    alice.error(404, "M_NOT_FOUND", "DELETE", f"{PR}/override/gone")
    assert user_ids(alice.ok("GET", "/pushrules/global/"), "override") == ["stays"]
    # Server-default rules can be disabled but not deleted.
    alice.error(400, "M_INVALID_PARAM", "DELETE", f"{PR}/override/.m.rule.master")
    alice.error(404, "M_NOT_FOUND", "DELETE", f"{PR}/override/.m.rule.nonexistent")
    assert alice.ok("GET", f"{PR}/override/.m.rule.master")["default"] is True


def test_errors(alice, node):
    ok_body = {"actions": ["notify"]}
    alice.error(400, "M_INVALID_PARAM", "GET", "/pushrules/device/override/x")
    alice.error(400, "M_INVALID_PARAM", "PUT", "/pushrules/device/override/x", ok_body)
    alice.error(400, "M_INVALID_PARAM", "GET", f"{PR}/nonsense/x")
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/nonsense/x", ok_body)
    alice.error(404, "M_NOT_FOUND", "GET", f"{PR}/override/missing")

    # Rule IDs starting with '.' are the server's; '/' and '\' are not allowed.
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/override/.m.rule.master", ok_body)
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/override/.mine", ok_body)
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/override/a%2Fb", ok_body)
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/override/a%5Cb", ok_body)
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/room/notaroom", ok_body)
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/sender/notauser", ok_body)

    alice.error(400, "M_MISSING_PARAM", "PUT", f"{PR}/override/x", {})
    alice.error(400, "M_BAD_JSON", "PUT", f"{PR}/override/x", {"actions": "notify"})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/override/x", {"actions": ["explode"]})
    alice.error(400, "M_BAD_JSON", "PUT", f"{PR}/override/x",
                {"actions": [], "conditions": {"kind": "event_match"}})
    alice.error(400, "M_MISSING_PARAM", "PUT", f"{PR}/override/x",
                {"actions": [], "conditions": [{"kind": "event_match", "key": "type"}]})
    alice.error(400, "M_INVALID_PARAM", "PUT", f"{PR}/override/x",
                {"actions": [], "conditions": [{"kind": "room_member_count", "is": "two"}]})
    alice.error(400, "M_MISSING_PARAM", "PUT", f"{PR}/content/x", {"actions": []})
    alice.error(400, "M_BAD_JSON", "PUT", f"{PR}/content/x", {"actions": [], "pattern": 1})
    status, out = alice.call("PUT", f"{PR}/override/x", None)
    assert status == 400, out
    # Nothing of the refused requests was stored.
    rules = alice.ok("GET", "/pushrules/global/")
    assert all(user_ids(rules, kind) == [] for kind in rules)

    # Unknown condition kinds are accepted (they just never match), and the
    # historical no-op actions are accepted too.
    alice.ok("PUT", f"{PR}/underride/future",
             {"conditions": [{"kind": "org.example.future"}], "actions": ["dont_notify"]})

    # The ruleset is managed here, not through the account data API.
    alice.error(405, "M_BAD_JSON", "PUT", f"/user/{alice.user_id}/account_data/m.push_rules",
                {"global": {}})

    status, out = http_json("PUT", node.url(CS + f"{PR}/override/x"),
                            body=json.dumps(ok_body).encode(),
                            headers={"Content-Type": "application/json"})
    assert (status, out["errcode"]) == (401, "M_MISSING_TOKEN")


def test_sync_delivers_changes_as_account_data(alice):
    since = alice.sync()["next_batch"]
    result = {}

    def long_poll():
        result["sync"] = alice.sync(since=since, timeout=10000)

    waiter = threading.Thread(target=long_poll)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.5)
    alice.ok("PUT", f"{PR}/override/.m.rule.master/enabled", {"enabled": True})
    waiter.join(15)
    elapsed = time.monotonic() - started
    assert elapsed < 8, "the push rule change did not wake the sync"
    assert elapsed > 0.4, "the sync did not wait for the change"
    data = global_account_data(result["sync"])
    assert "m.push_rules" in data, result["sync"]
    rules = data["m.push_rules"]["global"]
    assert rules["override"][0] == {"rule_id": ".m.rule.master", "default": True,
                                    "enabled": True, "conditions": [], "actions": []}
    assert data["m.push_rules"] == alice.ok("GET", "/pushrules/")

    alice.ok("PUT", f"{PR}/content/lunch", {"pattern": "lunch", "actions": ["notify"]})
    later = alice.sync(since=result["sync"]["next_batch"], timeout=5000)
    rules = global_account_data(later)["m.push_rules"]["global"]
    assert ids(rules, "content") == ["lunch", ".m.rule.contains_user_name"]
    # The account data API reads the same ruleset back.
    assert alice.ok("GET", f"/user/{alice.user_id}/account_data/m.push_rules") == \
        alice.ok("GET", "/pushrules/")

    # A change that changes nothing writes nothing.
    quiet_since = later["next_batch"]
    alice.ok("PUT", f"{PR}/override/.m.rule.master/enabled", {"enabled": True})
    quiet = alice.sync(since=quiet_since, timeout=0)
    assert "m.push_rules" not in global_account_data(quiet)
