#include "matrix/push_evaluator.h"

#include "matrix/push_rules.h"

#include <catch2/catch.hpp>

#include <string>

using namespace eltrix::matrix;
using nlohmann::json;

namespace {

const std::string kMe = "@me:example.org";

json message(const std::string& body, const std::string& sender = "@bob:example.org") {
  return {{"type", "m.room.message"},
          {"room_id", "!room:example.org"},
          {"sender", sender},
          {"content", {{"msgtype", "m.text"}, {"body", body}}}};
}

PushContext room_of(std::int64_t members, std::int64_t sender_level = 0) {
  return {.user_id = kMe,
          .display_name = "Mary Smith",
          .member_count = members,
          .sender_power_level = sender_level,
          .notification_levels = nullptr};
}

PushDecision evaluate(const json& event, const PushContext& context,
                      const json& rules = default_push_rules(kMe)) {
  return evaluate_push_rules(rules, event, context);
}

}  // namespace

TEST_CASE("push rules: the defaults for messages, DMs and one's own events", "[push]") {
  auto plain = evaluate(message("lunch?"), room_of(5));
  CHECK(plain.notify);
  CHECK_FALSE(plain.highlight);
  CHECK(plain.rule_id == ".m.rule.message");
  CHECK_FALSE(plain.sound);

  auto direct = evaluate(message("lunch?"), room_of(2));
  CHECK(direct.rule_id == ".m.rule.room_one_to_one");
  CHECK(direct.notify);
  CHECK(direct.sound == "default");
  CHECK(direct.tweaks == json{{"sound", "default"}});

  auto own = evaluate(message("lunch?", kMe), room_of(2));
  CHECK_FALSE(own.notify);
  CHECK(own.rule_id.empty());

  auto notice = message("build passed");
  notice["content"]["msgtype"] = "m.notice";
  CHECK(evaluate(notice, room_of(2)).rule_id == ".m.rule.suppress_notices");
  CHECK_FALSE(evaluate(notice, room_of(2)).notify);

  json edit = message("* fixed");
  edit["content"]["m.relates_to"] = {{"rel_type", "m.replace"}, {"event_id", "$x"}};
  CHECK(evaluate(edit, room_of(2)).rule_id == ".m.rule.suppress_edits");

  json invite = {{"type", "m.room.member"},
                 {"sender", "@bob:example.org"},
                 {"state_key", kMe},
                 {"content", {{"membership", "invite"}}}};
  auto invited = evaluate(invite, room_of(3));
  CHECK(invited.rule_id == ".m.rule.invite_for_me");
  CHECK(invited.notify);
  invite["state_key"] = "@other:example.org";
  CHECK(evaluate(invite, room_of(3)).rule_id == ".m.rule.member_event");
}

TEST_CASE("push rules: mentions highlight", "[push]") {
  // The display name and the localpart, as whole words, any case.
  auto by_name = evaluate(message("hey mary smith, look"), room_of(5));
  CHECK(by_name.rule_id == ".m.rule.contains_display_name");
  CHECK(by_name.highlight);
  CHECK(evaluate(message("MarySmith?"), room_of(5)).rule_id == ".m.rule.message");
  CHECK(evaluate(message("ask me about it"), room_of(5)).rule_id == ".m.rule.contains_user_name");
  CHECK(evaluate(message("meme"), room_of(5)).rule_id == ".m.rule.message");

  // @room needs the sender's power (50 by default, or the room's level).
  CHECK(evaluate(message("@room standup"), room_of(5, 0)).rule_id == ".m.rule.message");
  auto room_ping = evaluate(message("@room standup"), room_of(5, 50));
  CHECK(room_ping.rule_id == ".m.rule.roomnotif");
  CHECK(room_ping.highlight);
  auto context = room_of(5, 10);
  context.notification_levels = {{"room", 10}};
  CHECK(evaluate(message("@room standup"), context).highlight);

  // Intentional mentions: m.mentions decides, and the body's names no longer do.
  json mention = message("hey mary smith");
  mention["content"]["m.mentions"] = {{"user_ids", json::array({kMe})}};
  CHECK(evaluate(mention, room_of(5)).rule_id == ".m.rule.is_user_mention");
  mention["content"]["m.mentions"] = json::object();
  CHECK(evaluate(mention, room_of(5)).rule_id == ".m.rule.message");
  mention["content"]["m.mentions"] = {{"room", true}};
  CHECK(evaluate(mention, room_of(5, 100)).rule_id == ".m.rule.is_room_mention");
  CHECK(evaluate(mention, room_of(5, 0)).rule_id == ".m.rule.message");
}

