// The builder over the standard providers: the empty-response decision, the
// token, and a room sent only for another section's sake.
#include "sync/sync_builder.h"
#include "fixture.h"
#include "notify/notifier.h"
#include "storage/user_data.h"

#include <catch2/catch.hpp>

namespace eltrix::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("sync builder: empty when no provider has anything", "[sync][builder]") {
  SyncFixture f;
  const sync::SyncBuilder builder(f.deps);
  const auto alice = SyncFixture::user("alice");
  const auto bob = SyncFixture::user("bob");
  const auto room = f.create_room(alice);
  f.membership(room, bob, bob, "join");

  auto initial = builder.build({.who = {alice, "D"}});
  CHECK_FALSE(initial.empty);
  CHECK(initial.body["rooms"]["join"].contains(room));
  CHECK(initial.wake_keys ==
        std::vector<std::string>{notify::user_key(alice), notify::room_key(room)});

  auto idle = builder.build({.who = {alice, "D"}, .since = initial.next});
  CHECK(idle.empty);
  // Other writers in the PostgreSQL cluster may move the bound on (D31); never back.
  CHECK(idle.next.stream >= initial.next.stream);
  CHECK(idle.body == json{{"next_batch", sync::format_sync_token(idle.next)},
                          {"rooms", json::object()},
                          {"account_data", {{"events", json::array()}}},
                          {"presence", {{"events", json::array()}}}});

  // Typing only: the room is sent with an empty timeline and its counts.
  f.typing.set_typing(room, bob, true, 30s);
  auto typed = builder.build({.who = {alice, "D"}, .since = initial.next});
  CHECK_FALSE(typed.empty);
  CHECK(typed.next.typing > initial.next.typing);
  const json& joined = typed.body["rooms"]["join"][room];
  CHECK(joined["timeline"] == json{{"events", json::array()},
                                   {"limited", false},
                                   {"prev_batch", sync::format_stream_token(typed.next.stream)}});
  CHECK(joined["ephemeral"]["events"][0]["type"] == "m.typing");
  CHECK(joined["unread_notifications"] == json{{"notification_count", 0}, {"highlight_count", 0}});
  CHECK_FALSE(joined.contains("summary"));

  // Account data the filter drops: the provider had updates but wrote
  // nothing, so the answer is empty (a waiting sync keeps waiting).
  f.db.write([&](storage::Transaction& tx) {
    storage::put_account_data(tx, alice, "", "m.direct", "{}");
  });
  f.settle();
  sync::Filter filter;
  filter.account_data.not_types = {"m.direct"};
  auto filtered = builder.build({.who = {alice, "D"}, .since = typed.next, .filter = filter});
  CHECK(filtered.empty);
  CHECK(filtered.next.stream > typed.next.stream);
  auto unfiltered = builder.build({.who = {alice, "D"}, .since = typed.next});
  CHECK_FALSE(unfiltered.empty);
  CHECK(unfiltered.body["account_data"]["events"][0]["type"] == "m.direct");
}

}  // namespace
}  // namespace eltrix::test
