// A small in-memory plugin::Cache for client unit tests: TTLs follow a clock
// the test moves, and a switch makes every call fail like an unreachable
// backend.
#pragma once

#include <eltrix/plugin/cache.h>
#include <eltrix/plugin/error.h>

#include <cstdint>
#include <map>
#include <string>

namespace eltrix::test {

class MemoryCache final : public plugin::Cache {
 public:
  std::int64_t now_ms = 0;  ///< the clock TTLs are measured against
  bool failing = false;     ///< every call throws Error(transient)

  plugin::Health health() override { return {}; }

  std::optional<std::string> get(std::string_view key) override {
    check();
    auto it = entries_.find(std::string(key));
    if (it == entries_.end() || expired(it->second)) return std::nullopt;
    return it->second.value;
  }

  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    check();
    entries_[std::string(key)] = {std::string(value), now_ms + ttl_ms(ttl)};
  }

  bool erase(std::string_view key) override {
    check();
    return entries_.erase(std::string(key)) > 0;
  }

  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::chrono::seconds ttl) override {
    check();
    auto it = entries_.find(std::string(key));
    if (it == entries_.end() || expired(it->second)) {
      entries_[std::string(key)] = {std::to_string(delta), now_ms + ttl_ms(ttl)};
      return delta;
    }
    const std::int64_t value = std::stoll(it->second.value) + delta;
    it->second.value = std::to_string(value);  // the TTL is kept (fixed windows)
    return value;
  }

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  /// Milliseconds until `key` expires (-1 when absent).
  [[nodiscard]] std::int64_t ttl_left(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? -1 : it->second.expires_ms - now_ms;
  }

 private:
  struct Entry {
    std::string value;
    std::int64_t expires_ms = 0;
  };
  void check() const {
    if (failing) throw plugin::Error(plugin::ErrorKind::transient, "cache unreachable");
  }
  [[nodiscard]] bool expired(const Entry& entry) const { return entry.expires_ms <= now_ms; }
  static std::int64_t ttl_ms(std::chrono::seconds ttl) {
    return (ttl.count() == 0 ? 3600 : ttl.count()) * 1000;
  }
  std::map<std::string, Entry> entries_;
};

}  // namespace eltrix::test
