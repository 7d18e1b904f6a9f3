// The presence provider: the user's own presence and that of everyone
// sharing a joined room, changed in the window.
#include "fixture.h"
#include "rooms/event_store.h"
#include "storage/user_data.h"
#include "sync/providers.h"

#include <catch2/catch.hpp>

namespace eltrix::test {
namespace {

using nlohmann::json;

void set_presence(SyncFixture& f, const std::string& user, const std::string& state) {
  f.db.write([&](storage::Transaction& tx) {
    storage::put_presence(tx, user, state, std::string("busy"), rooms::now_ms(), std::nullopt);
  });
  f.settle();
}

TEST_CASE("presence provider: room-mates and oneself", "[sync][provider][presence]") {
  SyncFixture f;
  const auto presence = sync::presence_provider();
  const auto alice = SyncFixture::user("alice");
  const auto bob = SyncFixture::user("bob");
  const auto carol = SyncFixture::user("carol");
  const auto room = f.create_room(alice);
  f.membership(room, bob, bob, "join");
  f.create_room(carol);

  const auto since = f.now();
  auto idle = f.run(*presence, alice, since);
  CHECK_FALSE(idle.has_updates);
  CHECK(idle.body == json{{"presence", {{"events", json::array()}}}});

  set_presence(f, carol, "online");  // shares no room with alice
  CHECK_FALSE(f.run(*presence, alice, since).has_updates);

  set_presence(f, bob, "online");
  auto seen = f.run(*presence, alice, since);
  CHECK(seen.has_updates);
  CHECK(seen.wrote);
  REQUIRE(seen.body["presence"]["events"].size() == 1);
  const json& event = seen.body["presence"]["events"][0];
  CHECK(event["type"] == "m.presence");
  CHECK(event["sender"] == bob);
  CHECK(event["content"]["presence"] == "online");
  CHECK(event["content"]["status_msg"] == "busy");
  CHECK(event["content"]["currently_active"] == true);

  // Initial: everyone online that alice may see, herself included once set.
  set_presence(f, alice, "unavailable");
  auto initial = f.run(*presence, alice, std::nullopt);
  std::set<std::string> senders;
  for (const auto& e : initial.body["presence"]["events"]) senders.insert(e["sender"]);
  CHECK(senders == std::set<std::string>{alice, bob});

  CHECK_FALSE(f.run(*presence, alice, f.now()).has_updates);
}

}  // namespace
}  // namespace eltrix::test
