// The cache plugin as the rest of the core sees it: every call serialised
// when the plugin is not thread-safe, and guarded so that a failing cache
// degrades to misses instead of failing requests (DESIGN.md §4: "Cache
// failures degrade, they do not fail"). Failures are counted in
// eltrix_cache_errors_total{op}; lookups in eltrix_cache_hits_total and
// eltrix_cache_misses_total (a failed lookup is an error, not a miss). These
// are counted here, for every backend, so plugins do not count them again.
#pragma once

#include "metrics/registry.h"
#include "plugins/registry.h"

#include <eltrix/plugin/cache.h>

#include <functional>
#include <optional>
#include <string>

namespace eltrix::plugins {

/// A value that says "this entry was removed; do not refill it from a read
/// that began before" (a revoked access token). Writing one is an
/// invalidation, like erase().
inline constexpr std::string_view kTombstone = "revoked";

/// An invalidation to repeat on other nodes: erase `key`, or store `tombstone`.
struct Invalidation {
  std::string key;
  std::optional<std::string> tombstone;
  std::chrono::seconds ttl{0};
};

class GuardedCache final : public plugin::Cache {
 public:
  GuardedCache(const Instance<plugin::Cache>& cache, metrics::Registry& metrics);

  plugin::Health health() override;
  /// nullopt on a miss and on any failure.
  std::optional<std::string> get(std::string_view key) override;
  /// Failures are swallowed (the entry is simply not cached).
  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override;
  /// False on failure. Callers that must invalidate (logout) cannot do more
  /// than try: entries also expire by TTL.
  bool erase(std::string_view key) override;
  /// Throws plugin::Error(transient) on failure: a counter has no safe
  /// default, so the caller decides (rate limits let the request through).
  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::chrono::seconds ttl) override;

  /// Called (on the calling thread, without blocking) with every local
  /// invalidation: erase() and set() of kTombstone. The cluster mesh relays
  /// them to peers when the cache is not shared (no plugin::kCacheShared).
  /// Set once, before serving.
  void set_invalidation_publisher(std::function<void(const Invalidation&)> publisher);
  /// Applies a peer's invalidation here, without publishing it again.
  void apply_peer_invalidation(const Invalidation& invalidation);

 private:
  std::function<void(const Invalidation&)> publisher_;
  const Instance<plugin::Cache>& cache_;
  metrics::Counter& hits_;
  metrics::Counter& misses_;
  metrics::Counter& get_errors_;
  metrics::Counter& set_errors_;
  metrics::Counter& erase_errors_;
  metrics::Counter& increment_errors_;
};

}  // namespace eltrix::plugins
