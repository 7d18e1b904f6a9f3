// Keys whose update may not have reached Redis, removed once it answers again.
//
// When set() or erase() fails, Redis may still hold the old value: during a
// network partition, for example, a logout's "revoked" marker is never
// written and the token's cached lookup would be served again, by every node,
// once Redis is reachable. So every key whose write failed is remembered here
// and deleted before this instance uses Redis for anything else. Deleting is
// always safe in a cache: the next lookup reads PostgreSQL.
//
// The set is bounded (kMaxStaleKeys). Beyond it, only "too many" is kept, and
// the repair deletes every key under this deployment's prefix instead
// (SCAN + UNLINK): a cold cache, never a stale one.
#pragma once

#include <eltrix/plugin/host.h>

#include "connection.h"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_set>

namespace eltrix::cache_redis {

inline constexpr std::size_t kMaxStaleKeys = 10000;

class StaleKeys {
 public:
  StaleKeys(plugin::Host& host, std::string key_prefix, std::size_t max_keys = kMaxStaleKeys);

  /// Remembers a full (prefixed) key whose write failed.
  void add(const std::string& full_key);

  /// Cheap check for every call: is there anything to repair?
  [[nodiscard]] bool pending() const { return pending_.load(std::memory_order_acquire); }

  /// Deletes the remembered keys (or, after an overflow, every key under the
  /// prefix) on `connection`. Other callers wait meanwhile, so none of them
  /// reads an entry that is about to go. Throws plugin::Error(transient) when
  /// Redis fails again; what is left stays remembered.
  void repair(Connection& connection);

 private:
  void delete_keys(Connection& connection);
  void delete_prefix(Connection& connection);
  void publish();

  plugin::Host& host_;
  const std::string prefix_;
  const std::size_t max_keys_;
  plugin::Gauge& pending_gauge_;
  plugin::Counter& removed_;

  std::mutex mutex_;
  std::unordered_set<std::string> keys_;
  bool overflow_ = false;
  std::atomic<bool> pending_{false};
};

/// `prefix` with the glob characters of SCAN MATCH escaped, then "*".
std::string match_pattern(std::string_view prefix);

}  // namespace eltrix::cache_redis
