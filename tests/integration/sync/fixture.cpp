#include "fixture.h"

#include "rooms/event_store.h"
#include "storage/stream.h"

#include <atomic>
#include <stdexcept>

namespace eltrix::test {

SyncFixture::SyncFixture() : db(options_for(scratch.url), routing, metrics) {
  storage::apply_migrations(db);
}

std::string SyncFixture::create_room(const std::string& creator) {
  static std::atomic<int> counter{0};
  const std::string room_id = "!room" + std::to_string(++counter) + ":test";
  rooms::CreateRoom request{.creator = creator,
                            .room_id = room_id,
                            .version = "10",
                            .is_public = true,
                            .preset = "public_chat"};
  request.initial_state.push_back(
      {"m.room.history_visibility", "", {{"history_visibility", "shared"}}});
  const auto created = rooms.create_room(request);
  if (created.outcome.is_rejected()) throw std::runtime_error(created.outcome.reason);
  return room_id;
}

std::string SyncFixture::send(const std::string& room_id, const std::string& sender,
                              const std::string& type, const nlohmann::json& content,
                              const std::optional<std::string>& state_key) {
  const auto sent = rooms.send(
      room_id, {.type = type, .sender = sender, .content = content, .state_key = state_key});
  if (sent.outcome.is_rejected()) throw std::runtime_error(sent.outcome.reason);
  return sent.event.event_id;
}

void SyncFixture::membership(const std::string& room_id, const std::string& sender,
                             const std::string& target, const std::string& membership) {
  const auto changed = rooms.change_membership(
      {.room_id = room_id, .sender = sender, .target = target, .membership = membership});
  if (changed.outcome.is_rejected()) throw std::runtime_error(changed.outcome.reason);
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
