// Cache plugins: a key/value cache with TTLs and atomic counters.
//
// Implementations: cache-local (in-process LRU), cache-redis (shared by all
// nodes). The cache is never the state of record: the core treats a miss, an
// eviction and a transient error the same way, by reading PostgreSQL.
#pragma once

#include <eltrix/plugin/component.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::plugin {

/// Capability bits for Kind::cache.
enum CacheCapabilities : std::uint64_t {
  /// Entries are visible to every node (redis). Without it the core sends
  /// invalidations to peers itself.
  kCacheShared = 1ULL << 0U,
  /// Entries survive a restart of the node.
  kCachePersistent = 1ULL << 1U,
};

/// Keys are at most this many bytes and values at most kMaxValueSize; larger
/// ones are rejected with Error(invalid_argument).
inline constexpr std::size_t kMaxCacheKeySize = 1024;
inline constexpr std::size_t kMaxCacheValueSize = 16U * 1024U * 1024U;

class Cache : public Component {
 public:
  /// The value, or nullopt when absent or expired. Throws Error(transient)
  /// when the backend cannot be reached.
  virtual std::optional<std::string> get(std::string_view key) = 0;

  /// Stores `value` for `ttl`; a ttl of zero means the configured default
  /// (cache.ttl). Overwrites any previous value and TTL.
  virtual void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) = 0;

  /// Removes the key; returns whether it existed.
  virtual bool erase(std::string_view key) = 0;

  /// Atomically adds `delta` to the integer at `key` (absent counts as 0) and
  /// returns the new value. `ttl` is applied only when this call creates the
  /// key, which gives fixed-window rate limits. A non-integer value at `key`
  /// throws Error(invalid_argument).
  virtual std::int64_t increment(std::string_view key, std::int64_t delta,
                                 std::chrono::seconds ttl) = 0;
};

}  // namespace eltrix::plugin
