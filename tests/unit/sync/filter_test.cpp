#include "sync/filter.h"
#include "http/error_mapping.h"

#include <catch2/catch.hpp>

using namespace eltrix::sync;
using nlohmann::json;

namespace {

/// The errcode and message parse_filter() throws for `filter`.
std::pair<std::string, std::string> rejection(const json& filter) {
  try {
    (void)parse_filter(filter);
  } catch (const eltrix::errors::Error& e) {
    CHECK(eltrix::http::status_of(e) == 400);
    return {e.errcode(), e.what()};
  }
  FAIL("parse_filter accepted " << filter.dump());
  return {};
}

json event(const std::string& type, const std::string& sender, json content = json::object()) {
  return {{"type", type}, {"sender", sender}, {"content", std::move(content)}};
}

}  // namespace

TEST_CASE("glob_match: '*' is any sequence, everything else literal", "[sync][filter]") {
  CHECK(glob_match("m.room.message", "m.room.message"));
  CHECK_FALSE(glob_match("m.room.message", "m.room.messages"));
  CHECK(glob_match("m.room.*", "m.room.message"));
  CHECK(glob_match("m.room.*", "m.room."));
  CHECK_FALSE(glob_match("m.room.*", "m.roo"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("m.*.member", "m.room.member"));
  CHECK(glob_match("*.member", "m.room.member"));
  CHECK_FALSE(glob_match("*.member", "m.room.members"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK(glob_match("a*b*c", "abbbc"));
  CHECK_FALSE(glob_match("a*b*c", "acb"));
  CHECK(glob_match("**x", "x"));
  // '.' and '?' are not special.
  CHECK_FALSE(glob_match("m.room.?", "m.room.x"));
  CHECK_FALSE(glob_match("m.room", "mxroom"));
  // Linear on a pathological pattern (no exponential backtracking).
  std::string value(10000, 'a');
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", value));
}

TEST_CASE("parse_filter accepts the spec's example and reads every field", "[sync][filter]") {
  json spec_example = json::parse(R"({
    "room": {
      "state": {"types": ["m.room.*"], "not_rooms": ["!726s6s6q:example.com"],
                "lazy_load_members": true},
      "timeline": {"limit": 10, "types": ["m.room.message"],
                   "not_rooms": ["!726s6s6q:example.com"], "not_senders": ["@spam:example.com"],
                   "contains_url": false},
      "ephemeral": {"types": ["m.receipt", "m.typing"], "not_rooms": ["!726s6s6q:example.com"],
                    "not_senders": ["@spam:example.com"]},
      "include_leave": true,
      "rooms": ["!726s6s6q:example.com", "!other:example.com"]
    },
    "presence": {"types": ["m.presence"], "not_senders": ["@alice:example.com"]},
    "event_format": "client",
    "event_fields": ["type", "content", "sender"]
  })");
  Filter f = parse_filter(spec_example);
  CHECK(f.event_format == EventFormat::client);
  REQUIRE(f.event_fields);
  CHECK(f.event_fields->size() == 3);
  CHECK(f.room.include_leave);
  REQUIRE(f.room.rooms);
  CHECK(f.room.rooms->size() == 2);
  CHECK(f.room.state.lazy_load_members);
  CHECK_FALSE(f.room.state.include_redundant_members);
  CHECK(f.room.timeline.limit == 10);
  REQUIRE(f.room.timeline.contains_url);
  CHECK_FALSE(*f.room.timeline.contains_url);
  CHECK(f.room.timeline.not_senders == std::vector<std::string>{"@spam:example.com"});
  REQUIRE(f.room.ephemeral.types);
  CHECK(f.room.ephemeral.types->size() == 2);
  CHECK(f.presence.not_senders == std::vector<std::string>{"@alice:example.com"});
  CHECK_FALSE(f.account_data.types);
  CHECK_FALSE(f.room.account_data.limit);

  CHECK(parse_filter(json::parse(R"({"event_format": "federation"})")).event_format ==
        EventFormat::federation);
  // Unknown keys are ignored; null reads as absent.
  CHECK_NOTHROW(parse_filter(json::parse(R"({"org.example.x": 1, "room": {"timeline": null}})")));
  CHECK_NOTHROW(parse_filter(json::object()));
}

TEST_CASE("parse_filter rejects wrong types with M_BAD_JSON naming the field", "[sync][filter]") {
  auto check = [](const char* text, const char* field) {
    auto [errcode, message] = rejection(json::parse(text));
    CHECK(errcode == "M_BAD_JSON");
    CHECK_THAT(message, Catch::Contains(std::string("'") + field + "'"));
  };
  check(R"({"room": {"timeline": {"limit": "10"}}})", "room.timeline.limit");
  check(R"({"room": {"timeline": {"limit": 1.5}}})", "room.timeline.limit");
  check(R"({"room": {"timeline": {"limit": -1}}})", "room.timeline.limit");
  check(R"({"room": {"state": {"types": "m.room.member"}}})", "room.state.types");
  check(R"({"room": {"state": {"types": [1]}}})", "room.state.types");
  check(R"({"room": {"ephemeral": {"not_types": [null]}}})", "room.ephemeral.not_types");
  check(R"({"room": {"account_data": {"contains_url": "yes"}}})", "room.account_data.contains_url");
  check(R"({"room": {"state": {"lazy_load_members": 1}}})", "room.state.lazy_load_members");
  check(R"({"room": {"include_leave": "true"}})", "room.include_leave");
  check(R"({"room": {"timeline": []}})", "room.timeline");
  check(R"({"room": []})", "room");
  check(R"({"presence": {"senders": ["not-a-user"]}})", "presence.senders");
  check(R"({"account_data": {"not_senders": ["@ok:example.org", "bad"]}})",
        "account_data.not_senders");
  check(R"({"room": {"rooms": ["#alias:example.org"]}})", "room.rooms");
  check(R"({"room": {"timeline": {"not_rooms": ["!ok:example.org", "nope"]}}})",
        "room.timeline.not_rooms");
  check(R"({"event_format": "xml"})", "event_format");
  check(R"({"event_format": 1})", "event_format");
  check(R"({"event_fields": "type"})", "event_fields");
  CHECK(rejection(json::array()).first == "M_BAD_JSON");
}

TEST_CASE("limits: absent uses the fallback, all are capped, 0 is kept", "[sync][filter]") {
  EventFilter f;
  CHECK(f.limit_or(20, 100) == 20);
  CHECK(f.limit_or(200, 100) == 100);
  f.limit = 5;
  CHECK(f.limit_or(20, 100) == 5);
  f.limit = 5000;
  CHECK(f.limit_or(20, 100) == 100);
  f.limit = 0;
  CHECK(f.limit_or(20, 100) == 0);
  Filter huge =
      parse_filter(json::parse(R"({"room": {"timeline": {"limit": 18446744073709551615}}})"));
  CHECK(huge.room.timeline.limit_or(10, 50) == 50);
  CHECK(parse_filter(json::parse(R"({"room": {"timeline": {"limit": 0}}})")).room.timeline.limit ==
        0);
}

TEST_CASE("types and not_types: wildcards, and not_types wins", "[sync][filter]") {
  Filter f = parse_filter(json::parse(R"({"room": {"timeline": {
      "types": ["m.room.*", "org.example.thing"],
      "not_types": ["m.room.member", "*.secret"]}}})"));
  const auto& t = f.room.timeline;
  CHECK(t.matches(event("m.room.message", "@a:x")));
  CHECK(t.matches(event("m.room.topic", "@a:x")));
  CHECK(t.matches(event("org.example.thing", "@a:x")));
  CHECK_FALSE(t.matches(event("org.example.thing2", "@a:x")));
  CHECK_FALSE(t.matches(event("m.room.member", "@a:x")));  // listed in both: excluded
  CHECK_FALSE(t.matches(event("m.room.secret", "@a:x")));  // wildcard exclusion
  CHECK_FALSE(t.matches(event("m.reaction", "@a:x")));

  // Only not_types: everything else passes. An empty types list passes nothing.
  Filter only_not = parse_filter(json::parse(R"({"presence": {"not_types": ["*"]}})"));
  CHECK_FALSE(only_not.presence.matches(event("m.presence", "@a:x")));
  Filter empty_types = parse_filter(json::parse(R"({"account_data": {"types": []}})"));
  CHECK_FALSE(empty_types.account_data.matches(event("m.tag", "@a:x")));
  CHECK(Filter{}.account_data.matches(event("m.tag", "@a:x")));
}

TEST_CASE("senders and not_senders: exact IDs, not_senders wins", "[sync][filter]") {
  Filter f = parse_filter(json::parse(R"({"room": {"timeline": {
      "senders": ["@alice:example.org", "@bob:example.org"],
      "not_senders": ["@bob:example.org"]}}})"));
  const auto& t = f.room.timeline;
  CHECK(t.matches(event("m.room.message", "@alice:example.org")));
  CHECK_FALSE(t.matches(event("m.room.message", "@bob:example.org")));
  CHECK_FALSE(t.matches(event("m.room.message", "@carol:example.org")));
  // No wildcards for senders.
  Filter star =
      parse_filter(json::parse(R"({"room": {"timeline": {"not_senders": ["@*:example.org"]}}})"));
  CHECK(star.room.timeline.matches(event("m.room.message", "@alice:example.org")));
  // Events without a sender (typing, receipts, account data) are not judged by sender.
  CHECK(t.matches(json{{"type", "m.typing"}, {"content", json::object()}}));
}

