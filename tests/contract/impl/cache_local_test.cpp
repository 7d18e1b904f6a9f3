// White-box tests of cache-local: LruCache's eviction and accounting, and
// LocalCache's config, clock and metrics, on a TestHost with a manual clock.
#include "contract/harness.h"
#include "contract/impl/test_host.h"

#include "../../../plugins/cache/local/local_cache.h"
#include "../../../plugins/cache/local/lru_cache.h"

#include <atomic>
#include <random>
#include <thread>

namespace eltrix::contract {
namespace {

using cache_local::CacheLimits;
using cache_local::Delta;
using cache_local::LocalCache;
using cache_local::LruCache;
using namespace std::chrono_literals;

const LruCache::TimePoint kNow = LruCache::TimePoint(std::chrono::hours(1));
const LruCache::TimePoint kLater = kNow + std::chrono::hours(1);

bool has(LruCache& cache, std::string_view key) {
  Delta delta;
  return cache.get(key, kNow, delta).has_value();
}

std::size_t capacity_of(LruCache& cache, std::string_view key) {
  auto capacity = cache.value_capacity(key);
  REQUIRE(capacity.has_value());
  return *capacity;
}

}  // namespace

TEST_CASE("LruCache: one shard evicts the least recently used entry", "[plugin][cache-local]") {
  LruCache cache(CacheLimits{.max_entries = 3, .max_bytes = 1 << 20}, 1);
  Delta delta;
  cache.set("a", "1", kLater, kNow, delta);
  cache.set("b", "2", kLater, kNow, delta);
  cache.set("c", "3", kLater, kNow, delta);
  REQUIRE(has(cache, "a"));  // a is now the most recently used; b the least
  cache.set("d", "4", kLater, kNow, delta);
  CHECK(delta.evicted_capacity == 1);
  CHECK_FALSE(has(cache, "b"));
  CHECK(has(cache, "a"));
  CHECK(has(cache, "c"));
  CHECK(has(cache, "d"));
  CHECK(cache.entries() == 3);
  CHECK(delta.entries == 3);
}

TEST_CASE("LruCache: the byte cap counts keys, values and overhead", "[plugin][cache-local]") {
  const std::string value(1000, 'v');
  const std::size_t one = LruCache::charge("k0", value);
  LruCache cache(CacheLimits{.max_entries = 1000, .max_bytes = 3 * one + 10}, 1);
  Delta delta;
  for (int i = 0; i < 5; ++i) cache.set("k" + std::to_string(i), value, kLater, kNow, delta);
  CHECK(cache.entries() == 3);
  CHECK(cache.bytes() == 3 * one);
  CHECK(delta.bytes == static_cast<std::int64_t>(3 * one));
  CHECK(delta.evicted_capacity == 2);
  CHECK_FALSE(has(cache, "k0"));
  CHECK_FALSE(has(cache, "k1"));
  CHECK(has(cache, "k4"));

  // Growing a value in place also evicts.
  cache.set("k4", std::string(2000, 'v'), kLater, kNow, delta);
  CHECK(cache.bytes() <= 3 * one + 10);
  CHECK(has(cache, "k4"));
}

TEST_CASE("LruCache: a value larger than the whole cache is not kept, nor its old value",
          "[plugin][cache-local]") {
  LruCache cache(CacheLimits{.max_entries = 10, .max_bytes = 2000}, 1);
  Delta delta;
  cache.set("k", "small", kLater, kNow, delta);
  cache.set("other", "small", kLater, kNow, delta);
  cache.set("k", std::string(5000, 'x'), kLater, kNow, delta);
  CHECK_FALSE(has(cache, "k"));
  CHECK(has(cache, "other"));
  CHECK(cache.entries() == 1);
  CHECK(delta.evicted_capacity == 1);
}

TEST_CASE("LruCache: caps are global across shards", "[plugin][cache-local]") {
  LruCache cache(CacheLimits{.max_entries = 50, .max_bytes = 1 << 20}, 16);
  Delta delta;
  for (int i = 0; i < 500; ++i) {
    cache.set("key-" + std::to_string(i), "v", kLater, kNow, delta);
    REQUIRE(cache.entries() <= 50);
    CHECK(has(cache, "key-" + std::to_string(i)));  // the newest entry is never the victim
  }
  CHECK(cache.entries() == 50);
  CHECK(delta.evicted_capacity == 450);
  CHECK(delta.entries == 50);
}

TEST_CASE("LruCache: expired entries are dropped on access and by purge", "[plugin][cache-local]") {
  LruCache cache(CacheLimits{.max_entries = 100, .max_bytes = 1 << 20}, 4);
  Delta delta;
  cache.set("soon", "v", kNow + 1s, kNow, delta);
  cache.set("later", "v", kNow + 10s, kNow, delta);
  cache.set("never", "v", LruCache::kNever, kNow, delta);
  for (int i = 0; i < 10; ++i) cache.set("bulk" + std::to_string(i), "v", kNow + 1s, kNow, delta);
  CHECK_FALSE(cache.get("soon", kNow + 1s, delta).has_value());
  CHECK(delta.evicted_expired == 1);
  CHECK(cache.purge_expired(kNow + 5s, delta) == 10);
  CHECK(cache.entries() == 2);
  CHECK(cache.get("later", kNow + 5s, delta).has_value());
  CHECK(cache.get("never", kNow + std::chrono::hours(100000), delta).has_value());
  CHECK(delta.evicted_expired == 11);
}

TEST_CASE("LruCache: increment keeps the expiry of an existing entry", "[plugin][cache-local]") {
  LruCache cache(CacheLimits{.max_entries = 10, .max_bytes = 1 << 20}, 1);
  Delta delta;
  CHECK(cache.increment("n", 1, kNow + 1s, kNow, delta) == 1);
  CHECK(cache.increment("n", 1, kNow + 100s, kNow + 500ms, delta) == 2);
  CHECK_FALSE(cache.get("n", kNow + 1s, delta).has_value());
  CHECK(cache.increment("n", 7, kNow + 100s, kNow + 2s, delta) == 7);

  cache.set("max", std::to_string(INT64_MAX), kLater, kNow, delta);
  CHECK_THROWS_AS(cache.increment("max", 1, kLater, kNow, delta), plugin::Error);
  CHECK(cache.get("max", kNow, delta) == std::optional<std::string>(std::to_string(INT64_MAX)));
}

TEST_CASE("LruCache: overwriting a large value with a small one releases the old buffer",
          "[plugin][cache-local]") {
  // The memory held must match the bytes charged, or many keys first set to a
  // large value and then to a tiny one would hold far more than the byte cap.
  const std::size_t big = 4U << 20U;
  LruCache cache(CacheLimits{.max_entries = 10, .max_bytes = 16U << 20U}, 1);
  Delta delta;
  cache.set("k", std::string(big, 'x'), kLater, kNow, delta);
  CHECK(capacity_of(cache, "k") >= big);
  cache.set("k", "y", kLater, kNow, delta);
  CHECK(cache.get("k", kNow, delta) == std::optional<std::string>("y"));
  CHECK(capacity_of(cache, "k") < 64);
  CHECK(cache.bytes() == LruCache::charge("k", "y"));

  // A medium value replacing a large one: capacity close to its size.
  cache.set("k", std::string(big, 'x'), kLater, kNow, delta);
  cache.set("k", std::string(1000, 'z'), kLater, kNow, delta);
  CHECK(capacity_of(cache, "k") < 1100);
  CHECK(cache.bytes() == LruCache::charge("k", std::string(1000, 'z')));

  // increment() replacing a long (zero-padded) integer does the same.
  std::string padded(big, '0');
  padded.back() = '1';
  cache.set("n", padded, kLater, kNow, delta);
  CHECK(cache.increment("n", 1, kLater, kNow, delta) == 2);
  CHECK(capacity_of(cache, "n") < 64);
  CHECK(cache.bytes() ==
        LruCache::charge("k", std::string(1000, 'z')) + LruCache::charge("n", "2"));
  CHECK_FALSE(cache.value_capacity("absent").has_value());
}

TEST_CASE("LocalCache: TTLs follow the Host clock and cache.ttl", "[plugin][cache-local]") {
  TestHost host;
  SECTION("explicit ttl") {
    config::StaticConfig config;
    LocalCache cache(host, config);
    CHECK(cache.default_ttl() == 3600s);
    cache.set("k", "v", 10s);
    host.advance(9s);
    CHECK(cache.get("k").has_value());
    host.advance(1s);
    CHECK_FALSE(cache.get("k").has_value());
    CHECK(host.value("eltrix_cache_local_evictions_total", R"({reason="expired"})") == 1);
  }
  SECTION("ttl 0 uses cache.ttl") {
    config::StaticConfig config({{"cache.ttl", "5"}});
    LocalCache cache(host, config);
    cache.set("k", "v", 0s);
    host.advance(4s);
    CHECK(cache.get("k").has_value());
    host.advance(1s);
    CHECK_FALSE(cache.get("k").has_value());
  }
  SECTION("cache.ttl 0 keeps entries without a ttl forever") {
    config::StaticConfig config({{"cache.ttl", "0"}});
    LocalCache cache(host, config);
    cache.set("k", "v", 0s);
    host.advance(std::chrono::hours(24 * 365));
    CHECK(cache.get("k").has_value());
  }
  SECTION("a negative ttl is rejected") {
    config::StaticConfig config;
    LocalCache cache(host, config);
    require_error(plugin::ErrorKind::invalid_argument, [&] { cache.set("k", "v", -1s); });
    require_error(plugin::ErrorKind::invalid_argument, [&] { cache.increment("k", 1, -1s); });
  }
}

TEST_CASE("LocalCache: gauges and eviction counters", "[plugin][cache-local]") {
  TestHost host;
  config::StaticConfig config({{"cache.local.max_entries", "2"}});
  LocalCache cache(host, config);
  const double one = static_cast<double>(LruCache::charge("a", "value"));
  cache.set("a", "value", 60s);
  CHECK(host.value("eltrix_cache_local_entries") == 1);
  CHECK(host.value("eltrix_cache_local_bytes") == one);
  cache.set("a", "value-2", 60s);
  CHECK(host.value("eltrix_cache_local_bytes") == one + 2);
  cache.set("b", "value", 60s);
  cache.set("c", "value", 60s);
  CHECK(host.value("eltrix_cache_local_entries") == 2);
  CHECK(host.value("eltrix_cache_local_evictions_total", R"({reason="capacity"})") == 1);
  CHECK_FALSE(cache.get("a").has_value());
  CHECK(cache.erase("b"));
  CHECK(cache.erase("c"));
  CHECK(host.value("eltrix_cache_local_entries") == 0);
  CHECK(host.value("eltrix_cache_local_bytes") == 0);
}

TEST_CASE("LocalCache: health() sweeps expired entries now and then", "[plugin][cache-local]") {
  TestHost host;
  config::StaticConfig config;
  LocalCache cache(host, config);
  for (int i = 0; i < 20; ++i) cache.set("k" + std::to_string(i), "v", 1s);
  host.advance(2s);
  CHECK(cache.health().status == plugin::HealthStatus::ok);
  CHECK(cache.store().entries() == 20);  // the sweep interval has not passed
  host.advance(cache_local::kPurgeInterval);
  CHECK(cache.health().status == plugin::HealthStatus::ok);
  CHECK(cache.store().entries() == 0);
  CHECK(host.value("eltrix_cache_local_entries") == 0);
  CHECK(host.value("eltrix_cache_local_evictions_total", R"({reason="expired"})") == 20);
}

TEST_CASE("LocalCache: bad limits are permanent config errors naming the key",
          "[plugin][cache-local]") {
  TestHost host;
  for (auto [key, value] :
       {std::pair{"cache.local.max_entries", "0"}, std::pair{"cache.local.max_memory_mb", "0"},
        std::pair{"cache.local.max_memory_mb", "lots"},
        std::pair{"cache.local.max_memory_mb", "99999999999"}}) {
    INFO(key << " = " << value);
    config::StaticConfig config({{key, value}});
    try {
      LocalCache cache(host, config);
      FAIL("no error");
    } catch (const plugin::Error& error) {
      CHECK(error.kind() == plugin::ErrorKind::permanent);
      CHECK_THAT(error.what(), Catch::Contains(key));
    }
  }
}

TEST_CASE("LocalCache: concurrent use keeps the caps and the metrics exact",
          "[plugin][cache-local]") {
  TestHost host;
  // Above kSingleShardBelow, so the cache is sharded.
  config::StaticConfig config({{"cache.local.max_entries", "5000"}});
  LocalCache cache(host, config);
  REQUIRE(cache.store().shard_count() > 1);
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::uniform_int_distribution<int> pick(0, 20000);
      try {
        for (int i = 0; i < 5000; ++i) {
          std::string key = "k" + std::to_string(pick(rng));
          switch (i % 4) {
            case 0: cache.set(key, std::string(static_cast<std::size_t>(i % 50), 'v'), 60s); break;
            case 1: (void)cache.get(key); break;
            case 2: cache.erase(key); break;
            default: cache.increment("n" + std::to_string(pick(rng) % 100), 1, 60s); break;
          }
        }
      } catch (const plugin::Error&) {
        ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(errors.load() == 0);
  CHECK(cache.store().entries() <= 5000);
  CHECK(host.value("eltrix_cache_local_entries") == static_cast<double>(cache.store().entries()));
  CHECK(host.value("eltrix_cache_local_bytes") == static_cast<double>(cache.store().bytes()));
}

TEST_CASE("cache-local publishes its metrics through the core registry",
          "[plugin][cache-local][registry]") {
  auto cache = file_factory<plugin::Cache>("cache-local")({{"cache.local.max_entries", "1"}});
  cache->set("a", "1", 60s);
  cache->set("b", "2", 60s);
  const std::string text = cache.metrics().render();
  CHECK_THAT(text, Catch::Contains("eltrix_cache_local_entries 1"));
  CHECK_THAT(text, Catch::Contains(R"(eltrix_cache_local_evictions_total{reason="capacity"} 1)"));
  CHECK(cache.info().capabilities == 0);
  CHECK(cache.info().thread_safe());
  REQUIRE(cache.info().config_keys.size() == 2);
  CHECK(std::string(cache.info().config_keys[0].name) == "cache.local.max_entries");
  CHECK(std::string(cache.info().config_keys[1].name) == "cache.local.max_memory_mb");
}

}  // namespace eltrix::contract