TEST_CASE("push rules: the user's own rules, master and order", "[push]") {
  json rules = default_push_rules(kMe);
  // A muted room: a room rule with no actions beats the underride.
  put_user_rule(rules, "room",
                make_user_rule("room", "!room:example.org", {{"actions", json::array()}}),
                std::nullopt, std::nullopt);
  auto muted = evaluate(message("lunch?"), room_of(2), rules);
  CHECK(muted.rule_id == "!room:example.org");
  CHECK_FALSE(muted.notify);
  // ...but overrides come first: a mention still highlights.
  CHECK(evaluate(message("mary smith?"), room_of(2), rules).highlight);

  // A keyword (content rule with a glob).
  put_user_rule(
      rules, "content",
      make_user_rule("content", "deploy",
                     {{"pattern", "deploy*"},
                      {"actions", json::array({"notify", {{"set_tweak", "highlight"}}})}}),
      std::nullopt, std::nullopt);
  json elsewhere = message("Deployment at 5");
  elsewhere["room_id"] = "!other:example.org";
  auto keyword = evaluate(elsewhere, room_of(9), rules);
  CHECK(keyword.rule_id == "deploy");
  CHECK(keyword.kind == "content");
  CHECK(keyword.highlight);

  // A sender rule; a disabled rule is skipped.
  put_user_rule(
      rules, "sender",
      make_user_rule(
          "sender", "@bob:example.org",
          {{"actions", json::array({"notify", {{"set_tweak", "sound"}, {"value", "bob.ogg"}}})}}),
      std::nullopt, std::nullopt);
  json from_bob = message("hi");
  from_bob["room_id"] = "!other:example.org";
  // Room rules come before sender rules; in another room Bob's rule decides.
  CHECK(evaluate(from_bob, room_of(9), rules).sound == "bob.ogg");
  find_push_rule(rules, "sender", "@bob:example.org")->at("enabled") = false;
  CHECK(evaluate(from_bob, room_of(9), rules).rule_id == ".m.rule.message");

  // The master rule silences everything.
  find_push_rule(rules, "override", ".m.rule.master")->at("enabled") = true;
  auto silenced = evaluate(message("mary smith"), room_of(2), rules);
  CHECK(silenced.rule_id == ".m.rule.master");
  CHECK_FALSE(silenced.notify);
}

TEST_CASE("push rules: conditions", "[push]") {
  auto with = [](json conditions) {
    return json{{"global",
                 {{"override", json::array({{{"rule_id", "r"},
                                             {"enabled", true},
                                             {"conditions", std::move(conditions)},
                                             {"actions", json::array({"notify"})}}})}}}};
  };
  json event = message("hello");
  event["content"]["count"] = 3;
  event["content"]["flag"] = true;
  event["content"]["tags"] = json::array({"a", 2, nullptr});
  event["content"]["dotted.key"] = "yes";
  const auto ctx = room_of(4);
  auto matches = [&](const json& conditions) {
    return evaluate_push_rules(with(conditions), event, ctx).rule_id == "r";
  };
  CHECK(matches(json::array()));
  CHECK(matches({{{"kind", "event_match"}, {"key", "type"}, {"pattern", "m.room.*"}}}));
  CHECK_FALSE(matches({{{"kind", "event_match"}, {"key", "type"}, {"pattern", "m.room"}}}));
  CHECK(matches({{{"kind", "event_match"}, {"key", "content.dotted\\.key"}, {"pattern", "Y?S"}}}));
  // event_match needs a string: a number never matches.
  CHECK_FALSE(matches({{{"kind", "event_match"}, {"key", "content.count"}, {"pattern", "*"}}}));
  CHECK(matches({{{"kind", "event_property_is"}, {"key", "content.count"}, {"value", 3}}}));
  CHECK(matches({{{"kind", "event_property_is"}, {"key", "content.flag"}, {"value", true}}}));
  CHECK_FALSE(
      matches({{{"kind", "event_property_is"}, {"key", "content.flag"}, {"value", "true"}}}));
  CHECK(matches({{{"kind", "event_property_contains"}, {"key", "content.tags"}, {"value", 2}}}));
  CHECK(matches(
      {{{"kind", "event_property_contains"}, {"key", "content.tags"}, {"value", nullptr}}}));
  CHECK_FALSE(
      matches({{{"kind", "event_property_contains"}, {"key", "content.tags"}, {"value", "b"}}}));
  for (const char* is : {"4", "==4", ">=4", "<=4", ">3", "<5"}) {
    CHECK(matches({{{"kind", "room_member_count"}, {"is", is}}}));
  }
  for (const char* is : {"3", ">4", "<4", "4x", "", "=4"}) {
    CHECK_FALSE(matches({{{"kind", "room_member_count"}, {"is", is}}}));
  }
  // Every condition must hold; an unknown kind never does.
  CHECK_FALSE(matches({{{"kind", "event_match"}, {"key", "type"}, {"pattern", "*"}},
                       {{"kind", "org.example.future"}}}));
}

TEST_CASE("push rules: globs and word boundaries", "[push]") {
  CHECK(push_glob_matches("foo*bar", "FOO and BAR", false));
  CHECK_FALSE(push_glob_matches("foo*bar", "foo and bar!", false));
  CHECK(push_glob_matches("a?c", "abc", false));
  CHECK(push_glob_matches("caf?", "café", false));  // '?' is one character, not one byte
  CHECK_FALSE(push_glob_matches("a?c", "ac", false));
  CHECK(push_glob_matches("*", "", false));

  CHECK(push_glob_matches("cake", "I like cake.", true));
  CHECK(push_glob_matches("cake", "cake", true));
  CHECK_FALSE(push_glob_matches("cake", "cupcake", true));
  CHECK_FALSE(push_glob_matches("cake", "cakes", true));
  CHECK(push_glob_matches("cake*", "cakes!", true));
  CHECK(push_glob_matches("@room", "hey @room", true));

  // Linear in the body: a long body full of near misses is cheap.
  std::string body(200000, 'a');
  CHECK_FALSE(push_glob_matches("*a*a*a*a*b", body, true));
  CHECK_FALSE(push_glob_matches("*a*a*a*a*b", body, false));

  CHECK(split_property_path("content.m\\.relates_to.rel_type") ==
        std::vector<std::string>{"content", "m.relates_to", "rel_type"});
  CHECK(split_property_path("a\\\\.b") == std::vector<std::string>{"a\\", "b"});
  CHECK(split_property_path("a\\b") == std::vector<std::string>{"a\\b"});
  CHECK_FALSE(split_property_path("a..b"));
  CHECK_FALSE(split_property_path(""));
}
