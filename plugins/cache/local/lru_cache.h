// A bounded, thread-safe LRU map with per-entry expiry, split into
// lock-striped shards.
//
// Each shard has its own mutex, an LRU list (front = most recently used) and
// an index from key to list node. The caps (entries and bytes) are global:
// totals are kept in atomics, and a write that pushes a total over its cap
// evicts from the least recently used end of its own shard first, then from
// the other shards in turn. No thread ever holds two shard locks, so there is
// no lock ordering to get wrong. With one shard the order is exact LRU; with
// several it is LRU per shard, which is the usual trade for less contention.
//
// The class knows nothing about the Host: callers pass the current time and
// receive a Delta describing what changed, to report after the lock is gone.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eltrix::cache_local {

struct CacheLimits {
  std::size_t max_entries = 0;
  std::size_t max_bytes = 0;
};

/// What one call changed. Callers accumulate it and publish it as metrics.
struct Delta {
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
  std::uint64_t evicted_capacity = 0;
  std::uint64_t evicted_expired = 0;
};

class LruCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr TimePoint kNever = TimePoint::max();

  /// Bytes charged per entry on top of key and value: the list node, the
  /// index node and bucket, and the two string headers.
  static constexpr std::size_t kEntryOverhead = 128;

  LruCache(CacheLimits limits, std::size_t shard_count);
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;
  ~LruCache();

  /// Values are always stored in freshly built strings (never assigned over
  /// an old buffer), so their capacity is their size (or the small-string
  /// buffer inside the header) and counting the size is honest.
  static std::size_t charge(std::string_view key, std::string_view value) {
    return key.size() + value.size() + kEntryOverhead;
  }

  /// The value if present and not expired (an expired entry is dropped).
  std::optional<std::string> get(std::string_view key, TimePoint now, Delta& delta);

  /// Inserts or overwrites the value and its expiry. A value whose charge
  /// alone exceeds the byte cap is not stored, and any old value is dropped.
  void set(std::string_view key, std::string_view value, TimePoint expires, TimePoint now,
           Delta& delta);

  /// Removes the key; returns whether a live (unexpired) entry was removed.
  bool erase(std::string_view key, TimePoint now, Delta& delta);

  /// Adds `amount` to the integer stored at `key`, creating it (with
  /// `expires_if_created`) when absent or expired. Throws
  /// plugin::Error(invalid_argument), leaving the entry unchanged, when the
  /// stored value is not a decimal int64 or the sum would overflow.
  std::int64_t increment(std::string_view key, std::int64_t amount, TimePoint expires_if_created,
                         TimePoint now, Delta& delta);

  /// Drops every expired entry; returns how many.
  std::size_t purge_expired(TimePoint now, Delta& delta);

  /// The capacity of the string holding the value at `key`, expired or not
  /// (for tests: the memory held must match what charge() counts).
  [[nodiscard]] std::optional<std::size_t> value_capacity(std::string_view key);

  [[nodiscard]] std::size_t entries() const { return static_cast<std::size_t>(entries_.load()); }
  [[nodiscard]] std::size_t bytes() const { return static_cast<std::size_t>(bytes_.load()); }
  [[nodiscard]] std::size_t shard_count() const { return shard_count_; }
  [[nodiscard]] const CacheLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string key;
    std::string value;
    TimePoint expires;
  };
  using List = std::list<Entry>;
  // The index keys are views of Entry::key; list nodes never move, so they stay valid.
  struct Shard {
    std::mutex mutex;
    List lru;
    std::unordered_map<std::string_view, List::iterator> index;
  };

  // Replaces the stored value so that the old buffer is released.
  static void replace_value(Entry& entry, std::string fresh);
  Shard& shard_for(std::string_view key);
  std::size_t shard_index(std::string_view key) const;
  [[nodiscard]] bool over_limits() const;
  // The following expect the shard's mutex to be held.
  void remove(Shard& shard, List::iterator it, Delta& delta);
  void evict_tail(Shard& shard, TimePoint now, Delta& delta);
  void evict_own_shard(Shard& shard, TimePoint now, Delta& delta);
  // Called without any lock held.
  void evict_other_shards(std::size_t own, TimePoint now, Delta& delta);

  CacheLimits limits_;
  std::size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::int64_t> entries_{0};
  std::atomic<std::int64_t> bytes_{0};
};

}  // namespace eltrix::cache_local
