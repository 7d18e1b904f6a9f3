// The effective configuration: defaults, then files, then the environment.
#pragma once

#include "config/config_file.h"
#include "config/schema.h"

#include <eltrix/plugin/config.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::config {

/// Looks up an environment variable; tests pass a map instead of the process env.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

class Config final : public plugin::Config {
 public:
  /// Applies `file_settings` in order (later wins), then, for every key
  /// declared in `schema`, its environment variable when set. `schema` must
  /// outlive the Config: it supplies the defaults.
  static Config resolve(const Schema& schema, const std::vector<Setting>& file_settings,
                        const EnvLookup& env);

  Config() = default;
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;
  Config(Config&&) noexcept = default;
  Config& operator=(Config&&) noexcept = default;
  ~Config() = default;

  [[nodiscard]] std::optional<std::string> get(std::string_view key) const override;
  /// Where the value came from: a file:line, "env NAME" or "default".
  [[nodiscard]] std::string origin(std::string_view key) const;
  /// Whether a file or the environment set the key (as opposed to its default).
  [[nodiscard]] bool is_set(std::string_view key) const;

 private:
  const Schema* schema_ = nullptr;
  std::map<std::string, Setting, std::less<>> values_;
};

}  // namespace eltrix::config
