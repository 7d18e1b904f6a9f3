// Power levels: parsing m.room.power_levels content (with the spec defaults and
// the room version 10+ integer-only rule), lookups, and the createRoom default.
#include "matrix/power_levels.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using eltrix::matrix::default_power_levels_content;
using eltrix::matrix::PowerLevels;
using nlohmann::json;

namespace {
constexpr const char* kAlice = "@alice:a.test";
constexpr const char* kBob = "@bob:b.test";
}  // namespace

TEST_CASE("power levels: no event gives the creator 100 and spec defaults", "[matrix][auth]") {
  auto levels = PowerLevels::parse(nullptr, kAlice);
  REQUIRE(levels);
  CHECK(levels->user_level(kAlice) == 100);
  CHECK(levels->user_level(kBob) == 0);
  CHECK(levels->ban == 50);
  CHECK(levels->kick == 50);
  CHECK(levels->redact == 50);
  CHECK(levels->invite == 0);
  CHECK(levels->events_default == 0);
  // The current spec: 50 whether or not the event exists.
  CHECK(levels->state_default == 50);
  CHECK(levels->notifications_room == 50);
  CHECK(levels->event_level("m.room.message", false) == 0);
  CHECK(levels->event_level("m.room.topic", true) == 50);
}

TEST_CASE("power levels: an empty event takes every default, and nobody is special",
          "[matrix][auth]") {
  const json content = json::object();
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(levels->user_level(kAlice) == 0);
  CHECK(levels->state_default == 50);
  CHECK(levels->ban == 50);
  CHECK(levels->invite == 0);
}

TEST_CASE("power levels: every field is read", "[matrix][auth]") {
  const json content = {
      {"ban", 1},
      {"kick", 2},
      {"invite", 3},
      {"redact", 4},
      {"state_default", 5},
      {"events_default", 6},
      {"users_default", 7},
      {"events", {{"m.room.name", 8}, {"m.reaction", -1}}},
      {"users", {{kAlice, 100}, {kBob, -5}}},
      {"notifications", {{"room", 9}, {"other", 10}}},
  };
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(levels->ban == 1);
  CHECK(levels->kick == 2);
  CHECK(levels->invite == 3);
  CHECK(levels->redact == 4);
  CHECK(levels->state_default == 5);
  CHECK(levels->events_default == 6);
  CHECK(levels->users_default == 7);
  CHECK(levels->notifications_room == 9);
  CHECK(levels->user_level(kAlice) == 100);
  CHECK(levels->user_level(kBob) == -5);
  CHECK(levels->user_level("@carol:c.test") == 7);
  // A type named in `events` uses that level whether sent as state or not.
  CHECK(levels->event_level("m.room.name", true) == 8);
  CHECK(levels->event_level("m.room.name", false) == 8);
  CHECK(levels->event_level("m.reaction", false) == -1);
  CHECK(levels->event_level("m.room.topic", true) == 5);
  CHECK(levels->event_level("m.room.message", false) == 6);
}

TEST_CASE("power levels: the canonical JSON integer range is accepted at both ends",
          "[matrix][auth]") {
  const json content = {{"ban", (std::int64_t{1} << 53) - 1},
                        {"kick", -(std::int64_t{1} << 53) + 1}};
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(levels->ban == eltrix::matrix::kMaxPowerLevel);
  CHECK(levels->kick == -eltrix::matrix::kMaxPowerLevel);
}

namespace {
struct InvalidCase {
  const char* name;
  json content;
};
}  // namespace

TEST_CASE("power levels: room versions 10+ refuse anything but integers", "[matrix][auth]") {
  const std::vector<InvalidCase> cases{
      {"string top-level value", {{"ban", "50"}}},
      {"string users_default", {{"users_default", "0"}}},
      {"float top-level value", {{"kick", 50.0}}},
      {"boolean top-level value", {{"invite", true}}},
      {"null top-level value", {{"redact", nullptr}}},
      {"out of range", {{"state_default", std::int64_t{1} << 53}}},
      {"huge unsigned", {{"events_default", std::uint64_t{18446744073709551615ULL}}}},
      {"events not an object", {{"events", json::array()}}},
      {"string events value", {{"events", {{"m.room.name", "50"}}}}},
      {"users not an object", {{"users", "everyone"}}},
      {"string users value", {{"users", {{kAlice, "100"}}}}},
      {"users key is not a user ID", {{"users", {{"alice", 100}}}}},
      {"users key without server", {{"users", {{"@alice", 100}}}}},
      {"users key with a bad server name", {{"users", {{"@alice:bad_server!", 100}}}}},
      {"notifications not an object", {{"notifications", 50}}},
      {"string notifications value", {{"notifications", {{"room", "50"}}}}},
      {"content not an object", json::array({1, 2})},
  };
  auto row = GENERATE_COPY(from_range(cases));
  INFO(row.name);
  std::string why;
  CHECK_FALSE(PowerLevels::parse(&row.content, kAlice, &why));
  CHECK_FALSE(why.empty());
  // The reason is optional.
  CHECK_FALSE(PowerLevels::parse(&row.content, kAlice));
}

TEST_CASE("power levels: createRoom default content", "[matrix][auth]") {
  const json content = default_power_levels_content(kAlice, {});
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(levels->user_level(kAlice) == 100);
  CHECK(levels->user_level(kBob) == 0);
  CHECK(levels->users.size() == 1);
  CHECK(levels->invite == 0);
  CHECK(levels->ban == 50);
  CHECK(levels->kick == 50);
  CHECK(levels->redact == 50);
  CHECK(levels->state_default == 50);
  CHECK(levels->events_default == 0);
  CHECK(levels->event_level("m.room.power_levels", true) == 100);
  CHECK(levels->event_level("m.room.history_visibility", true) == 100);
  CHECK(levels->event_level("m.room.tombstone", true) == 100);
  CHECK(levels->event_level("m.room.server_acl", true) == 100);
  CHECK(levels->event_level("m.room.encryption", true) == 100);
  CHECK(levels->event_level("m.room.name", true) == 50);
  CHECK(levels->event_level("m.room.canonical_alias", true) == 50);
  CHECK(levels->event_level("m.room.avatar", true) == 50);
  CHECK(levels->event_level("m.room.topic", true) == 50);
  CHECK(levels->event_level("m.room.message", false) == 0);
}

TEST_CASE("power levels: trusted_private_chat invitees are admins", "[matrix][auth]") {
  const json content = default_power_levels_content(kAlice, {kBob, "@carol:c.test"});
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(levels->user_level(kAlice) == 100);
  CHECK(levels->user_level(kBob) == 100);
  CHECK(levels->user_level("@carol:c.test") == 100);
  CHECK(levels->user_level("@dave:d.test") == 0);
}

TEST_CASE("power levels: users keys follow the historical user ID grammar", "[matrix][auth]") {
  // Other servers' rooms may hold IDs that new registrations could not use.
  const json content = {{"users", {{"@=:a.test", 10}, {"@Old Style!:a.test", 20}}}};
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(levels->user_level("@=:a.test") == 10);
  CHECK(levels->user_level("@Old Style!:a.test") == 20);
}
