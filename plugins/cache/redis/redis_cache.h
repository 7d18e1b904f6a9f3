// cache-redis: the Cache interface on a Redis server shared by every node.
//
// Keys are stored as <cache.redis.key_prefix><key>, so several deployments
// (or tests) can share one Redis. Values and keys are binary-safe. Entries
// carry a Redis TTL (EX); increment() is a Lua script so that "TTL only when
// the key is created" is atomic. Every failure to reach Redis is
// Error(transient); the core then reads PostgreSQL (GuardedCache). Keys whose
// write failed are deleted once Redis answers again (StaleKeys), so an outage
// never leaves a stale entry, such as a logged-out token, behind.
#pragma once

#include <eltrix/plugin/cache.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>

#include "connection_pool.h"
#include "settings.h"
#include "stale_keys.h"

#include <memory>
#include <mutex>

namespace eltrix::cache_redis {

class RedisCache final : public plugin::Cache {
 public:
  static constexpr const char* kDescription =
      "Redis cache shared by every node (hiredis; pooled connections, timeouts, reconnection "
      "with back-off)";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = plugin::kCacheShared;

  RedisCache(plugin::Host& host, const plugin::Config& config);
  /// For tests: settings made in code and a smaller bound on stale keys.
  RedisCache(plugin::Host& host, Settings settings, std::size_t max_stale_keys);
  ~RedisCache() override;
  RedisCache(const RedisCache&) = delete;
  RedisCache& operator=(const RedisCache&) = delete;
  RedisCache(RedisCache&&) = delete;
  RedisCache& operator=(RedisCache&&) = delete;

  static void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems) {
    cache_redis::validate(config, problems);
  }

  /// PING on a connection of its own (never a pooled one, so a full pool
  /// does not read as an outage), within the command timeout: ok, or
  /// degraded with the error. A success ends the pool's back-off at once.
  plugin::Health health() override;
  std::optional<std::string> get(std::string_view key) override;
  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  bool erase(std::string_view key) override;
  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::chrono::seconds ttl) override;

  [[nodiscard]] const Settings& settings() const { return settings_; }
  [[nodiscard]] ConnectionPool::Stats pool_stats() const { return pool_.stats(); }
  [[nodiscard]] bool repair_pending() const { return stale_.pending(); }

 private:
  /// Runs `call` on a pooled connection. A connection found closed (Redis
  /// restarted while it sat idle) is replaced and the call retried once when
  /// `idempotent`; increment is not, since it may have been applied. Stale
  /// keys are deleted first.
  template <typename Call>
  auto with_connection(bool idempotent, Call&& call);
  /// with_connection for set and erase: a failure leaves `full_key` stale.
  template <typename Call>
  void write(const std::string& full_key, Call&& call);
  [[nodiscard]] std::string full_key(std::string_view key) const;
  [[nodiscard]] std::chrono::seconds effective_ttl(std::chrono::seconds ttl) const;

  plugin::Host& host_;
  const Settings settings_;
  ConnectionPool pool_;
  StaleKeys stale_;
  std::mutex health_mutex_;
  std::unique_ptr<Connection> health_connection_;
};

}  // namespace eltrix::cache_redis
