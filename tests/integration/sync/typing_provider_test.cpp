// The typing provider: its own position (the typing serial), per joined room.
#include "fixture.h"
#include "sync/providers.h"

#include <catch2/catch.hpp>

namespace eltrix::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("typing provider: changes after the token's serial", "[sync][provider][typing]") {
  SyncFixture f;
  const auto typing = sync::typing_provider();
  const auto alice = SyncFixture::user("alice");
  const auto bob = SyncFixture::user("bob");
  const auto room = f.create_room(alice);
  f.membership(room, bob, bob, "join");
  const auto other = f.create_room(bob);  // alice is not in it

  // Nobody typing: an initial sync gets no typing event.
  auto initial = f.run(*typing, alice, std::nullopt);
  CHECK_FALSE(initial.wrote);
  CHECK(initial.body == json::object());

  const auto since = f.now();
  CHECK_FALSE(f.run(*typing, alice, since).has_updates);

  f.typing.set_typing(room, bob, true, 30s);
  f.typing.set_typing(other, bob, true, 30s);
  auto typed = f.run(*typing, alice, since);
  CHECK(typed.to.typing == f.typing.serial());
  CHECK(typed.to.typing > since.typing);
  CHECK(typed.has_updates);
  CHECK(typed.wrote);
  CHECK(typed.body["rooms"]["join"].size() == 1);  // not bob's other room
  CHECK(typed.body["rooms"]["join"][room]["ephemeral"]["events"] ==
        json::array({{{"type", "m.typing"}, {"content", {{"user_ids", {bob}}}}}}));

  // Seen: nothing new at the returned token; a stop is news again.
  CHECK_FALSE(f.run(*typing, alice, typed.to).has_updates);
  f.typing.set_typing(room, bob, false, 0ms);
  auto stopped = f.run(*typing, alice, typed.to);
  CHECK(stopped.wrote);
  CHECK(stopped.body["rooms"]["join"][room]["ephemeral"]["events"][0]["content"]["user_ids"] ==
        json::array());

  // A token from a node whose clock leads is never moved backwards.
  sync::SyncToken ahead{since.stream, f.typing.serial() + 1000000};
  CHECK(f.run(*typing, alice, ahead).to.typing == ahead.typing);
}

}  // namespace
}  // namespace eltrix::test
