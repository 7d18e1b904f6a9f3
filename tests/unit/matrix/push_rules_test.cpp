// Push rules: the predefined ruleset of spec v1.11, merging a stored ruleset
// with it, and the rules clients may create (validation, placement, removal).
#include "matrix/push_rules.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using eltrix::matrix::check_actions;
using eltrix::matrix::check_user_rule_id;
using eltrix::matrix::default_push_rules;
using eltrix::matrix::find_push_rule;
using eltrix::matrix::make_user_rule;
using eltrix::matrix::merge_push_rules;
using eltrix::matrix::PushRuleError;
using eltrix::matrix::put_user_rule;
using eltrix::matrix::remove_user_rule;
using nlohmann::json;

namespace {

constexpr const char* kAlice = "@alice:a.test";

std::vector<std::string> ids(const json& rules, const char* kind) {
  std::vector<std::string> out;
  for (const auto& rule : rules.at("global").at(kind)) out.push_back(rule.at("rule_id"));
  return out;
}

/// The errcode a call throws as PushRuleError ("" when it does not throw).
template <typename F>
std::string errcode_of(F&& fn) {
  try {
    fn();
  } catch (const PushRuleError& e) {
    return e.errcode();
  }
  return "";
}

json content_rule(const std::string& id, const std::string& pattern) {
  return make_user_rule("content", id, {{"pattern", pattern}, {"actions", {"notify"}}});
}

const json kNotifySoundHighlight = json::parse(
    R"(["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}])");

}  // namespace

TEST_CASE("push rules: the defaults have the spec's kinds, rules and order", "[matrix][push]") {
  const json rules = default_push_rules(kAlice);
  REQUIRE(rules.size() == 1);
  const json& global = rules.at("global");
  CHECK(global.size() == 5);
  CHECK(ids(rules, "override") ==
        std::vector<std::string>{
            ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
            ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name",
            ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction",
            ".m.rule.room.server_acl", ".m.rule.suppress_edits"});
  CHECK(ids(rules, "content") == std::vector<std::string>{".m.rule.contains_user_name"});
  CHECK(global.at("room") == json::array());
  CHECK(global.at("sender") == json::array());
  CHECK(ids(rules, "underride") ==
        std::vector<std::string>{".m.rule.call", ".m.rule.encrypted_room_one_to_one",
                                 ".m.rule.room_one_to_one", ".m.rule.message",
                                 ".m.rule.encrypted"});

  for (const char* kind : {"override", "content", "underride"}) {
    for (const auto& rule : global.at(kind)) {
      INFO(rule.dump());
      CHECK(rule.at("default") == true);
      CHECK(rule.at("actions").is_array());
      // Content rules carry a pattern instead of conditions.
      CHECK(rule.contains("conditions") == (std::string(kind) != "content"));
      // Only the master rule starts disabled.
      CHECK(rule.at("enabled") == (rule.at("rule_id") != ".m.rule.master"));
    }
  }
}

