// cache-redis configuration: the keys the plugin declares (plugin.cpp), read
// and checked once at start-up.
#pragma once

#include <eltrix/plugin/config.h>

#include "redis_url.h"

#include <chrono>
#include <string>
#include <vector>

namespace eltrix::cache_redis {

namespace keys {
inline constexpr const char* kUrl = "cache.redis.url";
inline constexpr const char* kPoolSize = "cache.redis.pool_size";
inline constexpr const char* kConnectTimeout = "cache.redis.connect_timeout";
inline constexpr const char* kCommandTimeout = "cache.redis.command_timeout";
inline constexpr const char* kKeyPrefix = "cache.redis.key_prefix";
/// A core key, shared with every cache plugin.
inline constexpr const char* kCacheTtl = "cache.ttl";
}  // namespace keys

/// Longest key prefix accepted; it is added to every key (kMaxCacheKeySize
/// applies to the caller's key, without it).
inline constexpr std::size_t kMaxKeyPrefixSize = 256;

struct Settings {
  RedisUrl url;
  std::size_t pool_size = 10;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{500};
  std::string key_prefix = "eltrix:";
  std::chrono::seconds default_ttl{3600};
};

/// Every problem with the plugin's keys, each naming its key; the URL is
/// shown only redacted. Used by `eltrix --config=check` and by read_settings.
void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems);

/// The settings; throws plugin::Error(permanent) listing every problem.
Settings read_settings(const plugin::Config& config);

}  // namespace eltrix::cache_redis
