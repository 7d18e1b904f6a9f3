// White-box tests of cache-redis: URL parsing and configuration checks
// (no server needed), then RedisCache on private redis-servers that the tests
// stop, pause and restart, on a TestHost whose manual clock drives the
// back-off.
#include "contract/harness.h"
#include "contract/impl/test_host.h"
#include "contract/services/redis_server.h"

#include "../../../plugins/cache/redis/connection.h"
#include "../../../plugins/cache/redis/connection_pool.h"
#include "../../../plugins/cache/redis/redis_cache.h"
#include "../../../plugins/cache/redis/redis_url.h"
#include "../../../plugins/cache/redis/settings.h"

#include <atomic>
#include <thread>

namespace eltrix::contract {
namespace {

using cache_redis::Connection;
using cache_redis::parse_redis_url;
using cache_redis::RedisCache;
using cache_redis::RedisUrl;
using cache_redis::Reply;
using cache_redis::Settings;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

RedisUrl parse_ok(std::string_view text) {
  std::string why;
  auto url = parse_redis_url(text, why);
  INFO(text << ": " << why);
  REQUIRE(url.has_value());
  return *url;
}

std::string parse_error(std::string_view text) {
  std::string why;
  auto url = parse_redis_url(text, why);
  INFO(text);
  REQUIRE_FALSE(url.has_value());
  REQUIRE_FALSE(why.empty());
  return why;
}

std::vector<plugin::ConfigProblem> problems_of(const config::StaticConfig& config) {
  std::vector<plugin::ConfigProblem> problems;
  RedisCache::validate(config, problems);
  return problems;
}

/// A RedisCache on its own TestHost (manual clock), with short timeouts.
struct Instance {
  explicit Instance(const std::string& url, std::string prefix = "t:", std::string pool = "4")
      : config({{"cache.redis.url", url},
                {"cache.redis.key_prefix", std::move(prefix)},
                {"cache.redis.pool_size", std::move(pool)},
                {"cache.redis.connect_timeout", "300"},
                {"cache.redis.command_timeout", "300"},
                {"cache.ttl", "120"}}),
        cache(host, config) {}
  TestHost host;
  config::StaticConfig config;
  RedisCache cache;
};

/// A connection of the test's own, to look at what the plugin stored.
std::unique_ptr<Connection> raw(const std::string& url) {
  Settings settings;
  std::string why;
  auto parsed = parse_redis_url(url, why);
  REQUIRE(parsed.has_value());
  settings.url = *parsed;
  return Connection::open(settings);
}

std::optional<std::string> raw_get(Connection& connection, const std::string& key) {
  Reply reply = connection.command({"GET", key});
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  REQUIRE(reply->type == REDIS_REPLY_STRING);
  return std::string(reply->str, reply->len);
}

long long raw_ttl(Connection& connection, const std::string& key) {
  Reply reply = connection.command({"TTL", key});
  REQUIRE(reply->type == REDIS_REPLY_INTEGER);
  return reply->integer;
}

template <typename Call>
Clock::duration time_of(Call&& call) {
  auto start = Clock::now();
  call();
  return Clock::now() - start;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

TEST_CASE("cache-redis: REDIS_URL forms", "[plugin][cache-redis]") {
  auto plain = parse_ok("redis://127.0.0.1");
  CHECK(plain.host == "127.0.0.1");
  CHECK(plain.port == 6379);
  CHECK(plain.db == 0);
  CHECK_FALSE(plain.password.has_value());

  auto full = parse_ok("redis://:s%40cret@redis.internal:6380/4");
  CHECK(full.host == "redis.internal");
  CHECK(full.port == 6380);
  CHECK(full.db == 4);
  CHECK(full.user.empty());
  CHECK(full.password == std::optional<std::string>("s@cret"));

  auto acl = parse_ok("redis://eltrix:pa:ss@10.0.0.5/2");
  CHECK(acl.user == "eltrix");
  CHECK(acl.password == std::optional<std::string>("pa:ss"));
  CHECK(acl.db == 2);

  auto v6 = parse_ok("redis://[::1]:7000");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 7000);
  CHECK(v6.describe() == "[::1]:7000 db 0");

  // Neither describe() nor redacted() shows the password.
  CHECK(full.describe() == "redis.internal:6380 db 4");
  CHECK(full.redacted() == "redis://:***@redis.internal:6380/4");
  CHECK_FALSE(contains(acl.redacted(), "pa:ss"));
}

TEST_CASE("cache-redis: bad URLs say what is wrong", "[plugin][cache-redis]") {
  CHECK(contains(parse_error("rediss://:pw@host:6380/0"), "TLS"));
  CHECK(contains(parse_error("http://host"), "unsupported scheme 'http'"));
  CHECK(contains(parse_error("host:6379"), "expected redis://"));
  CHECK(contains(parse_error("redis://"), "no host"));
  CHECK(contains(parse_error("redis://:pw@"), "no host"));
  CHECK(contains(parse_error("redis://host:0"), "port '0'"));
  CHECK(contains(parse_error("redis://host:99999"), "1 to 65535"));
  CHECK(contains(parse_error("redis://host:"), "port"));
  CHECK(contains(parse_error("redis://host/x"), "database 'x'"));
  CHECK(contains(parse_error("redis://host/-1"), "database"));
  CHECK(contains(parse_error("redis://host/0?timeout=5"), "query parameters"));
  CHECK(contains(parse_error("redis://:pw%zz@host"), "percent-escape"));
  CHECK(contains(parse_error("redis://[::1"), "unclosed"));
}

TEST_CASE("cache-redis: configuration problems name the key and never the password",
          "[plugin][cache-redis]") {
  SECTION("a good configuration has none") {
    CHECK(problems_of({{"cache.redis.url", "redis://:pw@127.0.0.1:6379/1"}}).empty());
  }
  SECTION("a missing URL") {
    auto problems = problems_of({});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].key == "cache.redis.url");
    CHECK(contains(problems[0].message, "REDIS_URL"));
  }
  SECTION("a bad URL with a password in it") {
    config::StaticConfig config{{"cache.redis.url", "redis://:hunter2@host:70000/0"}};
    auto problems = problems_of(config);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].key == "cache.redis.url");
    CHECK(contains(problems[0].message, "70000"));
    CHECK_FALSE(contains(problems[0].message, "hunter2"));
    try {
      (void)cache_redis::read_settings(config);
      FAIL("read_settings accepted a bad URL");
    } catch (const plugin::Error& e) {
      CHECK(e.kind() == plugin::ErrorKind::permanent);
      CHECK(contains(e.what(), "cache.redis.url = '<redacted>'"));
      CHECK_FALSE(contains(e.what(), "hunter2"));
    }
  }
  SECTION("numbers out of range, each on its own key") {
    auto problems = problems_of({{"cache.redis.url", "redis://127.0.0.1"},
                                 {"cache.redis.pool_size", "0"},
                                 {"cache.redis.command_timeout", "soon"},
                                 {"cache.redis.key_prefix", std::string(300, 'p')}});
    REQUIRE(problems.size() == 3);
    CHECK(problems[0].key == "cache.redis.pool_size");
    CHECK(problems[0].message == "expected an integer from 1 to 1000, found 0");
    CHECK(problems[1].key == "cache.redis.command_timeout");
    CHECK(contains(problems[1].message, "expected an integer"));
    CHECK(problems[2].key == "cache.redis.key_prefix");
    CHECK(contains(problems[2].message, "at most 256 bytes, found 300"));
  }
}

