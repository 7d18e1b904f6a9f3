#include "matrix/redaction.h"

#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <string>

using namespace eltrix::matrix;
using nlohmann::json;

namespace {

// An event carrying every top-level key the spec mentions plus some it does not.
json full_event(const std::string& type, json content) {
  return {
      {"event_id", "$ev:example.org"},
      {"type", type},
      {"room_id", "!room:example.org"},
      {"sender", "@alice:example.org"},
      {"state_key", ""},
      {"content", std::move(content)},
      {"hashes", {{"sha256", "abc"}}},
      {"signatures", {{"example.org", {{"ed25519:1", "sig"}}}}},
      {"depth", 12},
      {"prev_events", {"$prev"}},
      {"prev_state", json::array()},
      {"auth_events", {"$auth"}},
      {"origin", "example.org"},
      {"origin_server_ts", 1234},
      {"membership", "join"},
      {"unsigned", {{"age", 5}}},
      {"redacts", "$target"},
      {"age_ts", 99},
      {"custom_key", true},
  };
}

std::set<std::string> keys_of(const json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

const std::set<std::string> kV10TopLevel{"event_id",   "type",
                                         "room_id",    "sender",
                                         "state_key",  "content",
                                         "hashes",     "signatures",
                                         "depth",      "prev_events",
                                         "prev_state", "auth_events",
                                         "origin",     "origin_server_ts",
                                         "membership"};

const std::set<std::string> kV11TopLevel{
    "event_id", "type",       "room_id", "sender",      "state_key",   "content",
    "hashes",   "signatures", "depth",   "prev_events", "auth_events", "origin_server_ts"};

}  // namespace

TEST_CASE("redaction: top-level keys per room version", "[matrix][redaction]") {
  const json event = full_event("m.room.message", {{"body", "hi"}, {"msgtype", "m.text"}});

  const json v10 = redact_event(event, kRoomVersion10);
  CHECK(keys_of(v10) == kV10TopLevel);
  CHECK(v10["content"] == json::object());
  // Kept values are copied whole, nested or not.
  CHECK(v10["signatures"] == event["signatures"]);
  CHECK(v10["hashes"] == event["hashes"]);
  CHECK(v10["membership"] == "join");
  CHECK(v10["origin"] == "example.org");

  const json v11 = redact_event(event, kRoomVersion11);
  CHECK(keys_of(v11) == kV11TopLevel);
  CHECK(v11["content"] == json::object());
  CHECK(v11["prev_events"] == event["prev_events"]);
}

TEST_CASE("redaction: m.room.member", "[matrix][redaction]") {
  const json content = {
      {"membership", "join"},
      {"join_authorised_via_users_server", "@admin:example.org"},
      {"displayname", "Alice"},
      {"avatar_url", "mxc://example.org/abc"},
      {"reason", "hello"},
      {"third_party_invite",
       {{"display_name", "alice@example.com"},
        {"signed", {{"mxid", "@alice:example.org"}, {"token", "t"}, {"signatures", {}}}}}},
  };
  const json event = full_event("m.room.member", content);

  CHECK(redact_event(event, kRoomVersion10)["content"] ==
        json{{"membership", "join"}, {"join_authorised_via_users_server", "@admin:example.org"}});
  CHECK(redact_event(event, kRoomVersion11)["content"] ==
        json{{"membership", "join"},
             {"join_authorised_via_users_server", "@admin:example.org"},
             {"third_party_invite", {{"signed", content["third_party_invite"]["signed"]}}}});

  // v11: a third_party_invite without `signed` is kept empty; a malformed one goes.
  const json unsigned_invite = full_event(
      "m.room.member", {{"membership", "invite"}, {"third_party_invite", {{"display_name", "x"}}}});
  CHECK(redact_event(unsigned_invite, kRoomVersion11)["content"] ==
        json{{"membership", "invite"}, {"third_party_invite", json::object()}});
  const json bad_invite =
      full_event("m.room.member", {{"membership", "invite"}, {"third_party_invite", "x"}});
  CHECK(redact_event(bad_invite, kRoomVersion11)["content"] == json{{"membership", "invite"}});
}

TEST_CASE("redaction: m.room.create", "[matrix][redaction]") {
  const json content = {
      {"creator", "@alice:example.org"},
      {"room_version", "10"},
      {"m.federate", false},
      {"predecessor", {{"room_id", "!old:example.org"}, {"event_id", "$last"}}},
      {"type", "m.space"},
  };
  const json event = full_event("m.room.create", content);
  CHECK(redact_event(event, kRoomVersion10)["content"] == json{{"creator", "@alice:example.org"}});
  CHECK(redact_event(event, kRoomVersion11)["content"] == content);
}

TEST_CASE("redaction: m.room.join_rules and m.room.history_visibility", "[matrix][redaction]") {
  const json allow = json::array({{{"type", "m.room_membership"}, {"room_id", "!s:example.org"}}});
  const json join_rules =
      full_event("m.room.join_rules", {{"join_rule", "restricted"}, {"allow", allow}, {"x", 1}});
  for (const auto* version : {&kRoomVersion10, &kRoomVersion11}) {
    CHECK(redact_event(join_rules, *version)["content"] ==
          json{{"join_rule", "restricted"}, {"allow", allow}});
  }

  const json visibility =
      full_event("m.room.history_visibility", {{"history_visibility", "shared"}, {"x", 1}});
  for (const auto* version : {&kRoomVersion10, &kRoomVersion11}) {
    CHECK(redact_event(visibility, *version)["content"] == json{{"history_visibility", "shared"}});
  }
}

TEST_CASE("redaction: m.room.power_levels", "[matrix][redaction]") {
  const json content = {
      {"ban", 50},           {"events", {{"m.room.name", 50}}},
      {"events_default", 0}, {"invite", 0},
      {"kick", 50},          {"redact", 50},
      {"state_default", 50}, {"users", {{"@alice:example.org", 100}}},
      {"users_default", 0},  {"notifications", {{"room", 50}}},
      {"historical", 100},
  };
  const json event = full_event("m.room.power_levels", content);

  json v10_expected = content;
  v10_expected.erase("invite");
  v10_expected.erase("notifications");
  v10_expected.erase("historical");
  CHECK(redact_event(event, kRoomVersion10)["content"] == v10_expected);

  json v11_expected = v10_expected;
  v11_expected["invite"] = 0;
  CHECK(redact_event(event, kRoomVersion11)["content"] == v11_expected);
}

TEST_CASE("redaction: m.room.redaction keeps redacts only from v11", "[matrix][redaction]") {
  const json event = full_event("m.room.redaction", {{"redacts", "$target"}, {"reason", "spam"}});
  CHECK(redact_event(event, kRoomVersion10)["content"] == json::object());
  CHECK(redact_event(event, kRoomVersion11)["content"] == json{{"redacts", "$target"}});
  // The top-level `redacts` of older versions is never protected.
  CHECK_FALSE(redact_event(event, kRoomVersion10).contains("redacts"));
  CHECK_FALSE(redact_event(event, kRoomVersion11).contains("redacts"));
}

TEST_CASE("redaction: other types lose all content", "[matrix][redaction]") {
  for (const char* type :
       {"m.room.message", "m.room.name", "m.room.topic", "m.room.aliases", "m.room.canonical_alias",
        "m.room.encrypted", "m.reaction", "com.example.custom"}) {
    INFO(type);
    const json event = full_event(type, {{"aliases", {"#a:example.org"}},
                                         {"name", "n"},
                                         {"membership", "join"},
                                         {"join_rule", "public"},
                                         {"history_visibility", "shared"},
                                         {"redacts", "$x"},
                                         {"creator", "@a:example.org"}});
    CHECK(redact_event(event, kRoomVersion10)["content"] == json::object());
    CHECK(redact_event(event, kRoomVersion11)["content"] == json::object());
  }
}

TEST_CASE("redaction: odd shapes", "[matrix][redaction]") {
  // No content, or content that is not an object: an empty content object.
  CHECK(redact_event(json{{"type", "m.room.member"}}, kRoomVersion10) ==
        json{{"type", "m.room.member"}, {"content", json::object()}});
  CHECK(redact_event(json{{"type", "m.room.member"}, {"content", "x"}}, kRoomVersion11) ==
        json{{"type", "m.room.member"}, {"content", json::object()}});
  // No type: treated as a type without protected content.
  CHECK(redact_event(json{{"content", {{"membership", "join"}}}}, kRoomVersion10) ==
        json{{"content", json::object()}});
  CHECK_THROWS_AS(redact_event(json::array(), kRoomVersion10), std::invalid_argument);
  CHECK_THROWS_AS(redact_event(json("x"), kRoomVersion11), std::invalid_argument);

  // Redacting twice changes nothing more.
  const json event = full_event("m.room.power_levels", {{"ban", 50}, {"invite", 0}});
  for (const auto* version : {&kRoomVersion10, &kRoomVersion11}) {
    const json once = redact_event(event, *version);
    CHECK(redact_event(once, *version) == once);
  }
}
