// cache-local: the in-process cache plugin. Adapts LruCache to the Cache
// interface: config, key and value limits, TTLs on the Host's clock, metrics.
#pragma once

#include <eltrix/plugin/cache.h>
#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>

#include "lru_cache.h"

#include <atomic>
#include <chrono>

namespace eltrix::cache_local {

/// Caches below this many entries use one shard, which makes the eviction
/// order exact LRU; larger ones use kShards.
inline constexpr std::size_t kSingleShardBelow = 4096;
inline constexpr std::size_t kShards = 16;

/// How often expired entries that nobody reads are swept (from health()).
inline constexpr std::chrono::seconds kPurgeInterval{30};

class LocalCache final : public plugin::Cache {
 public:
  static constexpr const char* kDescription =
      "in-process LRU cache with TTLs, bounded by entries and memory (one per node, not shared)";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = 0;

  LocalCache(plugin::Host& host, const plugin::Config& config);
  ~LocalCache() override;

  plugin::Health health() override;
  std::optional<std::string> get(std::string_view key) override;
  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  bool erase(std::string_view key) override;
  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::chrono::seconds ttl) override;

  /// Drops expired entries now (health() does it every kPurgeInterval).
  std::size_t purge_expired();

  [[nodiscard]] const LruCache& store() const { return cache_; }
  [[nodiscard]] std::chrono::seconds default_ttl() const { return default_ttl_; }

 private:
  LocalCache(plugin::Host& host, const plugin::Config& config, CacheLimits limits);
  LruCache::TimePoint expiry(std::chrono::seconds ttl, LruCache::TimePoint now) const;
  void publish(const Delta& delta);

  plugin::Host& host_;
  std::chrono::seconds default_ttl_;
  LruCache cache_;
  plugin::Gauge& entries_gauge_;
  plugin::Gauge& bytes_gauge_;
  plugin::Counter& evicted_capacity_;
  plugin::Counter& evicted_expired_;
  std::atomic<LruCache::TimePoint::rep> last_purge_;
};

}  // namespace eltrix::cache_local
