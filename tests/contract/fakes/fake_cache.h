// An in-memory Cache for the contract suite: the simplest thing that meets
// the contract (a map under one mutex, TTLs on the Host's clock, no limits
// beyond the per-key and per-value ones).
#pragma once

#include <eltrix/plugin/plugin.h>

#include <charconv>
#include <map>
#include <mutex>

namespace eltrix::contract {

class FakeCache final : public plugin::Cache {
 public:
  static constexpr const char* kDescription = "in-memory cache for contract tests";
  static constexpr bool kThreadSafe = true;

  FakeCache(plugin::Host& host, const plugin::Config& config)
      : host_(host), default_ttl_(config.get_int("cache.ttl", 3600)) {}

  plugin::Health health() override { return {}; }

  std::optional<std::string> get(std::string_view key) override {
    check(key, {});
    std::lock_guard lock(mutex_);
    auto it = live(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second.value;
  }

  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    check(key, value);
    std::lock_guard lock(mutex_);
    entries_.insert_or_assign(std::string(key), Entry{std::string(value), expiry(ttl)});
  }

  bool erase(std::string_view key) override {
    check(key, {});
    std::lock_guard lock(mutex_);
    auto it = live(key);
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
  }

  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::chrono::seconds ttl) override {
    check(key, {});
    std::lock_guard lock(mutex_);
    auto it = live(key);
    if (it == entries_.end()) {
      entries_.emplace(std::string(key), Entry{std::to_string(delta), expiry(ttl)});
      return delta;
    }
    std::int64_t current = 0;
    const std::string& text = it->second.value;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), current);
    std::int64_t result = 0;
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
        __builtin_add_overflow(current, delta, &result)) {
      throw plugin::Error(plugin::ErrorKind::invalid_argument, "fake cache: not an integer");
    }
    it->second.value = std::to_string(result);
    return result;
  }

 private:
  struct Entry {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  using Map = std::map<std::string, Entry, std::less<>>;

  static void check(std::string_view key, std::string_view value) {
    if (key.size() > plugin::kMaxCacheKeySize || value.size() > plugin::kMaxCacheValueSize) {
      throw plugin::Error(plugin::ErrorKind::invalid_argument, "fake cache: too large");
    }
  }

  std::chrono::steady_clock::time_point expiry(std::chrono::seconds ttl) const {
    if (ttl.count() == 0) ttl = default_ttl_;
    return host_.steady_now() + ttl;
  }

  Map::iterator live(std::string_view key) {
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.expires <= host_.steady_now()) {
      entries_.erase(it);
      return entries_.end();
    }
    return it;
  }

  plugin::Host& host_;
  std::chrono::seconds default_ttl_;
  std::mutex mutex_;
  Map entries_;
};

inline constexpr plugin::Descriptor kFakeCacheDescriptor =
    plugin::detail::make_descriptor<plugin::Kind::cache, FakeCache>("fake", "1.0", {});

}  // namespace eltrix::contract
