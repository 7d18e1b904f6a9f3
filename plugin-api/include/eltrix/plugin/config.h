// Configuration keys: how the core and plugins declare them, and how a plugin
// reads the effective values.
//
// Every key is declared once, with its type, default and help text. The core
// builds `--config=default`, etc/eltrix.conf and docs/config-reference.md from
// the declarations, validates every value before any plugin is created, and
// never prints a key flagged secret.
#pragma once

#include <eltrix/plugin/error.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::plugin {

enum class ConfigType : std::uint32_t {
  string = 1,
  integer = 2,  ///< signed 64-bit, checked against min_value/max_value
  boolean = 3,  ///< true/false, yes/no, on/off, 1/0
  list = 4,     ///< comma-separated strings; blanks around items are trimmed
  choice = 5,   ///< one of `choices` ("a|b|c")
};

enum ConfigKeyFlags : std::uint32_t {
  kConfigRequired = 1U << 0U,  ///< must be set to a non-empty value
  kConfigSecret = 1U << 1U,    ///< never printed or logged
};

/// One declared key. Plain data, so plugins can declare arrays of them as
/// constants in their descriptor without running code at load time.
struct ConfigKeySpec {
  const char* name = nullptr;  ///< dotted file key, e.g. "media.path"
  ConfigType type = ConfigType::string;
  const char* default_value = nullptr;  ///< textual default; nullptr means unset
  const char* help = "";
  std::uint32_t flags = 0;
  const char* env = nullptr;      ///< environment variable; nullptr derives ELTRIX_<NAME>
  const char* choices = nullptr;  ///< for ConfigType::choice: "a|b|c"
  std::int64_t min_value = INT64_MIN;
  std::int64_t max_value = INT64_MAX;
};

/// One thing wrong with a plugin's configuration.
struct ConfigProblem {
  std::string key;      ///< the key at fault
  std::string message;  ///< what was found and what was expected
};

/// Read access to the validated configuration. A plugin may read its own keys
/// and any core key (for example "cache.ttl").
class Config {
 public:
  /// The effective value (file, env or default), or nullopt when unset.
  [[nodiscard]] virtual std::optional<std::string> get(std::string_view key) const = 0;

  [[nodiscard]] std::string get_string(std::string_view key, std::string_view fallback = {}) const {
    auto value = get(key);
    return value ? *value : std::string(fallback);
  }

  [[nodiscard]] std::int64_t get_int(std::string_view key, std::int64_t fallback = 0) const {
    auto value = get(key);
    if (!value || value->empty()) return fallback;
    std::int64_t out = 0;
    const char* end = value->data() + value->size();
    auto [ptr, ec] = std::from_chars(value->data(), end, out);
    if (ec != std::errc() || ptr != end) {
      throw Error(ErrorKind::permanent,
                  std::string(key) + ": expected an integer, found '" + *value + "'");
    }
    return out;
  }

  [[nodiscard]] bool get_bool(std::string_view key, bool fallback = false) const {
    auto value = get(key);
    if (!value || value->empty()) return fallback;
    auto parsed = parse_bool(*value);
    if (!parsed) {
      throw Error(ErrorKind::permanent,
                  std::string(key) + ": expected true or false, found '" + *value + "'");
    }
    return *parsed;
  }

  [[nodiscard]] std::vector<std::string> get_list(std::string_view key) const {
    auto value = get(key);
    return value ? split_list(*value) : std::vector<std::string>{};
  }

  static std::optional<bool> parse_bool(std::string_view v) {
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    return std::nullopt;
  }

  static std::vector<std::string> split_list(std::string_view v) {
    std::vector<std::string> out;
    while (!v.empty()) {
      auto comma = v.find(',');
      auto item = v.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
    return out;
  }

 protected:
  // Implementations may be copied or moved; the interface is never owned by it.
  Config() = default;
  Config(const Config&) = default;
  Config& operator=(const Config&) = default;
  Config(Config&&) = default;
  Config& operator=(Config&&) = default;
  ~Config() = default;
};

}  // namespace eltrix::plugin
