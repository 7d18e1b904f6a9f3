// What the sync providers need from the rest of the server, owned by sync/ so
// that sync/ depends on nothing above it: whoever serves /sync (today
// client/sync.cpp) builds one SyncDeps from its services at start-up.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace eltrix::storage {
class Database;
}

namespace eltrix::sync {

/// Who is typing where (spec: "Typing Notifications"), as a sync reads it.
/// Ephemeral, kept in memory by the typing service, which implements this.
class TypingSource {
 public:
  virtual ~TypingSource() = default;
  /// A counter that grows with every change (the sync token's typing part).
  [[nodiscard]] virtual std::uint64_t serial() const = 0;
  /// The m.typing event content for `room_id` ({"user_ids": [...]}) if it
  /// changed after `since_serial` (always when since_serial is 0).
  [[nodiscard]] virtual std::optional<nlohmann::json> typing_since(const std::string& room_id,
                                                                   std::uint64_t since_serial) = 0;
};

struct SyncDeps {
  storage::Database& db;
  TypingSource& typing;
  /// rooms.max_events_scanned: rows one timeline reads from a room through a
  /// filter (rooms/room_scan.h).
  std::size_t max_events_scanned = 2000;
};

}  // namespace eltrix::sync