TEST_CASE("push rules: default rules match the spec's definitions", "[matrix][push]") {
  const json rules = default_push_rules(kAlice);

  CHECK(*find_push_rule(rules, "override", ".m.rule.master") == json::parse(R"({
    "rule_id": ".m.rule.master", "default": true, "enabled": false,
    "conditions": [], "actions": []})"));

  CHECK(*find_push_rule(rules, "override", ".m.rule.invite_for_me") == json::parse(R"({
    "rule_id": ".m.rule.invite_for_me", "default": true, "enabled": true,
    "conditions": [
      {"key": "type", "kind": "event_match", "pattern": "m.room.member"},
      {"key": "content.membership", "kind": "event_match", "pattern": "invite"},
      {"key": "state_key", "kind": "event_match", "pattern": "@alice:a.test"}],
    "actions": ["notify", {"set_tweak": "sound", "value": "default"}]})"));

  CHECK(*find_push_rule(rules, "override", ".m.rule.is_user_mention") == json::parse(R"({
    "rule_id": ".m.rule.is_user_mention", "default": true, "enabled": true,
    "conditions": [{"kind": "event_property_contains",
                    "key": "content.m\\.mentions.user_ids", "value": "@alice:a.test"}],
    "actions": ["notify", {"set_tweak": "sound", "value": "default"},
                {"set_tweak": "highlight"}]})"));

  CHECK(find_push_rule(rules, "override", ".m.rule.contains_display_name")->at("conditions") ==
        json::parse(R"([{"kind": "contains_display_name"}])"));

  CHECK(*find_push_rule(rules, "override", ".m.rule.is_room_mention") == json::parse(R"({
    "rule_id": ".m.rule.is_room_mention", "default": true, "enabled": true,
    "conditions": [
      {"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": true},
      {"kind": "sender_notification_permission", "key": "room"}],
    "actions": ["notify", {"set_tweak": "highlight"}]})"));

  CHECK(find_push_rule(rules, "override", ".m.rule.tombstone")->at("conditions") ==
        json::parse(R"([{"kind": "event_match", "key": "type", "pattern": "m.room.tombstone"},
                        {"kind": "event_match", "key": "state_key", "pattern": ""}])"));

  CHECK(*find_push_rule(rules, "override", ".m.rule.suppress_edits") == json::parse(R"({
    "rule_id": ".m.rule.suppress_edits", "default": true, "enabled": true,
    "conditions": [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type",
                    "value": "m.replace"}],
    "actions": []})"));

  CHECK(*find_push_rule(rules, "underride", ".m.rule.call") == json::parse(R"({
    "rule_id": ".m.rule.call", "default": true, "enabled": true,
    "conditions": [{"key": "type", "kind": "event_match", "pattern": "m.call.invite"}],
    "actions": ["notify", {"set_tweak": "sound", "value": "ring"}]})"));

  CHECK(find_push_rule(rules, "underride", ".m.rule.encrypted_room_one_to_one")->at("conditions") ==
        json::parse(R"([{"kind": "room_member_count", "is": "2"},
                        {"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}])"));

  CHECK(find_push_rule(rules, "underride", ".m.rule.message")->at("actions") ==
        json::parse(R"(["notify"])"));
}

TEST_CASE("push rules: contains_user_name matches the user's localpart", "[matrix][push]") {
  const json rules = default_push_rules(kAlice);
  const json* rule = find_push_rule(rules, "content", ".m.rule.contains_user_name");
  REQUIRE(rule != nullptr);
  CHECK(*rule == json{{"rule_id", ".m.rule.contains_user_name"},
                      {"default", true},
                      {"enabled", true},
                      {"pattern", "alice"},
                      {"actions", kNotifySoundHighlight}});

  const json other = default_push_rules("@bob.smith:b.test:8448");
  CHECK(find_push_rule(other, "content", ".m.rule.contains_user_name")->at("pattern") ==
        "bob.smith");
}

TEST_CASE("push rules: merging nothing stored gives the defaults", "[matrix][push]") {
  CHECK(merge_push_rules(nullptr, kAlice) == default_push_rules(kAlice));
  CHECK(merge_push_rules(json::object(), kAlice) == default_push_rules(kAlice));
  CHECK(merge_push_rules(json{{"global", "nonsense"}}, kAlice) == default_push_rules(kAlice));
  // A merged ruleset merges to itself.
  const json defaults = default_push_rules(kAlice);
  CHECK(merge_push_rules(defaults, kAlice) == defaults);
}

