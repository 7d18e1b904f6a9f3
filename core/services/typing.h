// Who is typing in which room (spec: "Typing Notifications"). Ephemeral: kept
// in memory with timeouts, never in PostgreSQL.
#pragma once

#include "sync/sync_deps.h"

#include <nlohmann/json.hpp>

#include <optional>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace eltrix::services {

/// The reading side (serial(), typing_since()) is what a sync sees
/// (sync/sync_deps.h); this adds the writing side.
class TypingState : public sync::TypingSource {
 public:
  /// Starts (timeout > 0) or stops typing; wakes the room's syncs on change.
  virtual void set_typing(const std::string& room_id, const std::string& user_id, bool typing,
                          std::chrono::milliseconds timeout) = 0;
};

}  // namespace eltrix::services
