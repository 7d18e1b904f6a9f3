// What the admin API restricts about a user, as the Client-Server API
// applies it (docs/admin-api.md):
//  - shadow ban: the user's messages and state events are answered with an
//    event ID as usual but never stored or delivered, and their invites are
//    dropped the same way, so they do not notice;
//  - rate limit override: the user's sending is limited by their own rate
//    (messages_per_second, burst_count) instead of ratelimit.send_*; 0 and
//    0 means not limited at all.
// Read per request from the cache (storage::user_restrictions_cache_key,
// kept kRestrictionsTtl), else from the database; the admin API erases the
// entry on a change.
#pragma once

#include "client/context.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace eltrix::client {

inline constexpr std::chrono::seconds kRestrictionsTtl{60};

struct UserRestrictions {
  bool shadow_banned = false;
  /// Per minute and burst, from the override; none: the configured limits.
  std::optional<std::pair<std::int64_t, std::int64_t>> send_limit;
  bool send_unlimited = false;
};

UserRestrictions restrictions_of(Context& ctx, const std::string& user_id);

/// The send rate limit for `user_id`, with their override if any.
void check_send_limit(Context& ctx, const std::string& user_id,
                      const UserRestrictions& restrictions);

/// "$" + random: the event ID a shadow-banned user is answered with.
std::string fake_event_id();

}  // namespace eltrix::client
