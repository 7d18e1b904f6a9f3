// The m.presence event content, shared by /sync's presence section and
// GET /presence/{userId}/status (client/presence.h).
#pragma once

#include "storage/user_data.h"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace eltrix::sync {

/// A user is "currently_active" while online and active within this.
inline constexpr std::int64_t kCurrentlyActiveMs = 120000;

/// The m.presence content (spec: presence, last_active_ago, currently_active,
/// status_msg; displayname and avatar_url when `profile` has them).
nlohmann::json presence_content(const storage::Presence& presence, std::int64_t now_ms,
                                const storage::Profile* profile = nullptr);

}  // namespace eltrix::sync
