#include "lru_cache.h"

#include <eltrix/plugin/error.h>

#include <charconv>
#include <functional>

namespace eltrix::cache_local {
namespace {

// A finaliser (splitmix64) so that the shard choice does not reuse the
// hash bits the shard's own unordered_map uses for its buckets.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 30U;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27U;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31U;
  return h;
}

std::optional<std::int64_t> parse_int64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t out = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

}  // namespace

LruCache::LruCache(CacheLimits limits, std::size_t shard_count)
    : limits_(limits),
      shard_count_(shard_count == 0 ? 1 : shard_count),
      shards_(std::make_unique<Shard[]>(shard_count_)) {
  if (limits_.max_entries == 0) limits_.max_entries = 1;
  if (limits_.max_bytes == 0) limits_.max_bytes = 1;
}

LruCache::~LruCache() = default;

std::size_t LruCache::shard_index(std::string_view key) const {
  return static_cast<std::size_t>(mix(std::hash<std::string_view>{}(key)) % shard_count_);
}

LruCache::Shard& LruCache::shard_for(std::string_view key) {
  return shards_[shard_index(key)];
}

void LruCache::replace_value(Entry& entry, std::string fresh) {
  // Swapping in a freshly built string (rather than assign(), or a move
  // assignment, which copies a short value into the old buffer) releases the
  // old buffer, so the memory held is what charge() counts: a value that was
  // 4 MiB and is now "y" does not keep its 4 MiB.
  entry.value.swap(fresh);
}

std::optional<std::size_t> LruCache::value_capacity(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return std::nullopt;
  return found->second->value.capacity();
}

bool LruCache::over_limits() const {
  return static_cast<std::size_t>(entries_.load(std::memory_order_relaxed)) > limits_.max_entries ||
         static_cast<std::size_t>(bytes_.load(std::memory_order_relaxed)) > limits_.max_bytes;
}

void LruCache::remove(Shard& shard, List::iterator it, Delta& delta) {
  auto size = static_cast<std::int64_t>(charge(it->key, it->value));
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
  entries_.fetch_sub(1, std::memory_order_relaxed);
  bytes_.fetch_sub(size, std::memory_order_relaxed);
  delta.entries -= 1;
  delta.bytes -= size;
}

void LruCache::evict_tail(Shard& shard, TimePoint now, Delta& delta) {
  auto victim = std::prev(shard.lru.end());
  if (victim->expires <= now) {
    ++delta.evicted_expired;
  } else {
    ++delta.evicted_capacity;
  }
  remove(shard, victim, delta);
}

void LruCache::evict_own_shard(Shard& shard, TimePoint now, Delta& delta) {
  // The entry just written is at the front; never evict it here.
  while (over_limits() && shard.lru.size() > 1) evict_tail(shard, now, delta);
}

void LruCache::evict_other_shards(std::size_t own, TimePoint now, Delta& delta) {
  // One entry per shard per pass, so no shard is drained while others are full.
  bool progress = true;
  while (over_limits() && progress) {
    progress = false;
    for (std::size_t step = 1; step < shard_count_ && over_limits(); ++step) {
      Shard& shard = shards_[(own + step) % shard_count_];
      std::lock_guard lock(shard.mutex);
      if (shard.lru.empty() || !over_limits()) continue;
      evict_tail(shard, now, delta);
      progress = true;
    }
  }
}

std::optional<std::string> LruCache::get(std::string_view key, TimePoint now, Delta& delta) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return std::nullopt;
  auto it = found->second;
  if (it->expires <= now) {
    ++delta.evicted_expired;
    remove(shard, it, delta);
    return std::nullopt;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  return it->value;
}

