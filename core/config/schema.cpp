#include "config/schema.h"

#include <fmt/format.h>

#include <stdexcept>

namespace eltrix::config {

std::string derived_env_name(std::string_view key) {
  std::string env = "ELTRIX_";
  for (char c : key) {
    if (c == '.' || c == '-')
      env += '_';
    else if (c >= 'a' && c <= 'z')
      env += static_cast<char>(c - 'a' + 'A');
    else
      env += c;
  }
  return env;
}

void Schema::add(const plugin::ConfigKeySpec& spec, std::string owner, Check check) {
  Key key;
  key.name = spec.name;
  key.type = spec.type;
  if (spec.default_value != nullptr) key.default_value = spec.default_value;
  key.help = spec.help != nullptr ? spec.help : "";
  key.required = (spec.flags & plugin::kConfigRequired) != 0;
  key.secret = (spec.flags & plugin::kConfigSecret) != 0;
  key.env = spec.env != nullptr ? std::string(spec.env) : derived_env_name(key.name);
  if (spec.choices != nullptr) {
    std::string_view rest = spec.choices;
    while (!rest.empty()) {
      auto bar = rest.find('|');
      key.choices.emplace_back(rest.substr(0, bar));
      if (bar == std::string_view::npos) break;
      rest.remove_prefix(bar + 1);
    }
  }
  key.min_value = spec.min_value;
  key.max_value = spec.max_value;
  key.owner = std::move(owner);
  key.check = std::move(check);

  if (auto it = by_name_.find(key.name); it != by_name_.end()) {
    throw std::invalid_argument(fmt::format("config key '{}' is declared by both {} and {}",
                                            key.name, keys_[it->second].owner, key.owner));
  }
  if (auto it = by_env_.find(key.env); it != by_env_.end()) {
    throw std::invalid_argument(
        fmt::format("environment variable {} is claimed by both '{}' ({}) and '{}' ({})", key.env,
                    keys_[it->second].name, keys_[it->second].owner, key.name, key.owner));
  }
  by_name_.emplace(key.name, keys_.size());
  by_env_.emplace(key.env, keys_.size());
  keys_.push_back(std::move(key));
}

void Schema::add_all(std::span<const plugin::ConfigKeySpec> specs, const std::string& owner) {
  for (const auto& spec : specs) add(spec, owner);
}

const Key* Schema::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &keys_[it->second];
}

const Key* Schema::find_env(std::string_view env) const {
  auto it = by_env_.find(env);
  return it == by_env_.end() ? nullptr : &keys_[it->second];
}

}  // namespace eltrix::config
