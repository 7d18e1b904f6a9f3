// A scratch database with the schema, a room service and a typing state:
// what the sync providers read, built from the real parts. Each test case
// gets its own database.
#pragma once

#include "../storage/support.h"
#include "metrics/registry.h"
#include "notify/notifier.h"
#include "rooms/room_service_impl.h"
#include "rooms/server_keys.h"
#include "services/typing_state.h"
#include "storage/database.h"
#include "sync/stream_provider.h"
#include "sync/sync_deps.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace eltrix::test {

/// What one provider answered for one window.
struct ProviderRun {
  sync::SyncToken to;
  bool has_updates = false;
  bool wrote = false;
  nlohmann::json body;
  std::vector<std::string> wake_keys;
};

class SyncFixture {
 public:
  SyncFixture();

  /// "@<name>:test".
  static std::string user(const std::string& name) { return "@" + name + ":test"; }

  /// A public room with shared history, created and joined by `creator`.
  std::string create_room(const std::string& creator);
  /// Sends a state or message event; returns its event ID.
  std::string send(const std::string& room_id, const std::string& sender, const std::string& type,
                   const nlohmann::json& content,
                   const std::optional<std::string>& state_key = std::nullopt);
  void membership(const std::string& room_id, const std::string& sender, const std::string& target,
                  const std::string& membership);
  /// Waits until readers see every write committed before the call (D31: a
  /// write transaction elsewhere in the cluster holds the readers' bound back).
  void settle();
  /// The newest position of the shared stream.
  std::int64_t position();
  /// A sync token at the current positions (stream and typing).
  sync::SyncToken now();

  /// Runs `provider` as the builder does for `user` over (since, now]
  /// (since: none for an initial sync): position, init, has_updates, and
  /// write (even when has_updates is false, to show it then writes nothing),
  /// then finish.
  ProviderRun run(const sync::StreamProvider& provider, const std::string& user,
                  std::optional<sync::SyncToken> since, const sync::Filter& filter = {});

  ScratchDatabase scratch;
  metrics::Registry metrics;
  FixedRouting routing;
  storage::Database db;
  rooms::ServerKeys keys{db};
  notify::Notifier notifier{metrics, 100};
  rooms::RoomServiceImpl rooms{db, keys, notifier, "test"};
  services::TypingStateImpl typing{[](const std::string&) {},
                                   services::TypingOptions{.sweep_interval = {}}};
  sync::SyncDeps deps{.db = db, .typing = typing};
};

}  // namespace eltrix::test
