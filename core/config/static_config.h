// A plugin::Config backed by a plain map: for tests and for tools that build a
// configuration in code.
#pragma once

#include <eltrix/plugin/config.h>

#include <initializer_list>
#include <map>
#include <string>
#include <utility>

namespace eltrix::config {

class StaticConfig final : public plugin::Config {
 public:
  StaticConfig() = default;
  StaticConfig(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values) {}
  explicit StaticConfig(std::map<std::string, std::string, std::less<>> values)
      : values_(std::move(values)) {}

  void set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }

  [[nodiscard]] std::optional<std::string> get(std::string_view key) const override {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace eltrix::config