TEST_CASE("cache-redis: the back-off doubles from 100 ms up to 2 s", "[plugin][cache-redis]") {
  using cache_redis::retry_delay;
  CHECK(retry_delay(0) == 0ms);
  CHECK(retry_delay(1) == 100ms);
  CHECK(retry_delay(2) == 200ms);
  CHECK(retry_delay(5) == 1600ms);
  CHECK(retry_delay(6) == 2000ms);
  CHECK(retry_delay(1000) == 2000ms);
}

TEST_CASE("cache-redis: the password and the database number are honoured",
          "[plugin][cache-redis][redis]") {
  const std::string password = "pw-" + unique_key_prefix("x").substr(7, 8);
  auto redis = PrivateRedis::start(password);
  if (!redis) return;

  Instance on_db3(redis->url(3));
  on_db3.cache.set("k", "on three", 60s);
  CHECK(on_db3.cache.get("k") == std::optional<std::string>("on three"));
  CHECK(on_db3.cache.health().status == plugin::HealthStatus::ok);

  // Stored under the prefix, in database 3 and nowhere else.
  auto db3 = raw(redis->url(3));
  auto db0 = raw(redis->url(0));
  CHECK(raw_get(*db3, "t:k") == std::optional<std::string>("on three"));
  CHECK_FALSE(raw_get(*db0, "t:k").has_value());
  Instance on_db0(redis->url(0));
  CHECK_FALSE(on_db0.cache.get("k").has_value());

  // A wrong password and no password: no exception at start-up (the node
  // starts and serves from PostgreSQL), every call transient, health degraded.
  const std::string wrong_url =
      "redis://:not-" + password + "@127.0.0.1:" + std::to_string(redis->port()) + "/3";
  const std::string bare_url = "redis://127.0.0.1:" + std::to_string(redis->port()) + "/3";
  for (const auto& url : {wrong_url, bare_url}) {
    Instance bad(url);
    require_error(plugin::ErrorKind::transient, [&] { (void)bad.cache.get("k"); });
    auto health = bad.cache.health();
    CHECK(health.status == plugin::HealthStatus::degraded);
    INFO(health.detail);
    CHECK((contains(health.detail, "AUTH") || contains(health.detail, "NOAUTH")));
    CHECK_FALSE(contains(health.detail, password));
    for (const auto& line : bad.host.log_lines()) CHECK_FALSE(contains(line, password));
  }
  for (const auto& line : on_db3.host.log_lines()) CHECK_FALSE(contains(line, password));
}

