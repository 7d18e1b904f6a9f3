#include "fixture.h"

#include "rooms/event_store.h"
#include "storage/stream.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace eltrix::test {

SyncFixture::SyncFixture() : db(options_for(scratch.url), routing, metrics) {
  storage::apply_migrations(db);
}

namespace {

/// Until readers see `position` (D31: a write transaction elsewhere in the
/// PostgreSQL cluster, e.g. another test suite's, holds the readers' bound
/// back while it runs). The server's clients see the same: their next sync
/// returns the write once the bound passes it.
void await_visible(storage::Database& db, std::int64_t position) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (db.read([](storage::Transaction& tx) { return storage::current_stream(tx); }) < position) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("stream position " + std::to_string(position) +
                               " not visible after 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

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
  await_visible(db, created.event.stream_ordering);
  return room_id;
}

std::string SyncFixture::send(const std::string& room_id, const std::string& sender,
                              const std::string& type, const nlohmann::json& content,
                              const std::optional<std::string>& state_key) {
  const auto sent = rooms.send(
      room_id, {.type = type, .sender = sender, .content = content, .state_key = state_key});
  if (sent.outcome.is_rejected()) throw std::runtime_error(sent.outcome.reason);
  await_visible(db, sent.event.stream_ordering);
  return sent.event.event_id;
}

void SyncFixture::membership(const std::string& room_id, const std::string& sender,
                             const std::string& target, const std::string& membership) {
  const auto changed = rooms.change_membership(
      {.room_id = room_id, .sender = sender, .target = target, .membership = membership});
  if (changed.outcome.is_rejected()) throw std::runtime_error(changed.outcome.reason);
  await_visible(db, changed.event.stream_ordering);
}

void SyncFixture::settle() {
  // A transaction started after those writes committed: once readers see
  // its position, every older transaction has ended too.
  await_visible(db, db.write([](storage::Transaction& tx) { return storage::advance_stream(tx); }));
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