TEST_CASE("rooms and not_rooms, at the room and section level", "[sync][filter]") {
  Filter f = parse_filter(json::parse(R"({"room": {
      "rooms": ["!a:x", "!b:x"], "not_rooms": ["!b:x"],
      "timeline": {"not_rooms": ["!a:x"]}}})"));
  CHECK(f.room.matches_room("!a:x"));
  CHECK_FALSE(f.room.matches_room("!b:x"));
  CHECK_FALSE(f.room.matches_room("!c:x"));
  CHECK_FALSE(f.room.timeline.matches_room("!a:x"));
  CHECK(f.room.timeline.matches_room("!c:x"));
  json in_a = event("m.room.message", "@u:x");
  in_a["room_id"] = "!a:x";
  CHECK_FALSE(f.room.timeline.matches(in_a));
  CHECK(f.room.state.matches(in_a));
  CHECK_FALSE(f.room.timeline.matches(event("m.room.message", "@u:x"), "!a:x"));
  CHECK(f.room.timeline.matches(event("m.room.message", "@u:x"), "!c:x"));
}

TEST_CASE("contains_url: only a string url counts", "[sync][filter]") {
  RoomEventFilter with;
  with.contains_url = true;
  RoomEventFilter without;
  without.contains_url = false;
  json image = event("m.room.message", "@u:x", {{"msgtype", "m.image"}, {"url", "mxc://x/y"}});
  json text = event("m.room.message", "@u:x", {{"msgtype", "m.text"}, {"body", "hi"}});
  json odd = event("m.room.message", "@u:x", {{"url", 5}});
  CHECK(with.matches(image));
  CHECK_FALSE(with.matches(text));
  CHECK_FALSE(with.matches(odd));
  CHECK_FALSE(without.matches(image));
  CHECK(without.matches(text));
  CHECK(RoomEventFilter{}.matches(image));
  CHECK(RoomEventFilter{}.matches(text));
}

TEST_CASE("event_fields: dot paths with escapes", "[sync][filter]") {
  CHECK(split_property_path("content.body") == std::vector<std::string>{"content", "body"});
  CHECK(split_property_path(R"(content.m\.relates_to)") ==
        std::vector<std::string>{"content", "m.relates_to"});
  CHECK(split_property_path(R"(content.m\\foo)") ==
        std::vector<std::string>{"content", R"(m\foo)"});
  CHECK(split_property_path(R"(a\x)") == std::vector<std::string>{R"(a\x)"});

  Filter f = parse_filter(json::parse(R"({"event_fields": ["type", "content.body",
      "content.m\\.relates_to", "unsigned.missing"]})"));
  json e = {
      {"type", "m.room.message"},
      {"sender", "@u:x"},
      {"event_id", "$e"},
      {"content",
       {{"body", "hi"}, {"msgtype", "m.text"}, {"m.relates_to", {{"rel_type", "m.thread"}}}}}};
  json reduced = f.apply_event_fields(e);
  CHECK(reduced == json::parse(R"({"type": "m.room.message",
      "content": {"body": "hi", "m.relates_to": {"rel_type": "m.thread"}}})"));
  CHECK(Filter{}.apply_event_fields(e) == e);
}
