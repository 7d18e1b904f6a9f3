#include "fixture.h"

#include "matrix/power_levels.h"
#include "rooms/event_store.h"
#include "storage/stream.h"

#include <atomic>

namespace eltrix::test {

SyncFixture::SyncFixture() : db(options_for(scratch.url), routing, metrics) {
  storage::apply_migrations(db);
}

std::string SyncFixture::create_room(const std::string& creator) {
  static std::atomic<int> counter{0};
  const std::string room_id = "!room" + std::to_string(++counter) + ":test";
  db.write([&](storage::Transaction& tx) {
    tx.exec(
        "INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) "
        "VALUES ($1, '10', $2, true, $3)",
        room_id, creator, rooms::now_ms());
  });
  send(room_id, creator, "m.room.create", {{"room_version", "10"}, {"creator", creator}}, "");
  membership(room_id, creator, creator, "join");
  send(room_id, creator, "m.room.power_levels", matrix::default_power_levels_content(creator, {}),
       "");
  send(room_id, creator, "m.room.join_rules", {{"join_rule", "public"}}, "");
  send(room_id, creator, "m.room.history_visibility", {{"history_visibility", "shared"}}, "");
  return room_id;
}

std::string SyncFixture::send(const std::string& room_id, const std::string& sender,
                              const std::string& type, const nlohmann::json& content,
                              const std::optional<std::string>& state_key) {
  return rooms.send_event(room_id, sender, type, content, state_key).event_id;
}

void SyncFixture::membership(const std::string& room_id, const std::string& sender,
                             const std::string& target, const std::string& membership) {
  send(room_id, sender, "m.room.member", {{"membership", membership}}, target);
}

std::int64_t SyncFixture::position() {
  return db.read([](storage::Transaction& tx) { return storage::current_stream(tx); });
}

sync::SyncToken SyncFixture::now() {
  return {position(), typing.serial()};
}

ProviderRun SyncFixture::run(const sync::StreamProvider& provider, const std::string& user,
                             std::optional<sync::SyncToken> since, const sync::Filter& filter) {
  sync::SyncRequest request{.who = {user, "DEVICE"}, .since = since, .filter = filter};
  return db.read([&](storage::Transaction& tx) {
    sync::SyncState state(deps, request, tx);
    ProviderRun out;
    provider.current_position(state, out.to);
    provider.wake_keys(state, out.wake_keys);
    sync::SyncResponse response;
    provider.init(state, response);
    out.has_updates = provider.has_updates(state);
    out.wrote = provider.write(state, response);
    provider.finish(state, response);
    out.body = std::move(response.body);
    return out;
  });
}

}  // namespace eltrix::test