TEST_CASE("push rules: merging keeps user rules and the enabled/actions of defaults",
          "[matrix][push]") {
  const json stored = json::parse(R"({"global": {
    "override": [
      {"rule_id": ".m.rule.master", "default": true, "enabled": true, "conditions": [],
       "actions": []},
      {"rule_id": "mine", "default": false, "enabled": false,
       "conditions": [{"kind": "event_match", "key": "type", "pattern": "x"}],
       "actions": ["notify"]},
      {"rule_id": ".m.rule.suppress_notices", "default": true, "enabled": false,
       "conditions": [{"kind": "event_match", "key": "type", "pattern": "tampered"}],
       "actions": ["notify"]},
      {"rule_id": ".m.rule.gone_from_the_spec", "default": true, "enabled": true,
       "conditions": [], "actions": ["notify"]},
      {"rule_id": "mine", "default": false, "enabled": true, "conditions": [], "actions": []},
      {"rule_id": "broken", "default": false, "enabled": true, "actions": ["notify"]},
      "not a rule"
    ],
    "content": [
      {"rule_id": "cake", "default": false, "enabled": true, "pattern": "cake*",
       "actions": ["notify"]}
    ],
    "room": [{"rule_id": "!r:a.test", "default": false, "enabled": true, "actions": []}],
    "underride": [
      {"rule_id": ".m.rule.message", "default": true, "enabled": true, "conditions": [],
       "actions": []}
    ]
  }})");
  const json merged = merge_push_rules(stored, kAlice);

  auto overrides = ids(merged, "override");
  REQUIRE(overrides.size() == 13);
  // Master first, then the user's rules (the duplicate and the rule without
  // conditions dropped), then the other defaults in the spec's order.
  CHECK(overrides[0] == ".m.rule.master");
  CHECK(overrides[1] == "mine");
  CHECK(overrides[2] == ".m.rule.suppress_notices");
  CHECK(overrides.back() == ".m.rule.suppress_edits");

  CHECK(find_push_rule(merged, "override", ".m.rule.master")->at("enabled") == true);
  const json* mine = find_push_rule(merged, "override", "mine");
  CHECK(mine->at("enabled") == false);
  CHECK(mine->at("default") == false);
  CHECK(mine->at("actions") == json::array({"notify"}));
  // The stored enabled/actions of a default rule win; its conditions do not.
  const json* notices = find_push_rule(merged, "override", ".m.rule.suppress_notices");
  CHECK(notices->at("enabled") == false);
  CHECK(notices->at("actions") == json::array({"notify"}));
  CHECK(
      notices->at("conditions") ==
      json::parse(R"([{"kind": "event_match", "key": "content.msgtype", "pattern": "m.notice"}])"));
  CHECK(find_push_rule(merged, "override", ".m.rule.gone_from_the_spec") == nullptr);
  CHECK(find_push_rule(merged, "override", "broken") == nullptr);

  CHECK(ids(merged, "content") == std::vector<std::string>{"cake", ".m.rule.contains_user_name"});
  CHECK(ids(merged, "room") == std::vector<std::string>{"!r:a.test"});
  CHECK(merged.at("global").at("sender") == json::array());
  CHECK(find_push_rule(merged, "underride", ".m.rule.message")->at("actions") == json::array());
  CHECK(find_push_rule(merged, "underride", ".m.rule.message")->at("conditions").size() == 1);
}

