#include "storage/write_positions.h"

#include "log/log.h"

#include <algorithm>
#include <charconv>

namespace eltrix::storage {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("storage");
  return instance;
}

std::int64_t ticks(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

WritePositions::WritePositions(plugin::Cache* cache, Serialize serialize,
                               WritePositionsOptions options, Clock clock)
    : cache_(cache),
      serialize_(std::move(serialize)),
      options_(options),
      clock_(std::move(clock)) {}

std::string WritePositions::cache_key(const std::string& user_id) {
  return "ryw:" + user_id;
}

std::size_t WritePositions::local_size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t WritePositions::local(const std::string& user_id,
                                    std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(user_id);
  if (it == entries_.end()) return 0;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return 0;
  }
  return it->second.position;
}

bool WritePositions::cache_trusted(std::chrono::steady_clock::time_point now) const {
  return ticks(now) >= distrust_until_.load();
}

void WritePositions::remember_failure(std::chrono::steady_clock::time_point now) {
  const std::int64_t until = ticks(now + options_.ttl);
  if (distrust_until_.exchange(until) < ticks(now)) {
    logger().warn(
        "shared cache failed; reads use the primary's position until it has been "
        "healthy for a while",
        {{"seconds", std::to_string(options_.ttl.count())}});
  }
}

std::optional<std::uint64_t> WritePositions::required(const std::string& user_id) {
  const auto now = clock_();
  std::uint64_t position = std::max(local(user_id, now), floor_.load());
  if (options_.cache_shared && cache_ != nullptr) {
    if (!cache_trusted(now)) return std::nullopt;
    try {
      auto guard = serialize_ ? serialize_() : std::unique_lock<std::mutex>();
      if (auto text = cache_->get(cache_key(user_id))) {
        std::uint64_t stored = 0;
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), stored);
        if (ec == std::errc() && end == text->data() + text->size())
          position = std::max(position, stored);
      }
    } catch (...) {
      remember_failure(now);
      return std::nullopt;
    }
    return position;
  }
  // A per-node cache: in a cluster another node may hold the user's last write.
  if (options_.clustered) return std::nullopt;
  return position;
}

void WritePositions::advance(const std::string& user_id, std::uint64_t position) {
  if (position == 0 || user_id.empty()) return;
  const auto now = clock_();
  const auto expires = now + options_.ttl;
  bool raised = false;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(user_id);
    if (it == entries_.end() && entries_.size() >= options_.max_local_entries) {
      std::erase_if(entries_, [&](const auto& item) { return item.second.expires <= now; });
      if (entries_.size() >= options_.max_local_entries) {
        // Forget everyone, but make every read need what they needed.
        std::uint64_t highest = 0;
        for (const auto& item : entries_) highest = std::max(highest, item.second.position);
        std::uint64_t floor = floor_.load();
        while (floor < highest && !floor_.compare_exchange_weak(floor, highest)) {
        }
        entries_.clear();
      }
      it = entries_.end();
    }
    if (it == entries_.end()) {
      entries_.emplace(user_id, Entry{position, expires});
      raised = true;
    } else if (position > it->second.position || it->second.expires <= now) {
      it->second = Entry{position, expires};
      raised = true;
    }
  }
  if (!raised || !options_.cache_shared || cache_ == nullptr) return;
  try {
    // Last writer wins: one user's concurrent writes on two nodes may leave
    // the lower position for a moment; each node still holds its own.
    auto guard = serialize_ ? serialize_() : std::unique_lock<std::mutex>();
    cache_->set(cache_key(user_id), std::to_string(position), options_.ttl);
  } catch (...) {
    remember_failure(now);
  }
}

}  // namespace eltrix::storage
