// Who is typing in which room (spec: "Typing Notifications"). Ephemeral: kept
// in memory with timeouts, never in PostgreSQL.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace eltrix::client {

class TypingState {
 public:
  virtual ~TypingState() = default;
  /// Starts (timeout > 0) or stops typing; wakes the room's syncs on change.
  virtual void set_typing(const std::string& room_id, const std::string& user_id, bool typing,
                          std::chrono::milliseconds timeout) = 0;
  /// A counter that grows with every change (the sync token's typing part).
  [[nodiscard]] virtual std::uint64_t serial() const = 0;
  /// The m.typing event content for `room_id` ({"user_ids": [...]}) if it
  /// changed after `since_serial` (always when since_serial is 0).
  [[nodiscard]] virtual std::optional<nlohmann::json> typing_since(const std::string& room_id,
                                                                   std::uint64_t since_serial) = 0;
};

}  // namespace eltrix::client
