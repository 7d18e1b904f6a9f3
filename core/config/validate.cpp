#include "config/validate.h"

#include <fmt/format.h>

#include <charconv>

namespace eltrix::config {

using plugin::ConfigType;

std::string shown_value(const Key& key, std::string_view value) {
  return key.secret ? std::string("<redacted>") : std::string(value);
}

Problem make_problem(const Key& key, const Config& config, std::string_view expected) {
  auto value = config.get(key.name).value_or("");
  return Problem{key.name, fmt::format("{} = '{}' (from {}): {}", key.name, shown_value(key, value),
                                       config.origin(key.name), expected)};
}

namespace {

std::string join_choices(const std::vector<std::string>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += "'" + choices[i] + "'";
  }
  return out;
}

std::optional<std::string> check_type(const Key& key, std::string_view value) {
  switch (key.type) {
    case ConfigType::string:
    case ConfigType::list: return std::nullopt;
    case ConfigType::boolean:
      if (plugin::Config::parse_bool(value)) return std::nullopt;
      return "expected true or false (also yes/no, on/off, 1/0)";
    case ConfigType::choice:
      for (const auto& choice : key.choices) {
        if (value == choice) return std::nullopt;
      }
      return "expected " + join_choices(key.choices);
    case ConfigType::integer: {
      std::int64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      bool whole = ec == std::errc() && ptr == value.data() + value.size();
      if (whole && n >= key.min_value && n <= key.max_value) return std::nullopt;
      if (key.min_value != INT64_MIN && key.max_value != INT64_MAX) {
        return fmt::format("expected an integer from {} to {}", key.min_value, key.max_value);
      }
      if (key.min_value != INT64_MIN) {
        return fmt::format("expected an integer of at least {}", key.min_value);
      }
      return "expected an integer";
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<Problem> validate(const Schema& schema, const Config& config) {
  std::vector<Problem> problems;
  for (const auto& key : schema.keys()) {
    auto value = config.get(key.name);
    if (!value || value->empty()) {
      if (key.required) {
        problems.push_back(Problem{
            key.name, fmt::format("{} is required but not set: set it in the config file or in "
                                  "the environment variable {} ({})",
                                  key.name, key.env, key.help)});
      }
      continue;  // an empty optional value means "unset"
    }
    if (auto expected = check_type(key, *value)) {
      problems.push_back(make_problem(key, config, *expected));
      continue;
    }
    if (key.check) {
      if (auto expected = key.check(*value))
        problems.push_back(make_problem(key, config, *expected));
    }
  }
  return problems;
}

std::vector<std::string> unknown_keys(const Schema& schema, const std::vector<Setting>& settings) {
  std::vector<std::string> out;
  for (const auto& setting : settings) {
    if (schema.find(setting.key) == nullptr) {
      out.push_back(
          fmt::format("{}: unknown key '{}' (not declared by the core or by a "
                      "configured plugin); ignored",
                      setting.origin, setting.key));
    }
  }
  return out;
}

}  // namespace eltrix::config
