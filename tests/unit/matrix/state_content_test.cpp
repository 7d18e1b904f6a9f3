// Content checks of the state events the server interprets
// (matrix/state_content.h): what a local client may not store.
#include "matrix/state_content.h"

#include <catch2/catch.hpp>

using eltrix::matrix::invalid_state_content;
using nlohmann::json;

TEST_CASE("state content: history visibility must be one of the four values",
          "[matrix][state_content]") {
  const char* type = "m.room.history_visibility";
  for (const char* value : {"world_readable", "shared", "invited", "joined"}) {
    CHECK_FALSE(invalid_state_content(type, json{{"history_visibility", value}}));
  }
  CHECK(invalid_state_content(type, json{{"history_visibility", 5}}));
  CHECK(invalid_state_content(type, json{{"history_visibility", "everyone"}}));
  CHECK(invalid_state_content(type, json::object()));
  CHECK(invalid_state_content(type, json::array()));
}

TEST_CASE("state content: power levels are integers in objects", "[matrix][state_content]") {
  const char* type = "m.room.power_levels";
  CHECK_FALSE(invalid_state_content(type, json::object()));
  CHECK_FALSE(invalid_state_content(
      type, json{{"ban", 50}, {"users", {{"@a:x.test", 100}}}, {"events", {{"m.room.name", 50}}}}));
  CHECK(invalid_state_content(type, json{{"ban", "50"}}));  // room versions 10+: no strings
  CHECK(invalid_state_content(type, json{{"ban", 1.5}}));
  CHECK(invalid_state_content(type, json{{"users", {{"@a:x.test", "100"}}}}));
  CHECK(invalid_state_content(type, json{{"users", {{"not a user", 100}}}}));
  CHECK(invalid_state_content(type, json{{"events", json::array()}}));
  CHECK(invalid_state_content(type, json{{"notifications", {{"room", true}}}}));
}

TEST_CASE("state content: join rules", "[matrix][state_content]") {
  const char* type = "m.room.join_rules";
  CHECK_FALSE(invalid_state_content(type, json{{"join_rule", "public"}}));
  CHECK_FALSE(invalid_state_content(
      type, json{{"join_rule", "restricted"},
                 {"allow", {{{"type", "m.room_membership"}, {"room_id", "!r:x.test"}}}}}));
  CHECK(invalid_state_content(type, json{{"join_rule", 1}}));
  CHECK(invalid_state_content(type, json{{"join_rule", "anyone"}}));
  CHECK(invalid_state_content(type, json::object()));
  CHECK(invalid_state_content(type, json{{"join_rule", "restricted"}, {"allow", "x"}}));
  CHECK(invalid_state_content(
      type, json{{"join_rule", "restricted"}, {"allow", {{{"type", "m.room_membership"}}}}}));
  CHECK(invalid_state_content(type, json{{"join_rule", "restricted"}, {"allow", {5}}}));
}

TEST_CASE("state content: member, create, encryption and the rest", "[matrix][state_content]") {
  CHECK_FALSE(invalid_state_content("m.room.member", json{{"membership", "join"}}));
  CHECK_FALSE(invalid_state_content("m.room.member",
                                    json{{"membership", "join"}, {"displayname", nullptr}}));
  CHECK(invalid_state_content("m.room.member", json{{"membership", 1}}));
  CHECK(invalid_state_content("m.room.member", json{{"membership", "join"}, {"displayname", 1}}));
  CHECK(invalid_state_content("m.room.member", json{{"membership", "join"}, {"is_direct", "y"}}));
  CHECK_FALSE(invalid_state_content("m.room.create", json{{"room_version", "10"}}));
  CHECK(invalid_state_content("m.room.create", json{{"m.federate", "no"}}));
  CHECK(invalid_state_content("m.room.create", json{{"creator", "bob"}}));
  CHECK(invalid_state_content("m.room.create", json{{"predecessor", {{"room_id", 5}}}}));
  CHECK_FALSE(invalid_state_content("m.room.encryption", json{{"algorithm", "m.megolm.v1"}}));
  CHECK(invalid_state_content("m.room.encryption", json::object()));
  CHECK(invalid_state_content("m.room.encryption",
                              json{{"algorithm", "m.megolm.v1"}, {"rotation_period_ms", -1}}));
  CHECK(invalid_state_content("m.room.guest_access", json{{"guest_access", true}}));
  CHECK_FALSE(invalid_state_content("m.room.guest_access", json{{"guest_access", "forbidden"}}));
  CHECK(invalid_state_content("m.room.name", json{{"name", 5}}));
  CHECK_FALSE(invalid_state_content("m.room.name", json::object()));
  CHECK(invalid_state_content("m.room.topic", json{{"topic", json::object()}}));
  // Types the server does not interpret are not its business.
  CHECK_FALSE(invalid_state_content("com.example.anything", json{{"x", 5}}));
}