TEST_CASE("push rules: building user rules from a PUT body", "[matrix][push]") {
  CHECK(make_user_rule("content", "cake", {{"pattern", "cake*lie"}, {"actions", {"notify"}}}) ==
        json{{"rule_id", "cake"},
             {"default", false},
             {"enabled", true},
             {"pattern", "cake*lie"},
             {"actions", {"notify"}}});
  // Conditions default to none (always matches); keys of other kinds are ignored.
  CHECK(make_user_rule("override", "o", {{"actions", json::array()}, {"pattern", "x"}}) ==
        json{{"rule_id", "o"},
             {"default", false},
             {"enabled", true},
             {"conditions", json::array()},
             {"actions", json::array()}});
  CHECK(make_user_rule("room", "!r:a.test",
                       {{"actions", {"dont_notify"}}, {"conditions", json::array()}}) ==
        json{{"rule_id", "!r:a.test"},
             {"default", false},
             {"enabled", true},
             {"actions", {"dont_notify"}}});

  const json conditions = json::parse(R"([
    {"kind": "event_match", "key": "content.body", "pattern": "hi"},
    {"kind": "event_property_is", "key": "content.x", "value": null},
    {"kind": "event_property_contains", "key": "content.y", "value": 9007199254740991},
    {"kind": "room_member_count", "is": ">=10"},
    {"kind": "sender_notification_permission", "key": "room"},
    {"kind": "contains_display_name"},
    {"kind": "org.example.future", "anything": [1, 2]}])");
  CHECK(make_user_rule("underride", "u", {{"actions", {"notify"}}, {"conditions", conditions}})
            .at("conditions") == conditions);

  CHECK(errcode_of([] {
          make_user_rule("content", "c", {{"pattern", "x"}});
        }) == "M_MISSING_PARAM");
  CHECK(errcode_of([] {
          make_user_rule("content", "c", {{"actions", {"notify"}}});
        }) == "M_MISSING_PARAM");
  CHECK(errcode_of([] {
          make_user_rule("content", "c", {{"actions", {"notify"}}, {"pattern", 3}});
        }) == "M_BAD_JSON");
  CHECK(errcode_of([] {
          make_user_rule("override", "o", {{"actions", {"notify"}}, {"conditions", "x"}});
        }) == "M_BAD_JSON");
  auto condition_error = [](const char* condition) {
    return errcode_of([&] {
      make_user_rule("override", "o",
                     {{"actions", {"notify"}}, {"conditions", {json::parse(condition)}}});
    });
  };
  CHECK(condition_error(R"({"key": "type", "pattern": "x"})") == "M_MISSING_PARAM");
  CHECK(condition_error(R"({"kind": "event_match", "key": "type"})") == "M_MISSING_PARAM");
  CHECK(condition_error(R"({"kind": "event_match", "key": 1, "pattern": "x"})") == "M_BAD_JSON");
  CHECK(condition_error(R"({"kind": "event_property_is", "key": "k", "value": 1.5})") ==
        "M_INVALID_PARAM");
  CHECK(condition_error(R"({"kind": "event_property_is", "key": "k", "value": [1]})") ==
        "M_INVALID_PARAM");
  CHECK(condition_error(R"({"kind": "event_property_is", "key": "k",
                            "value": 9007199254740992})") == "M_INVALID_PARAM");
  CHECK(condition_error(R"({"kind": "room_member_count", "is": "=2"})") == "M_INVALID_PARAM");
  CHECK(condition_error(R"({"kind": "room_member_count", "is": "<"})") == "M_INVALID_PARAM");
  CHECK(condition_error(R"("event_match")") == "M_BAD_JSON");
}

TEST_CASE("push rules: actions and rule IDs are checked", "[matrix][push]") {
  CHECK(errcode_of([] {
          check_actions(json::parse(R"(["notify", "coalesce", "dont_notify",
    {"set_tweak": "sound", "value": "bing"}, {"set_tweak": "highlight", "value": false},
    {"set_tweak": "org.example", "value": {"any": 1}}])"));
        }).empty());
  CHECK(errcode_of([] { check_actions(json::object()); }) == "M_BAD_JSON");
  CHECK(errcode_of([] { check_actions(json::array({"explode"})); }) == "M_INVALID_PARAM");
  CHECK(errcode_of([] { check_actions(json::array({1})); }) == "M_BAD_JSON");
  CHECK(errcode_of([] { check_actions(json::array({json{{"value", 1}}})); }) == "M_INVALID_PARAM");
  CHECK(errcode_of([] {
          check_actions(json::array({json{{"set_tweak", "highlight"}, {"value", "yes"}}}));
        }) == "M_BAD_JSON");

  CHECK(errcode_of([] { check_user_rule_id("content", "nocake"); }).empty());
  CHECK(errcode_of([] { check_user_rule_id("room", "!r:a.test"); }).empty());
  CHECK(errcode_of([] { check_user_rule_id("sender", "@bob:b.test"); }).empty());
  for (const char* bad : {"", ".m.rule.master", ".mine", "a/b", "a\\b"}) {
    INFO(bad);
    CHECK(errcode_of([&] { check_user_rule_id("override", bad); }) == "M_INVALID_PARAM");
  }
  CHECK(errcode_of([] { check_user_rule_id("override", std::string(256, 'x')); }) ==
        "M_INVALID_PARAM");
  CHECK(errcode_of([] { check_user_rule_id("room", "notaroom"); }) == "M_INVALID_PARAM");
  CHECK(errcode_of([] { check_user_rule_id("sender", "bob"); }) == "M_INVALID_PARAM");
}

