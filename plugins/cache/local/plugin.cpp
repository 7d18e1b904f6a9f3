// cache-local plugin entry: the descriptor and the keys it declares.
#include <eltrix/plugin/plugin.h>

#include "local_cache.h"

namespace {

using eltrix::plugin::ConfigKeySpec;
using eltrix::plugin::ConfigType;

constexpr ConfigKeySpec kKeys[] = {
    {.name = "cache.local.max_entries",
     .type = ConfigType::integer,
     .default_value = "100000",
     .help = "Most entries the local cache holds; the least recently used are evicted beyond it.",
     .min_value = 1},
    {.name = "cache.local.max_memory_mb",
     .type = ConfigType::integer,
     .default_value = "64",
     .help = "Most memory, in MiB, the local cache may use for keys, values and per-entry "
             "overhead; the least recently used entries are evicted beyond it.",
     .min_value = 1,
     .max_value = 1048576},
};

}  // namespace

ELTRIX_PLUGIN(cache, "local", "1.0.0", eltrix::cache_local::LocalCache, kKeys)
