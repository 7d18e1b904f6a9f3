#include "client/rate_limit_impl.h"

#include "memory_cache.h"
#include "metrics/registry.h"

#include <catch2/catch.hpp>

using namespace eltrix;
using client::CacheRateLimiter;
using client::RateLimit;
using client::RateLimitedAction;

namespace {

std::array<RateLimit, client::kRateLimitedActionCount> limits(RateLimit login,
                                                              RateLimit reg = {10, 5},
                                                              RateLimit send = {300, 50},
                                                              RateLimit password = {10, 5}) {
  return {login, reg, send, password, RateLimit{6, 10}, RateLimit{6, 10}, RateLimit{12, 10}};
}

/// The retry_after_ms of a refused check, or -1 when it was allowed.
std::int64_t check(CacheRateLimiter& limiter, RateLimitedAction action, std::string_view key) {
  try {
    limiter.check(action, key);
    return -1;
  } catch (const http::MatrixError& e) {
    REQUIRE(e.status() == 429);
    REQUIRE(e.errcode() == "M_LIMIT_EXCEEDED");
    for (const auto& [k, v] : e.extra()) {
      if (k == "retry_after_ms") return v.get<std::int64_t>();
    }
    FAIL("429 without retry_after_ms");
    return 0;
  }
}

}  // namespace

TEST_CASE("rate windows: the burst at once, the per-minute rate over time") {
  // 10/min with a burst of 5: 5 per 30 s, which is 10 per minute.
  auto w = client::window_for({10, 5});
  CHECK(w.seconds == 30);
  CHECK(w.limit == 5);
  w = client::window_for({300, 50});
  CHECK(w.seconds == 10);
  CHECK(w.limit == 50);
  // Rates above one burst per second: whole-second windows admit the rate.
  w = client::window_for({600, 1});
  CHECK(w.seconds == 1);
  CHECK(w.limit == 10);
  // Nonsense values are clamped rather than dividing by zero.
  w = client::window_for({0, 0});
  CHECK(w.seconds >= 1);
  CHECK(w.limit >= 1);
}

TEST_CASE("requests beyond the burst get 429 with retry_after_ms until the window ends") {
  test::MemoryCache cache;
  cache.now_ms = 30'000LL * 40'000'000;  // the start of a 30 s window
  CacheRateLimiter limiter(cache, true, limits({10, 5}), nullptr, [&] { return cache.now_ms; });
  for (int i = 0; i < 5; ++i) CHECK(check(limiter, RateLimitedAction::login, "10.0.0.1") == -1);
  cache.now_ms += 12'000;
  CHECK(check(limiter, RateLimitedAction::login, "10.0.0.1") == 18'000);
  // Other clients and other actions count separately.
  CHECK(check(limiter, RateLimitedAction::login, "10.0.0.2") == -1);
  CHECK(check(limiter, RateLimitedAction::register_account, "10.0.0.1") == -1);
  // The next window starts afresh.
  cache.now_ms += 18'000;
  CHECK(check(limiter, RateLimitedAction::login, "10.0.0.1") == -1);
}

TEST_CASE("counters expire with their window") {
  test::MemoryCache cache;
  cache.now_ms = 1'000'000'000'000;
  CacheRateLimiter limiter(cache, true, limits({10, 5}), nullptr, [&] { return cache.now_ms; });
  limiter.check(RateLimitedAction::login, "k");
  REQUIRE(cache.size() == 1);
  cache.now_ms += 31'000;  // window (30 s) + the one second of slack
  CHECK(cache.get("anything") == std::nullopt);
  limiter.check(RateLimitedAction::login, "k");
  CHECK(cache.size() == 2);  // a new key for the new window
}

TEST_CASE("a failing cache lets requests through and is counted") {
  test::MemoryCache cache;
  cache.failing = true;
  metrics::Registry metrics;
  CacheRateLimiter limiter(cache, true, limits({1, 1}), &metrics, [] { return 0; });
  for (int i = 0; i < 10; ++i) CHECK(check(limiter, RateLimitedAction::login, "k") == -1);
  CHECK(metrics
            .counter("eltrix_ratelimit_cache_errors_total",
                     "Rate-limit checks that could not reach the cache; the request was let "
                     "through.")
            .value() == 10);
}

TEST_CASE("disabled limits allow everything without touching the cache") {
  test::MemoryCache cache;
  CacheRateLimiter limiter(cache, false, limits({1, 1}), nullptr, [] { return 0; });
  for (int i = 0; i < 10; ++i) CHECK(check(limiter, RateLimitedAction::send, "@a:x") == -1);
  CHECK(cache.size() == 0);
}

TEST_CASE("refusals are counted per action") {
  test::MemoryCache cache;
  metrics::Registry metrics;
  CacheRateLimiter limiter(cache, true, limits({10, 5}, {10, 5}, {60, 1}), &metrics,
                           [] { return 0; });
  CHECK(check(limiter, RateLimitedAction::send, "@a:x") == -1);
  CHECK(check(limiter, RateLimitedAction::send, "@a:x") == 1000);
  CHECK(metrics
            .counter("eltrix_ratelimit_rejected_total",
                     "Requests refused with 429 M_LIMIT_EXCEEDED.", {{"action", "send"}})
            .value() == 1);
}

TEST_CASE("the 429 response carries Retry-After in whole seconds") {
  auto response = client::limit_exceeded_response(
      http::MatrixError(429, "M_LIMIT_EXCEEDED", "slow down").with("retry_after_ms", 1500));
  CHECK(response.status == 429);
  REQUIRE(response.headers.size() == 1);
  CHECK(response.headers[0].first == "Retry-After");
  CHECK(response.headers[0].second == "2");
  CHECK(response.body.find("\"retry_after_ms\":1500") != std::string::npos);
}

TEST_CASE("every action has its own name and counter") {
  test::MemoryCache cache;
  CacheRateLimiter limiter(cache, true, limits({10, 5}, {10, 5}, {300, 50}, {10, 2}), nullptr,
                           [&] { return cache.now_ms; });
  // Two password checks per account, then 429; another account and other
  // actions keep their own counts.
  CHECK(check(limiter, RateLimitedAction::password, "user:@a:x") == -1);
  CHECK(check(limiter, RateLimitedAction::password, "user:@a:x") == -1);
  CHECK(check(limiter, RateLimitedAction::password, "user:@a:x") > 0);
  CHECK(check(limiter, RateLimitedAction::password, "user:@b:x") == -1);
  CHECK(check(limiter, RateLimitedAction::login, "user:@a:x") == -1);
  for (auto action :
       {RateLimitedAction::create_room, RateLimitedAction::join, RateLimitedAction::profile}) {
    CHECK(check(limiter, action, "@a:x") == -1);
  }
  CHECK(client::action_name(RateLimitedAction::password) == "password");
  CHECK(client::action_name(RateLimitedAction::create_room) == "create_room");
  CHECK(client::action_name(RateLimitedAction::join) == "join");
  CHECK(client::action_name(RateLimitedAction::profile) == "profile");
}
