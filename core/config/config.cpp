#include "config/config.h"

#include <cstdlib>

namespace eltrix::config {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    // getenv is only read here, at start-up, before any thread changes the
    // environment.
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config Config::resolve(const Schema& schema, const std::vector<Setting>& file_settings,
                       const EnvLookup& env) {
  Config config;
  config.schema_ = &schema;
  for (const auto& setting : file_settings) config.values_[setting.key] = setting;
  for (const auto& key : schema.keys()) {
    if (auto value = env(key.env)) {
      config.values_[key.name] = Setting{key.name, *value, "env " + key.env};
    }
  }
  return config;
}

std::optional<std::string> Config::get(std::string_view key) const {
  if (auto it = values_.find(key); it != values_.end()) return it->second.value;
  if (schema_ != nullptr) {
    if (const Key* declared = schema_->find(key)) return declared->default_value;
  }
  return std::nullopt;
}

std::string Config::origin(std::string_view key) const {
  if (auto it = values_.find(key); it != values_.end()) return it->second.origin;
  return "default";
}

bool Config::is_set(std::string_view key) const {
  return values_.find(key) != values_.end();
}

}  // namespace eltrix::config
