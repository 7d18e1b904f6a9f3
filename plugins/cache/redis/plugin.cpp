// cache-redis plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "redis_cache.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;
using eltrix::plugin::kConfigRequired;
using eltrix::plugin::kConfigSecret;
namespace keys = eltrix::cache_redis::keys;

constexpr ConfigKeySpec kKeys[] = {
    {.name = keys::kUrl,
     .help = "The Redis server: redis://[[user]:password@]host[:port][/db] (port 6379 and db 0 "
             "by default; percent-escape '%', '@' and '/' in the password). rediss:// (TLS) is "
             "not supported by Debian 12's hiredis.",
     .flags = kConfigRequired | kConfigSecret,
     .env = "REDIS_URL"},
    {.name = keys::kPoolSize,
     .type = ConfigType::integer,
     .default_value = "10",
     .help = "Most connections each node opens to Redis. A request waits for a free one up to "
             "cache.redis.command_timeout, then reads PostgreSQL instead.",
     .env = "REDIS_POOL_SIZE",
     .min_value = 1,
     .max_value = 1000},
    {.name = keys::kConnectTimeout,
     .type = ConfigType::integer,
     .default_value = "1000",
     .help = "Milliseconds to wait for a new connection to Redis. After a failure, new "
             "connections are not tried again for 0.1 s, doubling up to 2 s while Redis stays "
             "away, so that requests do not each wait this long.",
     .min_value = 1,
     .max_value = 60000},
    {.name = keys::kCommandTimeout,
     .type = ConfigType::integer,
     .default_value = "500",
     .help = "Milliseconds to wait for Redis to answer one command before the cache call "
             "fails and the request reads PostgreSQL instead.",
     .min_value = 1,
     .max_value = 60000},
    {.name = keys::kKeyPrefix,
     .default_value = "eltrix:",
     .help = "Prepended to every key, so that several deployments can share one Redis. All "
             "nodes of one deployment must use the same prefix."},
};

}  // namespace

ELTRIX_PLUGIN(cache, "redis", "1.0.0", eltrix::cache_redis::RedisCache, kKeys)
