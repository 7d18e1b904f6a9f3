// WritePositions: the PositionBook of a node (see storage/read_scope.h).
//
// Each user's last write position is kept in two places:
// - a small map in this node (bounded: when full, expired entries go first,
//   and if that is not enough the map is emptied after raising a floor that
//   every read then needs, so forgetting an entry never loses a write);
// - the cache plugin under "ryw:<user>", when the cache is shared by every
//   node (redis), so that a write through node A holds back the user's reads
//   on node B too.
// Entries live `ttl`, chosen well beyond the replicas' maximum lag: a replica
// that is older than that is out of rotation anyway.
//
// When the cache is per node and the node is one of a cluster, another node
// may hold the user's last write and nothing here can know it: required()
// then says "unknown" and the reader asks the primary for its current
// position (one tiny query per request), which covers every acknowledged
// write. The same happens for `ttl` after the shared cache failed, since
// positions stored meanwhile may be lost.
#pragma once

#include "storage/read_scope.h"

#include <eltrix/plugin/cache.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace eltrix::storage {

struct WritePositionsOptions {
  /// Positions are kept in the cache when it is shared by every node.
  bool cache_shared = false;
  /// This node is one of several (clustering on): positions it does not hold
  /// may exist elsewhere.
  bool clustered = false;
  std::chrono::seconds ttl{60};
  std::size_t max_local_entries = 100000;
};

class WritePositions final : public PositionBook {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Serialize = std::function<std::unique_lock<std::mutex>()>;

  /// `cache` may throw (plugin::Error) on failure; calls go through
  /// `serialize` when the plugin needs it. `cache` may be null.
  WritePositions(
      plugin::Cache* cache, Serialize serialize, WritePositionsOptions options,
      Clock clock = [] { return std::chrono::steady_clock::now(); });

  std::optional<std::uint64_t> required(const std::string& user_id) override;
  void advance(const std::string& user_id, std::uint64_t position) override;

  /// Positions held in this node's map (for tests and metrics).
  [[nodiscard]] std::size_t local_size() const;
  [[nodiscard]] std::uint64_t floor() const { return floor_.load(); }

  /// The cache key of a user's position.
  static std::string cache_key(const std::string& user_id);

 private:
  struct Entry {
    std::uint64_t position = 0;
    std::chrono::steady_clock::time_point expires;
  };

  std::uint64_t local(const std::string& user_id, std::chrono::steady_clock::time_point now);
  void remember_failure(std::chrono::steady_clock::time_point now);
  [[nodiscard]] bool cache_trusted(std::chrono::steady_clock::time_point now) const;

  plugin::Cache* cache_;
  Serialize serialize_;
  const WritePositionsOptions options_;
  Clock clock_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::atomic<std::uint64_t> floor_{0};
  /// Until then the shared cache is not trusted (a set may have been lost).
  std::atomic<std::int64_t> distrust_until_{0};
};

}  // namespace eltrix::storage
