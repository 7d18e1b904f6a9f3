// The room version 10/11 authorisation rules, case by case. Each table row is
// one situation from the spec's rules, run under both room versions unless the
// row is about a difference between them.
//
// The standard room: @alice (creator, level 100) and @mod (level 50) are
// joined; the power levels are createRoom's defaults; rows add members,
// patch the power levels (JSON merge patch) and pick the join rule.
#include "matrix/auth_rules.h"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace eltrix::matrix;
using nlohmann::json;

namespace {

constexpr const char* kAlice = "@alice:a.test";  // the creator
constexpr const char* kMod = "@mod:b.test";      // level 50
constexpr const char* kBob = "@bob:b.test";
constexpr const char* kCarol = "@carol:c.test";
constexpr const char* kDave = "@dave:a.test";
constexpr const char* kRoom = "!room:a.test";

json state_event(std::string type, std::string state_key, std::string sender, json content) {
  return {
      {"type", type},
      {"state_key", state_key},
      {"sender", std::move(sender)},
      {"content", std::move(content)},
      {"room_id", kRoom},
      {"event_id", "$" + type + "/" + state_key},
      {"prev_events", json::array({"$previous"})},
  };
}

json message(std::string sender, std::string type = "m.room.message") {
  return {
      {"type", std::move(type)},     {"sender", std::move(sender)},
      {"content", {{"body", "hi"}}}, {"room_id", kRoom},
      {"event_id", "$message"},      {"prev_events", json::array({"$previous"})},
  };
}

json create_event(const RoomVersion& version, std::string sender = kAlice) {
  json content = {{"room_version", std::string(version.id)}};
  if (!version.creator_is_sender) content["creator"] = sender;
  json event = state_event("m.room.create", "", std::move(sender), std::move(content));
  event["event_id"] = "$create";
  event["prev_events"] = json::array();
  return event;
}

json member(std::string sender, std::string target, std::string membership, json extra = {}) {
  json content = {{"membership", std::move(membership)}};
  if (extra.is_object()) content.update(extra);
  return state_event("m.room.member", std::move(target), std::move(sender), std::move(content));
}

json base_power_levels() {
  json content = default_power_levels_content(kAlice, {});
  content["users"][kMod] = 50;
  return content;
}

using Members = std::vector<std::pair<const char*, const char*>>;

/// The standard room, with `members` added, the power levels patched (a null
/// patch removes the power levels event) and `join_rule` (null: no event).
AuthState make_room(const RoomVersion& version, const char* join_rule, const Members& members,
                    const json& pl_patch) {
  AuthState state;
  state.put(create_event(version));
  state.put(member(kAlice, kAlice, "join"));
  state.put(member(kMod, kMod, "join"));
  if (!pl_patch.is_null()) {
    json levels = base_power_levels();
    levels.merge_patch(pl_patch);
    state.put(state_event("m.room.power_levels", "", kAlice, levels));
  }
  if (join_rule)
    state.put(state_event("m.room.join_rules", "", kAlice, {{"join_rule", join_rule}}));
  for (const auto& [user, membership] : members) state.put(member(user, user, membership));
  return state;
}

const RoomVersion& some_version() {
  auto id = GENERATE(as<std::string>{}, "10", "11");
  const RoomVersion* version = find_room_version(id);
  REQUIRE(version);
  return *version;
}

void check_result(const AuthResult& result, bool expected) {
  INFO("reason: " << result.reason);
  CHECK(result.allowed == expected);
  CHECK(static_cast<bool>(result) == expected);
  // Refusals always say why; allowances never carry a stale reason.
  CHECK(result.reason.empty() == expected);
}

// ---------------------------------------------------------------------------
// m.room.member

struct MemberCase {
  const char* name;
  const char* join_rule;
  Members members;  // besides alice and mod (joined)
  json pl_patch;    // merged into the power levels
  const char* sender;
  const char* target;
  const char* membership;
  json extra;  // more member content
  bool allowed;
};

const json kNoPatch = json::object();

std::vector<MemberCase> member_cases() {
  const json via_alice = {{"join_authorised_via_users_server", kAlice}};
  const json via_bob = {{"join_authorised_via_users_server", kBob}};
  const json via_carol = {{"join_authorised_via_users_server", kCarol}};
  const json invite_50 = {{"invite", 50}};
  const json bob_50 = {{"users", {{kBob, 50}}}};
  const json bob_100 = {{"users", {{kBob, 100}}}};
  // One row per line (clang-format would give each field its own line), so
  // the tables read as truth tables.
  // clang-format off
  return {
      // join under "public"
      {"public: join from none", "public", {}, kNoPatch, kBob, kBob, "join", {}, true},
      {"public: join after leaving", "public", {{kBob, "leave"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"public: join when invited", "public", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"public: join when joined (profile change)", "public", {{kBob, "join"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"public: join after knocking", "public", {{kBob, "knock"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"public: banned user can't join", "public", {{kBob, "ban"}}, kNoPatch, kBob, kBob, "join", {}, false},
      {"public: can't join someone else", "public", {}, kNoPatch, kAlice, kBob, "join", {}, false},
      // join under "invite"
      {"invite: join from none", "invite", {}, kNoPatch, kBob, kBob, "join", {}, false},
      {"invite: join when invited", "invite", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"invite: join when joined", "invite", {{kBob, "join"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"invite: join after leaving", "invite", {{kBob, "leave"}}, kNoPatch, kBob, kBob, "join", {}, false},
      {"invite: join when banned", "invite", {{kBob, "ban"}}, kNoPatch, kBob, kBob, "join", {}, false},
      {"invite: join after knocking", "invite", {{kBob, "knock"}}, kNoPatch, kBob, kBob, "join", {}, false},
      {"no join rules event means invite", nullptr, {}, kNoPatch, kBob, kBob, "join", {}, false},
      {"no join rules event, invited", nullptr, {{kBob, "invite"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"unknown join rule", "private", {}, kNoPatch, kBob, kBob, "join", {}, false},
      // join under "knock"
      {"knock: join from none", "knock", {}, kNoPatch, kBob, kBob, "join", {}, false},
      {"knock: join after knocking, not yet invited", "knock", {{kBob, "knock"}}, kNoPatch, kBob, kBob, "join", {}, false},
      {"knock: join when invited", "knock", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"knock: join when joined", "knock", {{kBob, "join"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"knock: join when banned", "knock", {{kBob, "ban"}}, kNoPatch, kBob, kBob, "join", {}, false},
      // join under "restricted" / "knock_restricted"
      {"restricted: no authorising user", "restricted", {}, kNoPatch, kBob, kBob, "join", {}, false},
      {"restricted: authorised by a joined inviter", "restricted", {}, kNoPatch, kBob, kBob, "join", via_alice, true},
      {"restricted: authoriser not joined", "restricted", {{kCarol, "leave"}}, kNoPatch, kBob, kBob, "join", via_carol, false},
      {"restricted: authoriser invited, not joined", "restricted", {{kCarol, "invite"}}, kNoPatch, kBob, kBob, "join", via_carol, false},
      {"restricted: authoriser below the invite level", "restricted", {{kCarol, "join"}}, invite_50, kBob, kBob, "join", via_carol, false},
      {"restricted: authoriser at the invite level", "restricted", {{kCarol, "join"}}, kNoPatch, kBob, kBob, "join", via_carol, true},
      {"restricted: authoriser is the joiner, not joined", "restricted", {}, kNoPatch, kBob, kBob, "join", via_bob, false},
      {"restricted: invited needs no authoriser", "restricted", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"restricted: joined needs no authoriser", "restricted", {{kBob, "join"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"restricted: banned even with an authoriser", "restricted", {{kBob, "ban"}}, kNoPatch, kBob, kBob, "join", via_alice, false},
      {"restricted: rejoin after leaving, authorised", "restricted", {{kBob, "leave"}}, kNoPatch, kBob, kBob, "join", via_alice, true},
      {"knock_restricted: authorised join", "knock_restricted", {}, kNoPatch, kBob, kBob, "join", via_alice, true},
      {"knock_restricted: no authoriser", "knock_restricted", {}, kNoPatch, kBob, kBob, "join", {}, false},
      {"knock_restricted: invited", "knock_restricted", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "join", {}, true},
      {"public: authoriser ignored", "public", {}, kNoPatch, kBob, kBob, "join", via_carol, true},
      // invite
      {"invite by a joined member", "invite", {}, kNoPatch, kAlice, kBob, "invite", {}, true},
      {"invite by a joined level-0 member (invite 0)", "invite", {{kCarol, "join"}}, kNoPatch, kCarol, kBob, "invite", {}, true},
      {"invite by a member below the invite level", "invite", {{kCarol, "join"}}, invite_50, kCarol, kBob, "invite", {}, false},
      {"invite by a member at the invite level", "invite", {}, invite_50, kMod, kBob, "invite", {}, true},
      {"invite by a non-member", "invite", {}, kNoPatch, kCarol, kBob, "invite", {}, false},
      {"invite by a member who left", "invite", {{kCarol, "leave"}}, kNoPatch, kCarol, kBob, "invite", {}, false},
      {"invite by an invited user", "invite", {{kCarol, "invite"}}, kNoPatch, kCarol, kBob, "invite", {}, false},
      {"invite by a banned user", "invite", {{kCarol, "ban"}}, kNoPatch, kCarol, kBob, "invite", {}, false},
      {"invite of a banned user", "invite", {{kBob, "ban"}}, kNoPatch, kAlice, kBob, "invite", {}, false},
      {"invite of a joined user", "invite", {{kBob, "join"}}, kNoPatch, kAlice, kBob, "invite", {}, false},
      {"invite again", "invite", {{kBob, "invite"}}, kNoPatch, kAlice, kBob, "invite", {}, true},
      {"invite someone who left", "invite", {{kBob, "leave"}}, kNoPatch, kAlice, kBob, "invite", {}, true},
      {"invite someone who knocked", "knock", {{kBob, "knock"}}, kNoPatch, kAlice, kBob, "invite", {}, true},
      {"invite yourself when joined", "invite", {}, kNoPatch, kAlice, kAlice, "invite", {}, false},
      {"third-party invite is unsupported", "invite", {}, kNoPatch, kAlice, kBob, "invite", {{"third_party_invite", {{"display_name", "b"}, {"signed", {{"mxid", kBob}, {"token", "t"}}}}}}, false},
      // leave (self)
      {"leave when joined", "invite", {{kBob, "join"}}, kNoPatch, kBob, kBob, "leave", {}, true},
      {"reject an invite", "invite", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "leave", {}, true},
      {"withdraw a knock", "knock", {{kBob, "knock"}}, kNoPatch, kBob, kBob, "leave", {}, true},
      {"leave when banned", "invite", {{kBob, "ban"}}, kNoPatch, kBob, kBob, "leave", {}, false},
      {"leave when already left", "invite", {{kBob, "leave"}}, kNoPatch, kBob, kBob, "leave", {}, false},
      {"leave when never there", "invite", {}, kNoPatch, kBob, kBob, "leave", {}, false},
      // kick
      {"kick with enough power", "invite", {{kBob, "join"}}, kNoPatch, kMod, kBob, "leave", {}, true},
      {"kick with too little power", "invite", {{kBob, "join"}, {kCarol, "join"}}, kNoPatch, kCarol, kBob, "leave", {}, false},
      {"kick a higher-level user", "invite", {}, kNoPatch, kMod, kAlice, "leave", {}, false},
      {"kick an equal-level user", "invite", {{kBob, "join"}}, bob_50, kMod, kBob, "leave", {}, false},
      {"kick a lower-level moderator", "invite", {}, kNoPatch, kAlice, kMod, "leave", {}, true},
      {"kick by a non-member with power", "invite", {{kBob, "leave"}, {kCarol, "join"}}, bob_100, kBob, kCarol, "leave", {}, false},
      {"kick at a raised kick level", "invite", {{kBob, "join"}}, json{{"kick", 75}}, kMod, kBob, "leave", {}, false},
      {"kick at a lowered kick level", "invite", {{kBob, "join"}, {kCarol, "join"}}, json{{"kick", 0}, {"users", {{kBob, -1}}}}, kCarol, kBob, "leave", {}, true},
      {"revoke an invite", "invite", {{kBob, "invite"}}, kNoPatch, kMod, kBob, "leave", {}, true},
      {"kick someone not in the room", "invite", {}, kNoPatch, kMod, kBob, "leave", {}, true},
      // ban and unban
      {"ban with enough power", "invite", {{kBob, "join"}}, kNoPatch, kMod, kBob, "ban", {}, true},
      {"ban with too little power", "invite", {{kBob, "join"}, {kCarol, "join"}}, kNoPatch, kCarol, kBob, "ban", {}, false},
      {"ban a higher-level user", "invite", {}, kNoPatch, kMod, kAlice, "ban", {}, false},
      {"ban an equal-level user", "invite", {{kBob, "join"}}, bob_50, kMod, kBob, "ban", {}, false},
      {"ban someone not in the room", "invite", {}, kNoPatch, kMod, kBob, "ban", {}, true},
      {"ban by a non-member with power", "invite", {{kBob, "leave"}, {kCarol, "join"}}, bob_100, kBob, kCarol, "ban", {}, false},
      {"ban again", "invite", {{kBob, "ban"}}, kNoPatch, kMod, kBob, "ban", {}, true},
      {"ban at a raised ban level", "invite", {{kBob, "join"}}, json{{"ban", 75}}, kMod, kBob, "ban", {}, false},
      {"ban yourself", "invite", {}, kNoPatch, kMod, kMod, "ban", {}, false},
      {"unban with enough power", "invite", {{kBob, "ban"}}, kNoPatch, kMod, kBob, "leave", {}, true},
      {"unban with too little power", "invite", {{kBob, "ban"}, {kCarol, "join"}}, kNoPatch, kCarol, kBob, "leave", {}, false},
      {"unban needs the ban level", "invite", {{kBob, "ban"}}, json{{"ban", 75}, {"kick", 0}}, kMod, kBob, "leave", {}, false},
      {"unban needs the kick level too", "invite", {{kBob, "ban"}}, json{{"ban", 0}, {"kick", 75}}, kMod, kBob, "leave", {}, false},
      {"unban a higher-level user", "invite", {{kBob, "ban"}}, bob_100, kMod, kBob, "leave", {}, false},
      {"unban by a non-member", "invite", {{kBob, "ban"}, {kCarol, "leave"}}, json{{"users", {{kCarol, 100}}}}, kCarol, kBob, "leave", {}, false},
      // knock
      {"knock from none", "knock", {}, kNoPatch, kBob, kBob, "knock", {}, true},
      {"knock after leaving", "knock", {{kBob, "leave"}}, kNoPatch, kBob, kBob, "knock", {}, true},
      {"knock again", "knock", {{kBob, "knock"}}, kNoPatch, kBob, kBob, "knock", {}, true},
      {"knock under knock_restricted", "knock_restricted", {}, kNoPatch, kBob, kBob, "knock", {}, true},
      {"knock when banned", "knock", {{kBob, "ban"}}, kNoPatch, kBob, kBob, "knock", {}, false},
      {"knock when invited", "knock", {{kBob, "invite"}}, kNoPatch, kBob, kBob, "knock", {}, false},
      {"knock when joined", "knock", {{kBob, "join"}}, kNoPatch, kBob, kBob, "knock", {}, false},
      {"knock for someone else", "knock", {}, kNoPatch, kAlice, kBob, "knock", {}, false},
      {"knock on a public room", "public", {}, kNoPatch, kBob, kBob, "knock", {}, false},
      {"knock on an invite-only room", "invite", {}, kNoPatch, kBob, kBob, "knock", {}, false},
      {"knock on a restricted room", "restricted", {}, kNoPatch, kBob, kBob, "knock", {}, false},
      // malformed
      {"unknown membership", "public", {}, kNoPatch, kBob, kBob, "dance", {}, false},
  };
  // clang-format on
}

}  // namespace

TEST_CASE("auth: every membership transition", "[matrix][auth]") {
  static const std::vector<MemberCase> cases = member_cases();
  const RoomVersion& version = some_version();
  const MemberCase& row = cases[GENERATE(range(std::size_t{0}, member_cases().size()))];
  INFO("room version " << version.id << ": " << row.name);
  const AuthState state = make_room(version, row.join_rule, row.members, row.pl_patch);
  const json event = member(row.sender, row.target, row.membership, row.extra);
  check_result(check_auth(event, state, version), row.allowed);
}

TEST_CASE("auth: malformed membership events are refused", "[matrix][auth]") {
  const RoomVersion& version = some_version();
  const AuthState state = make_room(version, "public", {}, kNoPatch);

  json no_state_key = member(kBob, kBob, "join");
  no_state_key.erase("state_key");
  check_result(check_auth(no_state_key, state, version), false);

  json no_membership = member(kBob, kBob, "join");
  no_membership["content"].erase("membership");
  check_result(check_auth(no_membership, state, version), false);

  json number_membership = member(kBob, kBob, "join");
  number_membership["content"]["membership"] = 1;
  check_result(check_auth(number_membership, state, version), false);

  json number_state_key = member(kBob, kBob, "join");
  number_state_key["state_key"] = 7;
  check_result(check_auth(number_state_key, state, version), false);

  json no_content = member(kBob, kBob, "join");
  no_content.erase("content");
  check_result(check_auth(no_content, state, version), false);

  json no_sender = member(kBob, kBob, "join");
  no_sender.erase("sender");
  check_result(check_auth(no_sender, state, version), false);

  json no_type = member(kBob, kBob, "join");
  no_type.erase("type");
  check_result(check_auth(no_type, state, version), false);

  check_result(check_auth(json::array(), state, version), false);
}

// ---------------------------------------------------------------------------
// m.room.create, the creator's first join, and what changed in v11

TEST_CASE("auth: m.room.create", "[matrix][auth]") {
  const AuthState empty;
  const RoomVersion& v10 = kRoomVersion10;
  const RoomVersion& v11 = kRoomVersion11;

  SECTION("the first event is allowed") {
    check_result(check_auth(create_event(v10), empty, v10), true);
    check_result(check_auth(create_event(v11), empty, v11), true);
  }
  SECTION("it can't follow other events") {
    json event = create_event(v10);
    event["prev_events"] = json::array({"$other"});
    check_result(check_auth(event, empty, v10), false);
    event = create_event(v11);
    event["prev_events"] = json::array({"$other"});
    check_result(check_auth(event, empty, v11), false);
    event["prev_events"] = "$other";
    check_result(check_auth(event, empty, v11), false);
  }
  SECTION("v10 needs content.creator; v11 does not") {
    json event = create_event(v10);
    event["content"].erase("creator");
    check_result(check_auth(event, empty, v10), false);
    event["content"]["creator"] = 5;
    check_result(check_auth(event, empty, v10), false);
    CHECK_FALSE(create_event(v11)["content"].contains("creator"));
    check_result(check_auth(create_event(v11), empty, v11), true);
  }
  SECTION("an unknown or mismatched room_version is refused, an absent one is not") {
    json event = create_event(v11);
    event["content"]["room_version"] = "999";
    check_result(check_auth(event, empty, v11), false);
    event["content"]["room_version"] = 11;
    check_result(check_auth(event, empty, v11), false);
    event["content"]["room_version"] = "10";
    check_result(check_auth(event, empty, v11), false);
    event["content"].erase("room_version");
    check_result(check_auth(event, empty, v11), true);
  }
  SECTION("auth_event_keys is empty for it") {
    CHECK(auth_event_keys(create_event(v11)).empty());
  }
}

TEST_CASE("auth: other events need a create event", "[matrix][auth]") {
  const RoomVersion& version = some_version();
  AuthState state = make_room(version, "public", {}, kNoPatch);
  state.erase("m.room.create", "");
  check_result(check_auth(message(kAlice), state, version), false);
  check_result(check_auth(member(kBob, kBob, "join"), state, version), false);
}

namespace {
/// The creator's join as the room's second event: prev_events is the create.
json first_join(const char* user) {
  json event = member(user, user, "join");
  event["prev_events"] = json::array({"$create"});
  return event;
}
}  // namespace

TEST_CASE("auth: the creator's first join", "[matrix][auth]") {
  const RoomVersion& version = some_version();
  AuthState state;
  state.put(create_event(version));

  SECTION("the creator may join straight after the create event") {
    check_result(check_auth(first_join(kAlice), state, version), true);
  }
  SECTION("anyone else may not (no join rules: invite only)") {
    check_result(check_auth(first_join(kBob), state, version), false);
  }
  SECTION("not when it follows something else too") {
    json event = first_join(kAlice);
    event["prev_events"] = json::array({"$create", "$other"});
    check_result(check_auth(event, state, version), false);
    event["prev_events"] = json::array({"$other"});
    check_result(check_auth(event, state, version), false);
  }
}

TEST_CASE("auth: v10 takes the creator from content.creator, v11 from the sender",
          "[matrix][auth]") {
  // A v10 create event whose creator is not its sender: v10 trusts the content,
  // v11 ignores it.
  json v10_create = create_event(kRoomVersion10, kAlice);
  v10_create["content"]["creator"] = kBob;
  AuthState v10_state;
  v10_state.put(v10_create);
  json v11_create = create_event(kRoomVersion11, kAlice);
  v11_create["content"]["creator"] = kBob;
  AuthState v11_state;
  v11_state.put(v11_create);

  SECTION("first join") {
    check_result(check_auth(first_join(kBob), v10_state, kRoomVersion10), true);
    check_result(check_auth(first_join(kAlice), v10_state, kRoomVersion10), false);
    check_result(check_auth(first_join(kBob), v11_state, kRoomVersion11), false);
    check_result(check_auth(first_join(kAlice), v11_state, kRoomVersion11), true);
  }
  SECTION("level 100 without a power levels event") {
    for (AuthState* state : {&v10_state, &v11_state}) {
      state->put(member(kAlice, kAlice, "join"));
      state->put(member(kBob, kBob, "join"));
    }
    const json alice_topic = state_event("m.room.topic", "", kAlice, {{"topic", "t"}});
    const json bob_topic = state_event("m.room.topic", "", kBob, {{"topic", "t"}});
    check_result(check_auth(bob_topic, v10_state, kRoomVersion10), true);
    check_result(check_auth(alice_topic, v10_state, kRoomVersion10), false);
    check_result(check_auth(bob_topic, v11_state, kRoomVersion11), false);
    check_result(check_auth(alice_topic, v11_state, kRoomVersion11), true);
  }
}

TEST_CASE("auth: m.federate false keeps other servers out", "[matrix][auth]") {
  const RoomVersion& version = some_version();
  AuthState state = make_room(version, "public", {{kDave, "join"}, {kBob, "join"}}, kNoPatch);
  json create = create_event(version);
  create["content"]["m.federate"] = false;
  state.put(create);
  check_result(check_auth(message(kDave), state, version), true);  // a.test, like alice
  check_result(check_auth(message(kBob), state, version), false);
  check_result(check_auth(member(kCarol, kCarol, "join"), state, version), false);

  create["content"]["m.federate"] = true;
  state.put(create);
  check_result(check_auth(message(kBob), state, version), true);
}

// ---------------------------------------------------------------------------
// Sending events: membership, event levels, @-keyed state

namespace {
struct SendCase {
  const char* name;
  Members members;  // besides alice and mod
  json pl_patch;    // null: no power levels event
  const char* sender;
  const char* type;
  const char* state_key;  // null: a message event
  bool allowed;
};

std::vector<SendCase> send_cases() {
  const json events_default_10 = {{"events_default", 10}};
  const json reaction_20 = {{"events", {{"m.reaction", 20}}}};
  const json reaction_0 = {{"events_default", 10}, {"events", {{"m.reaction", 0}}}};
  const json topic_0 = {{"events", {{"m.room.topic", 0}}}};
  const json state_0 = {{"state_default", 0}};
  const json redaction_50 = {{"events", {{"m.room.redaction", 50}}}};
  const json invite_50 = {{"invite", 50}, {"events", {{"m.room.third_party_invite", 0}}}};
  const json tpi_100 = {{"events", {{"m.room.third_party_invite", 100}}}};
  const json carol_neg = {{"users", {{kCarol, -10}}}};
  const Members carol{{kCarol, "join"}};
  // clang-format off
  return {
      {"message at events_default", carol, kNoPatch, kCarol, "m.room.message", nullptr, true},
      {"message below events_default", carol, events_default_10, kCarol, "m.room.message", nullptr, false},
      {"message above events_default", carol, events_default_10, kMod, "m.room.message", nullptr, true},
      {"negative level user sends a message", carol, carol_neg, kCarol, "m.room.message", nullptr, false},
      {"custom level above the sender", carol, reaction_20, kCarol, "m.reaction", nullptr, false},
      {"custom level at the sender", carol, reaction_20, kMod, "m.reaction", nullptr, true},
      {"custom level below events_default", carol, reaction_0, kCarol, "m.reaction", nullptr, true},
      {"other messages keep events_default", carol, reaction_0, kCarol, "m.room.message", nullptr, false},
      {"state below state_default", carol, kNoPatch, kCarol, "m.room.topic", "", false},
      {"state at state_default", carol, kNoPatch, kMod, "m.room.topic", "", true},
      {"state with a custom level", carol, topic_0, kCarol, "m.room.topic", "", true},
      {"state with state_default 0", carol, state_0, kCarol, "m.room.topic", "", true},
      {"state at a custom level above state_default", {}, kNoPatch, kMod, "m.room.power_levels", "", false},
      {"state at a custom level equal to the sender", {}, kNoPatch, kMod, "m.room.name", "", true},
      {"message type sent as state takes state_default", carol, kNoPatch, kCarol, "m.room.message", "", false},
      {"state type sent as a message takes events_default", carol, kNoPatch, kCarol, "m.room.topic", nullptr, true},
      {"no power levels: others are 0 against state_default 50", carol, nullptr, kCarol, "m.room.topic", "", false},
      {"no power levels: the creator has 100", carol, nullptr, kAlice, "m.room.topic", "", true},
      {"no power levels: messages at 0", carol, nullptr, kCarol, "m.room.message", nullptr, true},
      // The sender must be joined.
      {"non-member sends a message", {}, kNoPatch, kCarol, "m.room.message", nullptr, false},
      {"invited user sends a message", {{kCarol, "invite"}}, kNoPatch, kCarol, "m.room.message", nullptr, false},
      {"user who left sends a message", {{kCarol, "leave"}}, kNoPatch, kCarol, "m.room.message", nullptr, false},
      {"knocking user sends a message", {{kCarol, "knock"}}, kNoPatch, kCarol, "m.room.message", nullptr, false},
      {"banned user sends a message", {{kCarol, "ban"}}, kNoPatch, kCarol, "m.room.message", nullptr, false},
      {"banned admin sends state", {{kCarol, "ban"}}, json{{"users", {{kCarol, 100}}}}, kCarol, "m.room.topic", "", false},
      // State keys that are user IDs belong to that user.
      {"own @-keyed state", carol, state_0, kCarol, "m.custom", kCarol, true},
      {"another user's @-keyed state", carol, state_0, kCarol, "m.custom", kBob, false},
      {"even an admin can't set another's @-keyed state", {}, kNoPatch, kAlice, "m.custom", kMod, false},
      {"admin's own @-keyed state", {}, kNoPatch, kAlice, "m.custom", kAlice, true},
      {"@-keyed state still needs the level", carol, kNoPatch, kCarol, "m.custom", kCarol, false},
      {"non-@ keys are anyone's", carol, state_0, kCarol, "m.custom", "bob", true},
      // Redactions are authorised at their event level, not the redact level.
      {"redaction by a level-0 user", carol, kNoPatch, kCarol, "m.room.redaction", nullptr, true},
      {"redaction below its custom level", carol, redaction_50, kCarol, "m.room.redaction", nullptr, false},
      {"redaction at its custom level", carol, redaction_50, kMod, "m.room.redaction", nullptr, true},
      {"redaction below events_default", carol, events_default_10, kCarol, "m.room.redaction", nullptr, false},
      // m.room.third_party_invite takes the invite level instead.
      {"third-party invite at the invite level", carol, tpi_100, kCarol, "m.room.third_party_invite", "tok", true},
      {"third-party invite below the invite level", carol, invite_50, kCarol, "m.room.third_party_invite", "tok", false},
      {"third-party invite by a non-member", {}, kNoPatch, kCarol, "m.room.third_party_invite", "tok", false},
  };
  // clang-format on
}
}  // namespace

TEST_CASE("auth: event power levels and @-keyed state", "[matrix][auth]") {
  static const std::vector<SendCase> cases = send_cases();
  const RoomVersion& version = some_version();
  const SendCase& row = cases[GENERATE(range(std::size_t{0}, send_cases().size()))];
  INFO("room version " << version.id << ": " << row.name);
  const AuthState state = make_room(version, "public", row.members, row.pl_patch);
  json event = row.state_key ? state_event(row.type, row.state_key, row.sender, {{"k", "v"}})
                             : message(row.sender, row.type);
  check_result(check_auth(event, state, version), row.allowed);
}

TEST_CASE("auth: refusals name the levels involved", "[matrix][auth]") {
  const RoomVersion& version = kRoomVersion10;
  const AuthState state =
      make_room(version, "invite", {{kCarol, "join"}, {kBob, "join"}}, kNoPatch);
  auto result = check_auth(member(kCarol, kBob, "ban"), state, version);
  CHECK_FALSE(result);
  CHECK(result.reason == "You don't have permission to ban (need 50, have 0)");
  result = check_auth(state_event("m.room.topic", "", kCarol, json::object()), state, version);
  CHECK(result.reason == "You don't have permission to send m.room.topic (need 50, have 0)");
}

// ---------------------------------------------------------------------------
// m.room.power_levels changes

namespace {
struct PowerCase {
  const char* name;
  json state_patch;  // on the standard levels; null: no power levels event yet
  json new_patch;    // on the current levels, gives the new content
  const char* sender;
  bool allowed;
};

std::vector<PowerCase> power_cases() {
  // So that mod (50) may send m.room.power_levels at all.
  const json mod_may = {{"events", {{"m.room.power_levels", 50}}}};
  auto with = [&mod_may](json patch) {
    json out = mod_may;
    out.merge_patch(patch);
    return out;
  };
  // clang-format off
  return {
      {"unchanged content", mod_may, json::object(), kMod, true},
      {"mod can't send at the default level 100", kNoPatch, {{"kick", 40}}, kMod, false},
      {"admin raises ban", kNoPatch, {{"ban", 60}}, kAlice, true},
      {"admin lowers ban", kNoPatch, {{"ban", 0}}, kAlice, true},
      {"lower kick from own level", mod_may, {{"kick", 40}}, kMod, true},
      {"raise kick to own level", with({{"kick", 40}}), {{"kick", 50}}, kMod, true},
      {"raise kick above own level", mod_may, {{"kick", 60}}, kMod, false},
      {"change ban that is above own level", with({{"ban", 75}}), {{"ban", 50}}, kMod, false},
      {"remove ban that is above own level", with({{"ban", 75}}), {{"ban", nullptr}}, kMod, false},
      {"remove ban at own level", mod_may, {{"ban", nullptr}}, kMod, true},
      {"add a level at own level", with({{"redact", nullptr}}), {{"redact", 50}}, kMod, true},
      {"add a level above own level", with({{"invite", nullptr}}), {{"invite", 60}}, kMod, false},
      {"raise users_default above own level", mod_may, {{"users_default", 51}}, kMod, false},
      {"raise state_default above own level", mod_may, {{"state_default", 51}}, kMod, false},
      {"raise events_default to own level", mod_may, {{"events_default", 50}}, kMod, true},
      {"add an event level at own level", mod_may, {{"events", {{"m.room.topic", 50}}}}, kMod, true},
      {"add an event level above own level", mod_may, {{"events", {{"m.room.topic", 51}}}}, kMod, false},
      {"change an event level above own level", mod_may, {{"events", {{"m.room.tombstone", 50}}}}, kMod, false},
      {"remove an event level above own level", mod_may, {{"events", {{"m.room.server_acl", nullptr}}}}, kMod, false},
      {"remove an event level at own level", mod_may, {{"events", {{"m.room.name", nullptr}}}}, kMod, true},
      {"lower notifications.room", mod_may, {{"notifications", {{"room", 40}}}}, kMod, true},
      {"add notifications.room above own level", mod_may, {{"notifications", {{"room", 60}}}}, kMod, false},
      {"change notifications above own level", with({{"notifications", {{"room", 75}}}}), {{"notifications", {{"room", 0}}}}, kMod, false},
      {"promote a user to own level", mod_may, {{"users", {{kCarol, 50}}}}, kMod, true},
      {"promote a user above own level", mod_may, {{"users", {{kCarol, 51}}}}, kMod, false},
      {"demote a lower user", with({{"users", {{kCarol, 10}}}}), {{"users", {{kCarol, 0}}}}, kMod, true},
      {"remove a lower user", with({{"users", {{kCarol, 10}}}}), {{"users", {{kCarol, nullptr}}}}, kMod, true},
      {"demote a higher user", mod_may, {{"users", {{kAlice, 0}}}}, kMod, false},
      {"demote an equal user", with({{"users", {{kBob, 50}}}}), {{"users", {{kBob, 0}}}}, kMod, false},
      {"remove an equal user", with({{"users", {{kBob, 50}}}}), {{"users", {{kBob, nullptr}}}}, kMod, false},
      {"demote yourself", mod_may, {{"users", {{kMod, 0}}}}, kMod, true},
      {"remove yourself", mod_may, {{"users", {{kMod, nullptr}}}}, kMod, true},
      {"promote yourself", mod_may, {{"users", {{kMod, 51}}}}, kMod, false},
      {"admin promotes themself", kNoPatch, {{"users", {{kAlice, 101}}}}, kAlice, false},
      {"admin demotes a moderator", kNoPatch, {{"users", {{kMod, 0}}}}, kAlice, true},
      {"admin promotes to admin", kNoPatch, {{"users", {{kCarol, 100}}}}, kAlice, true},
      {"non-member with power", with({{"users", {{kCarol, 100}}}}), {{"ban", 0}}, kCarol, false},
      // Integer-only content (v10+), checked even by an admin.
      {"string top-level level", kNoPatch, {{"ban", "50"}}, kAlice, false},
      {"float top-level level", kNoPatch, {{"kick", 50.5}}, kAlice, false},
      {"string event level", kNoPatch, {{"events", {{"m.room.name", "50"}}}}, kAlice, false},
      {"string user level", kNoPatch, {{"users", {{kCarol, "50"}}}}, kAlice, false},
      {"string notifications level", kNoPatch, {{"notifications", {{"room", "50"}}}}, kAlice, false},
      {"users key not a user ID", kNoPatch, {{"users", {{"carol", 50}}}}, kAlice, false},
      {"events not an object", kNoPatch, {{"events", "all"}}, kAlice, false},
      {"level out of range", kNoPatch, {{"redact", std::int64_t{1} << 54}}, kAlice, false},
      // The first power levels event.
      {"first power levels event by the creator", nullptr, json::object(), kAlice, true},
      {"first power levels event by someone else", nullptr, json::object(), kMod, false},
      {"first power levels event must be integers too", nullptr, {{"ban", "50"}}, kAlice, false},
  };
  // clang-format on
}
}  // namespace

TEST_CASE("auth: power level changes", "[matrix][auth]") {
  static const std::vector<PowerCase> cases = power_cases();
  const RoomVersion& version = some_version();
  const PowerCase& row = cases[GENERATE(range(std::size_t{0}, power_cases().size()))];
  INFO("room version " << version.id << ": " << row.name);
  AuthState state = make_room(version, "invite", {{kCarol, "join"}}, row.state_patch);
  // mod is at 50 in the standard room; with no event yet only alice has power.
  json content = base_power_levels();
  if (!row.state_patch.is_null()) content.merge_patch(row.state_patch);
  if (row.name == std::string_view("non-member with power")) {
    state.put(member(kCarol, kCarol, "leave"));
  }
  content.merge_patch(row.new_patch);
  const json event = state_event("m.room.power_levels", "", row.sender, content);
  check_result(check_auth(event, state, version), row.allowed);
}

// ---------------------------------------------------------------------------
// Redactions, auth event selection, the state container

TEST_CASE("auth: the redact level decides whether a redaction applies", "[matrix][auth]") {
  const json content = base_power_levels();
  auto levels = PowerLevels::parse(&content, kAlice);
  REQUIRE(levels);
  CHECK(may_redact(kMod, kAlice, *levels));        // at the redact level
  CHECK(may_redact(kAlice, kBob, *levels));        // above it
  CHECK(may_redact(kCarol, kCarol, *levels));      // own event
  CHECK(may_redact(kDave, kAlice, *levels));       // same server (a.test)
  CHECK_FALSE(may_redact(kCarol, kBob, *levels));  // level 0, other server
  CHECK_FALSE(may_redact("@x", "@y", *levels));    // malformed IDs share no server
  levels->redact = 0;
  CHECK(may_redact(kCarol, kBob, *levels));
}

TEST_CASE("auth: auth event selection", "[matrix][auth]") {
  using Keys = std::vector<std::pair<std::string, std::string>>;
  const std::pair<std::string, std::string> create{"m.room.create", ""};
  const std::pair<std::string, std::string> levels{"m.room.power_levels", ""};
  const std::pair<std::string, std::string> rules{"m.room.join_rules", ""};
  auto member_key = [](const char* user) {
    return std::pair<std::string, std::string>{"m.room.member", user};
  };

  CHECK(auth_event_keys(message(kBob)) == Keys{create, levels, member_key(kBob)});
  CHECK(auth_event_keys(state_event("m.room.topic", "", kBob, {})) ==
        Keys{create, levels, member_key(kBob)});
  // Joining yourself: the sender's and target's member event are one.
  CHECK(auth_event_keys(member(kBob, kBob, "join")) ==
        Keys{create, levels, member_key(kBob), rules});
  CHECK(auth_event_keys(member(kBob, kBob, "knock")) ==
        Keys{create, levels, member_key(kBob), rules});
  CHECK(auth_event_keys(member(kAlice, kBob, "invite")) ==
        Keys{create, levels, member_key(kAlice), member_key(kBob), rules});
  CHECK(auth_event_keys(member(kAlice, kBob, "ban")) ==
        Keys{create, levels, member_key(kAlice), member_key(kBob)});
  CHECK(auth_event_keys(member(kBob, kBob, "leave")) == Keys{create, levels, member_key(kBob)});
  CHECK(auth_event_keys(member(kBob, kBob, "join", {{"join_authorised_via_users_server", kMod}})) ==
        Keys{create, levels, member_key(kBob), rules, member_key(kMod)});
  // Only joins are authorised via a user.
  CHECK(
      auth_event_keys(member(kBob, kBob, "knock", {{"join_authorised_via_users_server", kMod}})) ==
      Keys{create, levels, member_key(kBob), rules});
  const json third_party = {
      {"third_party_invite",
       {{"display_name", "b"}, {"signed", {{"mxid", kBob}, {"token", "tok"}}}}}};
  CHECK(auth_event_keys(member(kAlice, kBob, "invite", third_party)) ==
        Keys{create,
             levels,
             member_key(kAlice),
             member_key(kBob),
             rules,
             {"m.room.third_party_invite", "tok"}});
  CHECK(auth_event_keys(json::object()).empty());
}

TEST_CASE("auth: the state keeps the latest event per type and state key", "[matrix][auth]") {
  AuthState state;
  CHECK(state.get("m.room.member", kBob) == nullptr);
  state.put(member(kBob, kBob, "join"));
  state.put(member(kBob, kBob, "leave"));
  state.put(message(kBob));  // not state: ignored
  CHECK(state.size() == 1);
  const json* event = state.get("m.room.member", kBob);
  REQUIRE(event);
  CHECK((*event)["content"]["membership"] == "leave");
  CHECK(state.get("m.room.member", kAlice) == nullptr);
  CHECK(state.get("m.room.member", "") == nullptr);
  state.erase("m.room.member", kBob);
  CHECK(state.size() == 0);
}

TEST_CASE("auth: knocking and restricted joins follow the room version's features",
          "[matrix][auth]") {
  // Both supported versions have them; a version without them must treat the
  // join rules as unknown rather than as public.
  RoomVersion old = kRoomVersion10;
  old.knock = false;
  old.restricted_join = false;
  const json via_alice = {{"join_authorised_via_users_server", kAlice}};
  for (const char* rule : {"knock", "knock_restricted"}) {
    const AuthState state = make_room(old, rule, {}, kNoPatch);
    check_result(check_auth(member(kBob, kBob, "knock"), state, old), false);
  }
  for (const char* rule : {"restricted", "knock_restricted"}) {
    const AuthState state = make_room(old, rule, {}, kNoPatch);
    check_result(check_auth(member(kBob, kBob, "join", via_alice), state, old), false);
  }
  const AuthState invited = make_room(old, "knock", {{kBob, "invite"}}, kNoPatch);
  check_result(check_auth(member(kBob, kBob, "join"), invited, old), false);
}
