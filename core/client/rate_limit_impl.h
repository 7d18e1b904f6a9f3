// The rate limiter behind client::RateLimiter: fixed windows counted with the
// cache plugin's atomic increment, so that with a shared cache (Redis) every
// node counts against the same limit.
//
// Each action has a sustained rate (per_minute) and a burst. They are turned
// into one fixed window: `burst` requests per window of burst*60/per_minute
// seconds (rounded to whole seconds). That admits a burst at once and the
// per-minute rate over time. Windows are aligned to the wall clock, so all
// nodes agree on where a window starts; at a window boundary a client can
// get up to two bursts back to back, the usual fixed-window trade-off.
//
// Keys: login and registration count per client address, which is the TCP
// peer address. X-Forwarded-For is NOT trusted yet (a client could set it to
// anything), so behind a load balancer all clients share the balancer's
// address: raise the limits there, or disable them (ratelimit.enabled).
// Sending, room creation, joins and profile changes count per user ID.
// Password checks (login and user-interactive auth) count twice, per user
// and per client address, so that neither a stolen access token nor one
// address can guess passwords quickly; see check_password_attempt.
//
// A failing cache lets requests through: the limits protect the server, and
// refusing every login because Redis is down would be worse.
#pragma once

#include "client/rate_limit.h"
#include "http/router.h"

#include <eltrix/plugin/cache.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace eltrix::config {
class Config;
}
namespace eltrix::metrics {
class Registry;
class Counter;
}  // namespace eltrix::metrics

namespace eltrix::client {

struct Context;

struct RateLimit {
  std::int64_t per_minute = 10;
  std::int64_t burst = 5;
};

/// The fixed window a RateLimit becomes: at most `limit` requests per
/// `seconds` (both at least 1).
struct RateWindow {
  std::int64_t seconds = 60;
  std::int64_t limit = 10;
};
RateWindow window_for(const RateLimit& limit);

/// "login", "register", "send", "password", "create_room", "join" or
/// "profile": the metric label and cache-key part.
std::string_view action_name(RateLimitedAction action);

class CacheRateLimiter final : public RateLimiter {
 public:
  /// Milliseconds since the Unix epoch (tests pass a fake clock).
  using Clock = std::function<std::int64_t()>;

  /// `metrics` may be null (tests). The cache must outlive the limiter.
  CacheRateLimiter(
      plugin::Cache& cache, bool enabled,
      const std::array<RateLimit, kRateLimitedActionCount>& limits,  // indexed by RateLimitedAction
      metrics::Registry* metrics, Clock clock = {});

  void check(RateLimitedAction action, std::string_view key) override;
  void check_with(RateLimitedAction action, std::string_view key, std::int64_t per_minute,
                  std::int64_t burst) override;

 private:
  /// Counts in `window`; `tag` keeps the counts of overridden keys apart.
  void count(RateLimitedAction action, std::string_view key, const RateWindow& window,
             std::string_view tag);

  plugin::Cache& cache_;
  bool enabled_;
  std::array<RateWindow, kRateLimitedActionCount> windows_;
  Clock clock_;
  std::array<metrics::Counter*, kRateLimitedActionCount> rejected_{};
  metrics::Counter* cache_errors_ = nullptr;
};

/// The limiter configured by ratelimit.* (see config/client_keys.h).
std::unique_ptr<RateLimiter> make_rate_limiter(const config::Config& config, plugin::Cache& cache,
                                               metrics::Registry& metrics);

/// The address rate limits key on: the TCP peer's IP address ("" when the
/// request has no connection, as in unit tests).
std::string client_address(http::Request& request);

/// Runs ctx.rate_limiter.check(action, key) and, when it refuses, returns the
/// 429 response with both retry_after_ms and the Retry-After header (which
/// the spec recommends since v1.10). Nullopt when the request may proceed.
std::optional<http::Response> rate_limited(Context& ctx, RateLimitedAction action,
                                           std::string_view key);

/// Counts one password check for `user_id` (when known) and for the client
/// `address` (ratelimit.password_*). Call it before computing any hash
/// (verify_user_password, burn_verification_time). Returns the 429 response
/// (with Retry-After) when either is over the limit; nullopt to proceed.
std::optional<http::Response> password_attempt_limited(Context& ctx,
                                                       const std::optional<std::string>& user_id,
                                                       std::string_view address);

/// The 429 response for a limiter's MatrixError, with a Retry-After header
/// (whole seconds, rounded up) derived from its retry_after_ms.
http::Response limit_exceeded_response(const http::MatrixError& error);

}  // namespace eltrix::client
