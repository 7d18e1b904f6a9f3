// The declared configuration keys: the core's and those of loaded plugins.
//
// One declaration per key drives everything: parsing, validation, the env
// variable name, `--config=default`, etc/eltrix.conf and
// docs/config-reference.md.
#pragma once

#include <eltrix/plugin/config.h>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace eltrix::config {

/// Extra validation for a key beyond its declared type; returns what was
/// expected when the value is wrong.
using Check = std::function<std::optional<std::string>(std::string_view value)>;

struct Key {
  std::string name;
  plugin::ConfigType type = plugin::ConfigType::string;
  std::optional<std::string> default_value;
  std::string help;
  bool required = false;
  bool secret = false;
  std::string env;
  std::vector<std::string> choices;
  std::int64_t min_value = INT64_MIN;
  std::int64_t max_value = INT64_MAX;
  std::string owner;  ///< "core" or the plugin's full name ("cache-local")
  Check check;        ///< core-only extra rule (plugins' rules are their types)
};

/// ELTRIX_ + the key upper-cased with '.' as '_': "cache.ttl" -> ELTRIX_CACHE_TTL.
std::string derived_env_name(std::string_view key);

class Schema {
 public:
  /// Adds a declaration. A key declared twice (by two plugins, or a plugin
  /// redeclaring a core key) throws std::invalid_argument naming both owners.
  void add(const plugin::ConfigKeySpec& spec, std::string owner, Check check = {});
  void add_all(std::span<const plugin::ConfigKeySpec> specs, const std::string& owner);

  [[nodiscard]] const Key* find(std::string_view name) const;
  [[nodiscard]] const Key* find_env(std::string_view env) const;
  /// Keys in declaration order.
  [[nodiscard]] const std::vector<Key>& keys() const { return keys_; }

 private:
  std::vector<Key> keys_;
  std::map<std::string, std::size_t, std::less<>> by_name_;
  std::map<std::string, std::size_t, std::less<>> by_env_;
};

}  // namespace eltrix::config