TEST_CASE("push rules: placing, updating and removing user rules", "[matrix][push]") {
  json rules = default_push_rules(kAlice);

  // New rules without before/after become the most important user rule.
  put_user_rule(rules, "content", content_rule("a", "a"), std::nullopt, std::nullopt);
  put_user_rule(rules, "content", content_rule("b", "b"), std::nullopt, std::nullopt);
  CHECK(ids(rules, "content") == std::vector<std::string>{"b", "a", ".m.rule.contains_user_name"});

  put_user_rule(rules, "content", content_rule("c", "c"), std::string("a"), std::nullopt);
  CHECK(ids(rules, "content") ==
        std::vector<std::string>{"b", "c", "a", ".m.rule.contains_user_name"});
  put_user_rule(rules, "content", content_rule("d", "d"), std::nullopt, std::string("a"));
  CHECK(ids(rules, "content") ==
        std::vector<std::string>{"b", "c", "a", "d", ".m.rule.contains_user_name"});
  // before wins over after.
  put_user_rule(rules, "content", content_rule("e", "e"), std::string("b"), std::string("d"));
  CHECK(ids(rules, "content") ==
        std::vector<std::string>{"e", "b", "c", "a", "d", ".m.rule.contains_user_name"});

  // An update keeps the place and the enabled state; with an anchor it moves.
  find_push_rule(rules, "content", "c")->at("enabled") = false;
  put_user_rule(rules, "content", content_rule("c", "new"), std::nullopt, std::nullopt);
  CHECK(ids(rules, "content") ==
        std::vector<std::string>{"e", "b", "c", "a", "d", ".m.rule.contains_user_name"});
  CHECK(find_push_rule(rules, "content", "c")->at("pattern") == "new");
  CHECK(find_push_rule(rules, "content", "c")->at("enabled") == false);
  put_user_rule(rules, "content", content_rule("c", "new"), std::nullopt, std::string("d"));
  CHECK(ids(rules, "content") ==
        std::vector<std::string>{"e", "b", "a", "d", "c", ".m.rule.contains_user_name"});
  CHECK(find_push_rule(rules, "content", "c")->at("enabled") == false);

  // Anchors must be other user rules of the same kind; nothing changes otherwise.
  const json before_errors = rules;
  for (const char* anchor : {"missing", ".m.rule.contains_user_name"}) {
    INFO(anchor);
    CHECK(errcode_of([&] {
            put_user_rule(rules, "content", content_rule("c", "x"), std::string(anchor),
                          std::nullopt);
          }) == "M_UNKNOWN");
    CHECK(errcode_of([&] {
            put_user_rule(rules, "content", content_rule("z", "x"), std::nullopt,
                          std::string(anchor));
          }) == "M_UNKNOWN");
  }
  // Nor can a rule be placed relative to itself.
  CHECK(errcode_of([&] {
          put_user_rule(rules, "content", content_rule("c", "x"), std::string("c"), std::nullopt);
        }) == "M_UNKNOWN");
  CHECK(rules == before_errors);

  // Override rules go after the master rule, before the other defaults.
  put_user_rule(rules, "override", make_user_rule("override", "o", {{"actions", json::array()}}),
                std::nullopt, std::nullopt);
  auto overrides = ids(rules, "override");
  CHECK(overrides[0] == ".m.rule.master");
  CHECK(overrides[1] == "o");
  CHECK(overrides[2] == ".m.rule.suppress_notices");

  // Merging a ruleset built this way keeps it as it is.
  CHECK(merge_push_rules(rules, kAlice) == rules);

  CHECK(remove_user_rule(rules, "content", "a"));
  CHECK_FALSE(remove_user_rule(rules, "content", "a"));
  CHECK_FALSE(remove_user_rule(rules, "content", ".m.rule.contains_user_name"));
  CHECK_FALSE(remove_user_rule(rules, "override", "c"));
  CHECK(ids(rules, "content") ==
        std::vector<std::string>{"e", "b", "d", "c", ".m.rule.contains_user_name"});
}
