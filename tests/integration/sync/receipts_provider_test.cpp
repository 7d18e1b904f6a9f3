// The receipts provider: m.receipt per joined room for receipts stamped in
// the window; private receipts only for their owner.
#include "fixture.h"
#include "storage/user_data.h"
#include "sync/providers.h"

#include <catch2/catch.hpp>

namespace eltrix::test {
namespace {

using nlohmann::json;

void put_receipt(SyncFixture& f, const std::string& room, const std::string& user,
                 const std::string& type, const std::string& event_id) {
  f.db.write([&](storage::Transaction& tx) {
    auto stream = storage::event_stream_in_room(tx, room, event_id);
    REQUIRE(stream);
    storage::put_receipt(tx,
                         storage::Receipt{.room_id = room,
                                          .user_id = user,
                                          .receipt_type = type,
                                          .event_id = event_id,
                                          .ts = 1234},
                         *stream);
  });
  f.settle();
}

TEST_CASE("receipts provider: receipts in the window", "[sync][provider][receipts]") {
  SyncFixture f;
  const auto receipts = sync::receipts_provider();
  const auto alice = SyncFixture::user("alice");
  const auto bob = SyncFixture::user("bob");
  const auto room = f.create_room(alice);
  f.membership(room, bob, bob, "join");
  const auto message =
      f.send(room, alice, "m.room.message", {{"msgtype", "m.text"}, {"body", "hi"}});

  const auto since = f.now();
  CHECK_FALSE(f.run(*receipts, alice, since).has_updates);

  // bob's private receipt is not for alice.
  put_receipt(f, room, bob, "m.read.private", message);
  auto hidden = f.run(*receipts, alice, since);
  CHECK_FALSE(hidden.has_updates);
  CHECK_FALSE(hidden.wrote);
  auto own = f.run(*receipts, bob, since);
  CHECK(own.has_updates);
  CHECK(own.wrote);

  put_receipt(f, room, bob, "m.read", message);
  const auto floor = f.position();
  auto seen = f.run(*receipts, alice, since);
  CHECK(seen.has_updates);
  CHECK(seen.wrote);
  // The bound at the run: other writers in the cluster may move it on (D31).
  CHECK(seen.to.stream >= floor);
  CHECK(seen.to.stream <= f.position());
  CHECK(seen.body["rooms"]["join"][room]["ephemeral"]["events"] ==
        json::array({{{"type", "m.receipt"},
                      {"content", {{message, {{"m.read", {{bob, {{"ts", 1234}}}}}}}}}}}));

  // Nothing after the returned position.
  CHECK_FALSE(f.run(*receipts, alice, seen.to).has_updates);
}

}  // namespace
}  // namespace eltrix::test
