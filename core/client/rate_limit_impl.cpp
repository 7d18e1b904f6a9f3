#include "client/rate_limit_impl.h"

#include "client/context.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "metrics/registry.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace eltrix::client {
namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::size_t index_of(RateLimitedAction action) {
  return static_cast<std::size_t>(action);
}

constexpr std::array<RateLimitedAction, kRateLimitedActionCount> kActions = {
    RateLimitedAction::login,    RateLimitedAction::register_account, RateLimitedAction::send,
    RateLimitedAction::password, RateLimitedAction::create_room,      RateLimitedAction::join,
    RateLimitedAction::profile};

}  // namespace

RateWindow window_for(const RateLimit& limit) {
  const std::int64_t per_minute = std::max<std::int64_t>(1, limit.per_minute);
  const std::int64_t burst = std::max<std::int64_t>(1, limit.burst);
  // The time the sustained rate takes to earn a whole burst, rounded to the
  // nearest second (windows are counted by a TTL in whole seconds).
  const std::int64_t seconds =
      std::max<std::int64_t>(1, (burst * 60 + per_minute / 2) / per_minute);
  // When rounding made the window longer than the burst covers (high rates),
  // allow what the rate allows in that window, never less than the burst.
  const std::int64_t limit_in_window = std::max(burst, per_minute * seconds / 60);
  return {seconds, limit_in_window};
}

std::string_view action_name(RateLimitedAction action) {
  switch (action) {
    case RateLimitedAction::login: return "login";
    case RateLimitedAction::register_account: return "register";
    case RateLimitedAction::send: return "send";
    case RateLimitedAction::password: return "password";
    case RateLimitedAction::create_room: return "create_room";
    case RateLimitedAction::join: return "join";
    case RateLimitedAction::profile: return "profile";
  }
  return "unknown";
}

CacheRateLimiter::CacheRateLimiter(plugin::Cache& cache, bool enabled,
                                   const std::array<RateLimit, kRateLimitedActionCount>& limits,
                                   metrics::Registry* metrics, Clock clock)
    : cache_(cache), enabled_(enabled), clock_(clock ? std::move(clock) : Clock(system_now_ms)) {
  for (auto action : kActions) windows_[index_of(action)] = window_for(limits[index_of(action)]);
  if (metrics != nullptr) {
    for (auto action : kActions) {
      rejected_[index_of(action)] = &metrics->counter(
          "eltrix_ratelimit_rejected_total", "Requests refused with 429 M_LIMIT_EXCEEDED.",
          {{"action", std::string(action_name(action))}});
    }
    cache_errors_ = &metrics->counter(
        "eltrix_ratelimit_cache_errors_total",
        "Rate-limit checks that could not reach the cache; the request was let through.");
  }
}

void CacheRateLimiter::check(RateLimitedAction action, std::string_view key) {
  if (!enabled_) return;
  count(action, key, windows_[index_of(action)], "");
}

void CacheRateLimiter::check_with(RateLimitedAction action, std::string_view key,
                                  std::int64_t per_minute, std::int64_t burst) {
  if (!enabled_) return;
  const RateWindow window = window_for({per_minute, burst});
  count(action, key, window, fmt::format("o{}x{}", window.limit, window.seconds));
}

void CacheRateLimiter::count(RateLimitedAction action, std::string_view key,
                             const RateWindow& window, std::string_view tag) {
  const std::int64_t now = clock_();
  const std::int64_t window_ms = window.seconds * 1000;
  const std::int64_t index = now / window_ms;
  // The window number is part of the key, so each window starts from zero
  // even if a backend kept the previous key a little longer than its TTL.
  const std::string cache_key = fmt::format("rl:{}{}:{}:{}", action_name(action), tag, index, key);
  std::int64_t count = 0;
  try {
    // The TTL outlives the window by a second so that a key never expires
    // (and restarts at 1) before its window is over.
    count = cache_.increment(cache_key, 1, std::chrono::seconds(window.seconds + 1));
  } catch (...) {
    if (cache_errors_ != nullptr) cache_errors_->inc();
    return;
  }
  if (count <= window.limit) return;
  if (auto* counter = rejected_[index_of(action)]) counter->inc();
  const std::int64_t retry_after_ms = std::max<std::int64_t>(1, (index + 1) * window_ms - now);
  throw http::MatrixError(429, "M_LIMIT_EXCEEDED", "Too many requests; try again later")
      .with("retry_after_ms", retry_after_ms);
}

std::unique_ptr<RateLimiter> make_rate_limiter(const config::Config& config, plugin::Cache& cache,
                                               metrics::Registry& metrics) {
  namespace keys = config::keys;
  std::array<RateLimit, kRateLimitedActionCount> limits{};
  auto set = [&](RateLimitedAction action, const char* per_minute, std::int64_t per_minute_default,
                 const char* burst, std::int64_t burst_default) {
    limits[index_of(action)] = {config.get_int(per_minute, per_minute_default),
                                config.get_int(burst, burst_default)};
  };
  set(RateLimitedAction::login, keys::kRateLimitLoginPerMinute, 10, keys::kRateLimitLoginBurst, 5);
  set(RateLimitedAction::register_account, keys::kRateLimitRegisterPerMinute, 10,
      keys::kRateLimitRegisterBurst, 5);
  set(RateLimitedAction::send, keys::kRateLimitSendPerMinute, 300, keys::kRateLimitSendBurst, 50);
  set(RateLimitedAction::password, keys::kRateLimitPasswordPerMinute, 10,
      keys::kRateLimitPasswordBurst, 5);
  set(RateLimitedAction::create_room, keys::kRateLimitCreateRoomPerMinute, 6,
      keys::kRateLimitCreateRoomBurst, 10);
  set(RateLimitedAction::join, keys::kRateLimitJoinPerMinute, 6, keys::kRateLimitJoinBurst, 10);
  set(RateLimitedAction::profile, keys::kRateLimitProfilePerMinute, 12,
      keys::kRateLimitProfileBurst, 10);
  return std::make_unique<CacheRateLimiter>(cache, config.get_bool(keys::kRateLimitEnabled, true),
                                            limits, &metrics);
}

std::string client_address(http::Request& request) {
  try {
    return request.raw().clientAddress().host().toString();
  } catch (const std::logic_error&) {
    return {};  // no connection behind the request (unit tests)
  }
}

http::Response limit_exceeded_response(const http::MatrixError& error) {
  return http::Response::error(error);  // which adds Retry-After
}

std::optional<http::Response> rate_limited(Context& ctx, RateLimitedAction action,
                                           std::string_view key) {
  try {
    ctx.rate_limiter.check(action, key);
  } catch (const http::MatrixError& e) {
    if (e.status() != 429) throw;
    return limit_exceeded_response(e);
  }
  return std::nullopt;
}

std::optional<http::Response> password_attempt_limited(Context& ctx,
                                                       const std::optional<std::string>& user_id,
                                                       std::string_view address) {
  // The account first: a guesser with a stolen token, or one spreading
  // guesses over many addresses, is stopped per account; one address trying
  // many accounts is stopped per address. Both count every attempt,
  // successful or not, because each one costs a hash.
  if (user_id) {
    if (auto limited = rate_limited(ctx, RateLimitedAction::password, "user:" + *user_id)) {
      return limited;
    }
  }
  return rate_limited(ctx, RateLimitedAction::password, "addr:" + std::string(address));
}

}  // namespace eltrix::client
