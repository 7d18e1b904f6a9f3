#include "plugins/guarded_cache.h"

#include <eltrix/plugin/error.h>

namespace eltrix::plugins {

namespace {
constexpr const char* kHelp = "Cache-plugin calls that failed; the core fell back to PostgreSQL.";
}

GuardedCache::GuardedCache(const Instance<plugin::Cache>& cache, metrics::Registry& metrics)
    : cache_(cache),
      hits_(metrics.counter("eltrix_cache_hits_total",
                            "Cache lookups that found an entry (any cache backend).")),
      misses_(metrics.counter("eltrix_cache_misses_total",
                              "Cache lookups that found no entry; the core read PostgreSQL.")),
      get_errors_(metrics.counter("eltrix_cache_errors_total", kHelp, {{"op", "get"}})),
      set_errors_(metrics.counter("eltrix_cache_errors_total", kHelp, {{"op", "set"}})),
      erase_errors_(metrics.counter("eltrix_cache_errors_total", kHelp, {{"op", "erase"}})),
      increment_errors_(
          metrics.counter("eltrix_cache_errors_total", kHelp, {{"op", "increment"}})) {}

plugin::Health GuardedCache::health() {
  auto guard = cache_.serialize();
  try {
    return cache_->health();
  } catch (const std::exception& e) {
    return {plugin::HealthStatus::failed, e.what()};
  } catch (...) {
    return {plugin::HealthStatus::failed, "health() threw a non-standard exception"};
  }
}

std::optional<std::string> GuardedCache::get(std::string_view key) {
  auto guard = cache_.serialize();
  try {
    auto value = cache_->get(key);
    (value ? hits_ : misses_).inc();
    return value;
  } catch (...) {
    get_errors_.inc();
    return std::nullopt;
  }
}

void GuardedCache::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  {
    auto guard = cache_.serialize();
    try {
      cache_->set(key, value, ttl);
    } catch (...) {
      set_errors_.inc();
    }
  }
  // Published even when the local write failed: the peers' copies are stale
  // either way.
  if (publisher_ && value == kTombstone) {
    publisher_(Invalidation{std::string(key), std::string(value), ttl});
  }
}

bool GuardedCache::erase(std::string_view key) {
  bool existed = false;
  {
    auto guard = cache_.serialize();
    try {
      existed = cache_->erase(key);
    } catch (...) {
      erase_errors_.inc();
    }
  }
  if (publisher_) publisher_(Invalidation{std::string(key), std::nullopt, {}});
  return existed;
}

void GuardedCache::set_invalidation_publisher(std::function<void(const Invalidation&)> publisher) {
  publisher_ = std::move(publisher);
}

void GuardedCache::apply_peer_invalidation(const Invalidation& invalidation) {
  auto guard = cache_.serialize();
  try {
    if (invalidation.tombstone) {
      cache_->set(invalidation.key, *invalidation.tombstone, invalidation.ttl);
    } else {
      cache_->erase(invalidation.key);
    }
  } catch (...) {
    (invalidation.tombstone ? set_errors_ : erase_errors_).inc();
  }
}

std::int64_t GuardedCache::increment(std::string_view key, std::int64_t delta,
                                     std::chrono::seconds ttl) {
  auto guard = cache_.serialize();
  try {
    return cache_->increment(key, delta, ttl);
  } catch (const plugin::Error&) {
    increment_errors_.inc();
    throw;
  } catch (const std::exception& e) {
    increment_errors_.inc();
    throw plugin::Error(plugin::ErrorKind::transient, e.what());
  } catch (...) {
    increment_errors_.inc();
    throw plugin::Error(plugin::ErrorKind::transient, "cache increment failed");
  }
}

}  // namespace eltrix::plugins
