#include "local_cache.h"

#include <eltrix/plugin/error.h>

#include <string>

namespace eltrix::cache_local {
namespace {

constexpr std::int64_t kMaxMemoryMb = std::int64_t{1} << 20;  // 1 TiB

std::int64_t read_positive(const plugin::Config& config, std::string_view key,
                           std::int64_t fallback, std::int64_t max) {
  std::int64_t value = config.get_int(key, fallback);
  if (value < 1 || value > max) {
    throw plugin::Error(plugin::ErrorKind::permanent,
                        std::string(key) + ": expected an integer between 1 and " +
                            std::to_string(max) + ", found " + std::to_string(value));
  }
  return value;
}

CacheLimits limits_from(const plugin::Config& config) {
  CacheLimits limits;
  limits.max_entries =
      static_cast<std::size_t>(read_positive(config, "cache.local.max_entries", 100000, INT64_MAX));
  limits.max_bytes = static_cast<std::size_t>(
                         read_positive(config, "cache.local.max_memory_mb", 64, kMaxMemoryMb)) *
                     1024U * 1024U;
  return limits;
}

void check_key(std::string_view key) {
  if (key.size() > plugin::kMaxCacheKeySize) {
    throw plugin::Error(plugin::ErrorKind::invalid_argument,
                        "cache-local: key of " + std::to_string(key.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(plugin::kMaxCacheKeySize));
  }
}

void check_ttl(std::chrono::seconds ttl) {
  if (ttl.count() < 0) {
    throw plugin::Error(plugin::ErrorKind::invalid_argument,
                        "cache-local: negative ttl " + std::to_string(ttl.count()));
  }
}

}  // namespace

LocalCache::LocalCache(plugin::Host& host, const plugin::Config& config)
    : LocalCache(host, config, limits_from(config)) {}

LocalCache::LocalCache(plugin::Host& host, const plugin::Config& config, CacheLimits limits)
    : host_(host),
      default_ttl_(config.get_int("cache.ttl", 3600)),
      cache_(limits, limits.max_entries < kSingleShardBelow ? 1 : kShards),
      entries_gauge_(host.gauge("eltrix_cache_local_entries", "Entries in the local cache")),
      bytes_gauge_(host.gauge("eltrix_cache_local_bytes",
                              "Estimated memory held by the local cache (keys, values, overhead)")),
      evicted_capacity_(host.counter("eltrix_cache_local_evictions_total",
                                     "Entries removed from the local cache",
                                     {{"reason", "capacity"}})),
      evicted_expired_(host.counter("eltrix_cache_local_evictions_total",
                                    "Entries removed from the local cache",
                                    {{"reason", "expired"}})),
      last_purge_(host.steady_now().time_since_epoch().count()) {
  entries_gauge_.set(0);
  bytes_gauge_.set(0);
  host_.info("local cache ready", {{"max_entries", std::to_string(cache_.limits().max_entries)},
                                   {"max_bytes", std::to_string(cache_.limits().max_bytes)},
                                   {"shards", std::to_string(cache_.shard_count())},
                                   {"default_ttl_s", std::to_string(default_ttl_.count())}});
}

LocalCache::~LocalCache() {
  entries_gauge_.set(0);
  bytes_gauge_.set(0);
}

LruCache::TimePoint LocalCache::expiry(std::chrono::seconds ttl, LruCache::TimePoint now) const {
  if (ttl.count() == 0) ttl = default_ttl_;
  // A default of zero or less (cache.ttl = 0) means entries never expire.
  if (ttl.count() <= 0) return LruCache::kNever;
  auto room = std::chrono::duration_cast<std::chrono::seconds>(LruCache::kNever - now);
  if (ttl >= room) return LruCache::kNever;
  return now + ttl;
}

void LocalCache::publish(const Delta& delta) {
  if (delta.entries != 0) entries_gauge_.add(static_cast<double>(delta.entries));
  if (delta.bytes != 0) bytes_gauge_.add(static_cast<double>(delta.bytes));
  if (delta.evicted_capacity != 0)
    evicted_capacity_.inc(static_cast<double>(delta.evicted_capacity));
  if (delta.evicted_expired != 0) evicted_expired_.inc(static_cast<double>(delta.evicted_expired));
}

plugin::Health LocalCache::health() {
  auto now = host_.steady_now();
  auto last = LruCache::TimePoint(LruCache::TimePoint::duration(last_purge_.load()));
  if (now - last >= kPurgeInterval) {
    last_purge_.store(now.time_since_epoch().count());
    purge_expired();
  }
  return {plugin::HealthStatus::ok, std::to_string(cache_.entries()) + " entries, " +
                                        std::to_string(cache_.bytes()) + " bytes"};
}

std::size_t LocalCache::purge_expired() {
  Delta delta;
  auto purged = cache_.purge_expired(host_.steady_now(), delta);
  publish(delta);
  return purged;
}

std::optional<std::string> LocalCache::get(std::string_view key) {
  check_key(key);
  Delta delta;
  auto value = cache_.get(key, host_.steady_now(), delta);
  publish(delta);
  return value;
}

void LocalCache::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  check_key(key);
  check_ttl(ttl);
  if (value.size() > plugin::kMaxCacheValueSize) {
    throw plugin::Error(plugin::ErrorKind::invalid_argument,
                        "cache-local: value of " + std::to_string(value.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(plugin::kMaxCacheValueSize));
  }
  auto now = host_.steady_now();
  Delta delta;
  cache_.set(key, value, expiry(ttl, now), now, delta);
  publish(delta);
}

bool LocalCache::erase(std::string_view key) {
  check_key(key);
  Delta delta;
  bool existed = cache_.erase(key, host_.steady_now(), delta);
  publish(delta);
  return existed;
}

std::int64_t LocalCache::increment(std::string_view key, std::int64_t delta_value,
                                   std::chrono::seconds ttl) {
  check_key(key);
  check_ttl(ttl);
  auto now = host_.steady_now();
  Delta delta;
  try {
    auto result = cache_.increment(key, delta_value, expiry(ttl, now), now, delta);
    publish(delta);
    return result;
  } catch (...) {
    publish(delta);
    throw;
  }
}

}  // namespace eltrix::cache_local
