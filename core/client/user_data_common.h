// Checks and wake-ups shared by the per-user and ephemeral handlers (profile,
// account data, tags, filters, typing, receipts, read markers, presence).
#pragma once

#include "client/auth.h"
#include "client/context.h"
#include "storage/database.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::client {

/// `path_user` checked against the user ID grammar (400 M_INVALID_PARAM),
/// then required to be the requester (403 M_FORBIDDEN with `message`).
std::string require_self(const Requester& who, std::string_view path_user,
                         const std::string& message);
/// A user ID from the path: 400 M_INVALID_PARAM when malformed.
std::string require_user_id(std::string_view user_id);
/// A room ID from the path: 400 M_INVALID_PARAM when malformed.
std::string require_room_id(std::string_view room_id);

/// Whether users `a` and `b` are both joined to some room (presence and,
/// with profile.limit_profile_requests_to_users_who_share_rooms, profiles
/// are visible only then). Bounded by a's joined rooms.
bool share_a_room(storage::Transaction& tx, const std::string& a, const std::string& b);

/// Whether `user_id` is joined to `room_id` now. Reads a replica first and
/// confirms a "no" on the primary, so a user who just joined is not refused
/// because the replica lags.
bool is_joined(Context& ctx, const std::string& room_id, const std::string& user_id);

/// Reads the requester's own mutable data on the primary: a client reading
/// back what it just wrote must see it (DESIGN.md §4), and these endpoints
/// are rare next to /sync.
template <typename F>
auto read_own(Context& ctx, F&& fn) {
  return ctx.db.write(std::forward<F>(fn));
}

/// Wakes waiting syncs. Never throws: a wake-up is a hint (DESIGN.md §4), and
/// a sync that misses it still sees the change at its next database check.
void wake(Context& ctx, const std::vector<std::string>& keys);
void wake_user(Context& ctx, const std::string& user_id);
void wake_room(Context& ctx, const std::string& room_id);

/// Current wall-clock time in milliseconds since the epoch.
std::int64_t now_ms();

}  // namespace eltrix::client