void LruCache::set(std::string_view key, std::string_view value, TimePoint expires, TimePoint now,
                   Delta& delta) {
  const std::size_t own = shard_index(key);
  Shard& shard = shards_[own];
  const auto size = static_cast<std::int64_t>(charge(key, value));
  {
    std::lock_guard lock(shard.mutex);
    auto found = shard.index.find(key);
    if (static_cast<std::size_t>(size) > limits_.max_bytes) {
      // Cannot fit even alone: behave as if stored and evicted at once.
      if (found != shard.index.end()) remove(shard, found->second, delta);
      ++delta.evicted_capacity;
      return;
    }
    if (found != shard.index.end()) {
      auto it = found->second;
      auto old_size = static_cast<std::int64_t>(charge(it->key, it->value));
      replace_value(*it, std::string(value));
      it->expires = expires;
      bytes_.fetch_add(size - old_size, std::memory_order_relaxed);
      delta.bytes += size - old_size;
      shard.lru.splice(shard.lru.begin(), shard.lru, it);
    } else {
      shard.lru.push_front(Entry{std::string(key), std::string(value), expires});
      auto it = shard.lru.begin();
      shard.index.emplace(std::string_view(it->key), it);
      entries_.fetch_add(1, std::memory_order_relaxed);
      bytes_.fetch_add(size, std::memory_order_relaxed);
      delta.entries += 1;
      delta.bytes += size;
    }
    evict_own_shard(shard, now, delta);
  }
  if (over_limits()) evict_other_shards(own, now, delta);
}

bool LruCache::erase(std::string_view key, TimePoint now, Delta& delta) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) return false;
  const bool live = found->second->expires > now;
  if (!live) ++delta.evicted_expired;
  remove(shard, found->second, delta);
  return live;
}

std::int64_t LruCache::increment(std::string_view key, std::int64_t amount,
                                 TimePoint expires_if_created, TimePoint now, Delta& delta) {
  const std::size_t own = shard_index(key);
  Shard& shard = shards_[own];
  std::int64_t result = 0;
  {
    std::lock_guard lock(shard.mutex);
    auto found = shard.index.find(key);
    if (found != shard.index.end() && found->second->expires <= now) {
      ++delta.evicted_expired;
      remove(shard, found->second, delta);
      found = shard.index.end();
    }
    if (found != shard.index.end()) {
      auto it = found->second;
      auto current = parse_int64(it->value);
      if (!current) {
        throw plugin::Error(plugin::ErrorKind::invalid_argument,
                            "cache-local: increment: the value at the key is not an integer");
      }
      if (__builtin_add_overflow(*current, amount, &result)) {
        throw plugin::Error(plugin::ErrorKind::invalid_argument,
                            "cache-local: increment: the result would overflow a 64-bit integer");
      }
      auto old_size = static_cast<std::int64_t>(charge(it->key, it->value));
      replace_value(*it, std::to_string(result));
      auto new_size = static_cast<std::int64_t>(charge(it->key, it->value));
      bytes_.fetch_add(new_size - old_size, std::memory_order_relaxed);
      delta.bytes += new_size - old_size;
      shard.lru.splice(shard.lru.begin(), shard.lru, it);
    } else {
      result = amount;
      shard.lru.push_front(Entry{std::string(key), std::to_string(result), expires_if_created});
      auto it = shard.lru.begin();
      shard.index.emplace(std::string_view(it->key), it);
      auto size = static_cast<std::int64_t>(charge(it->key, it->value));
      entries_.fetch_add(1, std::memory_order_relaxed);
      bytes_.fetch_add(size, std::memory_order_relaxed);
      delta.entries += 1;
      delta.bytes += size;
    }
    evict_own_shard(shard, now, delta);
  }
  if (over_limits()) evict_other_shards(own, now, delta);
  return result;
}

std::size_t LruCache::purge_expired(TimePoint now, Delta& delta) {
  std::size_t purged = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.lru.begin(); it != shard.lru.end();) {
      auto next = std::next(it);
      if (it->expires <= now) {
        ++delta.evicted_expired;
        remove(shard, it, delta);
        ++purged;
      }
      it = next;
    }
  }
  return purged;
}

}  // namespace eltrix::cache_local