TEST_CASE("cache-redis: a value written by one instance is read by another",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance a(redis->url(), "deployment1:");
  Instance b(redis->url(), "deployment1:");
  Instance other(redis->url(), "deployment2:");

  a.cache.set("tok:abc", "alice", 60s);
  CHECK(b.cache.get("tok:abc") == std::optional<std::string>("alice"));
  CHECK_FALSE(other.cache.get("tok:abc").has_value());  // another prefix, another deployment

  CHECK(a.cache.increment("rl:login", 1, 60s) == 1);
  CHECK(b.cache.increment("rl:login", 1, 60s) == 2);

  CHECK(b.cache.erase("tok:abc"));
  CHECK_FALSE(a.cache.get("tok:abc").has_value());
}

TEST_CASE("cache-redis: increment sets the TTL only when it creates the key",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance instance(redis->url());
  auto check = raw(redis->url());

  CHECK(instance.cache.increment("window", 1, 100s) == 1);
  const auto first = raw_ttl(*check, "t:window");
  CHECK(first > 90);
  CHECK(first <= 100);
  CHECK(instance.cache.increment("window", 1, 5s) == 2);
  CHECK(instance.cache.increment("window", 1, 1000s) == 3);
  CHECK(raw_ttl(*check, "t:window") > 90);
  CHECK(raw_ttl(*check, "t:window") <= 100);

  // A counter written by set() keeps the TTL set() gave it.
  instance.cache.set("preset", "41", 50s);
  CHECK(instance.cache.increment("preset", 1, 1000s) == 42);
  CHECK(raw_ttl(*check, "t:preset") <= 50);

  // ttl 0 means cache.ttl (120 s here), for set and for increment.
  instance.cache.set("default", "v", 0s);
  CHECK(instance.cache.increment("counted", 1, 0s) == 1);
  CHECK(raw_ttl(*check, "t:default") > 110);
  CHECK(raw_ttl(*check, "t:default") <= 120);
  CHECK(raw_ttl(*check, "t:counted") > 110);

  // Entries really expire in Redis.
  instance.cache.set("brief", "v", 1s);
  CHECK(raw_ttl(*check, "t:brief") <= 1);
  std::this_thread::sleep_for(1100ms);
  CHECK_FALSE(instance.cache.get("brief").has_value());
  CHECK(instance.cache.increment("brief-counter", 7, 1s) == 7);
  std::this_thread::sleep_for(1100ms);
  CHECK(instance.cache.increment("brief-counter", 1, 1s) == 1);

  // Overflow and non-integers are the caller's mistake, not an outage.
  instance.cache.set("big", std::to_string(INT64_MAX), 60s);
  require_error(plugin::ErrorKind::invalid_argument,
                [&] { instance.cache.increment("big", 1, 60s); });
  CHECK(instance.cache.get("big") == std::optional<std::string>(std::to_string(INT64_MAX)));
}

TEST_CASE("cache-redis: binary keys and values survive the round trip",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance instance(redis->url());
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  const std::string tricky = "\r\n$-1\r\n*3\r\n" + every_byte + std::string("\0end", 4);
  const std::string key = std::string("key\0with\r\nnul", 13);
  instance.cache.set(key, tricky, 60s);
  CHECK(instance.cache.get(key) == std::optional<std::string>(tricky));
  auto check = raw(redis->url());
  CHECK(raw_get(*check, "t:" + key) == std::optional<std::string>(tricky));
  CHECK_FALSE(instance.cache.get(std::string("key\0with", 8)).has_value());
}

