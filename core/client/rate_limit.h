// Rate limiting per endpoint class (spec: M_LIMIT_EXCEEDED with
// retry_after_ms). Counters live in the cache plugin so every node shares them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace eltrix::client {

/// What is counted. Keys: a client address (login, registration), a user ID
/// (send, room creation, joins, profile changes), or both, one check each
/// (password checks: "user:<id>" and "addr:<address>").
enum class RateLimitedAction {
  login,
  register_account,
  send,
  /// Every password verified (login and user-interactive auth): each costs
  /// an Argon2id hash, so it is counted before the hash is computed.
  password,
  create_room,
  join,
  /// Display name and avatar changes (each writes a member event per room).
  profile,
};

/// How many RateLimitedAction values there are.
inline constexpr std::size_t kRateLimitedActionCount = 7;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  /// Counts one `action` by `key` (a user ID, or a client address before
  /// login). Throws http::MatrixError 429 M_LIMIT_EXCEEDED with
  /// retry_after_ms when over the limit. A failing cache lets requests through.
  virtual void check(RateLimitedAction action, std::string_view key) = 0;
  /// As check(), with a sustained rate and burst given for this key instead
  /// of the configured ones (a user's override from the admin API).
  virtual void check_with(RateLimitedAction action, std::string_view key, std::int64_t per_minute,
                          std::int64_t burst) = 0;
};

}  // namespace eltrix::client
