// The rooms provider: joined rooms' timelines and state, invites, leaves,
// and what it tells the builder about a window.
#include "fixture.h"
#include "notify/notifier.h"
#include "sync/providers.h"

#include <catch2/catch.hpp>

namespace eltrix::test {
namespace {

using nlohmann::json;

std::vector<std::string> bodies(const json& timeline) {
  std::vector<std::string> out;
  for (const auto& event : timeline["events"]) {
    if (event["type"] == "m.room.message") out.push_back(event["content"]["body"]);
  }
  return out;
}

TEST_CASE("rooms provider: joined rooms, new events, other rooms", "[sync][provider][rooms]") {
  SyncFixture f;
  const auto rooms = sync::rooms_provider();
  const auto alice = SyncFixture::user("alice");
  const auto carol = SyncFixture::user("carol");
  const auto room = f.create_room(alice);
  f.send(room, alice, "m.room.message", {{"msgtype", "m.text"}, {"body", "first"}});

  // Initial: the room with its state and timeline.
  const auto floor = f.position();
  auto initial = f.run(*rooms, alice, std::nullopt);
  CHECK(initial.wrote);
  // The bound at the run: other writers in the cluster may move it on (D31).
  CHECK(initial.to.stream >= floor);
  CHECK(initial.to.stream <= f.position());
  const json& joined = initial.body["rooms"]["join"][room];
  CHECK(bodies(joined["timeline"]) == std::vector<std::string>{"first"});
  CHECK(joined["summary"]["m.joined_member_count"] == 1);
  CHECK(joined["unread_notifications"]["notification_count"] == 0);
  CHECK(initial.wake_keys == std::vector<std::string>{notify::room_key(room)});

  // Nothing since: no updates, and nothing written.
  const auto since = f.now();
  auto idle = f.run(*rooms, alice, since);
  CHECK_FALSE(idle.has_updates);
  CHECK_FALSE(idle.wrote);
  CHECK(idle.body["rooms"] == json::object());

  // Another user's room moves the stream, but holds nothing for alice.
  f.create_room(carol);
  auto elsewhere = f.run(*rooms, alice, since);
  CHECK(elsewhere.to.stream > since.stream);
  CHECK_FALSE(elsewhere.has_updates);
  CHECK_FALSE(elsewhere.wrote);

  // A message in alice's room: exactly that, not limited, no state.
  f.send(room, alice, "m.room.message", {{"msgtype", "m.text"}, {"body", "second"}});
  auto fresh = f.run(*rooms, alice, since);
  CHECK(fresh.has_updates);
  CHECK(fresh.wrote);
  const json& update = fresh.body["rooms"]["join"][room];
  CHECK(bodies(update["timeline"]) == std::vector<std::string>{"second"});
  CHECK(update["timeline"]["limited"] == false);
  CHECK(update["state"]["events"].empty());
  CHECK(fresh.body["rooms"].count("invite") == 0);
}

TEST_CASE("rooms provider: invites and leaves", "[sync][provider][rooms]") {
  SyncFixture f;
  const auto rooms = sync::rooms_provider();
  const auto alice = SyncFixture::user("alice");
  const auto bob = SyncFixture::user("bob");
  const auto room = f.create_room(alice);
  f.send(room, alice, "m.room.name", {{"name", "Hall"}}, "");
  const auto before_invite = f.now();
  f.membership(room, alice, bob, "invite");

  auto invited = f.run(*rooms, bob, before_invite);
  CHECK(invited.has_updates);
  CHECK(invited.wrote);
  std::set<std::string> types;
  for (const auto& event : invited.body["rooms"]["invite"][room]["invite_state"]["events"]) {
    types.insert(event["type"].get<std::string>());
  }
  CHECK(types == std::set<std::string>{"m.room.create", "m.room.join_rules", "m.room.name",
                                       "m.room.member"});
  CHECK(invited.wake_keys == std::vector<std::string>{notify::room_key(room)});

  // Rejected: the room moves to "leave" with bob's own membership events.
  const auto before_leave = f.now();
  f.membership(room, bob, bob, "leave");
  auto left = f.run(*rooms, bob, before_leave);
  CHECK(left.has_updates);
  CHECK(left.wrote);
  CHECK(left.body["rooms"].count("invite") == 0);
  const json& timeline = left.body["rooms"]["leave"][room]["timeline"]["events"];
  REQUIRE_FALSE(timeline.empty());
  CHECK(timeline.back()["content"]["membership"] == "leave");
  // History visibility: bob never joined, so none of the room's state.
  CHECK(left.body["rooms"]["leave"][room]["state"]["events"].empty());
  CHECK(left.wake_keys.empty());

  // Old news for the next sync, and not in an initial sync without
  // include_leave.
  CHECK_FALSE(f.run(*rooms, bob, f.now()).has_updates);
  auto initial = f.run(*rooms, bob, std::nullopt);
  CHECK_FALSE(initial.wrote);
  CHECK(initial.body["rooms"] == json::object());
}

}  // namespace
}  // namespace eltrix::test