TEST_CASE("cache-redis: a stopped Redis fails fast and the same instance recovers",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance instance(redis->url());
  instance.cache.set("k", "v", 60s);
  REQUIRE(instance.cache.get("k") == std::optional<std::string>("v"));

  redis->stop();
  // The first call finds its pooled connection closed, retries on a new one,
  // which is refused: transient, well within the timeouts.
  auto first = time_of(
      [&] { require_error(plugin::ErrorKind::transient, [&] { (void)instance.cache.get("k"); }); });
  CHECK(first < 1s);
  // Then the pool backs off: no connect attempt at all, for every operation.
  const double attempts_before =
      instance.host.value("eltrix_cache_redis_connects_total", "{result=\"failed\"}");
  auto burst = time_of([&] {
    for (int i = 0; i < 50; ++i) {
      require_error(plugin::ErrorKind::transient, [&] { (void)instance.cache.get("k"); });
      require_error(plugin::ErrorKind::transient, [&] { instance.cache.set("k", "v", 60s); });
      require_error(plugin::ErrorKind::transient, [&] { instance.cache.increment("n", 1, 60s); });
    }
  });
  // (Time is a loose bound on a shared machine; the counters are exact.)
  CHECK(burst < 1s);
  CHECK(instance.host.value("eltrix_cache_redis_fast_failures_total") >= 150);
  CHECK(instance.host.value("eltrix_cache_redis_connects_total", "{result=\"failed\"}") ==
        attempts_before);
  CHECK(instance.host.value("eltrix_cache_redis_connects_total", "{result=\"failed\"}") >= 1);
  auto down = instance.cache.health();
  CHECK(down.status == plugin::HealthStatus::degraded);
  INFO(down.detail);
  CHECK(contains(down.detail, "127.0.0.1:" + std::to_string(redis->port())));
  CHECK(contains(down.detail, "refused"));

  SECTION("the next attempt after the back-off delay reconnects") {
    redis->restart();
    // Still backing off: the clock has not moved.
    require_error(plugin::ErrorKind::transient, [&] { (void)instance.cache.get("k"); });
    instance.host.advance(cache_redis::kMaxRetryDelay);
    CHECK_FALSE(instance.cache.get("k").has_value());  // a new, empty Redis
    instance.cache.set("k", "again", 60s);
    CHECK(instance.cache.get("k") == std::optional<std::string>("again"));
  }
  SECTION("a healthy probe ends the back-off at once") {
    redis->restart();
    CHECK(instance.cache.health().status == plugin::HealthStatus::ok);
    instance.cache.set("k", "again", 60s);
    CHECK(instance.cache.get("k") == std::optional<std::string>("again"));
  }
  CHECK(instance.host.value("eltrix_cache_redis_connects_total", "{result=\"ok\"}") >= 2);
  CHECK(instance.cache.pool_stats().in_use == 0);
}

TEST_CASE("cache-redis: a hung Redis costs at most the command timeout",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance instance(redis->url());  // 300 ms timeouts
  instance.cache.set("k", "v", 60s);
  redis->pause();
  auto first = time_of(
      [&] { require_error(plugin::ErrorKind::transient, [&] { (void)instance.cache.get("k"); }); });
  CHECK(first >= 250ms);
  CHECK(first < 3s);  // 300 ms timeout; loose for a loaded machine
  // The timeout started the back-off: the next calls do not wait.
  auto next = time_of([&] {
    for (int i = 0; i < 20; ++i) {
      require_error(plugin::ErrorKind::transient, [&] { (void)instance.cache.get("k"); });
    }
  });
  CHECK(next < 1s);  // 20 timeouts would take 6 s
  CHECK(instance.host.value("eltrix_cache_redis_fast_failures_total") >= 20);
  auto health_took =
      time_of([&] { CHECK(instance.cache.health().status == plugin::HealthStatus::degraded); });
  CHECK(health_took < 3s);
  redis->resume();
  CHECK(instance.cache.health().status == plugin::HealthStatus::ok);
  CHECK(instance.cache.get("k") == std::optional<std::string>("v"));
}

