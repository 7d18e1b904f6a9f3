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

namespace eltrix::plugins {

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

 private:
  const Instance<plugin::Cache>& cache_;
  metrics::Counter& hits_;
  metrics::Counter& misses_;
  metrics::Counter& get_errors_;
  metrics::Counter& set_errors_;
  metrics::Counter& erase_errors_;
  metrics::Counter& increment_errors_;
};

}  // namespace eltrix::plugins
