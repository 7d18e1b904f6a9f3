// The cache contract (eltrix/plugin/cache.h).
#include "contract/suites.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace eltrix::contract {

using namespace std::chrono_literals;
using plugin::ErrorKind;

void run_cache_contract(const Factory<plugin::Cache>& make) {
  SECTION("the descriptor describes a cache") {
    auto cache = make({});
    CHECK(cache.info().kind == plugin::Kind::cache);
    CHECK_FALSE(cache.info().description.empty());
    CHECK(cache->health().status == plugin::HealthStatus::ok);
  }

  SECTION("a fresh cache has nothing") {
    auto cache = make({});
    CHECK_FALSE(cache->get("missing").has_value());
    CHECK_FALSE(cache->erase("missing"));
  }

  SECTION("set, get, overwrite and erase") {
    auto cache = make({});
    cache->set("user:@alice:example.org", "token-1", 60s);
    REQUIRE(cache->get("user:@alice:example.org") == std::optional<std::string>("token-1"));

    cache->set("user:@alice:example.org", "token-2", 60s);
    CHECK(cache->get("user:@alice:example.org") == std::optional<std::string>("token-2"));

    cache->set("other", "x", 60s);
    CHECK(cache->erase("user:@alice:example.org"));
    CHECK_FALSE(cache->get("user:@alice:example.org").has_value());
    CHECK_FALSE(cache->erase("user:@alice:example.org"));
    CHECK(cache->get("other") == std::optional<std::string>("x"));
  }

  SECTION("keys and values are arbitrary bytes; an empty value is a value") {
    auto cache = make({});
    const std::string key("k\0\xff \xc3\xa9", 6);
    const std::string value("v\0\x01\xfe\n", 5);
    cache->set(key, value, 60s);
    cache->set("empty", "", 60s);
    CHECK(cache->get(key) == std::optional<std::string>(value));
    CHECK(cache->get(std::string("k\0", 2)) == std::nullopt);
    CHECK(cache->get("empty") == std::optional<std::string>(""));
  }

  SECTION("increment creates, adds and subtracts") {
    auto cache = make({});
    CHECK(cache->increment("hits", 5, 60s) == 5);
    CHECK(cache->increment("hits", 3, 60s) == 8);
    CHECK(cache->increment("hits", -10, 60s) == -2);
    CHECK(cache->get("hits") == std::optional<std::string>("-2"));

    cache->set("preset", "41", 60s);
    CHECK(cache->increment("preset", 1, 60s) == 42);
  }

  SECTION("increment on a non-integer value throws invalid_argument and keeps the value") {
    auto cache = make({});
    cache->set("text", "forty-two", 60s);
    require_error(ErrorKind::invalid_argument, [&] { cache->increment("text", 1, 60s); });
    CHECK(cache->get("text") == std::optional<std::string>("forty-two"));
    cache->set("spaced", " 1", 60s);
    require_error(ErrorKind::invalid_argument, [&] { cache->increment("spaced", 1, 60s); });
  }

  SECTION("concurrent increments from 8 threads are atomic") {
    auto cache = make({});
    constexpr int kThreads = 8;
    constexpr int kPerThread = 500;
    std::vector<std::vector<std::int64_t>> seen(kThreads);
    std::atomic<bool> go{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < kPerThread; ++i) {
          try {
            seen[static_cast<std::size_t>(t)].push_back(cache->increment("counter", 1, 60s));
          } catch (...) {
            failures.fetch_add(1);
          }
        }
      });
    }
    go.store(true);
    for (auto& thread : threads) thread.join();
    REQUIRE(failures.load() == 0);
    CHECK(cache->get("counter") ==
          std::optional<std::string>(std::to_string(kThreads * kPerThread)));
    // Every call saw a different value, and together they are exactly 1..N.
    std::set<std::int64_t> all;
    for (const auto& values : seen) all.insert(values.begin(), values.end());
    CHECK(all.size() == static_cast<std::size_t>(kThreads * kPerThread));
    CHECK(*all.begin() == 1);
    CHECK(*all.rbegin() == kThreads * kPerThread);
  }

  SECTION("keys and values up to the size limits are accepted, larger ones rejected") {
    auto cache = make({});
    const std::string max_key(plugin::kMaxCacheKeySize, 'k');
    const std::string long_key(plugin::kMaxCacheKeySize + 1, 'k');
    cache->set(max_key, "v", 60s);
    CHECK(cache->get(max_key) == std::optional<std::string>("v"));
    require_error(ErrorKind::invalid_argument, [&] { cache->set(long_key, "v", 60s); });
    require_error(ErrorKind::invalid_argument, [&] { (void)cache->get(long_key); });
    require_error(ErrorKind::invalid_argument, [&] { cache->erase(long_key); });
    require_error(ErrorKind::invalid_argument, [&] { cache->increment(long_key, 1, 60s); });

    const std::string max_value(plugin::kMaxCacheValueSize, 'v');
    cache->set("big", max_value, 60s);
    auto back = cache->get("big");
    REQUIRE(back.has_value());
    CHECK(back->size() == max_value.size());
    const std::string too_big(plugin::kMaxCacheValueSize + 1, 'v');
    require_error(ErrorKind::invalid_argument, [&] { cache->set("huge", too_big, 60s); });
    CHECK_FALSE(cache->get("huge").has_value());
  }

  SECTION("entries expire after their ttl; ttl 0 means cache.ttl; increment sets it on create") {
    // Real time on a possibly loaded machine: every check is only made when
    // the clock shows it must hold, so a stall of any length cannot fail it.
    // Expiries lie in [before_sets + ttl, after_sets + ttl].
    using Clock = std::chrono::steady_clock;
    constexpr auto kTtl = 2s;
    auto cache = make({{"cache.ttl", "2"}});
    const auto before_sets = Clock::now();
    cache->set("short", "v", kTtl);
    cache->set("default", "v", 0s);
    cache->set("long", "v", 60s);
    cache->set("renewed", "v1", kTtl);
    cache->set("renewed", "v2", 60s);  // an overwrite replaces the ttl
    CHECK(cache->increment("window", 1, kTtl) == 1);
    const auto after_sets = Clock::now();

    // Present right away, and still after a short wait; a later increment
    // with a longer ttl must not extend the first one.
    auto short_now = cache->get("short");
    auto default_now = cache->get("default");
    if (Clock::now() - before_sets < kTtl) {
      CHECK(short_now == std::optional<std::string>("v"));
      CHECK(default_now == std::optional<std::string>("v"));
    }
    std::this_thread::sleep_for(300ms);
    auto window = cache->increment("window", 1, 60s);
    // Past the ttl the increment may have started a new 60 s window.
    const bool window_in_time = Clock::now() - before_sets < kTtl;
    auto short_later = cache->get("short");
    auto default_later = cache->get("default");
    if (window_in_time) {
      CHECK(window == 2);
    }
    if (Clock::now() - before_sets < kTtl) {
      CHECK(short_later == std::optional<std::string>("v"));
      CHECK(default_later == std::optional<std::string>("v"));
    } else {
      WARN("the machine stalled past the ttl; presence checks skipped");
    }

    std::this_thread::sleep_until(after_sets + kTtl + 200ms);
    CHECK_FALSE(cache->get("short").has_value());
    CHECK_FALSE(cache->get("default").has_value());
    CHECK_FALSE(cache->erase("short"));
    CHECK(cache->get("long") == std::optional<std::string>("v"));
    CHECK(cache->get("renewed") == std::optional<std::string>("v2"));
    if (window_in_time) {
      CHECK_FALSE(cache->get("window").has_value());
      // An expired counter starts again from nothing.
      CHECK(cache->increment("window", 5, 60s) == 5);
    }
  }
}

}  // namespace eltrix::contract
