#include "settings.h"

#include <eltrix/plugin/error.h>

namespace eltrix::cache_redis {
namespace {

struct Range {
  std::int64_t min;
  std::int64_t max;
};

// The declared ranges (plugin.cpp) are checked by the core before the plugin
// is created; they are checked again here because the plugin may be created
// with a configuration that did not pass through the core (tests, tools).
std::optional<std::int64_t> read_int(const plugin::Config& config, const char* key,
                                     std::int64_t fallback, Range range,
                                     std::vector<plugin::ConfigProblem>& problems) {
  auto text = config.get(key);
  std::int64_t value = fallback;
  if (text && !text->empty()) {
    try {
      value = config.get_int(key, fallback);
    } catch (const plugin::Error&) {
      problems.push_back({key, "expected an integer from " + std::to_string(range.min) + " to " +
                                   std::to_string(range.max)});
      return std::nullopt;
    }
  }
  if (value < range.min || value > range.max) {
    problems.push_back({key, "expected an integer from " + std::to_string(range.min) + " to " +
                                 std::to_string(range.max) + ", found " + std::to_string(value)});
    return std::nullopt;
  }
  return value;
}

Settings collect(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems) {
  Settings settings;
  auto url_text = config.get(keys::kUrl);
  if (!url_text || url_text->empty()) {
    problems.push_back({keys::kUrl,
                        "not set (REDIS_URL): expected the Redis server's URL, "
                        "redis://[[user]:password@]host[:port][/db]"});
  } else {
    std::string why;
    if (auto url = parse_redis_url(*url_text, why)) {
      settings.url = std::move(*url);
    } else {
      // The value itself may hold the password: only the reason is given.
      problems.push_back({keys::kUrl, why});
    }
  }
  if (auto v = read_int(config, keys::kPoolSize, 10, {1, 1000}, problems)) {
    settings.pool_size = static_cast<std::size_t>(*v);
  }
  if (auto v = read_int(config, keys::kConnectTimeout, 1000, {1, 60000}, problems)) {
    settings.connect_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = read_int(config, keys::kCommandTimeout, 500, {1, 60000}, problems)) {
    settings.command_timeout = std::chrono::milliseconds(*v);
  }
  if (auto v = read_int(config, keys::kCacheTtl, 3600, {1, INT32_MAX}, problems)) {
    settings.default_ttl = std::chrono::seconds(*v);
  }
  settings.key_prefix = config.get_string(keys::kKeyPrefix, "eltrix:");
  if (settings.key_prefix.size() > kMaxKeyPrefixSize) {
    problems.push_back({keys::kKeyPrefix, "expected at most " + std::to_string(kMaxKeyPrefixSize) +
                                              " bytes, found " +
                                              std::to_string(settings.key_prefix.size())});
  }
  return settings;
}

}  // namespace

void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems) {
  (void)collect(config, problems);
}

Settings read_settings(const plugin::Config& config) {
  std::vector<plugin::ConfigProblem> problems;
  Settings settings = collect(config, problems);
  if (!problems.empty()) {
    std::string message = "cache-redis: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
      const auto& problem = problems[i];
      if (i > 0) message += "; ";
      // The URL may hold a password: its value is never repeated.
      std::string shown =
          problem.key == keys::kUrl ? std::string("<redacted>") : config.get_string(problem.key);
      message += problem.key + " = '" + shown + "': " + problem.message;
    }
    throw plugin::Error(plugin::ErrorKind::permanent, message);
  }
  return settings;
}

}  // namespace eltrix::cache_redis
