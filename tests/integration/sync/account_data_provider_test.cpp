// The account data provider: the user's global data at the top level, room
// data in the joined room; nobody else's.
#include "fixture.h"
#include "storage/user_data.h"
#include "sync/providers.h"

#include <catch2/catch.hpp>

namespace eltrix::test {
namespace {

using nlohmann::json;

void put(SyncFixture& f, const std::string& user, const std::string& room, const std::string& type,
         const json& content) {
  f.db.write([&](storage::Transaction& tx) {
    storage::put_account_data(tx, user, room, type, content.dump());
  });
  f.settle();
}

TEST_CASE("account data provider: global and per room", "[sync][provider][account_data]") {
  SyncFixture f;
  const auto account_data = sync::account_data_provider();
  const auto alice = SyncFixture::user("alice");
  const auto bob = SyncFixture::user("bob");
  const auto room = f.create_room(alice);

  const auto since = f.now();
  auto idle = f.run(*account_data, alice, since);
  CHECK_FALSE(idle.has_updates);
  CHECK_FALSE(idle.wrote);
  // Always present, even empty.
  CHECK(idle.body == json{{"account_data", {{"events", json::array()}}}});

  put(f, bob, "", "m.direct", {{"x", 1}});
  CHECK_FALSE(f.run(*account_data, alice, since).has_updates);

  put(f, alice, "", "m.direct", {{"@bob:test", {"!dm:test"}}});
  auto global = f.run(*account_data, alice, since);
  CHECK(global.has_updates);
  CHECK(global.wrote);
  CHECK(global.body["account_data"]["events"] ==
        json::array({{{"type", "m.direct"}, {"content", {{"@bob:test", {"!dm:test"}}}}}}));
  CHECK(global.body["rooms"].is_null());

  const auto after_global = global.to;
  put(f, alice, room, "m.tag", {{"tags", {{"u.work", json::object()}}}});
  auto tagged = f.run(*account_data, alice, after_global);
  CHECK(tagged.has_updates);
  CHECK(tagged.wrote);
  CHECK(tagged.body["account_data"]["events"].empty());
  CHECK(tagged.body["rooms"]["join"][room]["account_data"]["events"] ==
        json::array({{{"type", "m.tag"}, {"content", {{"tags", {{"u.work", json::object()}}}}}}}));

  // A filter that drops the type: updates, but nothing written.
  sync::Filter filter;
  filter.account_data.not_types = {"m.direct"};
  filter.room.account_data.not_types = {"m.tag"};
  auto filtered = f.run(*account_data, alice, since, filter);
  CHECK(filtered.has_updates);
  CHECK_FALSE(filtered.wrote);
}

}  // namespace
}  // namespace eltrix::test
