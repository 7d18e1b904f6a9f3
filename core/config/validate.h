// Validation of the effective configuration against the declared keys.
//
// It collects every problem rather than stopping at the first, so an operator
// fixes a config in one round.
#pragma once

#include "config/config.h"
#include "config/schema.h"

#include <string>
#include <vector>

namespace eltrix::config {

struct Problem {
  std::string key;
  std::string message;  ///< names the key, the value found (unless secret) and what was expected
};

/// Checks every declared key's effective value: required, type, range,
/// choices and the key's own check.
std::vector<Problem> validate(const Schema& schema, const Config& config);

/// A problem with a key's current value, in the standard wording:
/// "cache.backend = 'nosuch' (from env ELTRIX_CACHE_BACKEND): expected ...".
Problem make_problem(const Key& key, const Config& config, std::string_view expected);

/// The value as it may be shown: secrets become "<redacted>".
std::string shown_value(const Key& key, std::string_view value);

/// Settings from files whose key nobody declared (typos, or keys of plugins
/// that are not configured): "<origin>: unknown key 'x'".
std::vector<std::string> unknown_keys(const Schema& schema, const std::vector<Setting>& settings);

}  // namespace eltrix::config
