// Rate limiting per endpoint class (spec: M_LIMIT_EXCEEDED with
// retry_after_ms). Counters live in the cache plugin so every node shares them.
#pragma once

#include <string_view>

namespace eltrix::client {

enum class RateLimitedAction { login, register_account, send };

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  /// Counts one `action` by `key` (a user ID, or a client address before
  /// login). Throws http::MatrixError 429 M_LIMIT_EXCEEDED with
  /// retry_after_ms when over the limit. A failing cache lets requests through.
  virtual void check(RateLimitedAction action, std::string_view key) = 0;
};

}  // namespace eltrix::client