TEST_CASE("cache-redis: writes that failed while Redis was unreachable are undone",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance instance(redis->url());
  auto check = raw(redis->url());
  instance.cache.set("tok:a", "valid", 60s);
  instance.cache.set("tok:b", "valid", 60s);
  instance.cache.set("other", "keep", 60s);

  // A partition, not a restart: Redis keeps its data but does not answer.
  // The first write times out (Redis runs it later, once resumed: a timeout
  // does not say whether a command was applied); the pool then backs off and
  // the logout's writes are never sent.
  redis->pause();
  require_error(plugin::ErrorKind::transient, [&] { instance.cache.set("filler", "x", 60s); });
  require_error(plugin::ErrorKind::transient, [&] { instance.cache.erase("tok:a"); });
  require_error(plugin::ErrorKind::transient, [&] { instance.cache.set("tok:b", "revoked", 0s); });
  CHECK(instance.cache.repair_pending());
  CHECK(instance.host.value("eltrix_cache_redis_stale_keys") == 3);
  redis->resume();
  // Redis still holds the entries the failed writes should have changed.
  CHECK(raw_get(*check, "t:tok:a") == std::optional<std::string>("valid"));
  CHECK(raw_get(*check, "t:tok:b") == std::optional<std::string>("valid"));

  SECTION("the first call after the back-off deletes them before anything else") {
    instance.host.advance(cache_redis::kMaxRetryDelay);
    CHECK(instance.cache.get("other") == std::optional<std::string>("keep"));
  }
  SECTION("or the health probe does") {
    CHECK(instance.cache.health().status == plugin::HealthStatus::ok);
  }
  CHECK_FALSE(instance.cache.repair_pending());
  CHECK_FALSE(instance.cache.get("tok:a").has_value());
  CHECK_FALSE(instance.cache.get("tok:b").has_value());
  CHECK_FALSE(raw_get(*check, "t:tok:a").has_value());
  CHECK(raw_get(*check, "t:other") == std::optional<std::string>("keep"));
  CHECK(instance.host.value("eltrix_cache_redis_stale_keys") == 0);
  CHECK(instance.host.value("eltrix_cache_redis_stale_keys_removed_total") >= 2);
}

TEST_CASE("cache-redis: too many failed writes clear the whole prefix, and only it",
          "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Settings settings;
  std::string why;
  settings.url = *parse_redis_url(redis->url(), why);
  settings.command_timeout = 300ms;
  settings.connect_timeout = 300ms;
  settings.key_prefix = "d[1]*:";  // glob characters, matched literally
  TestHost host;
  RedisCache cache(host, settings, 2);
  auto check = raw(redis->url());
  for (int i = 0; i < 20; ++i) cache.set("k" + std::to_string(i), "v", 60s);
  // Keys an unescaped pattern d[1]*:* would also match.
  REQUIRE(check->command({"SET", "d1x:k", "other deployment"})->type == REDIS_REPLY_STATUS);
  REQUIRE(check->command({"SET", "d[1]:k", "other deployment"})->type == REDIS_REPLY_STATUS);

  redis->pause();
  for (int i = 0; i < 3; ++i) {
    require_error(plugin::ErrorKind::transient,
                  [&] { cache.set("k" + std::to_string(i), "new", 60s); });
  }
  CHECK(host.value("eltrix_cache_redis_stale_keys") == 3);  // over the bound of 2
  redis->resume();
  host.advance(cache_redis::kMaxRetryDelay);
  CHECK_FALSE(cache.get("k10").has_value());  // every key of the prefix went
  for (int i = 0; i < 20; ++i) {
    CHECK_FALSE(raw_get(*check, "d[1]*:k" + std::to_string(i)).has_value());
  }
  CHECK(raw_get(*check, "d1x:k") == std::optional<std::string>("other deployment"));
  CHECK(raw_get(*check, "d[1]:k") == std::optional<std::string>("other deployment"));
  CHECK(host.value("eltrix_cache_redis_stale_keys_removed_total") == 20);
  CHECK(cache_redis::match_pattern("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\*");
}

TEST_CASE("cache-redis: the pool never opens more than its size", "[plugin][cache-redis][redis]") {
  auto redis = PrivateRedis::start();
  if (!redis) return;
  Instance instance(redis->url(), "t:", "2");
  CHECK(instance.host.value("eltrix_cache_redis_pool_size") == 2);
  std::atomic<bool> go{false};
  std::atomic<int> failures{0};
  std::atomic<std::size_t> most_open{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 200; ++i) {
        try {
          instance.cache.increment("n", 1, 60s);
        } catch (...) {
          failures.fetch_add(1);
        }
        auto open = instance.cache.pool_stats().open;
        auto seen = most_open.load();
        while (open > seen && !most_open.compare_exchange_weak(seen, open)) {
        }
      }
    });
  }
  go.store(true);
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  CHECK(most_open.load() <= 2);
  CHECK(instance.cache.get("n") == std::optional<std::string>("1200"));
  CHECK(instance.host.value("eltrix_cache_redis_pool_connections_in_use") == 0);
  CHECK(instance.host.value("eltrix_cache_redis_pool_waiting") == 0);
  CHECK(instance.host.value("eltrix_cache_redis_pool_connections_open") <= 2);
}

}  // namespace eltrix::contract
